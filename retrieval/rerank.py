"""An optional second stage: a cross-encoder re-scores the top sessions' best passages.

Off by default. A district with a stronger model sets ``STAFFROOM_RERANK_MODEL`` to a local
sentence-transformers ``CrossEncoder`` folder (never a hub name: nothing is downloaded). The
Searcher then reads each of the top ``STAFFROOM_RERANK_CANDIDATES`` sessions' best passage
together with the question and orders those sessions by the cross-encoder's score. "Good match"
is still judged on the first stage's cosine, so the threshold keeps its calibrated meaning.

Cost: one cross-encoder pass per candidate (see bench/RESULTS.md for the time per candidate).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from staffroom_errors import ConfigError, RetrievalError

DEFAULT_CANDIDATES = 20
# Passage text the cross-encoder reads, in characters: ~120-token chunks plus their header fit;
# the model truncates to its own max_length anyway.
MAX_PASSAGE_CHARS = 2000


class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    name: str

    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder from a local folder, loaded on first use."""

    def __init__(self, folder: str | Path, device: str = "auto", batch_size: int = 32) -> None:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise ConfigError(
                f"STAFFROOM_RERANK_MODEL must be a local model folder; {str(folder)!r} is not one.",
                hint="Save a sentence-transformers CrossEncoder there (model.save(folder)); "
                "Staffroom never downloads models.",
            )
        self.path = path
        self.name = path.name
        self._device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import CrossEncoder
        from transformers.utils import logging as hf_logging

        from retrieval.embedder import _resolve_device

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            return CrossEncoder(
                str(self.path), device=_resolve_device(self._device), local_files_only=True
            )
        except Exception as err:  # noqa: BLE001 - any loader failure means unusable settings
            raise ConfigError(
                f"Could not load the re-ranking model in {self.path}.",
                hint="STAFFROOM_RERANK_MODEL must hold a saved sentence-transformers "
                "CrossEncoder (config.json, weights and tokenizer).",
            ) from err

    def load(self) -> None:
        """Load the model now (start-up), so the first question does not pay for it."""
        self._loaded()

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        model = self._loaded()
        pairs = [(query, p[:MAX_PASSAGE_CHARS]) for p in passages]
        try:
            scores = model.predict(
                pairs, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True
            )
        except Exception as err:  # noqa: BLE001 - surfaced as a friendly error
            raise RetrievalError("The re-ranking model failed on this question.") from err
        # One score per pair; a two-label model's last column is its "relevant" score.
        return [float(s) for s in scores.reshape(len(pairs), -1)[:, -1]]


def build_reranker(model: str, *, device: str = "auto") -> CrossEncoderReranker | None:
    """The cross-encoder in folder ``model`` (``STAFFROOM_RERANK_MODEL``); None when it is empty."""
    folder = model.strip()
    if not folder:
        return None
    return CrossEncoderReranker(folder, device=device)

"""BM25 keyword search (bm25s) over the same texts as the vectors, with stopwords and stemming."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from staffroom_errors import IndexError_

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_PARAMS = "tokenizer.json"
# A 40k-character query would otherwise cost a long score loop for no gain.
MAX_QUERY_TERMS = 64


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[list[str]], list[str]] | None:
    try:
        import Stemmer  # PyStemmer: the Snowball English stemmer
    except ImportError:  # pragma: no cover - it is a declared dependency
        log.warning("PyStemmer is not installed; keyword search runs without stemming")
        return None
    return Stemmer.Stemmer("english").stemWords


def tokenize(text: str, *, stem: bool = True) -> list[str]:
    """Lower-cased word tokens without English stopwords, Snowball-stemmed when ``stem``."""
    stop = _stopwords()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    stemmer = _stemmer() if stem else None
    return stemmer(words) if stemmer and words else words


class LexicalIndex:
    """BM25 over a list of texts; rows are the positions of the texts."""

    def __init__(self, bm25: object, size: int, stem: bool) -> None:
        self._bm25 = bm25
        self.size = size
        self.stem = stem

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        stem = _stemmer() is not None
        bm25 = bm25s.BM25()
        if texts:
            bm25.index([tokenize(t, stem=stem) for t in texts], show_progress=False)
        return cls(bm25, len(texts), stem)

    def query_terms(self, query: str) -> list[str]:
        """The distinct indexed terms of ``query``, in order, at most ``MAX_QUERY_TERMS``."""
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        seen: dict[str, None] = {}
        for term in tokenize(query, stem=self.stem):
            if term in vocab:
                seen.setdefault(term)
            if len(seen) >= MAX_QUERY_TERMS:
                break
        return list(seen)

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every row for ``query`` (0 where no term matches)."""
        return self.scores_for_terms(self.query_terms(query))

    def search(
        self, query: str, k: int, *, subset: Sequence[int] | np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (row, BM25 score) with a positive score, best first."""
        scores = self.scores(query)
        if subset is not None:
            mask = np.zeros(self.size, dtype=bool)
            mask[np.asarray(subset, dtype=np.int64)] = True
            scores = np.where(mask, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25's (Lucene) idf per term; a term no row contains gets the highest idf."""
        vocab = getattr(self._bm25, "vocab_dict", None) or {}
        indptr = self._bm25.scores["indptr"] if self.size else np.zeros(1)  # type: ignore[attr-defined]
        out: dict[str, float] = {}
        for term in terms:
            col = vocab.get(term, -1)
            df = int(indptr[col + 1] - indptr[col]) if 0 <= col < len(indptr) - 1 else 0
            out[term] = math.log(1 + (self.size - df + 0.5) / (df + 0.5))
        return out

    def coverage_scale(self, query: str) -> float:
        """The most BM25 score any row could get for ``query``: the sum of its terms' idf.

        BM25 (Lucene form) gives each matching term idf * tf / (tf + k1 * norm) < idf, so
        score / scale lies in [0, 1) and means "how much of the query's rare words this row
        has", comparable across queries. Words the index never saw count too: a query about
        something absent should not look well covered.
        """
        terms = list(dict.fromkeys(tokenize(query, stem=self.stem)))[:MAX_QUERY_TERMS]
        return float(sum(self.idf(terms).values()))

    def scores_for_terms(self, terms: Sequence[str]) -> np.ndarray:
        """The BM25 score of every row for already-tokenized ``terms``."""
        if not terms or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(list(terms)), dtype=np.float32)[: self.size]  # type: ignore[attr-defined]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._bm25.save(str(directory), show_progress=False)  # type: ignore[attr-defined]
        params = {"size": self.size, "stem": self.stem, "stopwords": "bm25s-english"}
        (directory / _PARAMS).write_text(json.dumps(params), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        try:
            params = json.loads((directory / _PARAMS).read_text(encoding="utf-8"))
            size = int(params["size"])
            bm25 = (
                bm25s.BM25.load(str(directory), show_progress=False) if size else bm25s.BM25()
            )
        except (OSError, ValueError, KeyError) as err:
            raise IndexError_(f"The keyword index in {directory.name} is unreadable.") from err
        if params.get("stem") and _stemmer() is None:
            log.warning("index was built with stemming but PyStemmer is missing")
        return cls(bm25, size, bool(params.get("stem")))

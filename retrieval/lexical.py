"""BM25 keyword search over the same texts as the vectors, with stopwords and stemming.

Postings keep raw term counts and document lengths; idf and the length norm are computed over
the live rows when an index is opened, so appending rows (or dropping them by leaving them out
of ``rows``) scores exactly as a fresh build of the same texts would. Scores equal bm25s's
Lucene BM25 (k1 1.5, b 0.75), which the index used before.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import uuid
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from staffroom_errors import IndexError_

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_PARAMS, _VOCAB, _LENGTHS = "tokenizer.json", "vocab.json", "doc_len.npy"
FORMAT = 2
_DF_CACHE = 100_000
K1, B = 1.5, 0.75
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


class _Segment:
    """Postings of a run of slots: for term id t, ``docs[indptr[t]:indptr[t+1]]`` and their tfs.

    Immutable once built; ``origin`` is the file it was read from, so a new version can link it
    instead of writing it again.
    """

    def __init__(
        self, indptr: np.ndarray, docs: np.ndarray, tfs: np.ndarray, origin: Path | None = None
    ) -> None:
        self.indptr, self.docs, self.tfs, self.origin = indptr, docs, tfs, origin

    @classmethod
    def of(cls, terms: np.ndarray, docs: np.ndarray, tfs: np.ndarray, vocab: int) -> _Segment:
        """From (term, slot, tf) triples sorted by term then slot."""
        counts = np.bincount(terms, minlength=vocab) if len(terms) else np.zeros(vocab, np.int64)
        indptr = np.zeros(vocab + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(indptr, docs.astype(np.int32), tfs.astype(np.float32))

    def triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        terms = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))
        return terms, self.docs, self.tfs

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        if term + 1 >= len(self.indptr):  # a term first seen after this segment was written
            return _NO_DOCS, _NO_TFS
        start, end = self.indptr[term], self.indptr[term + 1]
        return self.docs[start:end], self.tfs[start:end]


_NO_DOCS = np.zeros(0, dtype=np.int32)
_NO_TFS = np.zeros(0, dtype=np.float32)


class LexicalIndex:
    """BM25 over texts stored in slots; ``rows`` maps each row to its slot.

    A fresh build has rows == slots. An appended index keeps its older slots (the rows that no
    longer exist simply have no row) and puts new texts in a delta segment.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        segments: list[_Segment],
        doc_len: np.ndarray,
        stem: bool,
        rows: np.ndarray | None = None,
    ) -> None:
        self._vocab, self._segments, self._doc_len, self.stem = vocab, segments, doc_len, stem
        self.slots = len(doc_len)
        self._rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        self.size = self.slots if self._rows is None else len(self._rows)
        self._dfs: dict[str, int] = {}
        self._live = np.ones(self.slots, dtype=bool)
        if self._rows is not None:
            self._live[:] = False
            self._live[self._rows] = True
        total = float(doc_len[self._live].astype(np.float64).sum())  # exact: integer lengths
        avg = total / self.size if self.size else 1.0
        self._norm = K1 * ((1 - B) + B * doc_len.astype(np.float64) / (avg or 1.0))

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        stem = _stemmer() is not None
        vocab: dict[str, int] = {}
        segment, lengths = _segment(texts, vocab, 0, stem)
        return cls(vocab, [segment], lengths, stem)

    def extended(self, texts: Sequence[str], rows: np.ndarray) -> LexicalIndex:
        """This index plus ``texts`` in new slots (``slots``, ``slots + 1``, ...), rows ``rows``.

        The first segment is shared as it is; later ones and the new texts become one delta.
        """
        vocab = dict(self._vocab)
        fresh, lengths = _segment(texts, vocab, self.slots, self.stem)
        parts = [s.triples() for s in self._segments[1:]] + [fresh.triples()]
        terms, docs, tfs = (np.concatenate(p) for p in zip(*parts, strict=True))
        order = np.argsort(terms, kind="stable")  # older slots before newer within a term
        delta = _Segment.of(terms[order], docs[order], tfs[order], len(vocab))
        doc_len = np.concatenate([self._doc_len, lengths])
        return LexicalIndex(vocab, [self._segments[0], delta], doc_len, self.stem, rows)

    def with_rows(self, rows: np.ndarray | None) -> LexicalIndex:
        """The same postings, searched as the rows ``rows`` (slot per row)."""
        return LexicalIndex(self._vocab, self._segments, self._doc_len, self.stem, rows)

    def _postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        parts = [s.postings(term) for s in self._segments]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _df(self, term: str) -> int:
        """Live rows containing ``term`` (remembered: a query asks up to four times)."""
        df = self._dfs.get(term)
        if df is None:
            col = self._vocab.get(term)
            if col is None:
                return 0
            docs, _ = self._postings(col)
            df = len(docs) if self._rows is None else int(np.count_nonzero(self._live[docs]))
            if len(self._dfs) >= _DF_CACHE:
                self._dfs.clear()
            self._dfs[term] = df
        return df

    def query_terms(self, query: str) -> list[str]:
        """The distinct indexed terms of ``query``, in order, at most ``MAX_QUERY_TERMS``."""
        seen: dict[str, None] = {}
        for term in tokenize(query, stem=self.stem):
            if term not in seen and self._df(term) > 0:
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
        return {t: _idf(self._df(t), self.size) for t in terms}

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
        out = np.zeros(self.slots, dtype=np.float32)
        for term in terms:
            col = self._vocab.get(term)
            if col is None:
                continue
            df = self._df(term)
            if df == 0:
                continue
            idf = np.float64(np.float32(_idf(df, self.size)))
            for segment in self._segments:  # a row is in one segment: sums are as in one
                docs, tfs = segment.postings(col)
                # As bm25s: float32 idf times a float64 tf part, as float32, summed in float32.
                out[docs] += (idf * (tfs / (self._norm[docs] + tfs))).astype(np.float32)
        return out if self._rows is None else out[self._rows]

    def save(self, directory: Path) -> None:
        """Write into ``directory``; a segment read from disk is hard-linked, not rewritten."""
        directory.mkdir(parents=True, exist_ok=True)
        names = []
        for segment in self._segments:
            name = f"postings-{uuid.uuid4().hex[:12]}.npz"
            if segment.origin is not None and _link(segment.origin, directory / segment.origin.name):
                name = segment.origin.name
            else:
                with open(directory / name, "wb") as handle:
                    np.savez(handle, indptr=segment.indptr, docs=segment.docs, tfs=segment.tfs)
            names.append(name)
        with open(directory / _LENGTHS, "wb") as handle:
            np.save(handle, self._doc_len)
        vocab = sorted(self._vocab, key=self._vocab.__getitem__)
        (directory / _VOCAB).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        params = {"format": FORMAT, "slots": self.slots, "stem": self.stem, "segments": names,
                  "stopwords": "bm25s-english", "k1": K1, "b": B}  # fmt: skip
        (directory / _PARAMS).write_text(json.dumps(params), encoding="utf-8")

    @staticmethod
    def is_current(directory: Path) -> bool:
        """True when ``directory`` holds this format (older indexes were bm25s's)."""
        try:
            params = json.loads((directory / _PARAMS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(params, dict) and params.get("format") == FORMAT

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        try:
            params = json.loads((directory / _PARAMS).read_text(encoding="utf-8"))
            if params.get("format") != FORMAT:
                raise ValueError(f"keyword index format {params.get('format')} != {FORMAT}")
            terms = json.loads((directory / _VOCAB).read_text(encoding="utf-8"))
            doc_len = np.load(directory / _LENGTHS, allow_pickle=False)
            segments = []
            for name in params["segments"]:
                with np.load(directory / name, allow_pickle=False) as arrays:
                    segments.append(_Segment(arrays["indptr"], arrays["docs"], arrays["tfs"],
                                             origin=directory / name))  # fmt: skip
            if len(doc_len) != int(params["slots"]):
                raise ValueError("document lengths disagree with the slot count")
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise IndexError_(f"The keyword index in {directory.name} is unreadable.") from err
        if params.get("stem") and _stemmer() is None:
            log.warning("index was built with stemming but PyStemmer is missing")
        return cls({t: i for i, t in enumerate(terms)}, segments, doc_len, bool(params["stem"]))


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _segment(
    texts: Sequence[str], vocab: dict[str, int], first_slot: int, stem: bool
) -> tuple[_Segment, np.ndarray]:
    """Postings of ``texts`` in slots ``first_slot``...; new words are added to ``vocab``."""
    ids: list[int] = []
    lengths = np.zeros(len(texts), dtype=np.int32)
    for i, text in enumerate(texts):
        tokens = tokenize(text, stem=stem)
        lengths[i] = len(tokens)
        ids.extend(vocab.setdefault(t, len(vocab)) for t in tokens)
    slots = np.repeat(np.arange(first_slot, first_slot + len(texts), dtype=np.int64), lengths)
    span = first_slot + len(texts) + 1
    keys, counts = np.unique(np.asarray(ids, dtype=np.int64) * span + slots, return_counts=True)
    return _Segment.of(keys // span, keys % span, counts, len(vocab)), lengths


def _link(source: Path, dest: Path) -> bool:
    """Hard-link an immutable file into a new version (False: copy it instead)."""
    try:
        os.link(source, dest)
    except OSError:
        return False
    return True

"""Snippets: a short excerpt of a chunk, centred on the sentence that best matches the query."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from retrieval.lexical import tokenize

SNIPPET_CHARS = 260
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+")
_MARKUP = re.compile(r"\*\*|__|`|^#+\s*|^\s*[-*]\s+", re.MULTILINE)
_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACE.sub(" ", _MARKUP.sub("", text)).strip()


def _sentences(text: str) -> list[str]:
    parts = (_clean(p) for p in _SENTENCE_END.split(text))
    return [p for p in parts if p]


def _weight(sentence: str, idf: Mapping[str, float], stem: bool) -> float:
    return sum(idf.get(term, 0.0) for term in set(tokenize(sentence, stem=stem)))


def snippet(
    text: str, idf: Mapping[str, float], *, max_chars: int = SNIPPET_CHARS, stem: bool = True
) -> str:
    """About ``max_chars`` of ``text`` around its best sentence for the query, in whole words.

    ``idf`` maps the query's (stemmed) terms to their weights; a sentence scores the idf of the
    query terms it contains. With no matching sentence the snippet opens the chunk. Cuts inside
    the text are marked with "…".
    """
    sentences = _sentences(text)
    if not sentences:
        return ""
    weights = [_weight(s, idf, stem) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (weights[i], -i))
    if len(sentences[best]) > max_chars:
        return _window(sentences[best], idf, max_chars, stem, best > 0, best < len(sentences) - 1)
    # Grow around the best sentence, the following one first: transcripts explain after the cue.
    lo, hi = _grow([len(x) for x in sentences], best, max_chars)
    body = " ".join(sentences[lo : hi + 1])
    return f"{'… ' if lo > 0 else ''}{body}{' …' if hi < len(sentences) - 1 else ''}"


def _grow(lengths: Sequence[int], centre: int, max_chars: int) -> tuple[int, int]:
    """The widest run of pieces around ``centre`` (space-joined) within ``max_chars``."""
    lo = hi = centre
    length = lengths[centre]
    while True:
        grown = False
        for cand in (hi + 1, lo - 1):
            if 0 <= cand < len(lengths) and length + 1 + lengths[cand] <= max_chars:
                length += 1 + lengths[cand]
                lo, hi = min(lo, cand), max(hi, cand)
                grown = True
        if not grown:
            return lo, hi


def _window(
    sentence: str, idf: Mapping[str, float], max_chars: int, stem: bool, before: bool, after: bool
) -> str:
    """Whole words of a long sentence, centred on its first matching query term."""
    words = sentence.split(" ")
    centre = next(
        (i for i, w in enumerate(words) if any(idf.get(t) for t in tokenize(w, stem=stem))), 0
    )
    lo, hi = _grow([len(w) for w in words], centre, max_chars)
    body = " ".join(words[lo : hi + 1])[:max_chars]
    head = "… " if lo > 0 or before else ""
    tail = " …" if hi < len(words) - 1 or after else ""
    return f"{head}{body}{tail}"

"""Checks a generated answer: only citations to excerpts we sent survive, uncited sentences go."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

MAX_SENTENCES = 4
MAX_CHARS = 600

_NUM = r"\^?\s*\d{1,4}"
# [1]  [1, 7]  [1;2]  [1-3]  [^2]  [1 and 2], plus full-width brackets some models emit.
_GROUP = re.compile(rf"[\[【]\s*({_NUM}(?:\s*(?:,|;|-|–|and|&)\s*{_NUM})*)\s*[\]】]", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\[\]]*[^\s<>\[\].,;:!?)]", re.IGNORECASE)
_ANGLE = re.compile(r"<[^<>\n]*>")  # Slack link/mention syntax and stray markup
_MARKDOWN = re.compile(r"[*_`#]+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_CITE_AFTER_STOP = re.compile(rf"([.!?])((?:\s*{_GROUP.pattern})+)", re.IGNORECASE)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(“A-Z0-9])|\n+")
_ABBREV = ("e.g.", "i.e.", "etc.", "vs.", "Dr.", "Mr.", "Mrs.", "Ms.", "St.", "approx.")
# A sentence is finished once its stop (and any citations after it) is followed by new text.
_BOUNDARY = re.compile(rf"[.!?](?:\s*{_GROUP.pattern})*\s+(?=[^\s\[【])|\n", re.IGNORECASE)


@dataclass(frozen=True)
class CheckedText:
    """The cleaned answer; ``[i]`` in ``text`` refers to excerpt ``sources[i - 1]``."""

    text: str
    sources: tuple[int, ...]
    unsupported: int = 0  # cited sentences dropped because ``supported`` refused them


# (sentence, the excerpt numbers it cites) -> may it be shown? (retrieval/llm_support.py)
SupportPredicate = Callable[[str, Sequence[int]], bool]


def check_citations(
    raw: str,
    valid: Collection[int],
    *,
    max_sentences: int = MAX_SENTENCES,
    max_chars: int = MAX_CHARS,
    supported: SupportPredicate | None = None,
) -> CheckedText:
    """Drop invalid citations and uncited sentences; renumber the rest 1..k by first use.

    With ``supported``, a cited sentence it refuses (its excerpts do not support it) is dropped.
    """
    unsupported = 0
    order: list[int] = []
    kept: list[str] = []
    length = 0
    for sentence in _sentences(_scrub(raw)):
        numbers: list[int] = []

        def _rewrite(match: re.Match[str], numbers: list[int] = numbers) -> str:
            good = [n for n in _parse(match.group(1)) if n in valid and n not in numbers]
            numbers.extend(good)
            for n in good:
                if n not in order:
                    order.append(n)
            return "".join(f"[{order.index(n) + 1}]" for n in good)

        before = list(order)
        text = _tidy(_GROUP.sub(_rewrite, sentence))
        if not numbers or not re.search(r"\w", _GROUP.sub("", text)):
            del order[len(before) :]  # numbers first met in a dropped sentence stay unused
            continue
        if supported is not None and not supported(text, tuple(numbers)):
            del order[len(before) :]
            unsupported += 1
            continue
        if kept and length + 1 + len(text) > max_chars:
            del order[len(before) :]
            break
        kept.append(text if len(text) <= max_chars else _shorten(text, max_chars))
        length += len(text) + (1 if len(kept) > 1 else 0)
        if len(kept) == max_sentences:
            break
    return CheckedText(" ".join(kept), tuple(order), unsupported)


def finished_part(raw: str) -> str:
    """The prefix of a streamed answer made of finished sentences only."""
    end = 0
    for match in _BOUNDARY.finditer(raw):
        end = match.end()
    return raw[:end]


def _scrub(raw: str) -> str:
    """No links, mentions or markdown: the answer is plain text the renderer escapes."""
    text = _ANGLE.sub("", raw)
    text = _URL.sub("", text)
    text = _BULLET.sub("", text)
    text = _MARKDOWN.sub("", text)
    return _CITE_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text)


def _sentences(text: str) -> list[str]:
    pieces = [p.strip() for p in _SPLIT.split(text) if p and p.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and merged[-1].endswith(_ABBREV):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def _parse(group: str) -> list[int]:
    """ "1, 7" -> [1, 7]; "2-4" -> [2, 3, 4] (short ranges only); "^3" -> [3]."""
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and|&)\s*", group.replace("^", ""), flags=re.IGNORECASE):
        bounds = re.split(r"\s*[-–]\s*", part.strip())
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            lo, hi = int(bounds[0]), int(bounds[1])
            out.extend(range(lo, hi + 1) if 0 <= hi - lo <= 5 else [])
        elif part.strip().isdigit():
            out.append(int(part))
    return out


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    text = re.sub(r"(\w)(\[\d)", r"\1 \2", text)
    return re.sub(r"\(\s*\)", "", text).strip()


def _shorten(text: str, limit: int) -> str:
    """Cut one over-long sentence at a word, keeping its citations at the end."""
    cites = "".join(re.findall(r"\[\d+\]", text))
    words = re.sub(r"\s*\[\d+\]", "", text)[: max(0, limit - len(cites) - 2)]
    return f"{words.rsplit(' ', 1)[0]}… {cites}"

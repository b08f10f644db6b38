"""WebVTT and SRT caption files -> timed cues."""

from __future__ import annotations

import html
import re
from pathlib import Path

from ingest.parsed import Cue, Parsed
from ingest.textio import read_text
from staffroom_errors import LoaderError

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,:](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(.*)$")
_TAG = re.compile(r"<[^>]*>")
_ASS = re.compile(r"\{\\[^}]*\}")  # SRT files exported from ASS keep {\an8}-style overrides
_SPACE = re.compile(r"\s+")
_VTT_BLOCKS = ("NOTE", "STYLE", "REGION")
_SHOWN = 8  # line numbers listed per file


def _seconds(h: str | None, m: str, s: str, frac: str | None) -> float:
    millis = int(frac.ljust(3, "0")) if frac else 0
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + millis / 1000


def _timing(line: str) -> tuple[float, float] | None:
    match = _TIMING.match(line)
    if not match:
        return None
    g = match.groups()
    return _seconds(*g[0:4]), _seconds(*g[4:8])


def _clean(lines: list[str]) -> str:
    text = " ".join(lines)
    text = html.unescape(_ASS.sub("", _TAG.sub("", text)))
    return _SPACE.sub(" ", text).strip()


def _starts_block(line: str) -> bool:
    word = line.strip().split(" ", 1)[0].split("\t", 1)[0]
    return word in _VTT_BLOCKS


def parse_cues(text: str, name: str, *, webvtt: bool) -> tuple[Cue, ...]:
    """Cues in file order; tolerant of missing blank lines, stray ids and cue-less headers."""
    return read_cues(text, name, webvtt=webvtt)[0]


def read_cues(text: str, name: str, *, webvtt: bool) -> tuple[tuple[Cue, ...], tuple[str, ...]]:
    """The cues, and what was skipped: "2 of 3 cues skipped (lines 5, 9)" when some were broken.

    A broken cue is text with no valid timing line before it (a typo in the timing, or a stray
    paragraph): its text cannot be placed in the recording, so it is left out and reported.
    """
    lines = text.split("\n")
    cues: list[Cue] = []
    timed = 0  # cue blocks with a valid timing line
    broken: list[int] = []  # 1-based first line of each broken cue block
    previous: list[str] = []  # the last cue's cleaned lines, to drop rolling-caption repeats
    i, n = 0, len(lines)
    if webvtt and lines and lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        while i < n and lines[i].strip() and not _timing(lines[i]):
            i += 1  # header text and metadata ("Kind: captions") until the first blank line
    while i < n:
        line = lines[i]
        timing = _timing(line)
        if timing is None:
            if webvtt and _starts_block(line) and (i == 0 or not lines[i - 1].strip()):
                while i < n and lines[i].strip():
                    i += 1  # a NOTE/STYLE/REGION block runs to the next blank line
            elif line.strip() and not (i + 1 < n and _timing(lines[i + 1])):  # not a cue id
                numbered = line.strip().isdigit() and i + 1 < n and lines[i + 1].strip()
                broken.append(i + 2 if numbered else i + 1)  # the bad timing line, past its id
                while i + 1 < n and lines[i + 1].strip() and not _cue_starts(lines, i + 1):
                    i += 1  # the rest of the broken cue
            i += 1
            continue
        i += 1
        timed += 1
        body: list[str] = []
        while i < n and lines[i].strip() and not _timing(lines[i]) and "-->" not in lines[i]:
            next_is_timing = i + 1 < n and _timing(lines[i + 1]) is not None
            if next_is_timing and lines[i].strip().isdigit():
                break  # the next cue's number, in a file with no blank line between cues
            body.append(lines[i])
            i += 1
        start, end = timing
        cleaned = [c for c in (_clean([b]) for b in body) if c]
        if webvtt and previous and cleaned and cleaned[0] == previous[-1]:
            cleaned = cleaned[1:]
        if cleaned:
            cues.append(Cue(start=start, end=max(start, end), text=" ".join(cleaned)))
            previous = cleaned
    if not cues:
        kind = "WebVTT" if webvtt else "SRT"
        raise LoaderError(
            f"{name}: no valid {kind} cues found "
            "(expected timing lines like 00:00:01.000 --> 00:00:04.000 followed by text)."
        )
    problems: tuple[str, ...] = ()
    if broken:
        shown = ", ".join(str(n) for n in broken[:_SHOWN]) + (", …" if len(broken) > _SHOWN else "")
        total = timed + len(broken)
        problems = (f"{len(broken)} of {total} cues skipped: no valid timing (lines {shown})",)
    return tuple(cues), problems


def _cue_starts(lines: list[str], i: int) -> bool:
    """A valid timing line, or a cue id right before one."""
    return _timing(lines[i]) is not None or (
        i + 1 < len(lines) and _timing(lines[i + 1]) is not None
    )


class VttLoader:
    """WebVTT (.vtt) captions."""

    suffixes: tuple[str, ...] = (".vtt",)

    def load(self, path: Path) -> Parsed:
        cues, problems = read_cues(read_text(path), path.name, webvtt=True)
        return Parsed(cues=cues, problems=problems)


class SrtLoader:
    """SubRip (.srt) captions, including the common variant with dots for decimals."""

    suffixes: tuple[str, ...] = (".srt",)

    def load(self, path: Path) -> Parsed:
        cues, problems = read_cues(read_text(path), path.name, webvtt=False)
        return Parsed(cues=cues, problems=problems)

"""PDF handouts (pypdf) -> blocks with 1-based page numbers and font-size headings."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.parsed import Block, Parsed
from staffroom_errors import LoaderError

_HEADING_RATIO = 1.15  # a line this much larger than body text reads as a heading
_MAX_HEADING_CHARS = 150
# Bullet glyphs from symbol fonts come out as control or private-use characters.
_BULLETS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\uf0a7\uf0b7\uf076\uf0d8\uf0fc]")
_PLACEHOLDER_TITLES = re.compile(
    r"^(untitled|microsoft word - .*|document\d*|\(?unspecified\)?)$", re.I
)


@dataclass
class _Line:
    text: str
    size: float
    page: int


def _scale(matrix: Any) -> float:
    """Vertical scale of a PDF matrix [a b c d e f]."""
    try:
        return math.hypot(float(matrix[2]), float(matrix[3])) or 1.0
    except (TypeError, IndexError, ValueError):
        return 1.0


def _page_lines(page: Any, number: int) -> list[_Line]:
    """The page's text lines, each with the largest font size used on it."""
    lines: list[_Line] = []
    current: list[str] = []
    size = 0.0

    def visit(text: str, cm: Any, tm: Any, _font: Any, font_size: float) -> None:
        nonlocal size
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if part.strip():
                size = max(size, float(font_size or 0) * _scale(tm) * _scale(cm))
            current.append(part)
            if i < len(parts) - 1:
                _end_line()

    def _end_line() -> None:
        nonlocal size
        text = " ".join(_BULLETS.sub(" - ", "".join(current)).split())
        if text:
            lines.append(_Line(text, round(size, 1), number))
        current.clear()
        size = 0.0

    page.extract_text(visitor_text=visit)
    _end_line()
    return lines


def _outline(reader: Any) -> list[tuple[int, int, str]]:
    """(page, level, title) from the PDF's bookmarks, in page order."""
    found: list[tuple[int, int, str]] = []

    def walk(items: Any, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
            except Exception:  # noqa: BLE001 - a bookmark to nowhere is just skipped
                continue
            title = " ".join(str(getattr(item, "title", "") or "").split())
            if title:
                found.append((page, level, title))

    try:
        walk(reader.outline, 1)
    except Exception:  # noqa: BLE001 - broken outlines are common; they only add headings
        return []
    return sorted(found, key=lambda t: t[0])


def _blocks(lines: list[_Line], outline: list[tuple[int, int, str]]) -> tuple[list[Block], str]:
    chars = Counter[float]()
    for line in lines:
        chars[line.size] += len(line.text)
    body = chars.most_common(1)[0][0] if chars else 0.0
    heading_sizes = sorted(
        {ln.size for ln in lines if body and ln.size >= body * _HEADING_RATIO}, reverse=True
    )
    level_of = {s: i + 1 for i, s in enumerate(heading_sizes)}
    use_outline = not heading_sizes and bool(outline)
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    title = ""
    para: list[str] = []
    para_page = 0
    longest = max((len(ln.text) for ln in lines), default=0)

    def flush() -> None:
        if para:
            text = re.sub(r"(\w)- (\w)", r"\1-\2", " ".join(para))  # re-join hyphenated breaks
            blocks.append(Block(text=text, heading=tuple(h for _, h in stack), page=para_page))
            para.clear()

    def push(level: int, text: str) -> None:
        nonlocal title
        title = title or text
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))

    last_heading: tuple[int, float] | None = None
    for line in lines:
        while use_outline and outline and outline[0][0] <= line.page:
            flush()
            _, level, text = outline.pop(0)
            push(level, text)
        is_heading = (
            line.size in level_of
            and len(line.text) <= _MAX_HEADING_CHARS
            and any(c.isalpha() for c in line.text)
        )
        if is_heading:
            flush()
            if last_heading == (line.page, line.size) and stack:
                stack[-1] = (stack[-1][0], f"{stack[-1][1]} {line.text}")  # a wrapped heading
                title = title if len(stack) > 1 else stack[-1][1]
            else:
                push(level_of[line.size], line.text)
            last_heading = (line.page, line.size)
            continue
        last_heading = None
        if para and line.page != para_page:
            flush()
        if not para:
            para_page = line.page
        para.append(line.text)
        ends_sentence = line.text.endswith((".", "!", "?", ":", '."', ".\u201d"))
        if ends_sentence and len(line.text) < 0.7 * longest:
            flush()  # a short last line closes its paragraph
    flush()
    return blocks, title


class PdfLoader:
    """PDF files with a text layer; scanned PDFs are reported (they need OCR first)."""

    suffixes: tuple[str, ...] = (".pdf",)

    def load(self, path: Path) -> Parsed:
        import pypdf  # lazy: keeps `staffroom --help` fast

        logging.getLogger("pypdf").setLevel(logging.ERROR)  # recoverable-damage chatter
        try:
            reader = pypdf.PdfReader(path, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoaderError(f"{path.name}: the PDF is password-protected.")
            lines, unreadable = _read_pages(reader)
            meta_title = str(getattr(reader.metadata, "title", None) or "").strip()
            outline = _outline(reader)
        except LoaderError:
            raise
        except Exception as err:  # noqa: BLE001 - pypdf raises many types on damaged files
            raise LoaderError(
                f"{path.name}: not a readable PDF ({type(err).__name__}: {err})."
            ) from err
        if not lines:
            raise LoaderError(f"{path.name}: the PDF has no text layer (scanned? run OCR first).")
        blocks, heading_title = _blocks(lines, outline)
        if _PLACEHOLDER_TITLES.match(meta_title):
            meta_title = ""
        problems: tuple[str, ...] = ()
        if unreadable:
            label = "page" if len(unreadable) == 1 else "pages"
            problems = (f"{label} {', '.join(map(str, unreadable))} unreadable (skipped)",)
        return Parsed(blocks=tuple(blocks), title=meta_title or heading_title, problems=problems)


def _read_pages(reader: Any) -> tuple[list[_Line], list[int]]:
    """Every page's lines, and the 1-based numbers of pages whose text could not be extracted.

    A damaged page is skipped and reported; when no page at all reads, the file fails.
    """
    lines: list[_Line] = []
    unreadable: list[int] = []
    pages = list(reader.pages)
    with _Complaints() as complaints:
        for i, page in enumerate(pages):
            complaints.seen = False
            try:
                found = _page_lines(page, i + 1)
            except Exception:  # noqa: BLE001 - pypdf raises many types on a damaged page
                found, complaints.seen = [], True
            if complaints.seen and not found:  # damaged, not just blank: pypdf said so
                unreadable.append(i + 1)
            lines.extend(found)
    if pages and len(unreadable) == len(pages):
        raise ValueError("no page could be read")
    return lines, unreadable


class _Complaints(logging.Handler):
    """Notes pypdf's warnings (a stream it could not decode) without letting them reach the log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = False
        self._logger = logging.getLogger("pypdf")

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True

    def __enter__(self) -> _Complaints:
        self._saved = (self._logger.level, self._logger.propagate)
        self._logger.setLevel(logging.WARNING)
        self._logger.propagate = False
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._saved[0])
        self._logger.propagate = self._saved[1]

"""Markdown (.md, optional YAML front matter) and plain text (.txt) -> blocks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ingest.parsed import Block, Parsed
from ingest.textio import read_text
from staffroom_errors import LoaderError

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
# Only * and ` emphasis: underscores are far more often fill-in blanks ("because ___").
_EMPHASIS = re.compile(r"(\*\*|\*|`)(?=[^\s*])(.+?)(?<=[^\s*])\1")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    """YAML front matter between ``---`` lines at the very top, and the rest of the text."""
    if not text.startswith("---\n"):
        return {}, text
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.M)
    if end is None:
        return {}, text  # a lone rule at the top, not front matter
    raw, body = text[4 : 4 + end.start()], text[4 + end.end() :]
    try:
        data = yaml.safe_load(raw) or {}
    except yaml.YAMLError as err:
        raise LoaderError(
            f"{name}: the front matter is not valid YAML ({_first_line(err)})."
        ) from err
    if not isinstance(data, dict):
        raise LoaderError(f"{name}: the front matter must be 'key: value' lines.")
    return {str(k): v for k, v in data.items()}, body


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def inline(text: str) -> str:
    """Markdown inline syntax reduced to the words a reader sees."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    for _ in range(2):  # nested emphasis such as ***word***
        text = _EMPHASIS.sub(r"\2", text)
    return text.strip()


def _is_item(line: str) -> bool:
    return bool(_LIST.match(line)) or line.lstrip().startswith("|")


def _paragraph(lines: list[str]) -> str:
    """Wrapped prose joins with spaces; list items and table rows keep their own lines."""
    rows = [ln.strip() for ln in lines if not _TABLE_RULE.match(ln)]
    if not any(_is_item(ln) for ln in lines):
        return inline(" ".join(rows))  # inline markup may span the wrapped lines
    logical: list[str] = []
    for raw, ln in zip((r for r in lines if not _TABLE_RULE.match(r)), rows, strict=True):
        if logical and not _is_item(raw):
            logical[-1] = f"{logical[-1]} {ln}"  # a wrapped continuation of the item above
        else:
            logical.append(ln)
    out = []
    for ln in logical:
        if ln.startswith("|"):
            ln = re.sub(r"\s*\|\s*", " | ", ln.strip("|").strip())
        out.append(inline(ln))
    return "\n".join(o for o in out if o)


def _looks_like_heading(text: str) -> bool:
    """ATX syntax alone is not enough: a "# comment" from unfenced code is a sentence or code."""
    words = len(text.split())
    code = any(mark in text for mark in ("=>", "==", "([", "])", "{", "}", ";"))
    return words <= 12 and not code and not (text.endswith(".") and words > 6)


def markdown_blocks(body: str) -> tuple[list[Block], str]:
    """Blocks under their heading paths, and the first heading's text."""
    body = _COMMENT.sub("", body)
    lines = body.split("\n")
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    title = ""
    para: list[str] = []
    fence: str | None = None

    def flush() -> None:
        text = _paragraph(para) if fence is None else "\n".join(para).strip()
        if text:
            blocks.append(Block(text=text, heading=tuple(h for _, h in stack)))
        para.clear()

    def heading(level: int, text: str) -> None:
        nonlocal title
        flush()
        text = inline(text)
        if not text:
            return
        title = title or text
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))

    for line in lines:
        fence_match = _FENCE.match(line)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0]:
                flush()
                fence = None
            else:
                para.append(line)
            continue
        if fence_match:
            flush()
            fence = fence_match.group(1)
            continue
        atx = _ATX.match(line)
        if atx and _looks_like_heading(atx.group(2) or ""):
            heading(len(atx.group(1)), atx.group(2) or "")
        elif _SETEXT.match(line) and len(para) == 1 and not _LIST.match(para[0]):
            text = para.pop()
            heading(1 if line.strip()[0] == "=" else 2, text)
        elif not line.strip() or _SETEXT.match(line):
            flush()  # a blank line, or a thematic break (---) between paragraphs
        else:
            para.append(line)
    flush()
    return blocks, title


class MarkdownLoader:
    """Markdown handouts; front matter may name the session and its metadata."""

    suffixes: tuple[str, ...] = (".md", ".markdown")

    def load(self, path: Path) -> Parsed:
        front, body = split_front_matter(read_text(path), path.name)
        blocks, heading_title = markdown_blocks(body)
        if not blocks:
            raise LoaderError(f"{path.name}: no text besides headings and front matter.")
        title = front.get("title")
        return Parsed(
            blocks=tuple(blocks),
            title=str(title).strip() if title else heading_title,
            front_matter=front,
        )


class TextLoader:
    """Plain text: paragraphs separated by blank lines."""

    suffixes: tuple[str, ...] = (".txt",)

    def load(self, path: Path) -> Parsed:
        paragraphs = re.split(r"\n\s*\n", read_text(path))
        blocks = (Block(text=_plain(p.strip("\n").split("\n"))) for p in paragraphs)
        return Parsed(blocks=tuple(b for b in blocks if b.text))


def _plain(lines: list[str]) -> str:
    """Plain-text paragraph: lists keep their lines, wrapped prose joins with spaces."""
    if any(_LIST.match(ln) for ln in lines):
        return "\n".join(" ".join(ln.split()) for ln in lines if ln.strip())
    return " ".join(" ".join(lines).split())

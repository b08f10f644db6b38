"""HTML pages (stdlib html.parser) -> blocks under their h1-h6 headings."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from ingest.parsed import Block, Parsed
from ingest.textio import read_text
from staffroom_errors import LoaderError

_SKIP = {"script", "style", "nav", "noscript", "template", "svg", "button", "select"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
# Tags that end a run of text; td/th only end a cell, the row ends the line.
_BREAKS = set(
    "p div section article main aside header footer blockquote pre ul ol dl table thead tbody "
    "figure figcaption form hr address details summary body".split()
)
_LINES = {"li", "tr", "br", "dt", "dd", "caption"}
_CELLS = {"td", "th"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "col", "area", "base"}


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.stack: list[tuple[int, str]] = []
        self.first_heading = ""
        self.title = ""
        self._skip: list[str] = []
        self._in_title = False
        self._heading: tuple[int, list[str]] | None = None
        self._lines: list[str] = []
        self._line: list[str] = []

    # --- text runs -----------------------------------------------------------------
    def _end_cell(self) -> None:
        if self._line and not self._line[-1].endswith(" | "):
            self._line.append(" | ")

    def _end_line(self) -> None:
        line = " ".join("".join(self._line).split()).strip(" |")
        if line:
            self._lines.append(line)
        self._line = []

    def _end_block(self) -> None:
        self._end_line()
        if self._lines:
            heading = tuple(h for _, h in self.stack)
            self.blocks.append(Block(text="\n".join(self._lines), heading=heading))
        self._lines = []

    # --- parser callbacks ----------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip.append(tag)
            return
        if tag == "title":
            self._in_title = True
        elif tag in _HEADINGS and not self._skip:
            self._end_block()
            self._heading = (_HEADINGS[tag], [])
        elif tag in _BREAKS:
            self._end_block()
        elif tag in _LINES:
            self._end_line()
        elif tag in _CELLS:
            self._end_cell()
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self._skip:
                self.handle_data(f" {alt} ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag in self._skip:
                while self._skip and self._skip.pop() != tag:
                    pass
            if tag == "title":
                self._in_title = False
            return
        if tag == "title":
            self._in_title = False
        elif tag in _HEADINGS and self._heading is not None:
            level, parts = self._heading
            self._heading = None
            text = " ".join("".join(parts).split())
            if text:
                self.first_heading = self.first_heading or text
                while self.stack and self.stack[-1][0] >= level:
                    self.stack.pop()
                self.stack.append((level, text))
        elif tag in _BREAKS:
            self._end_block()
        elif tag in _LINES:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._skip:
            return
        elif self._heading is not None:
            self._heading[1].append(data)
        else:
            self._line.append(data)

    def close(self) -> None:
        super().close()
        self._end_block()


class HtmlLoader:
    """Saved web pages and exported HTML handouts."""

    suffixes: tuple[str, ...] = (".html", ".htm")

    def load(self, path: Path) -> Parsed:
        parser = _Extractor()
        try:
            parser.feed(read_text(path))
            parser.close()
        except LoaderError:
            raise
        except Exception as err:  # noqa: BLE001 - html.parser rarely fails, but never crash a build
            raise LoaderError(f"{path.name}: not readable HTML ({err}).") from err
        if not parser.blocks:
            raise LoaderError(f"{path.name}: the page has no text besides headings and scripts.")
        title = parser.first_heading or " ".join(parser.title.split())
        return Parsed(blocks=tuple(parser.blocks), title=title)

"""Word documents (python-docx) -> blocks; Heading styles give the structure, tables become text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingest.parsed import Block, Parsed
from staffroom_errors import LoaderError

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)


def _level(paragraph: Any) -> int | None:
    """0 for the Title style, N for "Heading N", None for body text."""
    name = (getattr(paragraph.style, "name", "") or "").strip()
    if name.lower() == "title":
        return 0
    match = _HEADING_STYLE.match(name)
    return int(match.group(1)) if match else None


def _table_text(table: Any) -> str:
    """One line per row, cells joined by " | "; merged cells are listed once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats across the span
                continue
            seen.add(id(cell._tc))
            text = " ".join(cell.text.split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _body_items(document: Any) -> list[Any]:
    """Paragraphs and tables in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    items: list[Any] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            items.append(Paragraph(child, document))
        elif tag == "tbl":
            items.append(Table(child, document))
    return items


class DocxLoader:
    """Word .docx files (not the old binary .doc)."""

    suffixes: tuple[str, ...] = (".docx",)

    def load(self, path: Path) -> Parsed:
        try:
            import docx  # lazy: keeps `staffroom --help` fast
            from docx.table import Table

            document = docx.Document(str(path))
            items = _body_items(document)
            core_title = (document.core_properties.title or "").strip()
        except Exception as err:  # noqa: BLE001 - zip, XML and package errors all mean "broken"
            raise LoaderError(
                f"{path.name}: not a readable Word document ({type(err).__name__})."
            ) from err
        blocks: list[Block] = []
        stack: list[tuple[int, str]] = []
        title_style = first_heading = ""
        prev_list = False
        for item in items:
            if isinstance(item, Table):
                text = _table_text(item)
                level = None
            else:
                text = " ".join(item.text.split())
                level = _level(item)
            if not text:
                continue
            is_list = not isinstance(item, Table) and level is None and _is_list(item)
            if level is None:
                if is_list and prev_list:
                    text = f"{blocks.pop().text}\n{text}"  # consecutive list items stay together
                blocks.append(Block(text=text, heading=tuple(h for _, h in stack)))
                prev_list = is_list
                continue
            prev_list = False
            if level == 0:
                title_style = title_style or text
            else:
                first_heading = first_heading or text
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
        if not blocks:
            raise LoaderError(f"{path.name}: the document has no text besides headings.")
        return Parsed(blocks=tuple(blocks), title=title_style or first_heading or core_title)


def _is_list(paragraph: Any) -> bool:
    name = (getattr(paragraph.style, "name", "") or "").lower()
    ppr = paragraph._p.pPr
    return name.startswith("list") or (ppr is not None and ppr.numPr is not None)

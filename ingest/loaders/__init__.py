"""One loader per file format, chosen by suffix.

    load(path) -> Parsed      cues for captions (.vtt, .srt), blocks for documents
    supported(path) -> bool   whether any loader takes this suffix

A file that cannot be parsed raises ``staffroom_errors.LoaderError`` with a reason a person can
act on; the build reports it and skips the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ingest.loaders.captions import SrtLoader, VttLoader
from ingest.loaders.docx import DocxLoader
from ingest.loaders.html import HtmlLoader
from ingest.loaders.markdown import MarkdownLoader, TextLoader
from ingest.loaders.pdf import PdfLoader
from ingest.parsed import Parsed
from staffroom_errors import LoaderError


class Loader(Protocol):
    """Parses one file format."""

    suffixes: tuple[str, ...]

    def load(self, path: Path) -> Parsed: ...


LOADERS: tuple[Loader, ...] = (
    VttLoader(),
    SrtLoader(),
    MarkdownLoader(),
    TextLoader(),
    PdfLoader(),
    DocxLoader(),
    HtmlLoader(),
)
_BY_SUFFIX: dict[str, Loader] = {s: loader for loader in LOADERS for s in loader.suffixes}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_BY_SUFFIX)


def loader_for(path: Path) -> Loader | None:
    return _BY_SUFFIX.get(path.suffix.lower())


def supported(path: Path) -> bool:
    return loader_for(path) is not None


def load(path: Path) -> Parsed:
    """Parse one library file; LoaderError when its format is unknown or it is broken."""
    loader = loader_for(path)
    if loader is None:
        raise LoaderError(f"{path.name}: unsupported file type {path.suffix or '(none)'}.")
    return loader.load(path)

"""Turning a library file's bytes into text, tolerantly but never silently wrong."""

from __future__ import annotations

import codecs
from pathlib import Path

from staffroom_errors import LoaderError

# Control characters that never appear in real text files (tab, LF, CR and FF do).
_CONTROL = {b for b in range(32) if b not in (9, 10, 12, 13)}


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or a LoaderError that says why they cannot be had."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LoaderError(f"{path.name}: cannot be read ({err.strerror or err}).") from err
    if not data.strip():
        raise LoaderError(f"{path.name}: the file is empty.")
    return data


def decode(data: bytes, name: str) -> str:
    """UTF-8 (BOM optional), UTF-16 with a BOM, or clean Windows-1252; newlines become ``\\n``."""
    text = _decode(data, name)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    if not text.strip():
        raise LoaderError(f"{name}: the file has no text.")
    return text


def read_text(path: Path) -> str:
    return decode(read_bytes(path), path.name)


def _decode(data: bytes, name: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise LoaderError(f"{name}: broken UTF-16 text.") from err
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Windows editors still save Windows-1252 (curly quotes as single bytes); accept it only when
    # the bytes look like text, so binary junk is reported rather than indexed as gibberish.
    non_ascii = sum(1 for b in data if b >= 0x80)
    if not any(b in _CONTROL for b in data) and non_ascii <= len(data) // 10:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise LoaderError(f"{name}: not readable text (save it as UTF-8).")

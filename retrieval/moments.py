"""How a moment is shown: "12:30–15:10" and a deep link into the recording (answers, bots, CLI)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def format_clock(seconds: float) -> str:
    """750.4 -> "12:30"; an hour or more -> "1:02:05"."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def format_span(start: float | None, end: float | None) -> str:
    """The moment to watch, "12:30–15:10"; "" for untimed content."""
    if start is None:
        return ""
    if end is None or end <= start:
        return format_clock(start)
    return f"{format_clock(start)}–{format_clock(end)}"


def deep_link(url: str, start: float | None) -> str:
    """The recording URL that opens at ``start`` (a media fragment, ``#t=750``)."""
    if not url or start is None:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(fragment=f"t={int(start)}"))

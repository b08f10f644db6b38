"""One build at a time per index directory (an advisory file lock; released if the process dies)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from staffroom_errors import IndexError_

LOCK_NAME = ".ingest.lock"


@contextlib.contextmanager
def build_lock(
    index_dir: Path, on_wait: Callable[[], None] | None = None, *, wait: bool = True
) -> Iterator[None]:
    """Hold the index dir's build lock; calls ``on_wait`` once if another build holds it.

    With ``wait=False`` a held lock raises `IndexError_` at once instead (rollback does that).
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_NAME, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: one ingest at a time by convention
            yield
            return
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise IndexError_(
                    "An ingest is running on this index right now.",
                    hint="Try again when it has finished (`staffroom status`).",
                ) from None
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # the other build finishes, then us
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

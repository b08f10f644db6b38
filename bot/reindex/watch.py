"""`staffroom reindex [--watch]`: re-index from a shell, once or whenever the library changes.

Runs take the same database lock as `/pd reindex`, so a shell, a watcher and every replica
never build at once. Watching polls a (path, size, mtime) snapshot of the library folder: no
file-system events, no extra dependency, and it works on network mounts where events do not.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.reindex import job
from staffroom_errors import ConfigError

if TYPE_CHECKING:
    from bot.settings import Settings
    from ingest import Progress
    from retrieval.embedder import Embedder
    from store import Database

State = dict[str, tuple[int, int]]
SETTLE_S = 2.0  # a file still being copied must look the same twice before it is read


def library_state(library: Path) -> State:
    """Every file under ``library`` (hidden ones skipped): relative path -> (size, mtime_ns)."""
    state: State = {}
    for folder, dirs, files in os.walk(library):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = Path(folder) / name
            try:
                st = path.stat()
            except OSError:  # deleted between listing and stat: the next poll sees it gone
                continue
            state[path.relative_to(library).as_posix()] = (st.st_size, st.st_mtime_ns)
    return state


def watch(
    library: Path,
    interval: float,
    run: Callable[[], bool],
    stop: threading.Event,
    *,
    settle: float = SETTLE_S,
    wait: Callable[[float], object] | None = None,
) -> int:
    """Call ``run`` now and after every change to ``library`` until ``stop``; returns the runs.

    ``run`` returns False when it could not run (another holds the lock): it is tried again at
    the next poll even if nothing else changed. ``wait(seconds)`` passes the time between polls
    (``stop.wait``; tests pass their own clock).
    """
    pause = wait or stop.wait
    handled: State | None = None
    runs = 0
    while not stop.is_set():
        state = library_state(library)
        if state != handled:
            if handled is not None and settle > 0:
                pause(settle)
                if library_state(library) != state:
                    continue  # still changing: look again after it settles
            runs += 1
            if run():
                handled = state
        pause(interval)
    return runs


def run_cli(
    settings: Settings,
    library: Path,
    embedder: Embedder,
    *,
    watching: bool = False,
    interval: float = 30.0,
    full: bool = False,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
    progress: Callable[[Progress], None] | None = None,
    replace: bool = False,
) -> int:
    """One run (exit status 0 when it built or nothing changed), or watch until ``stop``."""
    out = out or sys.stderr
    database = open_database(settings)
    started_by = job.started_by_cli("reindex")
    replica = job.replica_id()
    failed = False

    def run_once() -> bool:
        nonlocal failed
        held = job.claim(database, replica, started_by, "cli")
        if isinstance(held, job.Busy):
            print(held.text(), file=out, flush=True)
            return False
        outcome = job.execute(database, held, library, settings.index_dir, embedder, progress,
                              full=full, replace=replace,
                              keep_versions=settings.index_keep_versions)  # fmt: skip
        failed = not outcome.ok
        print(job.outcome_text(outcome), file=out, flush=True)
        return True

    try:
        if not watching:
            return 0 if run_once() and not failed else 1
        print(f"watching {library} every {interval:g}s (Ctrl-C to stop)", file=out, flush=True)
        watch(library, interval, run_once, stop or threading.Event())
        return 0
    finally:
        database.dispose()


def open_database(settings: Settings) -> Database:
    """The database; SQLite is migrated here, PostgreSQL must have been (`staffroom db upgrade`)."""
    from store import Database, migrate

    try:
        database = Database.from_url(
            settings.database_url_or_default,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
    except OSError as err:  # the data dir is not a folder, or not writable
        raise ConfigError(f"Cannot open the database in {settings.data_dir}: {err}") from err
    if database.engine.url.get_backend_name() == "sqlite":
        migrate.upgrade(database.engine)
    elif migrate.current(database.engine) != migrate.head():
        database.dispose()
        raise ConfigError(
            "The database is not at the current schema.", hint="Run `staffroom db upgrade` first."
        )
    return database

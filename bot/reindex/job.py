"""One re-index run under the database lock: claim it, build in this thread, record the outcome.

Chat (``bot/flows/reindex.py``), ``staffroom ingest`` and ``staffroom reindex [--watch]`` share
this, so every replica and every CLI process takes the same ``reindex`` lock. The lock has a TTL that a small
thread renews while the build runs: a replica killed mid-run stops renewing, its lock expires
and the next request takes over (its orphaned ``running`` run is then marked interrupted).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from retrieval.flags import withheld_notes
from staffroom_errors import StaffroomError
from store import (
    ReindexRun,
    acquire_lock,
    finish_reindex_run,
    get_lock,
    latest_reindex_run,
    release_lock,
    start_reindex_run,
    utcnow,
)

if TYPE_CHECKING:
    from ingest import BuildSummary, Progress
    from retrieval.embedder import Embedder
    from retrieval.types import IndexInfo
    from store import Database

log = logging.getLogger(__name__)

LOCK = "reindex"
LOCK_TTL = 90.0  # seconds; renewed every third of it while a build runs
LIST_LIMIT = 8  # file names shown per list in a summary
KEEP_VERSIONS = 5  # index versions kept for rollback: STAFFROOM_INDEX_KEEP_VERSIONS


def replica_id() -> str:
    """This process, as lock holders name it: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def started_by_cli(command: str) -> str:
    """Who a run from the shell was started by, as `status` shows it."""
    return f"staffroom {command} ({socket.gethostname()})"


@dataclass(frozen=True)
class Claim:
    """A held lock and its run row: the right (and the duty) to build and then release."""

    run_id: int
    holder: str
    started_by: str


@dataclass(frozen=True)
class Busy:
    """Another run holds the lock: who, and since when."""

    started_by: str
    since: datetime | None

    def text(self) -> str:
        when = f" since {self.since:%H:%M} UTC" if self.since else ""
        return (
            f"A re-index is already running (started by {self.started_by}{when}). "
            "I'll leave it to finish; ask me for `status` to see how it went."
        )


@dataclass(frozen=True)
class Outcome:
    """How a run ended: its summary, or the error that stopped it."""

    run_id: int
    summary: BuildSummary | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.summary is not None

    @property
    def label(self) -> str:
        """succeeded (published), unchanged or failed: the metrics' outcome label."""
        if self.summary is None:
            return "failed"
        return "succeeded" if self.summary.published else "unchanged"


@dataclass
class Tracker:
    """The newest progress of a build, written by its thread and read by whoever reports it."""

    phase: str = "scan"
    scanned: tuple[int, int] = (0, 0)  # library files checked against the live index
    parsed: tuple[int, int] = (0, 0)  # new or changed files read
    chunks: tuple[int, int] = (0, 0)  # chunks embedded
    percent: int = 0

    # Phase spans of the overall percentage: scanning is quick, embedding is most of the work.
    _SPANS = {"scan": (0, 10), "parse": (10, 40), "embed": (40, 95), "write": (95, 100)}

    def __call__(self, event: Progress) -> None:
        low, high = self._SPANS.get(event.phase, (0, 100))
        share = event.done / event.total if event.total else 0.0
        self.phase = event.phase
        if event.total:
            counts = {"scan": "scanned", "parse": "parsed", "embed": "chunks"}
            if event.phase in counts:
                setattr(self, counts[event.phase], (event.done, event.total))
        self.percent = max(self.percent, min(100, int(low + (high - low) * share)))

    def text(self) -> str:
        parts = [f"Re-indexing the library… {self.percent}%"]
        if self.scanned[1]:
            parts.append(f"files {self.scanned[0]}/{self.scanned[1]} checked")
        if self.parsed[1]:
            parts.append(f"{self.parsed[0]}/{self.parsed[1]} new or changed read")
        if self.chunks[1]:
            parts.append(f"chunks {self.chunks[0]}/{self.chunks[1]} embedded")
        if self.phase == "write":
            parts.append("publishing the new index")
        return " · ".join(parts)


def holder_for(replica: str, started_by: str) -> str:
    return f"{replica}|{started_by}"[:255]


def claim(database: Database, replica: str, started_by: str, platform: str) -> Claim | Busy:
    """Take the lock and open a run row, or say who holds it (one transaction each)."""
    holder = holder_for(replica, started_by)
    with database.session() as s:
        if not acquire_lock(s, LOCK, holder, LOCK_TTL):
            return _busy(s)
        # We hold the lock, so a run still marked running belongs to a replica that died.
        s.execute(
            sa.update(ReindexRun)
            .where(ReindexRun.status == "running")
            .values(
                status="failed", finished_at=utcnow(), error="interrupted (the process stopped)"
            )
            .execution_options(synchronize_session=False)
        )
        run = start_reindex_run(s, started_by[:128], platform[:32])
        return Claim(run.id, holder, started_by)


def _busy(s: Any) -> Busy:
    run = latest_reindex_run(s)
    if run is not None and run.status == "running":
        return Busy(run.started_by, run.started_at)
    lock = get_lock(s, LOCK)
    who = lock.holder.partition("|")[2] if lock is not None else ""
    return Busy(who or "another process", lock.acquired_at if lock is not None else None)


def execute(
    database: Database,
    held: Claim,
    library: Path,
    index_dir: Path,
    embedder: Embedder,
    progress: Callable[[Progress], None] | None = None,
    *,
    full: bool = False,
    raising: bool = False,
    replace: bool = False,
    keep_versions: int = KEEP_VERSIONS,
) -> Outcome:
    """Build (in this thread) while renewing the lock; record the run; always release.

    A failed build is an ``Outcome`` with its error, or, with ``raising``, recorded and raised.
    ``replace`` lets the build swap in another library folder than the live index's (the CLI's
    ``--replace``); chat and the server re-index the configured library, and never replace.
    """
    from ingest import build_index

    renewer = _Renewer(database, held.holder)
    renewer.start()
    try:
        try:
            summary = build_index(library, index_dir, embedder, full=full, progress=progress,
                                  replace=replace, keep_versions=keep_versions)  # fmt: skip
            outcome = Outcome(held.run_id, summary=summary)
        except Exception as err:
            if isinstance(err, StaffroomError):
                outcome = Outcome(held.run_id, error=err.user_text())
            else:
                log.exception("re-index run %s failed", held.run_id)
                outcome = Outcome(held.run_id, error=f"unexpected error ({type(err).__name__})")
            if raising:
                _record(database, outcome)
                raise
        _record(database, outcome)
        return outcome
    finally:
        renewer.stop()
        _release(database, held.holder)


def abandon(database: Database, held: Claim, error: str) -> Outcome:
    """End a claimed run that never built: recorded as failed, lock released."""
    outcome = Outcome(held.run_id, error=error)
    _record(database, outcome)
    _release(database, held.holder)
    return outcome


def _record(database: Database, outcome: Outcome) -> None:
    try:
        with database.session() as s:
            finish_reindex_run(
                s,
                outcome.run_id,
                succeeded=outcome.ok,
                summary=summary_json(outcome.summary) if outcome.summary else {},
                error=outcome.error,
            )
    except Exception:  # the index is published either way; the log keeps the outcome
        log.exception("could not record the end of re-index run %s", outcome.run_id)


def _release(database: Database, holder: str) -> None:
    try:
        with database.session() as s:
            release_lock(s, LOCK, holder)
    except Exception:  # the TTL frees it shortly
        log.exception("could not release the re-index lock; it expires in %ss", LOCK_TTL)


class _Renewer:
    """Renews the lock every third of its TTL until stopped."""

    def __init__(self, database: Database, holder: str, ttl: float = LOCK_TTL) -> None:
        self._database, self._holder, self._ttl = database, holder, ttl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reindex-lock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._ttl / 3):
            try:
                with self._database.session() as s:
                    if not acquire_lock(s, LOCK, self._holder, self._ttl):
                        log.error("lost the re-index lock to another holder")
            except Exception:
                log.exception("could not renew the re-index lock; retrying")


def summary_json(summary: BuildSummary) -> dict[str, Any]:
    """What the run row keeps (and `status` shows) of a build."""
    return {
        **summary.stats(),
        "sessions": summary.sessions,
        "chunks": summary.chunks,
        "seconds": round(summary.seconds, 2),
        "version": summary.version,
        "published": summary.published,
    }


def outcome_text(outcome: Outcome, live: str | None = None) -> str:
    """The final message of a run: what changed, what failed and why."""
    s = outcome.summary
    if s is None:
        keeps = f" The live index ({live}) keeps serving." if live else ""
        return f"Re-index failed: {outcome.error}{keeps}"
    head = (
        f"Re-index finished: index {s.version} is live."
        if s.published
        else f"Re-index finished: nothing changed, index {s.version} stays live."
    )
    lines = [
        head,
        f"Added {len(s.added)} · changed {len(s.changed)} · removed {len(s.removed)} · "
        f"unchanged {len(s.unchanged)} · failed {len(s.failed)}. {s.sessions} sessions, "
        f"{s.chunks} chunks ({s.embedded} embedded, {s.cache_hits} from the cache) in "
        f"{s.seconds:.1f}s.",
    ]
    for label, names in (("Added", s.added), ("Changed", s.changed), ("Removed", s.removed)):
        if names:
            lines.append(f"{label}: {_names(names)}")
    for path, reason in s.failed[:LIST_LIMIT]:
        lines.append(f"Failed: {path}: {reason}")
    if len(s.failed) > LIST_LIMIT:
        lines.append(f"…and {len(s.failed) - LIST_LIMIT} more failed files.")
    for path, problem in s.partial[:LIST_LIMIT]:
        lines.append(f"Partly indexed: {path}: {problem}")
    if len(s.partial) > LIST_LIMIT:
        lines.append(f"…and {len(s.partial) - LIST_LIMIT} more partly indexed files.")
    lines.extend(flagged_lines(s.flagged))
    return "\n".join(lines)


def flagged_lines(flagged: list[tuple[str, str]]) -> list[str]:
    """Files with instruction-like passages, withheld until an admin clears them."""
    if not flagged:
        return []
    lines = [f"Flagged: {path}: {what}" for path, what in flagged[:LIST_LIMIT]]
    if len(flagged) > LIST_LIMIT:
        lines.append(f"…and {len(flagged) - LIST_LIMIT} more flagged files.")
    lines.append(
        "Flagged passages read like instructions to an AI; they are not shown or sent to the "
        "LLM until an admin reviews them and runs `staffroom flags clear FILE`."
    )
    return lines


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:LIST_LIMIT])
    return shown + (f" and {len(names) - LIST_LIMIT} more" if len(names) > LIST_LIMIT else "")


def status_text(database: Database, index_dir: Path) -> str:
    """Index version and size, and the last re-index with its outcome."""
    info = _published(index_dir)
    if info is None:
        lines = ["No index yet: run `reindex` (or `staffroom ingest`)."]
    else:
        lines = [f"Index {info.version}: {info.sessions} sessions, {info.chunks} chunks."]
        lines += [f"Flagged and withheld: {path}: {note}" for path, note in withheld_notes(index_dir)]
        lines += [f"Partly indexed: {path}: {what}" for path, what in _partial(index_dir)]
    lines += last_run_lines(database)
    return "\n".join(lines)


def last_run_lines(database: Database) -> list[str]:
    """The last re-index (chat, `staffroom ingest` or `staffroom reindex`) and how it ended."""
    with database.session() as s:
        run = latest_reindex_run(s)
        if run is None:
            return ["No re-index has run from chat or `staffroom reindex` yet."]
        when = f"{run.started_at:%Y-%m-%d %H:%M} UTC"
        lines = [f"Last re-index #{run.id} by {run.started_by}, {when}: {run.status}."]
        summary = run.summary or {}
        if run.status == "succeeded" and summary:
            lines.append(
                f"Added {summary.get('added', 0)} · changed {summary.get('changed', 0)} · "
                f"removed {summary.get('removed', 0)} · failed "
                f"{len(summary.get('failed') or [])}."
            )
        if run.error:
            lines.append(f"Error: {run.error}")
        return lines


def _partial(index_dir: Path) -> list[tuple[str, str]]:
    from ingest.versions import partial_problems

    found = partial_problems(index_dir)
    extra = [("…", f"and {len(found) - LIST_LIMIT} more")] if len(found) > LIST_LIMIT else []
    return found[:LIST_LIMIT] + extra


def live_version(index_dir: Path) -> str | None:
    """The published version's name, None before the first build (or when unreadable)."""
    info = _published(index_dir)
    return info.version if info else None


def _published(index_dir: Path) -> IndexInfo | None:
    from retrieval.snapshot import IndexRoot  # faiss loads with it: only when asked

    try:
        return IndexRoot(index_dir).info()
    except (OSError, StaffroomError):
        log.warning("could not read the live index in %s", index_dir, exc_info=True)
        return None

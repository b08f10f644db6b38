"""Admins re-index from chat (`/pd reindex`, `reindex`) and ask for `status`.

A run takes the database lock (one run across every replica and CLI), builds in a worker thread
and edits one progress message in place every few seconds, ending with the summary. Questions
keep being answered from the live index meanwhile; each replica's Searcher loads the new
version by itself once it is published. Where the core cannot post on its own (the terminal),
the run happens in the foreground and the summary is the reply.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ideas
from bot.core import Turn
from bot.flows import reindex_job as job
from bot.messages import Incoming, Reply
from bot.outbox import Address, Outbox
from staffroom_errors import StaffroomError
from store import latest_reindex_run

if TYPE_CHECKING:
    from retrieval.embedder import Embedder
    from store import Database

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 3.0
REINDEX_HELP = "Admins: `reindex` re-indexes the session library; `status` shows the index."


@dataclass(frozen=True)
class ReindexDeps:
    """What re-indexing needs, built once by the composition root."""

    database: Database
    outbox: Outbox
    roles: ideas.Roles
    library: Path
    index_dir: Path
    embedder: Callable[[], Embedder]  # called in the worker: the model may load lazily
    replica: str = ""
    progress_seconds: float = PROGRESS_SECONDS


class ReindexFlow:
    """The `reindex` and `status` handlers; runs go on in background tasks it keeps."""

    def __init__(self, deps: ReindexDeps) -> None:
        self.deps = deps
        self.replica = deps.replica or job.replica_id()
        self._tasks: set[asyncio.Task[None]] = set()

    async def settle(self, timeout: float = 60) -> None:
        """Wait for the runs started so far (tests, shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    # --- reindex -------------------------------------------------------------------------

    async def on_reindex(self, turn: Turn) -> list[Reply] | None:
        who = turn.incoming
        ideas.require_admin(self.deps.roles, who.platform, who.user_id)
        started_by = f"{who.user_name or who.user_id} ({who.platform}:{who.user_id})"
        held = await asyncio.to_thread(
            job.claim, self.deps.database, self.replica, started_by, who.platform
        )
        if isinstance(held, job.Busy):
            return [Reply(text=held.text(), kind="hint", ephemeral=True)]
        log.info("re-index run %s started by %s", held.run_id, started_by)
        try:
            posted = await self._post_start(who, held)
        except BaseException:
            await asyncio.to_thread(job.abandon, self.deps.database, held, "could not start")
            raise
        if posted is None:  # nowhere to post progress: run now, the summary is the answer
            outcome = await self._execute(held, job.Tracker())
            return [Reply(text=job.outcome_text(outcome, _live(self.deps.index_dir)))]
        where, ref = posted
        task = asyncio.create_task(self._run(held, where.platform, ref))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if who.surface == "command" or where.conversation_id != who.conversation_id:
            return [
                Reply(
                    text=f"Re-index #{held.run_id} started: I'm posting its progress in our "
                    "direct messages.",
                    ephemeral=True,
                )
            ]
        return []

    async def _post_start(self, who: Incoming, held: job.Claim) -> tuple[Address, str] | None:
        """Post the progress message (in the conversation, else by DM); None when neither works."""
        outbox = self.deps.outbox
        if not outbox.reaches(who.platform):
            return None
        first = Reply(text=f"Re-index #{held.run_id} started…", kind="progress", in_thread=True)
        direct = Address.direct(who.platform, who.user_id)
        places = [direct]
        if who.surface != "command" and who.conversation_id:
            places.insert(0, Address(who.platform, who.conversation_id, who.thread_id))
        for where in places:
            sent = await outbox.send(where, first)
            if sent.ok:
                return where, sent.ref
            log.warning("could not post re-index progress to %s: %s", where, sent.error)
        return None

    async def _run(self, held: job.Claim, platform: str, ref: str) -> None:
        """The build in a thread; its progress message edited every few seconds, then summed up."""
        tracker = job.Tracker()
        work = asyncio.create_task(self._execute(held, tracker))
        shown = ""
        while not work.done():
            await asyncio.wait({work}, timeout=self.deps.progress_seconds)
            if work.done():
                break
            text = tracker.text()
            if text != shown:
                shown = text
                await self.deps.outbox.update(platform, ref, Reply(text=text, kind="progress"))
        try:
            outcome = work.result()
        except Exception:
            log.exception("re-index run %s crashed", held.run_id)
            outcome = job.Outcome(held.run_id, error="unexpected error")
        text = job.outcome_text(outcome, _live(self.deps.index_dir))
        sent = await self.deps.outbox.update(platform, ref, Reply(text=text, kind="summary"))
        if not sent.ok:
            log.warning("could not post the summary of re-index run %s", held.run_id)

    async def _execute(self, held: job.Claim, tracker: job.Tracker) -> job.Outcome:
        d = self.deps

        def build() -> job.Outcome:
            try:
                embedder = d.embedder()
            except Exception as err:
                log.exception("no embedder for re-index run %s", held.run_id)
                return job.abandon(d.database, held, f"the embedding model failed to load ({err})")
            return job.execute(d.database, held, d.library, d.index_dir, embedder, tracker)

        outcome = await asyncio.to_thread(build)
        log.info("re-index run %s ended: %s", held.run_id, outcome.label)
        return outcome

    # --- status --------------------------------------------------------------------------

    async def on_status(self, turn: Turn) -> list[Reply] | None:
        if turn.intent.args:  # "status of ELL students..." is a question
            return None
        who = turn.incoming
        ideas.require_admin(self.deps.roles, who.platform, who.user_id)
        text = await asyncio.to_thread(status_text, self.deps.database, self.deps.index_dir)
        return [Reply(text=text, kind="status", ephemeral=True)]


def status_text(database: Database, index_dir: Path) -> str:
    """Index version and size, and the last re-index with its outcome."""
    facts = index_facts(index_dir)
    if facts is None:
        lines = ["No index yet: run `reindex` (or `staffroom ingest`)."]
    else:
        version, sessions, chunks = facts
        lines = [f"Index {version}: {sessions} sessions, {chunks} chunks."]
        lines.extend(withheld_lines(index_dir))
    with database.session() as s:
        run = latest_reindex_run(s)
        if run is None:
            lines.append("No re-index has run from chat or `staffroom reindex` yet.")
        else:
            when = f"{run.started_at:%Y-%m-%d %H:%M} UTC"
            lines.append(f"Last re-index #{run.id} by {run.started_by}, {when}: {run.status}.")
            summary = run.summary or {}
            if run.status == "succeeded" and summary:
                lines.append(
                    f"Added {summary.get('added', 0)} · changed {summary.get('changed', 0)} · "
                    f"removed {summary.get('removed', 0)} · failed "
                    f"{len(summary.get('failed') or [])}."
                )
            if run.error:
                lines.append(f"Error: {run.error}")
    return "\n".join(lines)


def index_facts(index_dir: Path) -> tuple[str, int, int] | None:
    """(version, sessions, chunks) of the published index, None before the first build."""
    from retrieval.snapshot import IndexRoot

    try:
        current = IndexRoot(index_dir).current()
        if current is None:
            return None
        # TODO(retrieval): a public IndexRoot.info(); info.json is written last, so it is whole.
        info = json.loads((current / "info.json").read_text(encoding="utf-8"))
        meta = info.get("snapshot", {})
        return current.name, int(meta.get("sessions", 0)), int(meta.get("chunks", 0))
    except (OSError, ValueError, StaffroomError):
        log.warning("could not read the live index in %s", index_dir, exc_info=True)
        return None


def withheld_lines(index_dir: Path) -> list[str]:
    """The live index's flagged files that no admin has cleared, as `status` lists them."""
    from retrieval.flags import Clearances, flags_of, withheld_sources
    from retrieval.snapshot import IndexRoot

    try:
        current = IndexRoot(index_dir).current()
        if current is None:
            return []
        flags = flags_of(json.loads((current / "info.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, StaffroomError):
        return []
    if not flags:
        return []
    withheld = sorted(withheld_sources(flags, Clearances(index_dir).read()))
    return [f"Flagged and withheld: {path}: {flags[path].note}" for path in withheld]


def _live(index_dir: Path) -> str | None:
    facts = index_facts(index_dir)
    return facts[0] if facts else None

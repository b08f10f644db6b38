"""Admins re-index from chat (`/pd reindex`, `reindex`) and ask for `status`.

A run takes the database lock (one run across every replica and CLI), builds in a worker thread
and edits one progress message in place every few seconds, ending with the summary. Questions
keep being answered from the live index meanwhile; each replica's Searcher loads the new
version by itself once it is published. Where the core cannot post on its own (the terminal),
the run happens in the foreground and the summary is the reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ideas
from bot.core import Turn
from bot.delivery import Address, MessageRef, Pipeline
from bot.messages import Incoming, Reply
from bot.reindex import job

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
    delivery: Pipeline
    roles: ideas.Roles
    library: Path
    index_dir: Path
    embedder: Callable[[], Embedder]  # called in the worker: the model may load lazily
    replica: str = ""
    keep_versions: int = job.KEEP_VERSIONS
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
            return [Reply(text=job.outcome_text(outcome, job.live_version(self.deps.index_dir)))]
        where, ref = posted
        task = asyncio.create_task(self._run(held, ref))
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

    async def _post_start(
        self, who: Incoming, held: job.Claim
    ) -> tuple[Address, MessageRef] | None:
        """Post the progress message (in the conversation, else by DM); None when neither works."""
        delivery = self.deps.delivery
        if not delivery.reaches(who.platform):
            return None
        first = Reply(text=f"Re-index #{held.run_id} started…", kind="progress", in_thread=True)
        direct = Address.direct(who.platform, who.user_id)
        places = [direct]
        if who.surface != "command" and who.conversation_id:
            places.insert(0, Address(who.platform, who.conversation_id, who.thread_id))
        for where in places:
            sent = await delivery.send(where, first)
            if sent.ref is not None:  # the ref the platform returned: edits must use it
                return where, sent.ref
            log.warning("could not post re-index progress to %s: %s", where, sent.error)
        return None

    async def _run(self, held: job.Claim, ref: MessageRef) -> None:
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
                await self.deps.delivery.update(ref, Reply(text=text, kind="progress"))
        try:
            outcome = work.result()
        except Exception:
            log.exception("re-index run %s crashed", held.run_id)
            outcome = job.Outcome(held.run_id, error="unexpected error")
        text = job.outcome_text(outcome, job.live_version(self.deps.index_dir))
        sent = await self.deps.delivery.update(ref, Reply(text=text, kind="summary"))
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
            return job.execute(d.database, held, d.library, d.index_dir, embedder, tracker,
                               keep_versions=d.keep_versions)  # fmt: skip

        outcome = await asyncio.to_thread(build)
        log.info("re-index run %s ended: %s", held.run_id, outcome.label)
        return outcome

    # --- status --------------------------------------------------------------------------

    async def on_status(self, turn: Turn) -> list[Reply] | None:
        if turn.intent.args:  # "status of ELL students..." is a question
            return None
        who = turn.incoming
        ideas.require_admin(self.deps.roles, who.platform, who.user_id)
        text = await asyncio.to_thread(job.status_text, self.deps.database, self.deps.index_dir)
        return [Reply(text=text, kind="status", ephemeral=True)]

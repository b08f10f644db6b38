"""Publishing an adopted idea as a library session, from chat (staff) or ``staffroom ideas publish``.

One run: refuse unless the idea is adopted → check the files → take the re-index lock → write
the idea's managed folder (atomically) → incremental re-index → record the publication in the
idea's audit trail → tell its author and voters (and whoever else ``ideas.publishing``'s
audience names) through the delivery pipeline, each once (``published:<idea>:<person>``). A
failed build puts the folder back as it was. Re-publishing replaces the folder in place.

In chat, ``publish 12`` offers the form; ``publish 12 <url> [transcript PATH] [handout PATH]
[anonymous]`` does it at once. Paths typed in chat name files in the library's hidden
``.incoming/`` folder (staff copy them there; hidden folders are never indexed), never anything
elsewhere on the server.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

import ideas
from bot.core import Turn
from bot.delivery import Address, MessageRef, Pipeline
from bot.flows.publish_session import PublishRequest, check_url, field_session
from bot.forms import FormSpec, Values
from bot.messages import OPEN_FORM, Action, Form, FormField, Incoming, Reply
from bot.reindex import job
from follow import pilots
from ideas import usecases as do
from ideas.permissions import ASK_ADMIN
from ideas.publishing import Person, Provenance
from ingest.field_ideas import FieldSession, Written, check_files, write_folder
from staffroom_errors import (
    IndexError_,
    InputError,
    LibraryError,
    PermissionDenied,
    StaffroomError,
)
from store import IdeaFollower, PilotMember

if TYPE_CHECKING:
    from ingest import Progress
    from retrieval.embedder import Embedder
    from store import Database
    from store.runner import Runner

log = logging.getLogger(__name__)

INBOX = ".incoming"  # where staff put files to publish from chat (hidden: never indexed)
PUBLISH_HELP = "Central staff: `publish 12` turns adopted idea #12 into a library session."
PROGRESS_SECONDS = 3.0
_TYPED = re.compile(r"#?(\d+)(?:\s+(\S+))?(.*)", re.S)
_OPTION = re.compile(r"(transcript|handout)\s+(\S+)|(anonymous)", re.I)


@dataclass(frozen=True)
class PublishDeps:
    """What publishing needs, built once by the composition root."""

    db: Runner
    database: Database  # the re-index lock and run rows
    delivery: Pipeline
    directory: ideas.StaffDirectory
    library: Path
    index_dir: Path
    embedder: Callable[[], Embedder]  # called in the worker: the model may load lazily
    replica: str = ""
    keep_versions: int = job.KEEP_VERSIONS  # STAFFROOM_INDEX_KEEP_VERSIONS
    progress_seconds: float = PROGRESS_SECONDS


@dataclass(frozen=True)
class Published:
    """A publication that went through: where it lives and who was told."""

    idea_id: int
    title: str
    folder: str  # relative to the library
    session_id: str
    republished: bool
    outcome: job.Outcome
    told: int  # people whose message went out now
    queued: int  # people whose message waits for a sweep (their platform is not reachable here)

    def text(self) -> str:
        again = "updated in" if self.republished else "published to"
        people = f"Told {self.told} {'person' if self.told == 1 else 'people'}"
        waiting = f" ({self.queued} more when the server can reach them)" if self.queued else ""
        return (
            f"Idea #{self.idea_id} “{self.title}” is {again} the library as session "
            f"{self.session_id} ({self.folder}). {people}{waiting}.\n"
            + job.outcome_text(self.outcome)
        )


class Publisher:
    """Publishes ideas (see the module docstring); the chat handler and the form live here too."""

    def __init__(self, deps: PublishDeps) -> None:
        self.deps = deps
        self.replica = deps.replica or job.replica_id()
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(
        self,
        who: ideas.Actor,
        request: PublishRequest,
        progress: Callable[[Progress], None] | None = None,
    ) -> Published:
        """One publication; a StaffroomError says why not, and nothing was changed then."""
        d = self.deps
        request = PublishRequest(request.idea_id, check_url(request.url), request.transcript,
                                 request.handout, request.credit_author)  # fmt: skip
        source: Provenance = await d.db.run(do.publication_of, request.idea_id)
        await asyncio.to_thread(check_files, request.transcript, request.handout)
        pilot = await d.db.run(pilots.evidence, request.idea_id)
        session = field_session(source, request, who, pilot)
        started_by = f"publish idea #{source.idea_id} by {who.name or who.user_id}"
        held = await asyncio.to_thread(
            job.claim, d.database, self.replica, started_by, who.platform
        )
        if isinstance(held, job.Busy):
            raise IndexError_(
                held.text().split(". ")[0] + ".", hint="Publish again once it has finished."
            )
        outcome, written = await asyncio.to_thread(self._write_and_build, held, session, progress)
        note = f"{written.rel} ({request.url})"
        people = await d.db.run(do.record_published, who, source.idea_id, note)
        told, queued = await self._tell(source, people)
        log.info("idea %s published as %s: told %s, queued %s", source.idea_id, written.rel,
                 told, queued)  # fmt: skip
        return Published(source.idea_id, source.title, written.rel, session.session_id,
                         source.published_before or written.replaced, outcome, told, queued)  # fmt: skip

    def _write_and_build(
        self, held: job.Claim, session: FieldSession, progress: Callable[[Progress], None] | None
    ) -> tuple[job.Outcome, Written]:
        """In a worker thread, holding the re-index lock: write the folder, then build."""
        d = self.deps
        try:
            written = write_folder(d.library, session)
        except BaseException as err:
            job.abandon(d.database, held, f"the idea's folder could not be written ({err})")
            raise
        try:
            embedder = d.embedder()
        except Exception as err:
            written.rollback()
            job.abandon(d.database, held, f"the embedding model failed to load ({err})")
            raise LibraryError(
                "The embedding model failed to load; nothing was published."
            ) from err
        try:
            outcome = job.execute(d.database, held, d.library, d.index_dir, embedder, progress,
                                  keep_versions=d.keep_versions)  # fmt: skip
        except BaseException:
            written.rollback()
            raise
        if not outcome.ok:
            written.rollback()
            raise LibraryError(
                f"The re-index failed ({outcome.error}), so nothing was published; the library "
                "and the index are as they were."
            )
        written.commit()
        return outcome, written

    async def _tell(self, source: Provenance, people: list[Person]) -> tuple[int, int]:
        told = queued = 0
        for person in people:
            reply = _news(source, person == people[0])
            key = f"published:{source.idea_id}:{person.platform}:{person.user_id}"
            sent = await self.deps.delivery.deliver(
                Address.direct(person.platform, person.user_id), reply, key=key
            )
            if sent.repeated:  # told (or queued) by an earlier publication: never twice
                continue
            if sent.ok:
                told += 1
            else:
                queued += 1
                log.warning("publication of idea %s not delivered to %s:%s yet: %s",
                            source.idea_id, person.platform, person.user_id, sent.error)  # fmt: skip
        return told, queued

    # --- chat ------------------------------------------------------------------------------

    async def on_publish(self, turn: Turn) -> list[Reply] | None:
        """ "publish 12" offers the form; "publish 12 URL [transcript P] [handout P]" runs."""
        m = _TYPED.fullmatch(turn.intent.args.strip())
        if m is None:  # "publish student work online?" is a question
            return None
        who = turn.incoming
        await ideas.check_staff(self.deps.directory, who.platform, who.user_id, "publish ideas")
        idea_id, url = int(m.group(1)), m.group(2)
        if not url:
            return [_offer(idea_id)]
        values = {"url": url, "transcript": "", "handout": "", "credit": "yes"}
        for option in _OPTION.finditer(m.group(3) or ""):
            if option.group(3):
                values["credit"] = "no"
            else:
                values[option.group(1).lower()] = option.group(2)
        return await self._from_chat(who, idea_id, values)

    def form_spec(self) -> FormSpec:
        return FormSpec(_form, _check_form, self._submit, self._guard)

    def _guard(self, who: Incoming) -> None:
        if not self.deps.directory.may_be_staff(who.platform, who.user_id):
            raise PermissionDenied("Only central staff can publish ideas.", hint=ASK_ADMIN)

    async def _submit(self, who: Incoming, context: str, values: Values) -> list[Reply]:
        await ideas.check_staff(self.deps.directory, who.platform, who.user_id, "publish ideas")
        return await self._from_chat(who, int(context), values)

    async def _from_chat(self, who: Incoming, idea_id: int, values: Values) -> list[Reply]:
        request = PublishRequest(
            idea_id,
            values.get("url", "").strip(),
            self._library_file(values.get("transcript", ""), "transcript"),
            self._library_file(values.get("handout", ""), "handout"),
            credit_author=values.get("credit", "yes").strip().lower() not in ("no", "n"),
        )
        actor = ideas.Actor(who.platform, who.user_id, who.user_name)
        if not self.deps.delivery.reaches(who.platform):  # the terminal: wait for it here
            return [Reply(text=(await self.publish(actor, request)).text(), kind="summary")]
        first = Reply(text=f"Publishing idea #{idea_id}…", kind="progress", in_thread=False)
        sent = await self.deps.delivery.send(Address.direct(who.platform, who.user_id), first)
        if sent.ref is None:
            return [Reply(text=(await self.publish(actor, request)).text(), kind="summary")]
        task = asyncio.create_task(self._run(actor, request, sent.ref))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return [Reply(text=f"Publishing idea #{idea_id}: I'm posting its progress in our "
                      "direct messages.", ephemeral=True)]  # fmt: skip

    async def _run(self, who: ideas.Actor, request: PublishRequest, ref: MessageRef) -> None:
        """The publication, its progress message edited every few seconds, then its outcome."""
        tracker = job.Tracker()
        work = asyncio.create_task(self.publish(who, request, tracker))
        shown = ""
        while not work.done():
            await asyncio.wait({work}, timeout=self.deps.progress_seconds)
            if not work.done() and tracker.text() != shown:
                shown = tracker.text()
                await self.deps.delivery.update(ref, Reply(text=shown, kind="progress"))
        try:
            text = work.result().text()
        except StaffroomError as err:
            text = err.user_text()
        except Exception:
            log.exception("publishing idea %s failed", request.idea_id)
            text = f"Publishing idea #{request.idea_id} failed unexpectedly; nothing was changed."
        await self.deps.delivery.update(ref, Reply(text=text, kind="summary"))

    async def settle(self, timeout: float = 60) -> None:
        """Wait for the publications started from chat (tests, shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def _library_file(self, typed: str, label: str) -> Path | None:
        """A path typed in chat, as a file in the library's ``.incoming/`` folder."""
        typed = typed.strip()
        if not typed:
            return None
        inbox = (self.deps.library / INBOX).resolve()
        path = (inbox / typed).resolve()
        if not path.is_relative_to(inbox):
            raise InputError(
                f"The {label} must be a file in the library's {INBOX}/ folder, e.g. talk.vtt.",
                hint=f"Copy it into {INBOX}/ in the library and give its name there.",
            )
        return path


def follow_audience(s: Session, idea_id: int) -> list[Person]:
    """Followers and pilot members of ``idea_id`` (``ideas.publishing.add_audience``)."""
    people = [
        *s.execute(sa.select(IdeaFollower.platform, IdeaFollower.user_id)
                   .where(IdeaFollower.idea_id == idea_id).order_by(IdeaFollower.created_at)),
        *s.execute(sa.select(PilotMember.platform, PilotMember.user_id)
                   .where(PilotMember.idea_id == idea_id).order_by(PilotMember.joined_at)),
    ]  # fmt: skip
    return [Person(p, u) for p, u in people]


def _news(source: Provenance, author: bool) -> Reply:
    whose = "Your idea" if author else "An idea you backed,"
    text = (
        f"📚 {whose} #{source.idea_id} “{source.title}” is now a session in the district's PD "
        "library: the next teacher who asks about it will find it."
    )
    return Reply(text=text, kind="published", in_thread=False)


def _offer(idea_id: int) -> Reply:
    typed = f"publish {idea_id} <recording url> [transcript PATH] [handout PATH] [anonymous]"
    return Reply(
        text=f"Publish idea #{idea_id} to the library: fill in the form, or type `{typed}` "
        f"(files in the library's {INBOX}/ folder).",
        actions=(
            Action(
                OPEN_FORM,
                f"📚 Publish idea #{idea_id}…",
                f"publish|{idea_id}",
                "primary",
                typed=typed,
            ),
        ),  # fmt: skip
        kind="hint",
        ephemeral=True,
    )


def _form(context: str) -> Form:
    fields = (
        FormField("url", "Recording address", "https://video.example/watch/123", max_len=2000),
        FormField("transcript", f"Transcript (optional): a file in the library's {INBOX}/",
                  "exit-tickets.vtt", required=False, max_len=500),
        FormField("handout", f"Handout (optional): a file in the library's {INBOX}/",
                  "exit-tickets-handout.pdf", required=False, max_len=500),
        FormField("credit", "Name the teacher who pitched it? (yes / no)", "yes",
                  required=False, max_len=3, value="yes"),
    )  # fmt: skip
    intro = "The idea becomes a library session with its history; its author and backers hear."
    return Form("publish", f"Publish idea #{context}", "Publish", fields, context, intro)


def _check_form(values: Values) -> dict[str, str]:
    errors = {}
    try:
        check_url(values.get("url", ""))
    except InputError:
        errors["url"] = "A full web address, like https://video.example/watch/123."
    if values.get("credit", "yes").strip().lower() not in ("", "yes", "y", "no", "n"):
        errors["credit"] = "yes or no"
    return errors


__all__ = ["PUBLISH_HELP", "PublishDeps", "PublishRequest", "Published", "Publisher"]

"""A core with every idea flow on a real database, a recording courier, and the script player."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from bot.core import Core
from bot.delivery import Address, Delivered, MessageRef
from bot.flows.idea_views import IdeaDeps
from bot.flows.ideas_wiring import install
from bot.flows.triage import ReviewDesk
from bot.messages import Incoming, Reply
from bot.records import SqlRecords
from ideas import Roles
from retrieval.answer import Citation
from retrieval.embedder import FakeEmbedder
from store import Database, PitchDraft
from store.runner import Runner
from tests.bot.fakes import FakeRetriever
from tests.scenarios.scripts import Script

PLATFORM = "slack"
IDS = {"teacher": "UTEACH", "colleague": "UCOLL", "staff": "USTAFF"}
REVIEW = Address(PLATFORM, "CREVIEW")
QUESTIONS = Address(PLATFORM, "CQUEST")


@dataclass
class RecordingCourier:
    """Delivers nowhere; remembers what was sent and updated. ``fail`` scripts error codes."""

    sent: list[tuple[Address, Reply]] = field(default_factory=list)
    updated: list[tuple[MessageRef, Reply]] = field(default_factory=list)
    fail: list[str] = field(default_factory=list)

    async def send(self, to: Address, reply: Reply) -> Delivered:
        if self.fail:
            return Delivered(error=self.fail.pop(0))
        self.sent.append((to, reply))
        where = to.conversation_id or to.user_id
        return Delivered(ref=MessageRef(to.platform, where, f"{len(self.sent)}.0"))

    async def update(
        self, ref: MessageRef, reply: Reply, citations: Sequence[Citation] = ()
    ) -> Delivered:
        self.updated.append((ref, reply))
        return Delivered(ref=ref)

    def streams(self, ref: MessageRef) -> bool:
        return False

    def to(self, address: Address) -> list[Reply]:
        return [r for a, r in self.sent if a == address]


@dataclass
class World:
    core: Core
    desk: ReviewDesk
    courier: RecordingCourier
    database: Database


def idea_world(database: Database, retriever: FakeRetriever | None = None) -> World:
    core = Core(retriever or FakeRetriever(), SqlRecords(database), max_question_chars=500)
    courier = RecordingCourier()
    core.delivery.register(PLATFORM, courier)
    embedder = FakeEmbedder()
    deps = IdeaDeps(
        db=Runner(database),
        delivery=core.delivery,
        roles=Roles.parse(f"{PLATFORM}:{IDS['staff']}"),
        retriever=core.retriever,
        embed=embedder.embed_documents,
        embed_model=embedder.name,
        review=REVIEW,
        questions=QUESTIONS,
        names=core.names,
    )
    return World(core, install(core, deps), courier, database)


def dm(user: str, text: str, *, name: str = "") -> Incoming:
    user_id = IDS.get(user, user)
    return Incoming(
        PLATFORM, user_id, f"D{user_id}", "", text, "dm", user_name=name or user, private=True
    )


def age_drafts(database: Database, seconds: float) -> None:
    """Every pitch draft's last answer moved ``seconds`` back (a script step's ``idle``)."""
    if not seconds:
        return
    with database.session() as s:
        for draft in s.scalars(sa.select(PitchDraft)):
            draft.updated_at = draft.updated_at - timedelta(seconds=seconds)


async def play(core: Core, script: Script, database: Database | None = None) -> None:
    """Each step's replies must contain every ``expect`` and no ``absent`` text."""
    for n, step in enumerate(script, 1):
        if step.idle:
            assert database is not None, "a script with idle steps needs the database"
            age_drafts(database, step.idle)
        replies = await core.handle(dm(step.user, step.text))
        said = "\n".join(r.text for r in replies)
        for text in step.expect:
            assert text in said, (
                f"step {n} ({step.user}: {step.text[:40]!r}): {text!r} not in {said!r}"
            )
        for text in step.absent:
            assert text not in said, (
                f"step {n} ({step.user}: {step.text[:40]!r}): {text!r} in {said!r}"
            )

"""Publishing an adopted idea: a searchable library session, its history, each person told once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import ideas
from bot.flows.publish import PublishDeps, Publisher, PublishRequest
from bot.messages import Form, Reply
from ingest import build_index
from retrieval.embedder import FakeEmbedder
from retrieval.search import Searcher
from staffroom_errors import InputError, LibraryError, TransitionError
from store import Database, IdeaEvent, ReindexRun
from store.runner import Runner
from tests.scenarios.harness import IDS, PLATFORM, World, dm, idea_world, play
from tests.scenarios.scripts import EXIT, Say, pitch

URL = "https://video.example/watch/sticky-notes"
VTT = """WEBVTT

00:00:05.000 --> 00:00:20.000
Each student writes one answer on a sticky note as they leave the room.

00:00:20.000 --> 00:00:40.000
I sort the sticky notes on the door into got it, almost and not yet piles.
"""
ADOPT = tuple(
    Say("staff", f"triage 1 {verb}", ("Done",)) for verb in ("review", "pilot", "scale", "adopt")
)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    lib = tmp_path / "library"
    (lib / "circles").mkdir(parents=True)
    (lib / "circles" / "notes.md").write_text(
        "# Restorative circles\n\nSit in a circle with a talking piece after a conflict.\n"
    )
    (lib / ".incoming").mkdir()
    (lib / ".incoming" / "talk.vtt").write_text(VTT)
    return lib


def _publisher(world: World, library: Path, embedder: object = None) -> Publisher:
    deps = PublishDeps(
        db=Runner(world.database),
        database=world.database,
        delivery=world.core.delivery,
        directory=ideas.StaffRoster(ideas.Roles.parse(f"{PLATFORM}:{IDS['staff']}")),
        library=library,
        index_dir=library.parent / "index",
        embedder=lambda: embedder or FakeEmbedder(),
        progress_seconds=0.01,
    )
    publisher = Publisher(deps)
    world.core.register("publish", publisher.on_publish)
    world.core.register_form("publish", publisher.form_spec())
    return publisher


async def _adopted(world: World, *, votes: bool = True) -> None:
    steps = [*pitch("teacher", *EXIT), Say("teacher", "submit", ("Your idea is #1",))]
    if votes:
        steps.append(Say("colleague", "idea 1 try"))
    await play(world.core, (*steps, *ADOPT))


def _dms(world: World, user: str) -> list[str]:
    return [
        r.text for a, r in world.courier.sent if a.user_id == IDS[user] and not a.conversation_id
    ]


STAFF = ideas.Actor(PLATFORM, IDS["staff"], "Sam Staff")


async def test_publish_makes_a_searchable_session_with_history_and_tells_each_once(
    db: Database, library: Path
):
    build_index(library, library.parent / "index", FakeEmbedder())
    world = idea_world(db)
    try:
        await _adopted(world)
        publisher = _publisher(world, library)
        request = PublishRequest(1, URL, transcript=library / ".incoming" / "talk.vtt")
        done = await publisher.publish(STAFF, request)
        assert (done.session_id, done.republished, done.told) == ("field-idea-1", False, 2)

        [folder] = (library / "field-ideas").iterdir()
        assert folder.name == "idea-1-exit-tickets-sorted-into-three-piles"
        assert sorted(p.name for p in folder.iterdir()) == [
            "about.md",
            "catalog.yaml",
            "recording.vtt",
        ]
        [entry] = yaml.safe_load((folder / "catalog.yaml").read_text())["sessions"]
        assert entry["recording_url"] == URL and entry["provenance"]["idea"] == 1
        assert entry["provenance"]["adopted"] and entry["provenance"]["would_try"] == 1
        assert "Students answer one question on a sticky note" in (folder / "about.md").read_text()

        searcher = Searcher(library.parent / "index", FakeEmbedder(), threshold=0.0)
        found = searcher.search("sticky note sorted got it almost not yet", k=1)
        top = found.results[0]
        assert top.session.session_id == "field-idea-1"
        assert top.session.url == URL and "field idea" in top.session.tags

        with db.session() as s:
            notes = [e.note for e in s.query(IdeaEvent).filter_by(idea_id=1).order_by(IdeaEvent.id)]
        assert notes[-1].startswith("published to the library: field-ideas/idea-1-")
        assert _dms(world, "teacher")[-1].startswith("📚 Your idea #1")
        assert _dms(world, "colleague")[-1].startswith("📚 An idea you backed, #1")

        # Publishing again updates the folder in place and tells nobody twice.
        again = await publisher.publish(STAFF, PublishRequest(1, URL + "?v=2"))
        assert (again.republished, again.told) == (True, 0)
        [folder] = (library / "field-ideas").iterdir()
        assert sorted(p.name for p in folder.iterdir()) == ["about.md", "catalog.yaml"]
        assert (
            yaml.safe_load((folder / "catalog.yaml").read_text())["sessions"][0]["recording_url"]
            == URL + "?v=2"
        )
        assert len([t for t in _dms(world, "teacher") if t.startswith("📚")]) == 1
        assert len([t for t in _dms(world, "colleague") if t.startswith("📚")]) == 1
    finally:
        world.core.close()


async def test_an_idea_that_is_not_adopted_is_refused_and_nothing_is_written(
    sqlite_db: Database, library: Path
):
    world = idea_world(sqlite_db)
    try:
        await play(world.core, (*pitch("teacher", *EXIT), Say("teacher", "submit")))
        publisher = _publisher(world, library)
        with pytest.raises(TransitionError) as refused:
            await publisher.publish(STAFF, PublishRequest(1, URL))
        assert "Idea #1 is new; only adopted ideas can be published" in refused.value.user_text()
        assert not (library / "field-ideas").exists()
        with sqlite_db.session() as s:
            assert s.query(ReindexRun).count() == 0
    finally:
        world.core.close()


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("talk.exe", "MZ", "a transcript must be one of .vtt, .srt, .txt, .md"),
        ("broken.vtt", "WEBVTT\n\nnot a cue at all\n", "can't be read"),
        ("missing.vtt", None, "is not a file I can find"),
        (
            "part.vtt",
            "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\nGood.\n\n00:00:0x.000 --> 00:00:09.000\nBad.\n",
            "is partly broken: 1 of 2 cues skipped",
        ),
    ],
)
async def test_a_bad_file_is_refused_with_a_reason_and_nothing_half_written(
    sqlite_db: Database, library: Path, name: str, content: str | None, says: str
):
    index = library.parent / "index"
    version = build_index(library, index, FakeEmbedder()).version
    world = idea_world(sqlite_db)
    try:
        await _adopted(world)
        sent_before = len(world.courier.sent)
        if content is not None:
            (library.parent / name).write_text(content)
        publisher = _publisher(world, library)
        with pytest.raises(InputError) as refused:
            await publisher.publish(STAFF, PublishRequest(1, URL, transcript=library.parent / name))
        assert says in refused.value.user_text()
        assert not (library / "field-ideas").exists()
        assert build_index(library, index, FakeEmbedder()).version == version  # nothing new
        assert len(world.courier.sent) == sent_before
    finally:
        world.core.close()


class BrokenEmbedder(FakeEmbedder):
    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        raise RuntimeError("GPU on fire")


async def test_a_failed_re_index_puts_the_previous_version_back(sqlite_db: Database, library: Path):
    build_index(library, library.parent / "index", FakeEmbedder())
    world = idea_world(sqlite_db)
    try:
        await _adopted(world, votes=False)
        await _publisher(world, library).publish(STAFF, PublishRequest(1, URL))
        before = {
            p.name: p.read_bytes() for p in next((library / "field-ideas").iterdir()).iterdir()
        }
        broken = _publisher(world, library, BrokenEmbedder())
        with pytest.raises(LibraryError) as failed:
            await broken.publish(
                STAFF,
                PublishRequest(1, URL + "?v=2", transcript=library / ".incoming" / "talk.vtt"),
            )
        assert "nothing was published" in failed.value.user_text()
        [folder] = (library / "field-ideas").iterdir()
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
        assert [p.name for p in (library / "field-ideas").iterdir()] == [
            folder.name
        ]  # no leftovers
    finally:
        world.core.close()


async def test_chat_publish_is_for_staff_and_reads_files_only_inside_the_library(
    sqlite_db: Database, library: Path
):
    build_index(library, library.parent / "index", FakeEmbedder())
    world = idea_world(sqlite_db)
    try:
        await _adopted(world)
        publisher = _publisher(world, library)
        await play(
            world.core,
            (
                Say("teacher", "publish 1", ("Only central staff can publish ideas",)),
                Say("staff", "publish 1", ("fill in the form", "publish 1 <recording url>")),
                Say(
                    "staff",
                    f"publish 1 {URL} transcript ../../etc/passwd",
                    ("in the library's .incoming/ folder",),
                ),
                Say(
                    "staff",
                    f"publish 1 {URL} transcript talk.vtt anonymous",
                    ("progress",),
                ),
            ),
        )
        await publisher.settle()
        ref, summary = world.courier.updated[-1]
        assert ref.conversation_id == IDS["staff"]
        assert (
            "Idea #1 “Exit tickets sorted into three piles” is published to the library"
            in summary.text
        )
        entry = yaml.safe_load(next((library / "field-ideas").glob("*/catalog.yaml")).read_text())
        await play(
            world.core,
            (Say("teacher", "idea 1", ("📚 published to the library: field-ideas/idea-1-",)),),
        )
        assert entry["sessions"][0]["provenance"]["author"] == ""  # "anonymous"
        form = world.core.form("publish", "1", dm("staff", ""))
        assert isinstance(form, Form) and [f.key for f in form.fields][:2] == ["url", "transcript"]
        refused = world.core.form("publish", "1", dm("teacher", ""))
        assert isinstance(refused, Reply) and "Only central staff" in refused.text
        assert world.core.check_form("publish", {"url": "video please"}) == {
            "url": "A full web address, like https://video.example/watch/123."
        }
        values = {"url": URL + "?v=3", "transcript": "", "handout": "", "credit": "yes"}
        await world.core.submit_form(dm("staff", ""), "publish", "1", values)
        await publisher.settle()
        assert "is updated in the library" in world.courier.updated[-1][1].text
        entry = yaml.safe_load(next((library / "field-ideas").glob("*/catalog.yaml")).read_text())
        [session] = entry["sessions"]
        assert session["recording_url"] == URL + "?v=3"
        assert session["provenance"]["author"] == "teacher"  # credited this time
    finally:
        world.core.close()


async def test_followers_and_pilot_members_are_told_and_the_pilot_evidence_is_published(
    db: Database, library: Path
):
    from bot.flows.publish import follow_audience
    from ideas.publishing import add_audience
    from store import IdeaFollower, PilotMember

    add_audience("followers and pilot members", follow_audience)  # as bot.app wires it
    build_index(library, library.parent / "index", FakeEmbedder())
    world = idea_world(db)
    try:
        await _adopted(world, votes=False)
        with db.session() as s:
            s.add(IdeaFollower(idea_id=1, platform=PLATFORM, user_id="UFOLLOW"))
            s.add(PilotMember(idea_id=1, platform=PLATFORM, user_id="UPILOT", school="Eastside HS",
                              verdict="adopt", evidence_url="https://drive.example/results"))  # fmt: skip
            s.add(
                PilotMember(idea_id=1, platform=PLATFORM, user_id=IDS["teacher"], verdict="adapt")
            )
        done = await _publisher(world, library).publish(STAFF, PublishRequest(1, URL))
        assert done.told == 3  # the author (also a pilot member: once), the follower, the pilot
        told = sorted(a.user_id for a, r in world.courier.sent if r.kind == "published")
        assert told == sorted([IDS["teacher"], "UFOLLOW", "UPILOT"])
        folder = next((library / "field-ideas").iterdir())
        about = (folder / "about.md").read_text()
        assert "2 pilot members: 1 adopt, 1 adapt." in about
        assert "Evidence (adopt, Eastside HS): https://drive.example/results" in about
        [entry] = yaml.safe_load((folder / "catalog.yaml").read_text())["sessions"]
        assert entry["provenance"]["pilot_evidence"] == ["https://drive.example/results"]
    finally:
        world.core.close()


async def test_in_the_terminal_chat_the_summary_is_the_answer(sqlite_db: Database, library: Path):
    from dataclasses import replace

    from bot.messages import Incoming
    from bot.render.text import render

    build_index(library, library.parent / "index", FakeEmbedder())
    world = idea_world(sqlite_db)
    try:
        await _adopted(world, votes=False)
        publisher = _publisher(world, library)
        staff = ideas.StaffRoster(ideas.Roles.parse("terminal:me"))
        publisher.deps = replace(publisher.deps, directory=staff)
        said = Incoming("terminal", "me", "terminal", "", f"publish 1 {URL}", "terminal", "me")
        [reply] = await world.core.handle(said)
        assert "Idea #1 “Exit tickets sorted into three piles” is published to the library" in (
            render(reply)
        )
        assert "Re-index finished" in reply.text
    finally:
        world.core.close()

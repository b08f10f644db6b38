"""Set-up shared by the publishing tests over Slack and Teams: a small library, a publisher."""

from __future__ import annotations

from pathlib import Path

import ideas
from bot.app import Components
from bot.flows.publish import PublishDeps, Publisher
from ingest import build_index
from retrieval.embedder import FakeEmbedder
from retrieval.search import Searcher
from store.runner import Runner
from tests.bot.test_publish import VTT
from tests.scenarios.scripts import EXIT, Say, Script, pitch

URL = "https://video.example/watch/sticky-notes"
ADOPTED: Script = (
    *pitch("teacher", *EXIT),
    Say("teacher", "submit", ("Your idea is #1",)),
    Say("colleague", "idea 1 try"),
    *(
        Say("staff", f"triage 1 {verb}", ("Done",))
        for verb in ("review", "pilot", "scale", "adopt")
    ),
)
SEARCH = "sticky note sorted got it almost not yet"


def library(tmp: Path) -> Path:
    """A one-session library with a transcript waiting in ``.incoming/``, indexed."""
    lib = tmp / "library"
    (lib / "circles").mkdir(parents=True)
    (lib / "circles" / "notes.md").write_text("# Circles\n\nA talking piece after a conflict.\n")
    (lib / ".incoming").mkdir()
    (lib / ".incoming" / "talk.vtt").write_text(VTT)
    build_index(lib, tmp / "index", FakeEmbedder())
    return lib


def install_publisher(components: Components, lib: Path, staff: str) -> Publisher:
    """``publish`` wired on a running server's core as ``bot.app.build`` does."""
    core = components.core
    assert components.database is not None
    publisher = Publisher(
        PublishDeps(
            db=Runner(components.database),  # a test core's own runner has no database
            database=components.database,
            delivery=core.delivery,
            directory=ideas.StaffRoster(ideas.Roles.parse(staff)),
            library=lib,
            index_dir=lib.parent / "index",
            embedder=FakeEmbedder,
            progress_seconds=0.01,
        )
    )
    core.register("publish", publisher.on_publish)
    core.register_form("publish", publisher.form_spec())
    return publisher


def top_session(lib: Path) -> str:
    found = Searcher(lib.parent / "index", FakeEmbedder(), threshold=0.0).search(SEARCH, k=1)
    return found.results[0].session.session_id

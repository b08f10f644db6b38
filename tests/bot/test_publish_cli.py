"""`staffroom ideas publish|list|export` from a shell, and the managed catalogs ingest reads."""

from __future__ import annotations

from pathlib import Path

import pytest

import ideas
from bot import app
from bot.cli import main
from ingest import build_index
from ingest.catalog import load_catalog
from retrieval.embedder import FakeEmbedder
from staffroom_errors import LibraryError
from store import Database
from store.migrate import upgrade
from tests.bot.test_publish import URL, VTT

STAFF = ideas.Actor("slack", "USTAFF", "Sam")
ANSWERS = {
    "title": "Exit tickets on sticky notes",
    "practice": "Each student answers on a sticky note; I sort the notes on the door.",
    "problem": "Nobody knew who was lost.",
    "evidence": "Re-teach groups shrank.",
    "school": "Lincoln MS",
}


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir with a database holding one adopted idea (#1) and one new one (#2)."""
    url = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    library = tmp_path / "library"
    (library / "circles").mkdir(parents=True)
    (library / "circles" / "notes.md").write_text("# Circles\n\nA talking piece after conflict.\n")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("STAFFROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STAFFROOM_LIBRARY", str(library))
    monkeypatch.setattr(app, "_embedder", lambda settings: FakeEmbedder())
    build_index(library, tmp_path / "data" / "index", FakeEmbedder())
    upgrade(url)
    db = Database.from_url(url)
    with db.session() as s:
        author = ideas.Actor("slack", "UTEACH", "Tess Teacher")
        first = ideas.submit_idea(s, ANSWERS, author=author)
        for action in ("start_review", "pilot", "scale", "adopt"):
            ideas.transition(s, first.id, action, actor=STAFF)
        ideas.submit_idea(s, {**ANSWERS, "title": "Another"}, author=author)
    db.dispose()
    (tmp_path / "talk.vtt").write_text(VTT)
    return tmp_path


def test_cli_publishes_an_adopted_idea_and_refuses_others(shell: Path, capsys) -> None:
    talk = shell / "talk.vtt"
    assert main(["ideas", "publish", "1", "--url", URL, "--transcript", str(talk)]) == 0
    out = capsys.readouterr().out
    assert "Idea #1 “Exit tickets on sticky notes” is published to the library" in out
    assert "Re-index finished: index v000002" in out
    assert "Told 0 people (1 more when the server can reach them)" in out  # no Slack here
    folder = shell / "library" / "field-ideas" / "idea-1-exit-tickets-on-sticky-notes"
    assert (folder / "recording.vtt").read_text() == VTT
    assert "Tess Teacher" in (folder / "about.md").read_text()

    assert main(["ideas", "publish", "2", "--url", URL]) == 2
    assert "Idea #2 is new; only adopted ideas can be published" in capsys.readouterr().err
    assert main(["ideas", "publish", "1", "--url", "not a url"]) == 2
    assert "is not a web address I can link to" in capsys.readouterr().err
    assert main(["ideas", "publish", "1", "--url", URL, "--handout", str(shell / "nope.pdf")]) == 2
    assert "is not a file I can find" in capsys.readouterr().err

    assert main(["ideas", "list", "--status", "adopted"]) == 0
    assert (
        "#1     adopted       Exit tickets on sticky notes  (Tess Teacher)"
        in capsys.readouterr().out
    )
    assert main(["ideas", "export"]) == 0
    assert "Exit tickets on sticky notes" in capsys.readouterr().out


def test_managed_catalogs_join_the_library_catalog(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text("sessions:\n  - id: a\n    files: [a.md]\n")
    folder = tmp_path / "field-ideas" / "idea-3-x"
    folder.mkdir(parents=True)
    (folder / "catalog.yaml").write_text(
        "sessions:\n  - id: field-idea-3\n    title: X\n    files: [about.md, recording.vtt]\n"
    )
    (tmp_path / "field-ideas" / ".idea-4-y.new-123").mkdir()  # a crashed write: skipped
    (tmp_path / "field-ideas" / ".idea-4-y.new-123" / "catalog.yaml").write_text("oops: [")
    catalog = load_catalog(tmp_path)
    assert set(catalog.sessions) == {"a", "field-idea-3"}
    assert catalog.file_sessions["field-ideas/idea-3-x/recording.vtt"] == "field-idea-3"
    (folder / "catalog.yaml").write_text("sessions:\n  - id: a\n")
    with pytest.raises(LibraryError, match="the session id 'a' is used twice"):
        load_catalog(tmp_path)


async def test_news_the_shell_could_not_send_goes_out_with_the_servers_next_sweep(
    shell: Path, capsys
) -> None:
    import asyncio

    from bot.core import Core
    from bot.records import SqlRecords
    from store.runner import Runner
    from tests.bot.fakes import Clock, FakeRetriever, RecordingCourier

    assert await asyncio.to_thread(main, ["ideas", "publish", "1", "--url", URL]) == 0  # a shell
    assert "(1 more when the server can reach them)" in capsys.readouterr().out
    db = Database.from_url(f"sqlite:///{(shell / 'cli.db').as_posix()}")
    clock = Clock()
    server = Core(FakeRetriever(), SqlRecords(db, clock=clock), db=Runner(db))
    courier = RecordingCourier()
    server.delivery.register("slack", courier)
    try:
        clock.advance(120)  # past the shell's claim lease
        assert await server.delivery.recover() == 1
        assert await server.delivery.recover() == 0
        [(to, news)] = courier.sent
        assert (to.platform, to.user_id) == ("slack", "UTEACH")
        assert news.text.startswith("📚 Your idea #1 “Exit tickets on sticky notes”")
    finally:
        server.close()
        db.dispose()

"""Safe ingest through the running app: chat's re-index never swaps the library, a rollback is
picked up by the live searcher like a publish, and status lists files indexed in part."""

from __future__ import annotations

from bot.app import build
from ingest import build_index
from ingest.versions import rollback
from retrieval.embedder import FakeEmbedder
from retrieval.snapshot import IndexRoot
from tests.ops.conftest import say, settings_for, texts, write_library

BROKEN = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nScience labs start with the safety contract.\n\n"
    "00:00:0x.000 --> 00:00:08.000\nA cue whose timing has a typo.\n"
)


async def test_chat_reindex_of_the_configured_library_never_replaces_another(
    tmp_path, sqlite_url, library, embedder
):
    other = write_library(tmp_path / "other", {"labs/safety.md": "# Lab safety\n\nGoggles on.\n"})
    index = tmp_path / "data/index"
    build_index(other, index, FakeEmbedder())  # as `staffroom ingest OTHER` left it
    live = IndexRoot(index).current_version()
    components = build(settings_for(tmp_path, sqlite_url, library), embedder=embedder)
    try:
        said = texts(await components.core.handle(say("admin", "reindex")))
        assert "Re-index failed: The live index" in said
        assert f"built from {other.resolve()}, not {library.resolve()}" in said
        assert "--replace" in said and f"The live index ({live}) keeps serving." in said
        assert IndexRoot(index).current_version() == live and embedder.calls == 0
    finally:
        components.close()


async def test_a_rollback_reaches_the_running_app_and_status_shows_partial_files(
    tmp_path, sqlite_url, library, embedder
):
    index = tmp_path / "data/index"
    components = build(settings_for(tmp_path, sqlite_url, library), embedder=embedder)
    try:
        core = components.core
        assert "index v000001-" in texts(await core.handle(say("admin", "reindex")))
        (library / "labs").mkdir()
        (library / "labs/safety.vtt").write_text(BROKEN, encoding="utf-8")
        said = texts(await core.handle(say("admin", "reindex")))
        assert "index v000002-" in said
        assert "Partly indexed: labs/safety.vtt: 1 of 2 cues skipped" in said
        said = texts(await core.handle(say("admin", "status")))
        assert "Partly indexed: labs/safety.vtt: 1 of 2 cues skipped: no valid timing" in said
        retriever = components.retriever
        assert retriever is not None and retriever.info().version.startswith("v000002-")
        question = "science lab safety contract"
        assert "safety" in texts(await core.handle(say("teacher", question))).lower()

        done = rollback(index)  # what `staffroom index rollback` does, from another process
        assert done.after.name.startswith("v000001-")
        assert retriever.info().version == done.after.name  # the pointer, re-read like a publish
        assert "safety.vtt" not in {s.source for s in _sources(retriever, question)}
        said = texts(await core.handle(say("admin", "status")))
        assert f"Index {done.after.name}" in said and "Partly indexed" not in said
    finally:
        components.close()


def _sources(retriever, question: str) -> list:
    return [r.best for r in retriever.search(question, k=5).results]

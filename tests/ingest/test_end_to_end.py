"""Build with the pipeline, search with retrieval's Searcher: the moment points at the right cue."""

from __future__ import annotations

from pathlib import Path

from ingest import build_index
from retrieval.embedder import FakeEmbedder
from retrieval.search import Searcher
from tests.ingest.builders import make_library, talk, write_vtt


def test_search_finds_the_transcript_moment_with_its_start_second(tmp_path: Path) -> None:
    library = make_library(tmp_path / "lib")
    lines = talk("classroom routines", 90)
    lines[63] = "Mini whiteboards let every student answer the hinge question at once."
    write_vtt(library / "wait-time/recording.vtt", lines, step=4.0, offset=30.0)
    cue_start = 30.0 + 63 * 4.0
    embedder = FakeEmbedder()
    build_index(library, tmp_path / "index", embedder)

    response = Searcher(tmp_path / "index", embedder).search(
        "mini whiteboards hinge question every student answers"
    )
    best = response.results[0]
    assert best.session.session_id == "wait-time/recording"
    moment = next(m for m in best.moments if "Mini whiteboards" in m.snippet)
    assert moment.source == "wait-time/recording.vtt"
    assert moment.start is not None and moment.end is not None
    assert moment.start <= cue_start < moment.end
    assert cue_start - moment.start < 120  # the chunk starts near the cue, not at 0:00

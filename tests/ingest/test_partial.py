"""Files indexed in part say so: which cues or pages were skipped, in the summary and status."""

from __future__ import annotations

import json
from pathlib import Path

from ingest import build_index
from ingest.loaders import load
from retrieval.embedder import FakeEmbedder
from retrieval.snapshot import IndexRoot
from tests.ingest.builders import FIXTURES, make_pdf_with_damaged_pages

# Three cues: the second has a typo in its timing, the third a one-dash arrow.
BROKEN_VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.000
Exit tickets take two minutes at the end of class.

2
00:00:0x.000 --> 00:00:08.000
Sort them into three piles by the next morning.

3
00:00:09.000 -> 00:00:12.000
Regroup students tomorrow by what the tickets show.
"""

BROKEN_SRT = """1
00:00:01,000 --> 00:00:04,000
Wait time means counting to five.

A stray paragraph with no cue number or timing at all.

2
00:00:05,000 --> 00:00:08,000
Then call on someone new.
"""


def test_broken_cues_are_counted_with_their_lines(tmp_path: Path) -> None:
    vtt = tmp_path / "talk.vtt"
    vtt.write_text(BROKEN_VTT, encoding="utf-8")
    parsed = load(vtt)
    assert [c.text for c in parsed.cues] == ["Exit tickets take two minutes at the end of class."]
    assert parsed.problems == ("2 of 3 cues skipped: no valid timing (lines 8, 12)",)
    srt = tmp_path / "talk.srt"
    srt.write_text(BROKEN_SRT, encoding="utf-8")
    parsed = load(srt)
    assert len(parsed.cues) == 2
    assert parsed.problems == ("1 of 3 cues skipped: no valid timing (lines 5)",)


def test_sloppy_but_complete_transcripts_report_nothing() -> None:
    for name in ("good.vtt", "sloppy.vtt", "good.srt", "dots.srt"):
        assert load(FIXTURES / name).problems == (), name


def test_unreadable_pdf_pages_are_named(tmp_path: Path) -> None:
    parsed = load(make_pdf_with_damaged_pages(tmp_path / "h.pdf", 5, damaged=[3, 5]))
    assert parsed.problems == ("pages 3, 5 unreadable (skipped)",)
    assert sorted({b.page for b in parsed.blocks}) == [1, 2, 4]


def test_the_build_reports_partial_files_and_remembers_them(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "talk.vtt").write_text(BROKEN_VTT, encoding="utf-8")
    make_pdf_with_damaged_pages(library / "handout.pdf", 3, damaged=[2])
    (library / "notes.md").write_text("# Notes\n\nAll of this reads fine.\n", encoding="utf-8")
    index = tmp_path / "index"
    summary = build_index(library, index, FakeEmbedder())
    expected = [
        ("handout.pdf", "page 2 unreadable (skipped)"),
        ("talk.vtt", "2 of 3 cues skipped: no valid timing (lines 8, 12)"),
    ]
    assert summary.published and not summary.failed and summary.partial == expected
    current = IndexRoot(index).current()
    assert current is not None
    info = json.loads((current / "info.json").read_text(encoding="utf-8"))
    assert [tuple(p) for p in info["partial"]] == expected
    # Not re-read next time, yet still reported (the manifest keeps what was skipped).
    again = build_index(library, index, FakeEmbedder())
    assert not again.published and again.partial == expected
    (library / "talk.vtt").write_text(
        BROKEN_VTT.replace("0x", "05").replace(" -> ", " --> "), encoding="utf-8"
    )
    fixed = build_index(library, index, FakeEmbedder())
    assert fixed.published and fixed.partial == expected[:1]

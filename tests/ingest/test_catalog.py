"""catalog.yaml, front matter and the fallbacks for files no session lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.catalog import FileHints, load_catalog, own_session_id, readable, resolve_sessions
from staffroom_errors import LibraryError
from tests.ingest.builders import CATALOG


def _catalog(tmp_path: Path, text: str, name: str = "catalog.yaml"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_catalog(tmp_path)


def test_catalog_sessions_and_file_map(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, CATALOG)
    exit_tickets = catalog.sessions["exit-tickets"]
    assert exit_tickets.title == "Exit Tickets That Change Tomorrow's Lesson"
    assert exit_tickets.date == "2025-09-17"  # a YAML date becomes ISO text
    assert exit_tickets.url == "https://pd.example/watch/exit-tickets"
    assert exit_tickets.grade_bands == ("6-8", "9-12")
    assert exit_tickets.tags == ("formative assessment", "exit tickets")
    assert catalog.file_sessions["tiered-tasks/planner.pdf"] == "tiered-tasks"
    assert catalog.sessions["tiered-tasks"].date == ""


def test_catalog_yml_spelling_and_no_catalog(tmp_path: Path) -> None:
    assert load_catalog(tmp_path).sessions == {}
    catalog = _catalog(tmp_path, "sessions:\n  - id: a\n    files: [./x/a.md]\n", "catalog.yml")
    assert catalog.file_sessions == {"x/a.md": "a"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sessions:\n  - id: a\n   title: bad indent\n", "not valid YAML at line"),
        ("- just\n- a list\n", "must be a mapping"),
        ("sessions: {id: a}\n", "must be a list"),
        ("sessions:\n  - title: no id\n", "needs an 'id'"),
        ("sessions:\n  - id: a\n  - id: a\n", "used twice"),
        ("sessions:\n  - id: a\n    grade_bands: {k: 2}\n", "grade_bands"),
        ("sessions:\n  - id: a\n    title: [a, list]\n", "'title' must be text"),
        ("sessions:\n  - id: a\n    files: [x.md]\n  - id: b\n    files: [x.md]\n", "both"),
    ],
)
def test_bad_catalog_is_a_library_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LibraryError, match=message):
        _catalog(tmp_path, text)


def test_unlisted_files_become_their_own_sessions(tmp_path: Path) -> None:
    hints = {
        "t3/intro.md": FileHints(title="Introduction"),
        "t3/memory_and-attention.txt": FileHints(),
    }
    file_session, sessions, warnings = resolve_sessions(load_catalog(tmp_path), hints)
    assert file_session == {
        "t3/intro.md": "t3/intro",
        "t3/memory_and-attention.txt": "t3/memory_and-attention",
    }
    assert sessions["t3/intro"].title == "Introduction"
    assert sessions["t3/memory_and-attention"].title == "Memory and attention"
    assert warnings == []


def test_catalog_wins_and_front_matter_fills_gaps(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, CATALOG)
    hints = {
        "exit-tickets/handout.md": FileHints(
            title="Exit Ticket Handout",
            front_matter={"title": "Handout", "presenter": "Someone Else", "summary": "Sort fast."},
        ),
        "exit-tickets/recording.vtt": FileHints(),
    }
    file_session, sessions, warnings = resolve_sessions(catalog, hints)
    assert set(file_session.values()) == {"exit-tickets"}
    meta = sessions["exit-tickets"]
    assert meta.title == "Exit Tickets That Change Tomorrow's Lesson"
    assert meta.presenter == "Maria Delgado"
    assert meta.summary == "Sort fast."  # the catalog left it empty
    assert any("tiered-tasks/planner.pdf" in w for w in warnings)


def test_front_matter_session_groups_unlisted_files(tmp_path: Path) -> None:
    hints = {
        "a/slides.md": FileHints(
            title="Slides",
            front_matter={"session": "wait-time", "title": "Wait Time", "tags": "questioning"},
        ),
        "a/notes.md": FileHints(front_matter={"session": "wait-time", "url": "https://x.example"}),
    }
    file_session, sessions, _ = resolve_sessions(load_catalog(tmp_path), hints)
    assert set(file_session.values()) == {"wait-time"}
    meta = sessions["wait-time"]
    assert (meta.title, meta.tags, meta.url) == ("Wait Time", ("questioning",), "https://x.example")


def test_listed_session_without_a_title_takes_its_files_title(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, "sessions:\n  - id: cer\n    files: [cer/page.html]\n")
    _, sessions, _ = resolve_sessions(catalog, {"cer/page.html": FileHints(title="CER Rubric")})
    assert sessions["cer"].title == "CER Rubric"


def test_readable_names_and_ids() -> None:
    assert readable("station_rotation-cards") == "Station rotation cards"
    assert own_session_id("t3/intro.md") == "t3/intro"
    assert own_session_id("README") == "README"

"""Each loader on a good file, the sloppy files real people make, and broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import SUPPORTED_SUFFIXES, load
from ingest.parsed import Cue
from staffroom_errors import LoaderError
from tests.ingest.builders import FIXTURES, make_docx, make_pdf


def test_vtt_strips_ids_settings_notes_styles_and_tags() -> None:
    parsed = load(FIXTURES / "good.vtt")
    assert parsed.is_transcript and not parsed.blocks
    assert parsed.cues == (
        Cue(1.0, 4.5, "Good afternoon, everyone."),
        Cue(4.75, 9.0, "Today we sort exit tickets into three piles & regroup."),
        Cue(9.25, 12.0, "Short form timing works too."),
        Cue(3723.004, 3725.5, "An hour in with a karaoke timestamp."),
    )


def test_vtt_tolerates_bom_crlf_and_missing_blank_lines() -> None:
    cues = load(FIXTURES / "sloppy.vtt").cues
    assert [c.text for c in cues] == [
        "First line with a BOM and CRLF.",
        "No blank line before this cue.",
        "No id and no blank line either.",
    ]
    assert [(c.start, c.end) for c in cues] == [(0.5, 2.0), (2.0, 3.0), (3.0, 5.0)]


def test_vtt_drops_rolling_caption_repeats(tmp_path: Path) -> None:
    path = tmp_path / "auto.vtt"
    path.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nso today we are\n\n"
        "00:00:03.000 --> 00:00:05.000\nso today we are\ntalking about wait time\n",
        encoding="utf-8",
    )
    assert [c.text for c in load(path).cues] == ["so today we are", "talking about wait time"]


def test_srt_with_tags_and_ass_overrides() -> None:
    cues = load(FIXTURES / "good.srt").cues
    assert cues[0] == Cue(1.0, 3.25, "ROSA: Buenas tardes, good afternoon.")
    assert cues[1].text == "I'm the family engagement coordinator for the district."
    assert cues[2].start == 70.0


def test_srt_with_dots_no_blank_lines_and_a_number_as_text() -> None:
    cues = load(FIXTURES / "dots.srt").cues
    assert [c.text for c in cues] == ["Dots instead of commas.", "And no blank lines.", "42"]
    assert cues[1].start == 2.5


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("malformed.vtt", None, "no valid WebVTT cues"),
        ("empty.vtt", b"", "empty"),
        ("blank.srt", b"\n  \n", "empty"),
        ("binary.md", bytes(range(256)) * 4, "not readable text"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "not a readable PDF"),
        ("broken.docx", b"this is not a zip file at all", "not a readable Word document"),
        ("notes.doc", b"old binary word", "unsupported file type"),
    ],
)
def test_broken_files_raise_loader_error_with_a_reason(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = FIXTURES / name if content is None else tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LoaderError, match=reason) as caught:
        load(path)
    assert caught.value.user_text().startswith(name)


def test_truncated_pdf_is_a_loader_error(tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "whole.pdf").read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoaderError, match="not a readable PDF"):
        load(cut)


def test_windows_1252_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes("Students \u201cdisagree\u201d about the caf\u00e9 menu.".encode("cp1252"))
    assert load(path).blocks[0].text == "Students \u201cdisagree\u201d about the caf\u00e9 menu."


def test_markdown_front_matter_headings_lists_tables_and_fences() -> None:
    parsed = load(FIXTURES / "handout.md")
    assert parsed.title == "Exit Ticket Handout"  # front matter wins over the first heading
    assert parsed.front_matter["presenter"] == "Maria Delgado"
    texts = {b.text: b.heading for b in parsed.blocks}
    assert texts["Three questions, five minutes, every day."] == ("Exit tickets",)
    sorting = next(t for t in texts if t.startswith("Sort the tickets"))
    assert "three piles" in sorting and "**" not in sorting
    assert texts[sorting] == ("Exit tickets", "Sorting them")
    bullets = next(t for t in texts if t.startswith("- Got it"))
    assert bullets.splitlines()[1] == "- Almost: a quick reteach at the side table"
    table = next(t for t in texts if t.startswith("Pile | Next step"))
    assert texts[table] == ("Exit tickets", "Sorting them", "A worked example")
    assert any("# not a heading" in t for t in texts)  # code stays text, not a heading
    assert "Fill in the blank: I learned ___ because ___." in texts


def test_markdown_without_front_matter_takes_its_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("Intro line.\n\nWait Time\n=========\n\nThree seconds.\n", encoding="utf-8")
    parsed = load(path)
    assert parsed.title == "Wait Time"
    assert [(b.text, b.heading) for b in parsed.blocks] == [
        ("Intro line.", ()),
        ("Three seconds.", ("Wait Time",)),
    ]


def test_bad_front_matter_is_a_loader_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\n\nBody.\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="front matter is not valid YAML"):
        load(path)


def test_text_paragraphs_keep_list_lines() -> None:
    blocks = load(FIXTURES / "notes.txt").blocks
    assert [b.text.splitlines()[0] for b in blocks] == [
        "Brain dump prompts for retrieval practice. Use one at the start of class.",
        "1. Write everything you remember about photosynthesis.",
        "Collect nothing; this is practice, not a grade.",
    ]
    assert all(b.heading == () and b.page is None for b in blocks)


def test_pdf_keeps_pages_headings_and_metadata_title(tmp_path: Path) -> None:
    parsed = load(make_pdf(tmp_path / "planner.pdf"))
    assert parsed.title == "Tiered Task Planner"
    goal = next(b for b in parsed.blocks if b.text.startswith("Write one learning goal"))
    check = next(b for b in parsed.blocks if b.text.startswith("Ask whether"))
    entry = next(b for b in parsed.blocks if b.text.startswith("Build a scaffolded entry"))
    assert (goal.page, goal.heading) == (1, ("Step one: one learning goal",))
    assert check.heading == ("Step one: one learning goal", "Checking the goal")
    assert (entry.page, entry.heading) == (2, ("Step two: three entry points",))


def test_pdf_without_metadata_title_uses_its_first_heading(tmp_path: Path) -> None:
    assert load(make_pdf(tmp_path / "p.pdf", title="")).title == "Step one: one learning goal"


def test_docx_headings_lists_and_tables(tmp_path: Path) -> None:
    parsed = load(make_docx(tmp_path / "log.docx"))
    assert parsed.title == "Reading Conference Log"
    title = "Reading Conference Log"
    blocks = [(b.text, b.heading) for b in parsed.blocks]
    assert blocks == [
        ("Use one page per student and keep it in the binder.", (title,)),
        (
            "Research what the reader is doing.\nCompliment one thing that works.",
            (title, "The four parts"),
        ),
        (
            "Teach one strategy and link it to independent reading.",
            (title, "The four parts", "Teaching point"),
        ),
        (
            "Date | Teaching point\nSept 30 | Rereading to fix meaning",
            (title, "The four parts", "Teaching point"),
        ),
    ]


def test_html_skips_scripts_styles_and_nav() -> None:
    parsed = load(FIXTURES / "page.html")
    assert parsed.title == "Claim, Evidence, Reasoning"
    text = "\n".join(b.text for b in parsed.blocks)
    assert "Should never" not in text and "nope" not in text and "PD library" not in text
    assert [b.heading[-1] for b in parsed.blocks] == [
        "Claim, Evidence, Reasoning",
        "Rubric",
        "Reasoning frame",
    ]
    assert parsed.blocks[0].text == "One rubric for the whole year & every lab."
    assert parsed.blocks[1].text == "Part | Strong\nClaim | One precise sentence."
    assert parsed.blocks[2].text.splitlines() == [
        "The principle that explains this is ____.",
        "So the evidence shows it.",
    ]


def test_every_promised_suffix_has_a_loader() -> None:
    assert {".vtt", ".srt", ".md", ".txt", ".pdf", ".docx", ".html", ".htm"} <= set(
        SUPPORTED_SUFFIXES
    )


def test_markdown_code_comments_are_not_headings_and_bold_may_wrap(tmp_path: Path) -> None:
    path = tmp_path / "unfenced.md"
    path.write_text(
        "# Video editing\n\nRecordings help **immediate review and\ncatching up** later.\n\n"
        "# This is the output from one section. Yours should have two of these.\n"
        '- output: part1.mkv\n\n# make_acronym(["red"]) => "R"\n\nMore text.\n',
        encoding="utf-8",
    )
    parsed = load(path)
    assert {b.heading for b in parsed.blocks} == {("Video editing",)}
    assert parsed.blocks[0].text == "Recordings help immediate review and catching up later."
    assert parsed.blocks[1].text.startswith("# This is the output from one section.")


def test_pdf_with_one_font_size_takes_headings_from_its_bookmarks(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "plain.pdf"
    pdf = canvas.Canvas(str(path))
    for number, (title, body) in enumerate(
        [("Norms", "Agree on three circle norms together."), ("Repair", "Ask the five questions.")]
    ):
        pdf.setFont("Helvetica", 11)
        pdf.drawString(72, 720, body)
        pdf.bookmarkPage(f"p{number}")
        pdf.addOutlineEntry(title, f"p{number}", level=0)
        pdf.showPage()
    pdf.save()
    blocks = load(path).blocks
    assert [(b.text, b.heading, b.page) for b in blocks] == [
        ("Agree on three circle norms together.", ("Norms",), 1),
        ("Ask the five questions.", ("Repair",), 2),
    ]

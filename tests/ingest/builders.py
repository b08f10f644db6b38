"""Small library files made on the fly: real PDFs (reportlab), DOCX (python-docx), transcripts."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def copy_fixture(name: str, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / name, dest)
    return dest


def make_pdf(path: Path, *, title: str = "Tiered Task Planner") -> Path:
    """Two pages: a title, two H1 sections (one per page), an H2 and body text."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = SimpleDocTemplate(str(path), pagesize=letter, title=title)
    doc.build(
        [
            Paragraph("Step one: one learning goal", styles["Heading1"]),
            Paragraph(
                "Write one learning goal that every student works toward. " * 8, styles["BodyText"]
            ),
            Paragraph("Checking the goal", styles["Heading2"]),
            Paragraph(
                "Ask whether a struggling reader could reach the goal with support.",
                styles["BodyText"],
            ),
            PageBreak(),
            Paragraph("Step two: three entry points", styles["Heading1"]),
            Paragraph(
                "Build a scaffolded entry, an on-level entry and an extension entry. " * 8,
                styles["BodyText"],
            ),
        ]
    )
    return path


def make_docx(path: Path) -> Path:
    """Title, headings, body text, a bulleted list and a table."""
    import docx

    document = docx.Document()
    document.add_paragraph("Reading Conference Log", style="Title")
    document.add_paragraph("Use one page per student and keep it in the binder.")
    document.add_heading("The four parts", level=1)
    document.add_paragraph("Research what the reader is doing.", style="List Bullet")
    document.add_paragraph("Compliment one thing that works.", style="List Bullet")
    document.add_heading("Teaching point", level=2)
    document.add_paragraph("Teach one strategy and link it to independent reading.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Date"
    table.cell(0, 1).text = "Teaching point"
    table.cell(1, 0).text = "Sept 30"
    table.cell(1, 1).text = "Rereading to fix meaning"
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def stamp(seconds: float, sep: str = ".") -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{int(s):02d}{sep}{round((s % 1) * 1000):03d}"


def write_vtt(path: Path, lines: Sequence[str], *, step: float = 4.0, offset: float = 0.0) -> Path:
    """A WebVTT file with one cue per line, ``step`` seconds each."""
    out = ["WEBVTT", ""]
    for i, line in enumerate(lines):
        start = offset + i * step
        out += [str(i + 1), f"{stamp(start)} --> {stamp(start + step - 0.5)}", line, ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def talk(topic: str, n: int) -> list[str]:
    """``n`` distinct caption lines about ``topic``."""
    return [f"Sentence {i} about {topic} with a few more words number {i}." for i in range(n)]


CATALOG = """\
sessions:
  - id: exit-tickets
    title: "Exit Tickets That Change Tomorrow's Lesson"
    presenter: "Maria Delgado"
    date: 2025-09-17
    recording_url: https://pd.example/watch/exit-tickets
    grade_bands: [6-8, 9-12]
    subjects: [All subjects]
    tags: [formative assessment, exit tickets]
    files: [exit-tickets/recording.vtt, exit-tickets/handout.md]
  - id: tiered-tasks
    title: "Tiered Tasks"
    presenter: "Priya Raman"
    grade_bands: [3-5]
    files: [tiered-tasks/recording.srt, tiered-tasks/planner.pdf]
"""


def make_library(root: Path, *, catalog: str | None = CATALOG) -> Path:
    """A small library: two catalog sessions (vtt+md, srt+pdf) and two unlisted files."""
    write_vtt(root / "exit-tickets/recording.vtt", talk("exit tickets", 40))
    copy_fixture("handout.md", root / "exit-tickets/handout.md")
    copy_fixture("good.srt", root / "tiered-tasks/recording.srt")
    make_pdf(root / "tiered-tasks/planner.pdf")
    copy_fixture("notes.txt", root / "extras/brain_dump-prompts.txt")
    copy_fixture("page.html", root / "extras/cer.html")
    if catalog is not None:
        (root / "catalog.yaml").write_text(catalog, encoding="utf-8")
    return root


def make_pdf_with_damaged_pages(path: Path, pages: int, damaged: Sequence[int]) -> Path:
    """``pages`` one-line pages; the content streams of the ``damaged`` (1-based) are garbage."""
    import re

    import pypdf
    from reportlab.pdfgen import canvas

    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pageCompression=1)
    for number in range(1, pages + 1):
        pdf.drawString(72, 720, f"Page {number}: exit tickets and checking for understanding.")
        pdf.showPage()
    pdf.save()
    reader = pypdf.PdfReader(path)
    ids = [reader.pages[n - 1].raw_get("/Contents").idnum for n in damaged]
    data = bytearray(path.read_bytes())
    for idnum in ids:
        found = re.search(rb"\n%d 0 obj\s*<<.*?>>\s*stream\r?\n" % idnum, bytes(data), re.S)
        assert found is not None
        end = data.index(b"endstream", found.end())
        for k in range(found.end(), end - 3):
            if data[k] not in b"\r\n~>":
                data[k] = ord("z")  # valid ASCII85, not valid Flate: the page cannot decode
    path.write_bytes(bytes(data))
    return path

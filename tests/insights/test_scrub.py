"""Names, emails and phone numbers never reach the insights tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from insights.facets import grade_band, subject
from insights.scrub import asker_key, scrub
from store import Database, InsightQuestion, Question
from tests.insights.helpers import ask


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("email maria.delgado@riverbend.k12.us about exit slips", "email [email] about exit slips"),
        ("call his mom at (555) 123-4567 or 555.987.6543", "call his mom at [phone] or [phone]"),
        ("text +1 555 123 4567 tonight", "text [phone] tonight"),
        ("Ms. Lopez said to try wait time", "[name] said to try wait time"),
        (
            "my student named tyrone keeps shouting out",
            "my student named [name] keeps shouting out",
        ),
        ("jayden and sofia won't stop talking", "[name] and [name] won't stop talking"),
        ("How do I help Tyrone read faster?", "How do I help [name] read faster?"),
        (
            "what do i tell Marcus's mom about the easier version",
            "what do i tell [name]'s mom about the easier version",
        ),
    ],
)
def test_scrub_replaces_names_emails_and_phones(raw: str, expected: str) -> None:
    assert scrub(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "how do i run exit tickets with 32 kids at 12:30",
        "Station rotation with 14 Chromebooks in Math on Monday",
        "my 5th graders range from 2nd grade level to way above",
        "Using Google Classroom rubrics for ELA essays",
    ],
)
def test_scrub_keeps_ordinary_teaching_questions(text: str) -> None:
    assert scrub(text) == text


def test_only_scrubbed_text_is_stored_for_insights(sqlite_db: Database) -> None:
    raw = "jayden (jay@example.org, 555-123-4567) keeps leaving during reading"
    with sqlite_db.session() as s:
        qid = ask(s, "U1", raw, good=False)
    with sqlite_db.session() as s:
        row = s.get(InsightQuestion, qid)
        assert (
            row is not None and row.text == "[name] ([email], [phone]) keeps leaving during reading"
        )
        # The person is a pseudonym in insights, never the platform id.
        assert row.asker == asker_key("slack", "U1") and isinstance(row.asker, int)
        stored = " ".join(
            str(v) for v in s.execute(sa.select(InsightQuestion)).scalars().one().__dict__.values()
        )
        assert "jayden" not in stored and "example.org" not in stored and "4567" not in stored
        assert s.get(Question, qid).text == raw  # the bot's own log, until retention


def test_facets_from_words() -> None:
    assert grade_band("my 5th graders can't sit still") == "3-5"
    assert grade_band("10th grade biology labs") == "9-12"
    assert grade_band("kindergarten transitions") == "K-2"
    assert grade_band("grades 2 and 7 together") is None
    assert subject("number talks in math") == "Math"
    assert subject("reading conferences") == "ELA"
    assert subject("exit tickets") is None

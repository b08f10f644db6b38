"""Snippets: centred on the best-matching sentence, whole words, marked cuts."""

from __future__ import annotations

from retrieval.snippets import snippet

TEXT = (
    "Good afternoon, everybody. Thanks for choosing this room. I teach seventh-grade science. "
    "Today is about exit tickets and what to do with them. "
    "The trick is sorting them into three piles in five minutes. "
    "Then tomorrow I regroup the class by pile. Questions are welcome at the end. "
    "We will also look at examples from math and ELA classrooms."
)


def test_centres_on_the_sentence_with_the_rarest_query_terms() -> None:
    out = snippet(TEXT, {"pile": 2.0, "sort": 2.0}, max_chars=120)
    assert "sorting them into three piles" in out
    assert out.startswith("… ") and out.endswith(" …")
    assert len(out) <= 120 + 4


def test_whole_words_only() -> None:
    out = snippet(TEXT, {"regroup": 3.0}, max_chars=90)
    body = out.strip("… ")
    assert body in " ".join(TEXT.split())  # a contiguous run of the original words
    assert body.split()[0] in TEXT.split() and body.split()[-1] in TEXT.split()


def test_no_match_opens_the_chunk_and_short_text_is_whole() -> None:
    assert snippet(TEXT, {}, max_chars=60).startswith("Good afternoon, everybody.")
    assert snippet("Just one line.", {"line": 1.0}) == "Just one line."
    assert snippet("", {"x": 1.0}) == ""


def test_a_long_unpunctuated_transcript_is_windowed_around_the_hit() -> None:
    words = ["um"] * 200 + ["exit", "tickets"] + ["so"] * 200
    out = snippet(" ".join(words), {"exit": 2.0}, max_chars=80)
    assert "exit tickets" in out and out.startswith("… ") and out.endswith(" …")
    assert len(out) <= 80 + 4


def test_markdown_markup_is_dropped() -> None:
    out = snippet("## Sorting\n\n**Sort** the tickets by `Q2`.", {"sort": 1.0})
    assert "**" not in out and "`" not in out and "#" not in out

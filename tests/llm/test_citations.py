"""The post-generation citation check, as a pure function."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from retrieval.llm_citations import check_citations, finished_part

VALID = {1, 2, 3}


def test_keeps_valid_citations_and_renumbers_by_first_use() -> None:
    checked = check_citations("Regroup them [3]. Sort tickets [1][3].", VALID)
    assert checked.text == "Regroup them [1]. Sort tickets [2][1]."
    assert checked.sources == (3, 1)


def test_odd_citation_forms_are_understood() -> None:
    text = "A [1, 7]. B [2;3]. C [^1]. D [1-2]."
    checked = check_citations(text, VALID, max_sentences=10)
    assert checked.text == "A [1]. B [2][3]. C [1]. D [1][2]."


def test_citation_after_the_full_stop_belongs_to_its_sentence() -> None:
    checked = check_citations("Sort tickets. [2] Then regroup. [1]", VALID)
    assert checked.text == "Sort tickets [1]. Then regroup [2]."


def test_sentences_without_a_valid_citation_are_dropped() -> None:
    checked = check_citations("Invented [12]. Uncited. Kept [2]. Also invented [0].", VALID)
    assert checked.text == "Kept [1]."
    assert checked.sources == (2,)


def test_nothing_valid_leaves_nothing() -> None:
    assert check_citations("I couldn't find that in the library.", VALID).text == ""
    assert check_citations("[1] [2]", VALID).text == ""
    assert check_citations("", VALID).sources == ()


def test_numbers_only_seen_in_dropped_sentences_are_not_sources() -> None:
    checked = check_citations("A [1]. B [2]. C [1]. D [1]. E [3].", VALID)
    assert checked.sources == (1, 2)
    assert checked.text.count(".") == 4


def test_links_mentions_and_markdown_are_removed() -> None:
    raw = "**Visit** https://evil.example/x <!channel> <https://a.b|here> now [1]."
    assert check_citations(raw, VALID).text == "Visit now [1]."


def test_bullets_become_sentences() -> None:
    raw = "- Sort tickets [1]\n- Regroup students [2]\n- Gossip"
    assert check_citations(raw, VALID).text == "Sort tickets [1] Regroup students [2]"


def test_abbreviations_do_not_split_sentences() -> None:
    checked = check_citations("Use quick checks, e.g. Thumbs up [1]. Then sort [2].", VALID)
    assert checked.text == "Use quick checks, e.g. Thumbs up [1]. Then sort [2]."


def test_length_is_capped() -> None:
    long = " ".join(["word"] * 400) + " [1]."
    checked = check_citations(long + " Short [2].", VALID, max_chars=120)
    assert len(checked.text) <= 120
    assert checked.text.endswith("[1]")
    assert checked.sources == (1,)


def test_finished_part_waits_for_citations_after_the_stop() -> None:
    assert finished_part("Sort tickets [1]. Then reg") == "Sort tickets [1]. "
    assert finished_part("Sort tickets. [1]") == ""
    assert finished_part("Sort tickets. [1] Then") == "Sort tickets. [1] "


@given(st.text(max_size=300))
def test_every_kept_citation_is_in_range(raw: str) -> None:
    checked = check_citations(raw, VALID)
    assert set(checked.sources) <= VALID
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", checked.text)}
    assert numbers <= set(range(1, len(checked.sources) + 1))
    assert len(checked.text) <= 600


def test_a_link_at_the_end_of_a_sentence_keeps_the_stop_and_citation() -> None:
    assert check_citations("See www.evil.example/x[1]. More at https://e.x/y.", VALID).text == (
        "See [1]."
    )

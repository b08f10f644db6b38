"""Chunk sizes in model tokens, timestamps that survive, heading paths, overlap."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import ChunkSizes, chunk_file
from ingest.parsed import Block, Cue, Parsed
from retrieval.embedder import FakeEmbedder
from retrieval.indexing import index_text
from retrieval.types import SessionMeta

SESSION = SessionMeta(session_id="s", title="Exit Tickets That Change Tomorrow's Lesson")


def _cues(n: int, words: int = 12) -> tuple[Cue, ...]:
    return tuple(
        Cue(i * 3.0, i * 3.0 + 2.5, " ".join(f"w{i}x{k}" for k in range(words - 1)) + ".")
        for i in range(n)
    )


def _fits(chunks, embedder) -> bool:
    texts = [index_text(c, SESSION) for c in chunks]
    return all(n <= embedder.max_tokens - 2 for n in embedder.count_tokens(texts))


def test_transcript_windows_keep_cue_times_and_fit_the_model() -> None:
    embedder = FakeEmbedder()
    cues = _cues(80)
    chunks = chunk_file(Parsed(cues=cues), source="r.vtt", session=SESSION, counter=embedder)
    assert len(chunks) > 3
    assert [c.chunk_id for c in chunks] == [f"r.vtt#{i}" for i in range(len(chunks))]
    starts = {c.start: c for c in cues}
    ends = {c.end for c in cues}
    for chunk in chunks:
        first = starts[chunk.start]  # every chunk starts exactly at a cue
        assert chunk.text.startswith(first.text)
        assert chunk.end in ends
        assert chunk.heading == "" and chunk.page is None
    assert _fits(chunks, embedder)
    body = embedder.count_tokens([c.text for c in chunks[:-1]])
    assert min(body) >= 100  # not needlessly small either


def test_transcript_chunks_overlap_by_one_cue() -> None:
    cues = _cues(60)
    chunks = chunk_file(Parsed(cues=cues), source="r.vtt", session=SESSION, counter=FakeEmbedder())
    for a, b in zip(chunks, chunks[1:], strict=False):
        last_of_a = next(c for c in cues if c.end == a.end)
        assert b.start == last_of_a.start and b.text.startswith(last_of_a.text)


def test_a_cue_is_findable_with_its_own_start_time() -> None:
    cues = _cues(60)
    chunks = chunk_file(Parsed(cues=cues), source="r.vtt", session=SESSION, counter=FakeEmbedder())
    target = cues[37]
    holders = [c for c in chunks if target.text in c.text]
    assert holders
    assert all(c.start <= target.start and target.end <= c.end for c in holders)


def test_a_monologue_cue_is_split_but_keeps_its_times() -> None:
    long = Cue(10.0, 95.0, " ".join(f"word{i}." for i in range(600)))
    chunks = chunk_file(
        Parsed(cues=(Cue(0.0, 9.0, "Hello."), long)),
        source="m.srt",
        session=SESSION,
        counter=FakeEmbedder(),
    )
    assert len(chunks) >= 3
    assert chunks[0].start == 0.0 and chunks[0].text.startswith("Hello. word0.")
    assert all(c.start == 10.0 for c in chunks[1:]) and all(c.end == 95.0 for c in chunks)
    assert _fits(chunks, FakeEmbedder())


def test_small_model_window_still_fits() -> None:
    embedder = FakeEmbedder(max_tokens=64)
    chunks = chunk_file(Parsed(cues=_cues(30)), source="r.vtt", session=SESSION, counter=embedder)
    assert _fits(chunks, embedder)


def test_documents_chunk_by_heading_with_pages() -> None:
    blocks = (
        Block("Exit tickets take five minutes.", ("Handout",), 1),
        Block("Sort into three piles. " * 60, ("Handout", "Sorting them"), 1),
        Block("Regroup tomorrow. " * 10, ("Handout", "Sorting them", "Next day"), 2),
    )
    embedder = FakeEmbedder()
    chunks = chunk_file(Parsed(blocks=blocks), source="h.pdf", session=SESSION, counter=embedder)
    assert _fits(chunks, embedder)
    assert len(chunks) >= 2  # the long section is split
    # The tiny opening section leads into the next one, whose heading stays in the text.
    assert chunks[0].heading == "Handout" and chunks[0].page == 1
    assert chunks[0].text.splitlines()[:2] == ["Exit tickets take five minutes.", "Sorting them"]
    assert chunks[1].heading.startswith("Handout > Sorting them")
    assert "Regroup tomorrow." in chunks[-1].text


def test_long_section_splits_at_sentences_with_one_sentence_overlap() -> None:
    sentences = [f"Sentence number {i} explains step {i} of sorting." for i in range(80)]
    chunks = chunk_file(
        Parsed(blocks=(Block(" ".join(sentences), ("Guide",)),)),
        source="g.md",
        session=SESSION,
        counter=FakeEmbedder(),
    )
    assert len(chunks) >= 3
    for a, b in zip(chunks, chunks[1:], strict=False):
        last = [s for s in sentences if a.text.endswith(s)]
        assert last and b.text.startswith(last[0])
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)


def test_tiny_sections_merge_under_their_common_heading() -> None:
    blocks = (
        Block("Pencils and cards.", ("Lesson", "Materials")),
        Block("Five minutes.", ("Lesson", "Timing")),
        Block("Students answer three questions about the lesson. " * 20, ("Lesson", "Steps")),
    )
    chunks = chunk_file(
        Parsed(blocks=blocks), source="l.md", session=SESSION, counter=FakeEmbedder()
    )
    first = chunks[0]
    assert first.heading == "Lesson"
    assert first.text.splitlines()[:4] == [
        "Materials",
        "Pencils and cards.",
        "Timing",
        "Five minutes.",
    ]


def test_custom_sizes_are_respected() -> None:
    embedder = FakeEmbedder()
    sizes = ChunkSizes(target=40, limit=60, min_tokens=10, overlap=20)
    chunks = chunk_file(
        Parsed(cues=_cues(40)), source="r.vtt", session=SESSION, counter=embedder, sizes=sizes
    )
    assert max(embedder.count_tokens([c.text for c in chunks])) <= 60


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=60))
def test_every_cue_lands_in_order_in_some_chunk(word_counts: list[int]) -> None:
    cues = tuple(
        Cue(i * 2.0, i * 2.0 + 1.5, " ".join(f"c{i}w{k}" for k in range(n)))
        for i, n in enumerate(word_counts)
    )
    embedder = FakeEmbedder(max_tokens=128)
    chunks = chunk_file(Parsed(cues=cues), source="p.vtt", session=SESSION, counter=embedder)
    joined = " ".join(c.text for c in chunks)
    assert all(f"c{i}w0" in joined for i in range(len(cues)))
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert all(c.start is not None and c.end is not None and c.start <= c.end for c in chunks)
    assert _fits(chunks, embedder)

"""Parsed files -> chunks sized in the embedding model's own tokens.

The model reads at most ``max_tokens`` word pieces and silently drops the rest, so every chunk's
``index_text`` (session title, heading path, body) must fit. Bodies aim at ``target`` tokens and
never pass ``limit`` (see ChunkSizes for why they are smaller than the window); neighbours overlap
by one cue or one sentence so an idea that straddles a boundary is whole in at least one chunk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ingest.parsed import Block, Cue, Parsed
from retrieval.indexing import index_text
from retrieval.types import Chunk, SessionMeta

_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
_SENTENCE_SPLIT = re.compile(
    r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)
_MARGIN = 8  # [CLS]/[SEP] plus slack for a catalog title edited after chunking
_MIN_BUDGET = 32


class TokenCounter(Protocol):
    """The part of an Embedder that chunking needs."""

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@dataclass(frozen=True)
class ChunkSizes:
    """Body sizes in model tokens.

    all-MiniLM-L6-v2 reads 256 word pieces but was trained on 128, and it matches best near that:
    ~120-token bodies under a ~15-token header. Measured with bench/quality.py's data (nDCG@10 of
    hybrid search, same code, one run): 120/150 scored devset 0.779, library 0.933; 110/140 0.778,
    0.952; 140/170 0.779, 0.939; 180/220 0.774, 0.925; 80/100 0.771, 0.946.
    """

    target: int = 120  # close a chunk at the first sentence end past this
    limit: int = 150  # never more than this (nor than the model's window allows)
    min_tokens: int = 40  # a smaller section joins a neighbour
    overlap: int = 40  # the longest cue or sentence repeated into the next chunk


@dataclass(frozen=True)
class _Unit:
    text: str
    tokens: int
    start: float | None = None
    end: float | None = None
    page: int | None = None
    section: tuple[str, ...] = ()
    last_sentence: tuple[str, int] | None = None  # (text, tokens) for overlap
    sep: str = "\n"  # joins this unit to the one before: " " inside a paragraph
    carried: bool = False  # repeated from the previous chunk as overlap


def ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text.rstrip()))


def split_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE_SPLIT.split(text)]
    return [p for p in parts if p]


def chunk_file(
    parsed: Parsed,
    *,
    source: str,
    session: SessionMeta,
    counter: TokenCounter,
    sizes: ChunkSizes = ChunkSizes(),
) -> list[Chunk]:
    """All chunks of one parsed file, ids ``f"{source}#{ordinal}"`` in reading order."""
    if parsed.is_transcript:
        budget = _budget(counter, session, (), sizes)
        units = _cue_units(parsed.cues, counter, budget, min(budget, sizes.target))
        pieces = _windows(units, budget, sizes)
        return [
            Chunk(
                chunk_id=f"{source}#{i}",
                session_id=session.session_id,
                source=source,
                text=" ".join(u.text for u in units),
                start=units[0].start,
                end=max(u.end or 0.0 for u in units),
            )
            for i, units in enumerate(pieces)
        ]
    return _document_chunks(parsed.blocks, source, session, counter, sizes)


def _budget(
    counter: TokenCounter, session: SessionMeta, heading: tuple[str, ...], sizes: ChunkSizes
) -> int:
    header = index_text(Chunk("", session.session_id, "", "", heading=" > ".join(heading)), session)
    overhead = counter.count_tokens([header])[0]
    return max(_MIN_BUDGET, min(sizes.limit, counter.max_tokens - overhead - _MARGIN))


def _split_long(text: str, counter: TokenCounter, size: int) -> list[tuple[str, int]]:
    """Pieces of ``text`` of at most ``size`` tokens: whole sentences, else runs of words."""
    out: list[tuple[str, int]] = []
    sentences = split_sentences(text) or [text]
    for sentence, tokens in zip(sentences, counter.count_tokens(sentences), strict=True):
        if tokens <= size:
            out.append((sentence, tokens))
            continue
        words = sentence.split()
        piece: list[str] = []
        used = 0
        # Word pieces never cross whitespace, so per-word counts add up to the run's count.
        for word, n in zip(words, counter.count_tokens(words), strict=True):
            if piece and used + n > size:
                out.append((" ".join(piece), used))
                piece, used = [], 0
            piece.append(word)  # a single word longer than ``size`` is cut by the model
            used += n
        if piece:
            out.append((" ".join(piece), used))
    return out


def _cue_units(cues: Sequence[Cue], counter: TokenCounter, budget: int, size: int) -> list[_Unit]:
    """One unit per cue; a cue longer than ``budget`` becomes pieces of ``size`` tokens."""
    units: list[_Unit] = []
    for cue, tokens in zip(cues, counter.count_tokens([c.text for c in cues]), strict=True):
        if tokens <= budget:
            units.append(_Unit(cue.text, tokens, cue.start, cue.end))
        else:  # a monologue in one cue: its pieces share the cue's times
            units.extend(
                _Unit(t, n, cue.start, cue.end) for t, n in _split_long(cue.text, counter, size)
            )
    return units


def _windows(units: list[_Unit], budget: int, sizes: ChunkSizes) -> list[list[_Unit]]:
    """Consecutive runs of units, closed at sentence ends, overlapping by one unit."""
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, tokens = i, 0
        while j < len(units) and (j == i or tokens + units[j].tokens <= budget):
            tokens += units[j].tokens
            j += 1
            if tokens >= sizes.target and ends_sentence(units[j - 1].text):
                break
        if j < len(units) and not ends_sentence(units[j - 1].text):
            # Cut at the last sentence end in the second half rather than mid-sentence.
            run = tokens
            for k in range(j - 1, i, -1):
                run -= units[k].tokens
                if run < sizes.target // 2:
                    break
                if ends_sentence(units[k - 1].text):
                    j = k
                    break
        windows.append((i, j))
        if j >= len(units):
            break
        overlap = j - 1 > i and units[j - 1].tokens <= sizes.overlap
        i = j - 1 if overlap else j
    if len(windows) > 1:
        (a, _), (b, c) = windows[-2], windows[-1]
        if sum(u.tokens for u in units[b:c]) < sizes.target // 3 and (
            sum(u.tokens for u in units[a:c]) <= budget
        ):
            windows[-2:] = [(a, c)]  # a short tail joins the window before it
    return [units[a:b] for a, b in windows]


def _sections(blocks: Sequence[Block]) -> list[list[Block]]:
    sections: list[list[Block]] = []
    for block in blocks:
        if sections and sections[-1][0].heading == block.heading:
            sections[-1].append(block)
        else:
            sections.append([block])
    return sections


def _segments(text: str) -> list[tuple[str, str]]:
    """A block's lines, then sentences, each with the separator that preceded it."""
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        for k, sentence in enumerate(split_sentences(line)):
            out.append((sentence, " " if k else "\n"))
    return out or [(text, "\n")]


def _document_chunks(
    blocks: Sequence[Block],
    source: str,
    session: SessionMeta,
    counter: TokenCounter,
    sizes: ChunkSizes,
) -> list[Chunk]:
    """Heading sections; long ones split at lines then sentences, tiny ones merged."""
    sections = _sections(blocks)
    headings = [s[0].heading for s in sections]
    labels = [h[-1] if h else "" for h in headings]
    segment_lists = [_segments(b.text) for s in sections for b in s]
    flat = [t for segs in segment_lists for t, _ in segs]
    counts = iter(counter.count_tokens(flat + labels))
    segment_tokens = [[next(counts) for _ in segs] for segs in segment_lists]
    label_tokens = [next(counts) for _ in labels]
    budgets = {h: _budget(counter, session, h, sizes) for h in set(headings)}

    groups: list[tuple[list[_Unit], int]] = []
    current: list[_Unit] = []
    used = 0

    def flush(carry: _Unit | None = None) -> None:
        nonlocal current, used
        if current:
            groups.append((current, used))
        current, used = ([carry], carry.tokens) if carry else ([], 0)

    def merge_back() -> bool:
        """Join a tiny pending group to the chunk before it, when that one has room."""
        nonlocal current, used
        if not (current and groups and used < sizes.min_tokens) or current[0].carried:
            return False
        units, size = groups[-1]
        if size + used > budgets[units[-1].section]:
            return False
        groups[-1] = (units + current, size + used)
        current, used = [], 0
        return True

    block_no = 0
    for s, section in enumerate(sections):
        budget = budgets[headings[s]]
        if current and used >= sizes.min_tokens:
            flush()
        elif current:
            merge_back()  # when it cannot, the tiny section leads into this one
        label_cost = label_tokens[s]  # counted even when unused: a merge may need the label
        for block in section:
            segs, toks = segment_lists[block_no], segment_tokens[block_no]
            block_no += 1
            pieces: list[tuple[str, int, str, tuple[str, int] | None]]
            if sum(toks) <= budget:
                pieces = [(block.text, sum(toks), "\n", (segs[-1][0], toks[-1]))]
            else:
                pieces = []
                for (text, sep), n in zip(segs, toks, strict=True):
                    if n <= budget:
                        pieces.append((text, n, sep, (text, n)))
                    else:
                        parts = _split_long(text, counter, min(budget, sizes.target))
                        pieces.extend(
                            (t, m, sep if i == 0 else " ", None) for i, (t, m) in enumerate(parts)
                        )
            for text, tokens, sep, last in pieces:
                unit = _Unit(
                    text, tokens, page=block.page, section=headings[s], last_sentence=last, sep=sep
                )
                if current and used + label_cost + tokens > budget:
                    tail = current[-1].last_sentence
                    same = current[-1].section == headings[s]
                    carry = None
                    if same and tail and tail[1] <= sizes.overlap and tail[1] + tokens <= budget:
                        carry = _Unit(
                            tail[0],
                            tail[1],
                            page=current[-1].page,
                            section=headings[s],
                            carried=True,
                        )
                    flush(carry)
                    label_cost = 0
                current.append(unit)
                used += tokens + label_cost
                label_cost = 0
    if not merge_back():
        flush()
    return [_document_chunk(units, i, source, session) for i, (units, _) in enumerate(groups)]


def _document_chunk(units: list[_Unit], ordinal: int, source: str, session: SessionMeta) -> Chunk:
    common = units[0].section
    for unit in units[1:]:
        n = 0
        while n < min(len(common), len(unit.section)) and common[n] == unit.section[n]:
            n += 1
        common = common[:n]
    weight: dict[tuple[str, ...], int] = {}
    for unit in units:
        weight[unit.section] = weight.get(unit.section, 0) + unit.tokens
    heading = common or max(weight, key=lambda h: weight[h])  # no shared path: the main one
    parts: list[str] = []
    previous: tuple[str, ...] | None = None
    for unit in units:
        if unit.section != previous and unit.section != heading and unit.section[len(common) :]:
            # A merged section keeps its own heading as a line, so its words are still embedded.
            parts.extend(("\n", " > ".join(unit.section[len(common) :])))
            previous = unit.section
            parts.extend(("\n", unit.text))
            continue
        previous = unit.section
        parts.extend((unit.sep, unit.text))
    return Chunk(
        chunk_id=f"{source}#{ordinal}",
        session_id=session.session_id,
        source=source,
        text="".join(parts[1:]).strip(),
        heading=" > ".join(heading),
        page=units[0].page,
    )

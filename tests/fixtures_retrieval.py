"""Retrieval fixtures: the real embedder (loaded at most once per run), a fake one, tiny indexes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from retrieval.embedder import Embedder, FakeEmbedder, SentenceTransformerEmbedder
from retrieval.indexing import index_text
from retrieval.snapshot import IndexRoot, write_snapshot
from retrieval.types import Chunk, SessionMeta


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2 on the CPU; the model loads on first use, once per run."""
    return SentenceTransformerEmbedder(device="cpu")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


TINY_SESSIONS: dict[str, SessionMeta] = {
    "exit-tickets": SessionMeta(
        "exit-tickets",
        "Exit Tickets That Change Tomorrow's Lesson",
        presenter="Maria Delgado",
        url="https://pd.example/watch/exit-tickets",
        grade_bands=("6-8", "9-12"),
        subjects=("All subjects",),
        tags=("formative assessment", "exit tickets"),
    ),
    "station-rotation": SessionMeta(
        "station-rotation",
        "Station Rotation in a 50-Minute Block",
        grade_bands=("3-5", "6-8"),
        subjects=("Math", "ELA"),
        tags=("blended learning", "small groups"),
    ),
    "restorative-circles": SessionMeta(
        "restorative-circles",
        "Restorative Circles After a Conflict",
        grade_bands=("K-2", "3-5"),
        subjects=("SEL",),
        tags=("behavior", "community"),
    ),
}

TINY_CHUNKS: tuple[Chunk, ...] = (
    Chunk(
        "exit-tickets/recording.vtt#0",
        "exit-tickets",
        "exit-tickets/recording.vtt",
        "Good afternoon. Today is about exit tickets. I hand out three questions at the end of "
        "class. Then I sort the exit tickets into three piles in five minutes. The piles tell "
        "me who to regroup tomorrow.",
        start=12.0,
        end=58.5,
    ),
    Chunk(
        "exit-tickets/handout.md#0",
        "exit-tickets",
        "exit-tickets/handout.md",
        "Write the wrong answer you expect in the margin. Sort tickets by the second question.",
        heading="The ticket > Sorting",
    ),
    Chunk(
        "station-rotation/recording.srt#0",
        "station-rotation",
        "station-rotation/recording.srt",
        "Three stations: teacher-led, online practice, collaborative. A timer runs the "
        "transitions, and when the Wi-Fi goes down the online station becomes a card game.",
        start=30.0,
        end=75.0,
    ),
    Chunk(
        "restorative-circles/recording.srt#0",
        "restorative-circles",
        "restorative-circles/recording.srt",
        "After a conflict we sit in a circle with a talking piece. Everyone answers the same "
        "question: what happened, who was affected, and what do we need to make it right.",
        start=5.0,
        end=44.0,
    ),
)


IndexBuilder = Callable[..., tuple[IndexRoot, str]]


@pytest.fixture
def build_index(tmp_path: Path) -> IndexBuilder:
    """Publish a snapshot of ``chunks`` into ``<tmp>/index``; returns (root, version)."""

    def build(
        chunks: Sequence[Chunk] = TINY_CHUNKS,
        sessions: Mapping[str, SessionMeta] = TINY_SESSIONS,
        embedder: Embedder | None = None,
        root: Path | None = None,
        info: Mapping[str, object] | None = None,
    ) -> tuple[IndexRoot, str]:
        embedder = embedder or FakeEmbedder()
        index_root = IndexRoot(root or tmp_path / "index")
        texts = [index_text(c, sessions[c.session_id]) for c in chunks]
        vectors = embedder.embed_documents(texts)
        build_dir = index_root.new_build_dir()
        write_snapshot(
            build_dir,
            chunks=chunks,
            vectors=vectors,
            sessions=sessions,
            files={c.source: {"sha256": "x"} for c in chunks},
            info=dict(info) if info is not None else {"model": embedder.name},
        )
        return index_root, index_root.publish(build_dir)

    return build


REPO = Path(__file__).resolve().parents[1]
SAMPLE_LIBRARY = REPO / "examples" / "library"


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory, real_embedder) -> Path:
    """A data dir whose index holds the whole sample library, embedded once per run."""
    from ingest import build_index as ingest_library

    data_dir = tmp_path_factory.mktemp("sample-data")
    ingest_library(SAMPLE_LIBRARY, data_dir / "index", real_embedder)
    return data_dir

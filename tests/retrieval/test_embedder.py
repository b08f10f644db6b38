"""Embedders: the fake's contract, and (slow) the bundled real model."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.embedder import BUNDLED_NAME, Embedder, FakeEmbedder, SentenceTransformerEmbedder
from retrieval.search import Searcher
from retrieval.types import Chunk, SessionMeta
from staffroom_errors import ConfigError
from tests.fixtures_retrieval import IndexBuilder


def test_fake_embedder_is_deterministic_normalised_and_similarity_aware() -> None:
    fake = FakeEmbedder()
    assert isinstance(fake, Embedder)
    a, b, c, empty = fake.embed_documents(
        ["exit tickets sorted", "exit tickets sorted", "wifi router", ""]
    )
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm([a, c, empty], axis=1), 1.0)
    assert a @ fake.embed_queries(["sorting exit tickets"])[0] > c @ a
    assert fake.count_tokens(["Hello, world!", ""]) == [4, 0]
    assert fake.embed_documents([]).shape == (0, 64)


def test_unloadable_model_is_a_config_error(tmp_path) -> None:
    embedder = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"), device="cpu")
    assert embedder.name.endswith("no-such-model")  # naming it loads nothing
    with pytest.raises(ConfigError):
        embedder.embed_queries(["x"])


@pytest.mark.slow
def test_bundled_model_contract(real_embedder: SentenceTransformerEmbedder) -> None:
    assert real_embedder.name == BUNDLED_NAME
    assert (real_embedder.dim, real_embedder.max_tokens) == (384, 256)
    vectors = real_embedder.embed_documents(["exit tickets", "station rotation"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert real_embedder.count_tokens(["hello world", ""]) == [2, 0]  # no [CLS]/[SEP]
    assert real_embedder.count_tokens(["word " * 1000]) == [1000]  # counted, not truncated


@pytest.mark.slow
def test_real_dense_search_ranks_the_obvious_chunk_first(
    real_embedder: SentenceTransformerEmbedder, build_index: IndexBuilder
) -> None:
    sessions = {
        "calm": SessionMeta("calm", "Calm Starts"),
        "cer": SessionMeta("cer", "Claim, Evidence, Reasoning"),
        "family": SessionMeta("family", "Talking With Families"),
    }
    chunks = (
        Chunk("calm#0", "calm", "calm.vtt", "Greet students at the door and post a do-now task."),
        Chunk("cer#0", "cer", "cer.vtt", "Students write a claim and back it with lab evidence."),
        Chunk("family#0", "family", "f.vtt", "Send a positive phone call home before any bad news."),
    )
    root, _ = build_index(chunks=chunks, sessions=sessions, embedder=real_embedder)
    searcher = Searcher(root.path, real_embedder)
    response = searcher.search("how should I contact parents?", mode="dense")
    assert response.results[0].session.session_id == "family"
    hybrid = searcher.search("how do I begin class so kids settle down quickly?")
    assert hybrid.results[0].session.session_id == "calm"

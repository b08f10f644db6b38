"""The optional cross-encoder stage: its scores decide the order of the top sessions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from retrieval.embedder import FakeEmbedder
from retrieval.rerank import CrossEncoderReranker, build_reranker
from retrieval.search import Searcher
from staffroom_errors import ConfigError
from tests.fixtures_retrieval import TINY_CHUNKS

QUERY = "sort exit tickets into piles after a conflict in the circle"


class ScriptedReranker:
    """Scores passages by a keyword; records what it was asked."""

    name = "scripted"

    def __init__(self, prefer: str) -> None:
        self.prefer = prefer
        self.calls: list[tuple[str, list[str]]] = []

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        self.calls.append((query, list(passages)))
        return [float(p.count(self.prefer)) - i * 0.01 for i, p in enumerate(passages)]


class Recording:
    """Wraps a real reranker and keeps its answers."""

    def __init__(self, inner: CrossEncoderReranker) -> None:
        self.inner = inner
        self.name = inner.name
        self.seen: list[tuple[list[str], list[float]]] = []

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        scores = self.inner.score(query, passages)
        self.seen.append((list(passages), scores))
        return scores


def _searcher(root, **kwargs) -> Searcher:
    return Searcher(root.path, FakeEmbedder(), threshold=0.0, **kwargs)


def test_the_reranker_decides_the_order_and_good_match_does_not_change(build_index) -> None:
    root, _ = build_index()
    plain = _searcher(root).search(QUERY, k=3)
    reranker = ScriptedReranker(prefer="circle")
    reranked = _searcher(root, reranker=reranker).search(QUERY, k=3)

    ids = [r.session.session_id for r in reranked.results]
    assert ids[0] == "restorative-circles"
    assert ids != [r.session.session_id for r in plain.results]
    assert [r.score for r in reranked.results] == sorted(
        (r.score for r in reranked.results), reverse=True
    )
    # The reranker read each session's best passage under its "Title > heading" header.
    (query, passages), = reranker.calls
    assert query == QUERY and len(passages) == len(plain.results)
    assert any(p.startswith("Restorative Circles After a Conflict\n\n") for p in passages)
    # "Good match" is still the first stage's cosine: the threshold keeps its meaning.
    assert reranked.good_match == plain.good_match
    assert "rerank" in reranked.timings_ms


def test_only_the_configured_number_of_candidates_is_read(build_index) -> None:
    root, _ = build_index()
    reranker = ScriptedReranker(prefer="circle")
    response = _searcher(root, reranker=reranker, rerank_candidates=1).search(QUERY, k=1)
    assert len(reranker.calls[0][1]) == 1 and len(response.results) == 1
    # Never fewer candidates than sessions asked for.
    reranker.calls.clear()
    response = _searcher(root, reranker=reranker, rerank_candidates=1).search(QUERY, k=3)
    assert len(reranker.calls[0][1]) == len(response.results) == 3


# --- a real CrossEncoder, tiny and random, built and saved by the test --------------------


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    """A 1-layer BERT cross-encoder with a word-level vocabulary, saved like a real one."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    words = sorted(
        {w for c in TINY_CHUNKS for w in re.findall(r"[a-z]+", c.text.lower())}
        | set(re.findall(r"[a-z]+", QUERY.lower()))
    )
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = list("abcdefghijklmnopqrstuvwxyz")
    vocab = specials + words + letters + [f"##{c}" for c in letters]
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)})
    torch.manual_seed(7)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        num_labels=1,
        initializer_range=0.5,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_saved_cross_encoder_orders_the_sessions_by_its_scores(
    build_index, tiny_cross_encoder: Path
) -> None:
    from sentence_transformers import CrossEncoder

    root, _ = build_index()
    plain = _searcher(root).search(QUERY, k=3)
    recording = Recording(CrossEncoderReranker(tiny_cross_encoder, device="cpu"))
    reranked = _searcher(root, reranker=recording).search(QUERY, k=3)

    (passages, scores), = recording.seen
    assert len(set(scores)) == len(scores), "random weights, but distinct scores"
    # The final order is the order of the cross-encoder's scores, and shows them.
    assert [r.score for r in reranked.results] == sorted(scores, reverse=True)
    by_score = sorted(zip(scores, passages, strict=True), reverse=True)
    for result, (_, passage) in zip(reranked.results, by_score, strict=True):
        assert passage.startswith(result.session.title)
    # With this seed the cross-encoder disagrees with the first stage.
    assert [r.session.session_id for r in reranked.results] != [
        r.session.session_id for r in plain.results
    ]
    # The scores are the model's own: loading the folder directly gives the same numbers.
    direct = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict(
        [(QUERY, p) for p in passages]
    )
    assert [round(float(s), 5) for s in direct] == [round(s, 5) for s in scores]


def test_the_setting_takes_a_local_folder_only(tmp_path: Path, tiny_cross_encoder: Path) -> None:
    assert build_reranker("", device="cpu") is None  # off by default
    hub_name = "cross-encoder/ms-marco-MiniLM-L6-v2"  # refused, not fetched
    with pytest.raises(ConfigError, match="local model folder"):
        build_reranker(hub_name, device="cpu")
    assert isinstance(build_reranker(str(tiny_cross_encoder), device="cpu"), CrossEncoderReranker)

    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(ConfigError, match="Could not load the re-ranking model"):
        CrossEncoderReranker(empty, device="cpu").load()


def test_settings_default_to_no_reranker(tmp_path: Path) -> None:
    from bot.app import _searcher as app_searcher
    from bot.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.rerank_model == "" and settings.rerank_candidates == 20
    searcher = app_searcher(settings, FakeEmbedder())
    assert searcher.reranker is None  # type: ignore[attr-defined]

"""Ingest test fixtures: a fresh fake embedder per test (it counts what it embeds)."""

from __future__ import annotations

import pytest

from retrieval.embedder import FakeEmbedder


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()

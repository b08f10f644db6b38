"""Core fixtures: a Core on a real migrated database with a fake retriever."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core import Core
from bot.records import SqlRecords
from store import Database
from tests.bot.fakes import FakeRetriever


@pytest.fixture
def retriever() -> FakeRetriever:
    return FakeRetriever()


@pytest.fixture
def core(sqlite_db: Database, retriever: FakeRetriever) -> Iterator[Core]:
    core = Core(retriever, SqlRecords(sqlite_db), max_question_chars=200)
    yield core
    core.close()

"""Every conversation script, played through the core on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from store import Database
from tests.scenarios.harness import idea_world, play
from tests.scenarios.scripts import SCRIPTS


@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_script_on_sqlite(name: str, sqlite_db: Database):
    world = idea_world(sqlite_db)
    try:
        await play(world.core, SCRIPTS[name], world.database)
    finally:
        world.core.close()


@pytest.mark.parametrize(
    "name",
    [
        "pitch_submitted",
        "triage_by_staff_only",
        "pitch_interrupted_by_questions_and_commands",
        "pitch_left_too_long_is_set_aside_once",
    ],
)
async def test_script_on_both_backends(name: str, db: Database):
    world = idea_world(db)
    try:
        await play(world.core, SCRIPTS[name], world.database)
    finally:
        world.core.close()

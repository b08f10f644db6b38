"""`staffroom insights` prints the pages' figures; `staffroom privacy forget` forgets a person."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from store import Database, PrivacyLog, Question
from store.migrate import upgrade
from tests.insights.helpers import ask, people


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{(tmp_path / 'cli.db').as_posix()}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("STAFFROOM_DATA_DIR", str(tmp_path / "data"))
    upgrade(url)
    db = Database.from_url(url)
    with db.session() as s:
        for user in people(6):
            ask(s, user, "exit tickets with 32 kids", helpful=True)
        for user in people(2, "X"):
            ask(s, user, "bus duty swaps", good=False)
    yield db
    db.dispose()


def test_insights_json_text_and_csv_agree(cli_db: Database, capsys) -> None:
    assert main(["insights", "--since", "30d", "--format", "json", "--no-group"]) == 0
    report = json.loads(capsys.readouterr().out)
    ov = report["overview"]
    assert ov["questions"] == 8 or ov["questions"] is None
    assert ov["no_match"] is None  # two people
    assert ov["answered"] is None or ov["questions"] is None  # no subtraction
    assert ov["helpful"] == 6 and ov["active_askers"] == 8
    assert main(["insights", "--format", "text", "--no-group"]) == 0
    text = capsys.readouterr().out
    assert "fewer than 5" in text and "active askers    8" in text
    assert main(["insights", "--format", "csv", "--no-group"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    no_match = next(
        r
        for r in rows
        if r["section"] == "overview" and r["item"] == "all" and r["metric"] == "no_match"
    )
    assert no_match["value"] == "" and no_match["suppressed"] == "1"


def test_insights_rejects_a_bad_period(cli_db: Database, capsys) -> None:
    assert main(["insights", "--since", "lately"]) == 2
    assert "couldn't read the period" in capsys.readouterr().err


def test_privacy_forget(cli_db: Database, capsys) -> None:
    assert main(["privacy", "forget", "slack:X000"]) == 0
    assert "Forgot X000 on slack" in capsys.readouterr().out
    with cli_db.session() as s:
        assert s.query(Question).filter_by(user_id="X000").count() == 0
        assert s.query(Question).count() == 7
        assert s.query(PrivacyLog).one().action == "forget"

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


def test_insights_cli_shows_the_adoption_pages_figures_with_small_groups_hidden(
    cli_db: Database, capsys
) -> None:
    from insights.adoption import adoption
    from tests.insights.helpers import seed_adoption

    with cli_db.session() as s:
        exit_id, _ = seed_adoption(s)
    with cli_db.session() as s:
        page = adoption(s, 5)
    assert main(["insights", "--format", "json", "--no-group"]) == 0
    got = json.loads(capsys.readouterr().out)["adoption"]
    first = got["practices"][0]
    assert (first["idea"], first["takers"], first["schools"]) == (exit_id, 8, 2)
    assert first["verdicts"] == {"adopt": None, "adapt": None, "abandon": 0, "not_yet": None}
    assert got["spread"] == page.spread.value
    schools = {r["school"]: r for r in got["schools"]}
    assert "Maple ES" not in schools  # 3 people: only in "Other schools combined"
    assert schools["Eastside HS"]["role"] == "designs and adopts"
    assert schools["Lincoln MS"]["designed"] is None  # hidden, as on the page
    assert main(["insights", "--format", "text", "--no-group"]) == 0
    text = capsys.readouterr().out
    assert "Adoption (ideas in the field" in text and "Eastside HS: 5 / " in text
    assert "Maple ES:" not in text
    assert main(["insights", "--format", "csv", "--no-group"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    lincoln = {r["metric"]: r for r in rows
               if r["section"] == "adoption_schools" and r["item"] == "Lincoln MS"}  # fmt: skip
    assert (lincoln["designed"]["value"], lincoln["designed"]["suppressed"]) == ("", "1")
    assert lincoln["tried"]["value"] == "9"

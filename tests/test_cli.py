"""The `staffroom` command line: output shapes and one-line errors (no tracebacks)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import pytest

from bot import cli
from tests.fixtures_retrieval import SAMPLE_LIBRARY


@pytest.fixture
def real_cli(monkeypatch, real_embedder):
    """Run the CLI in-process with the run's one real model (no second model load)."""
    monkeypatch.setattr(cli, "_embedder", lambda settings: real_embedder)
    return cli.main


def test_help_is_instant_and_lists_the_verbs():
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for verb in ("ingest", "ask", "chat", "status", "serve", "ideas", "db"):
        assert verb in out
    # --help must not import the heavy stack
    probe = "import sys, bot.cli; bot.cli.build_parser(); print('torch' in sys.modules, 'faiss' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False False"


def test_ask_json_one_object_per_line_in_order(real_cli, sample_data_dir, monkeypatch, capsys):
    questions = ["how do I run exit tickets with 32 kids?", "", "restorative circle after a fight"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(questions) + "\n"))
    assert real_cli(["ask", "--json", "-", "--data-dir", str(sample_data_dir)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["question"] for d in lines] == [questions[0], questions[2]]
    first = lines[0]["results"][0]
    assert first["session_id"] == "exit-tickets"
    assert set(first) >= {
        "session_id",
        "title",
        "source",
        "score",
        "start",
        "end",
        "url",
        "snippet",
    }
    assert first["source"].startswith("exit-tickets/")
    scores = [r["score"] for r in lines[0]["results"]]
    assert scores == sorted(scores, reverse=True)
    assert lines[1]["results"][0]["session_id"] == "restorative-circles"


def test_ask_text_shows_moment_and_deep_link(real_cli, sample_data_dir, capsys):
    assert (
        real_cli(
            [
                "ask",
                "quiet kids never explain their thinking in math",
                "--data-dir",
                str(sample_data_dir),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Talk Moves" in out
    assert "▶ " in out and "#t=" in out


def test_ask_off_topic_is_honest(real_cli, sample_data_dir, capsys):
    real_cli(
        [
            "ask",
            "what is the wifi password for the district office printer",
            "--data-dir",
            str(sample_data_dir),
        ]
    )
    assert "Nothing in the library covers that" in capsys.readouterr().out


def test_status_reports_the_live_version(real_cli, sample_data_dir, capsys):
    assert real_cli(["status", "--data-dir", str(sample_data_dir)]) == 0
    out = capsys.readouterr().out
    assert "index version  v" in out and "sessions       16" in out


def test_ingest_unchanged_library_embeds_nothing(real_cli, tmp_path, sample_data_dir, capsys):
    data = tmp_path / "data"
    shutil.copytree(sample_data_dir, data)
    assert real_cli(["ingest", str(SAMPLE_LIBRARY), "--data-dir", str(data)]) == 0
    err = capsys.readouterr().err
    assert "unchanged 28" in err and "(0 embedded, " in err and "nothing changed" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ingest", "/nonexistent/library"], "No library at"),
        (["ask", "anything"], "no index"),
        (["status"], "o index"),
        (["ask", "   "], "Ask a question"),
    ],
)
def test_errors_are_one_line_without_traceback(
    argv, message, tmp_path, monkeypatch, capsys, fake_embedder
):
    monkeypatch.setattr(cli, "_embedder", lambda settings: fake_embedder)
    code = cli.main([*argv, "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_setting_outside_its_choices_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STAFFROOM_TEAMS", "maybe")
    monkeypatch.setenv("STAFFROOM_LOG_FORMAT", "JSON")  # case does not matter
    code = cli.main(["status", "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "STAFFROOM_TEAMS" in err and "'auto', 'on' or 'off'" in err
    assert "STAFFROOM_LOG_FORMAT" not in err


def test_empty_library_is_a_clear_error(tmp_path, monkeypatch, capsys, fake_embedder):
    monkeypatch.setattr(cli, "_embedder", lambda settings: fake_embedder)
    (tmp_path / "lib").mkdir()
    code = cli.main(["ingest", str(tmp_path / "lib"), "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2 and "has no sessions" in err


def test_unwritable_data_dir_is_a_clear_error(tmp_path, monkeypatch, capsys, fake_embedder):
    monkeypatch.setattr(cli, "_embedder", lambda settings: fake_embedder)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    code = cli.main(["ingest", str(SAMPLE_LIBRARY), "--data-dir", str(blocker)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_filter_the_library_does_not_use_lists_the_valid_values(
    real_cli, sample_data_dir, capsys
):
    code = real_cli(["ask", "--grade", "1", "exit tickets", "--data-dir", str(sample_data_dir)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--grade '1' is not used in this library." in err
    assert "Grade 1 is in --grade K-2. Valid values for --grade: K-2, 3-5, 6-8, 9-12." in err
    assert real_cli(["ask", "--grade", "k-2", "exit tickets", "--data-dir", str(sample_data_dir)]) == 0

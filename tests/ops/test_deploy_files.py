"""The deployment files say what docs/deploy.md promises (no Docker engine is needed to check)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_migrates_before_serving_and_shares_the_index_volume() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    serve, migrate = services["staffroom"], services["migrate"]
    assert migrate["command"] == ["staffroom", "db", "upgrade"]
    assert serve["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert serve["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert (
        "index:/data" in serve["volumes"] and "index:/data" in services["reindex-watch"]["volumes"]
    )
    assert any(v.endswith(":/library:ro") for v in serve["volumes"])


def test_dockerfile_installs_cpu_torch_first_runs_as_a_user_and_checks_health() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    text = "\n".join(lines)
    assert lines[[i for i, line in enumerate(lines) if line.startswith("FROM")][0]] == (
        "FROM python:3.11-slim"
    )
    torch = text.index("download.pytorch.org/whl/cpu")
    assert torch < text.index("pip install .")
    assert "USER staffroom" in lines and "HEALTHCHECK" in text and "/healthz" in text
    assert lines[-1] == 'CMD ["staffroom", "serve"]'
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "tests", ".staffroom"} <= set(ignored)

"""The deployment files say what docs/deploy.md promises (no Docker engine is needed to check)."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import yaml

from tests.deploy.test_compose import container_env

ROOT = Path(__file__).resolve().parents[2]


def test_compose_migrates_before_serving_and_shares_the_index_volume() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    serve, migrate = services["staffroom"], services["migrate"]
    assert migrate["command"] == ["staffroom", "db", "upgrade"]
    assert serve["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert container_env(serve, {})["DATABASE_URL"].startswith("postgresql://")
    assert (
        "index:/data" in serve["volumes"] and "index:/data" in services["reindex-watch"]["volumes"]
    )
    assert any(v.endswith(":/library:ro") for v in serve["volumes"])


def _stages() -> list[list[str]]:
    """The Dockerfile's stages, each a list of logical lines (continuations joined)."""
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)
    stages: list[list[str]] = []
    for line in (raw.strip() for raw in logical.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_installs_cpu_torch_first_from_build_args_and_a_wheels_mount() -> None:
    build, final = _stages()
    assert build[0] == "FROM python:3.11-slim AS build"
    text = "\n".join(build)
    assert 'ARG TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"' in build
    assert 'ARG TORCH_REQ="torch==2.13.0"' in build
    (torch,) = [line for line in build if "$TORCH_REQ" in line]
    assert torch.startswith("RUN --mount=type=bind,source=wheels,target=/wheels")
    assert '--find-links /wheels $TORCH_PIP_ARGS "$TORCH_REQ"' in torch
    assert text.index("$TORCH_REQ") < text.index("pip install .")
    assert "pip uninstall --yes --quiet pip" in text


def test_dockerfile_final_stage_is_the_venv_and_a_user_with_a_healthcheck() -> None:
    _, final = _stages()
    assert final[0] == "FROM python:3.11-slim"
    copies = [line for line in final if line.startswith("COPY")]
    assert copies == ["COPY --from=build /opt/staffroom /opt/staffroom"]  # nothing else
    assert not [line for line in final if "pip " in line or "apt-get" in line]
    assert "USER staffroom" in final and any(
        line.startswith("HEALTHCHECK") and "/healthz" in line for line in final
    )
    assert final[-1] == 'CMD ["staffroom", "serve"]'


def test_dockerfile_copies_every_package_and_dockerignore_keeps_what_the_build_needs() -> None:
    build, _ = _stages()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    copied = {
        source.rstrip("/")
        for line in build
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    }
    assert {"pyproject.toml", "README.md", "staffroom_errors.py"} <= copied
    assert set(packages) <= copied, "a package pyproject.toml installs is not copied"
    needed = copied | {"wheels", "wheels/torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl"}
    ignored = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()]
    ignored = [p for p in ignored if p and not p.startswith("#")]
    assert {".venv", ".git", "tests", ".staffroom"} <= set(ignored)
    for path in needed:
        assert not any(fnmatch(path, pattern) for pattern in ignored), path
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    assert "wheels/*" in gitignore and "!wheels/README.md" in gitignore
    assert (ROOT / "wheels" / "README.md").is_file()  # the bind mount's source always exists

"""docker-compose.yml, read as compose would (no Docker needed): every setting reaches the app."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "staffroom", "reindex-watch")
# Container paths that compose fixes on purpose: the volumes are mounted there.
FIXED = {"STAFFROOM_DATA_DIR": "/data", "STAFFROOM_LIBRARY": "/library"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-((?:[^{}]|\{[^{}]*\})*))?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def documented_settings() -> list[str]:
    """The variables in README's configuration table (first column)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, flags=re.MULTILINE)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR-default}, defaults nested."""
    while True:
        match = _VAR.search(value)
        if match is None:
            return value
        name, default = match.group(1), match.group(2)
        got = env.get(name) or (interpolate(default, env) if default is not None else "")
        value = value[: match.start()] + got + value[match.end() :]


def container_env(service: dict[str, Any], dotenv: dict[str, str]) -> dict[str, str]:
    """What the container sees: env_file, then environment over it (compose's precedence)."""
    env: dict[str, str] = {}
    for entry in service.get("env_file", []):
        path = entry["path"] if isinstance(entry, dict) else entry
        assert path == ".env", "the settings come from the .env beside the compose file"
        env.update(dotenv)
    for name, value in (service.get("environment") or {}).items():
        env[name] = interpolate(str(value), dotenv)
    return env


def test_every_documented_setting_reaches_every_staffroom_container() -> None:
    names = documented_settings()
    assert len(names) > 40 and "SLACK_APP_TOKEN" in names and "STAFFROOM_PUBLIC_URL" in names
    dotenv = {name: f"value-of-{name}" for name in names}
    services = compose()["services"]
    for service in APP_SERVICES:
        env = container_env(services[service], dotenv)
        lost = {
            name: env.get(name) for name in names if env.get(name) != FIXED.get(name, dotenv[name])
        }
        assert not lost, f"{service}: these .env settings do not reach the container: {lost}"


def test_without_a_dot_env_the_defaults_point_at_the_bundled_postgres() -> None:
    services = compose()["services"]
    for entry in services["staffroom"]["env_file"]:
        assert entry == {"path": ".env", "required": False}  # a missing .env is fine
    env = container_env(services["staffroom"], {})
    assert env["DATABASE_URL"] == "postgresql://staffroom:staffroom@postgres:5432/staffroom"
    assert env["STAFFROOM_PORT"] == "3000" and env["STAFFROOM_LOG_FORMAT"] == "json"
    with_password = container_env(services["staffroom"], {"POSTGRES_PASSWORD": "s3cret"})
    assert with_password["DATABASE_URL"].startswith("postgresql://staffroom:s3cret@postgres")


def test_the_published_port_is_the_port_the_server_listens_on() -> None:
    serve = compose()["services"]["staffroom"]
    for dotenv in ({}, {"STAFFROOM_PORT": "8080"}):
        listens = container_env(serve, dotenv)["STAFFROOM_PORT"]
        (mapping,) = serve["ports"]
        host, container = interpolate(mapping, dotenv).split(":")
        assert container == listens == dotenv.get("STAFFROOM_PORT", "3000") == host


def test_staffroom_images_are_built_here_never_pulled() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if service.get("image", "").startswith("staffroom"):
            assert service.get("build") or service.get("pull_policy") in ("never", "build"), name
    assert {n for n, s in services.items() if s.get("image") == "staffroom:latest"} == set(
        APP_SERVICES
    )


def test_socket_mode_needs_nothing_but_the_app_token_in_dot_env() -> None:
    env = container_env(compose()["services"]["staffroom"], {"SLACK_APP_TOKEN": "xapp-1"})
    assert env["SLACK_APP_TOKEN"] == "xapp-1"
    assert compose()["services"]["staffroom"]["command"] == ["staffroom", "serve"]


def test_interpolation_reads_like_compose() -> None:
    assert interpolate("${A:-x}", {}) == "x" and interpolate("${A:-x}", {"A": "y"}) == "y"
    assert interpolate("a${B}c", {}) == "ac"
    assert interpolate("${A:-p${B:-q}r}", {"B": "z"}) == "pzr"

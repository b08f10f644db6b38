"""The Makefile installs the CPU build of torch first, from a source that works (dry runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TAG = f"cp{sys.version_info.major}{sys.version_info.minor}"
WHEEL = f"torch-2.13.0+cpu-{TAG}-{TAG}-manylinux_2_28_x86_64.whl"


def dry_run(tmp_path: Path, *overrides: str, find_links: Path | None = None) -> tuple[int, str]:
    """``make -n setup`` as on a fresh checkout, with pip's config limited to ``find_links``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "TORCH_", "MAKE"))}
    env.pop("MFLAGS", None)
    env["PIP_CONFIG_FILE"] = os.devnull  # pip's rule: no config files at all
    env["PIP_FIND_LINKS"] = str(find_links or "")
    result = subprocess.run(
        [
            "make",
            "-n",
            "-W",
            "pyproject.toml",
            "setup",
            f"VENV={tmp_path / 'venv'}",
            f"WHEELS={tmp_path / 'project-wheels'}",
            *overrides,
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def pip_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "/pip install" in line]


@pytest.fixture
def cpu_index() -> Iterator[str]:
    """A local stand-in for https://download.pytorch.org/whl/cpu (answers /torch/)."""

    class Index(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path.rstrip("/").endswith("/torch")
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(b"<a href='torch-2.13.0+cpu.whl'>torch</a>" if found else b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/whl/cpu"
    server.shutdown()


@pytest.fixture
def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/whl/cpu"  # nothing listens there any more


def test_a_local_cpu_wheel_pip_can_see_is_used_without_asking_any_index(
    tmp_path, closed_port_url
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / WHEEL.replace("x86_64", os.uname().machine)).write_bytes(b"")
    code, out = dry_run(tmp_path, f"TORCH_INDEX={closed_port_url}", find_links=wheels)
    assert code == 0, out
    torch, project = pip_lines(out)
    assert torch.endswith("pip install --quiet torch==2.13.0+cpu")
    assert project.endswith("pip install --quiet -e '.[dev]'")


def test_on_a_standard_machine_torch_comes_from_the_cpu_index(tmp_path, cpu_index) -> None:
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    code, out = dry_run(tmp_path, f"TORCH_INDEX={cpu_index}", find_links=empty)
    assert code == 0, out
    torch = pip_lines(out)[0]
    assert torch.endswith(f"pip install --quiet --index-url {cpu_index} torch==2.13.0")


def test_no_cpu_source_stops_with_a_reason_instead_of_pulling_the_cuda_build(
    tmp_path, closed_port_url
) -> None:
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    code, out = dry_run(tmp_path, f"TORCH_INDEX={closed_port_url}", find_links=empty)
    assert code != 0
    assert "no local torch-2.13.0+cpu wheel" in out and closed_port_url in out
    assert "TORCH_PIP_ARGS" in out and not pip_lines(out)


def test_a_wheel_in_the_projects_wheels_folder_is_found_too(tmp_path, closed_port_url) -> None:
    project = tmp_path / "project-wheels"
    project.mkdir()
    (project / WHEEL.replace("x86_64", os.uname().machine)).write_bytes(b"")
    code, out = dry_run(tmp_path, f"TORCH_INDEX={closed_port_url}", find_links=tmp_path)
    assert code == 0, out
    assert pip_lines(out)[0].endswith(f"--find-links {project} torch==2.13.0+cpu")


def test_the_dockerfile_build_args_override_the_choice(tmp_path) -> None:
    code, out = dry_run(
        tmp_path, "TORCH_PIP_ARGS=--index-url http://mirror.test/cpu", "TORCH_REQ=torch==2.13.0"
    )
    assert code == 0, out
    assert pip_lines(out)[0].endswith(
        "pip install --quiet --index-url http://mirror.test/cpu 'torch==2.13.0'"
    )


def test_a_venv_that_has_the_cpu_torch_already_asks_nothing(tmp_path, closed_port_url) -> None:
    (
        tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "torch-2.13.0+cpu.dist-info"
    ).mkdir(parents=True)
    code, out = dry_run(tmp_path, f"TORCH_INDEX={closed_port_url}", find_links=tmp_path / "none")
    assert code == 0, out
    assert pip_lines(out)[0].endswith("pip install --quiet torch==2.13.0+cpu")

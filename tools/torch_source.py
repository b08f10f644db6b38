"""Print the pip arguments that install the CPU build of torch (used by the Makefile).

    python3 tools/torch_source.py [--version V] [--index URL] [--timeout S] [--venv D] [--wheels D]

Prints e.g. ``torch==2.13.0+cpu`` or ``--index-url https://download.pytorch.org/whl/cpu
torch==2.13.0`` on one line. The choice, in order:

0. nothing to fetch: the ``--venv`` already has that CPU build installed;
1. a local ``torch-<version>+cpu`` wheel pip can already see (``PIP_FIND_LINKS``, the
   ``find-links`` of pip's config files) or one in this project's ``wheels/`` folder: no network;
2. PyTorch's CPU index, when it answers within ``--timeout`` seconds;
3. otherwise nothing is printed and the exit status is 1, with the reason on stderr: a plain
   ``pip install torch`` would pull PyPI's multi-GB CUDA build on Linux, so it is never the
   silent fallback.

Standard library only: it runs with the system Python, before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import configparser
import os
import platform
import shlex
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def pip_config_files() -> list[Path]:
    """pip's config files, in pip's order (later ones win; we only collect, so order is moot)."""
    env = os.environ.get("PIP_CONFIG_FILE")
    if env == os.devnull:  # pip's own rule: no config files at all
        return []
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    home = Path.home()
    xdg_home = Path(os.environ.get("XDG_CONFIG_HOME", home / ".config"))
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d]
    files += [Path("/etc/pip.conf"), home / ".pip" / "pip.conf", xdg_home / "pip" / "pip.conf"]
    if env:
        files.append(Path(env))
    return files


def find_links() -> list[str]:
    """Every find-links location pip would use: the environment, then its config files."""
    links = os.environ.get("PIP_FIND_LINKS", "").split()
    for path in pip_config_files():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            links += parser.get(section, "find-links", fallback="").split()
    return links


def local_wheel(version: str, dirs: list[str]) -> Path | None:
    """A ``torch-<version>+cpu`` wheel for this Python and machine in one of ``dirs``."""
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")
    for d in dirs:
        d = d.removeprefix("file://")
        if "://" in d or not Path(d).is_dir():
            continue  # remote find-links are pip's business, and may be slow
        for wheel in sorted(Path(d).glob(f"torch-{version}+cpu-{tag}-*.whl")):
            if machine in wheel.name.lower():
                return wheel
    return None


def index_answers(index: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(index.rstrip("/") + "/torch/", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def installed(version: str, venv: Path) -> bool:
    """The venv already has this CPU torch (pip will not fetch anything for it)."""
    return any(venv.glob(f"lib/python3*/site-packages/torch-{version}+cpu.dist-info"))


def choose(
    version: str,
    index: str,
    timeout: float,
    venv: Path | None = None,
    wheels: Path = ROOT / "wheels",
) -> str | None:
    """The pip arguments for the CPU torch, or None when no CPU source is reachable."""
    if venv is not None and installed(version, venv):
        return f"torch=={version}+cpu"
    visible = local_wheel(version, find_links())
    if visible is not None:
        return f"torch=={version}+cpu"  # pip finds it through its own find-links
    project = local_wheel(version, [str(wheels)])
    if project is not None:
        return f"--find-links {shlex.quote(str(project.parent))} torch=={version}+cpu"
    if index_answers(index, timeout):
        return f"--index-url {index} torch=={version}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="2.13.0")
    parser.add_argument("--index", default=CPU_INDEX)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--venv", type=Path, help="skip the search if this venv has it already")
    parser.add_argument("--wheels", type=Path, default=ROOT / "wheels", help="a wheel folder")
    args = parser.parse_args(argv)
    chosen = choose(args.version, args.index, args.timeout, args.venv, args.wheels)
    if chosen is None:
        print(
            f"torch {args.version} (CPU build): no local torch-{args.version}+cpu wheel that pip "
            f"can see, and {args.index} did not answer within {args.timeout:g}s.\n"
            f"  Put the wheel in wheels/ (or pip's find-links), or choose the source yourself:\n"
            f"  make setup TORCH_PIP_ARGS='--index-url URL' (TORCH_PIP_ARGS= uses pip's own "
            f"index: on Linux PyPI's torch is the multi-GB CUDA build).",
            file=sys.stderr,
        )
        return 1
    print(chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())

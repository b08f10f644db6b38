"""The kept index versions: which library the live one came from, listing them, rolling back.

check_library(library, live, present)   refuse to silently swap the whole library
partial_problems(index_dir)             the live index's files that were read only in part
list_versions(index_dir) -> [Version]   every kept version, oldest first
rollback(index_dir, version=None)       make a kept version live again (default: the one
                                        before the live one), under the build lock
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.lock import build_lock
from retrieval.snapshot import IndexRoot, Snapshot
from staffroom_errors import IndexError_, LibraryError

_NUMBER = re.compile(r"^v?0*(\d+)$")


def check_library(library: Path, live: Snapshot, present: Collection[str]) -> None:
    """`LibraryError` when ``library`` is not the folder the live index was built from.

    Ingesting another folder would replace the whole live library; that takes ``--replace``.
    ``present``: the files (relative paths) found in ``library``.
    """
    built_from = str(live.info.get("library") or "")
    given = os.fspath(Path(library).resolve())
    if not built_from or built_from == given:
        return
    removed = sum(1 for rel in live.files if rel not in present)
    raise LibraryError(
        f"The live index ({live.version}) was built from {built_from}, not {given}. "
        f"Ingesting {given} would remove {removed} of the live index's {len(live.files)} files "
        "and make it the whole library.",
        hint=(
            f"`staffroom ingest {given} --replace` does that on purpose (`staffroom index "
            f"rollback` undoes it); to update the live library, ingest {built_from} instead."
        ),
    )


def partial_problems(index_dir: Path) -> list[tuple[str, str]]:
    """(file, what was skipped) for the live index's files indexed in part; [] when none."""
    try:
        current = IndexRoot(index_dir).current()
        if current is None:
            return []
        info = json.loads((current / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, IndexError_):
        return []
    pairs = info.get("partial") or []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


@dataclass(frozen=True)
class Version:
    """One kept index version, as `staffroom index list` shows it."""

    name: str
    built_at: str = ""
    files: int = 0
    sessions: int = 0
    chunks: int = 0
    library: str = ""
    model: str = ""
    live: bool = False
    problem: str = ""  # why it cannot be made live ("" when it can)

    @property
    def number(self) -> int:
        return int(self.name[1:].split("-", 1)[0])


def list_versions(index_dir: Path) -> list[Version]:
    """Every kept version, oldest first, with its counts (read from its small files only)."""
    root = IndexRoot(index_dir)
    live = root.current_version()
    return [_describe(root.path / name, live) for name in root.versions()]


def _describe(path: Path, live: str | None) -> Version:
    try:
        info: dict[str, Any] = json.loads((path / "info.json").read_text(encoding="utf-8"))
        files = json.loads((path / "files.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        reason = "incomplete" if isinstance(err, FileNotFoundError) else "unreadable"
        return Version(path.name, live=path.name == live, problem=reason)
    meta = info.get("snapshot") or {}
    return Version(
        name=path.name,
        built_at=str(meta.get("written_at", "")),
        files=len(files) if isinstance(files, dict) else 0,
        sessions=int(meta.get("sessions", 0)),
        chunks=int(meta.get("chunks", 0)),
        library=str(info.get("library", "")),
        model=str(info.get("model", "")),
        live=path.name == live,
    )


@dataclass(frozen=True)
class Rollback:
    """What a rollback did: ``before`` was live, ``after`` is now (equal when nothing changed)."""

    before: str | None
    after: Version

    @property
    def changed(self) -> bool:
        return self.before != self.after.name


def rollback(index_dir: Path, version: str | None = None, *, model: str = "") -> Rollback:
    """Make a kept version live again (default: the newest one older than the live one).

    ``version`` may be a full name or just its number (``3``, ``v3``). The target is loaded first,
    so a damaged version is refused, as is one built with another model than ``model`` (when
    given). Takes the build lock without waiting: never in the middle of an ingest.
    """
    index_dir = Path(index_dir)
    if not IndexRoot(index_dir).versions():
        raise IndexError_(f"No index in {index_dir}.", hint="Run `staffroom ingest PATH` first.")
    with build_lock(index_dir, wait=False):
        versions = list_versions(index_dir)
        before = next((v.name for v in versions if v.live), None)
        target = _pick(versions, version, before)
        if target.name == before:
            return Rollback(before, target)
        if target.problem:
            raise IndexError_(
                f"Index version {target.name} is {target.problem}; it cannot be live."
            )
        if model and target.model and target.model != model:
            raise IndexError_(
                f"Index version {target.name} was built with the model {target.model!r}, "
                f"but Staffroom now uses {model!r}.",
                hint="Pick a version built with the current model (`staffroom index list`).",
            )
        Snapshot.load(index_dir / target.name)  # whole and readable, or IndexError_ says why
        IndexRoot(index_dir).rollback(target.name)
        return Rollback(before, Version(**{**target.__dict__, "live": True}))


def _pick(versions: Sequence[Version], wanted: str | None, live: str | None) -> Version:
    kept = ", ".join(v.name for v in versions)
    if wanted is None:
        now = next((v for v in versions if v.live), None)
        older = [v for v in versions if now is None or v.number < now.number]
        if not older:
            raise IndexError_(
                f"There is no version older than the live one ({live}) to roll back to.",
                hint=f"Kept versions: {kept}. Name one: `staffroom index rollback VERSION`.",
            )
        return older[-1]
    wanted = wanted.strip()
    number = _NUMBER.match(wanted)
    for v in versions:
        if v.name == wanted or (number and v.number == int(number.group(1))):
            return v
    raise IndexError_(
        f"There is no index version {wanted!r}. Kept versions: {kept}.",
        hint="`staffroom index list` shows them.",
    )

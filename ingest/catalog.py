"""Session metadata: ``catalog.yaml`` at the library root, Markdown front matter, and fallbacks.

A file that no session lists becomes a session of its own: its id is the file's relative path
without its suffix (``t3/intro`` for ``t3/intro.md``) and its title is its first heading, its
document title, or its file name made readable.

Published field ideas (``staffroom ideas publish``) live in managed folders,
``field-ideas/<folder>/``, each with its own ``catalog.yaml`` whose file paths are relative to
that folder; they are read with the library's catalog, so a folder and its entry appear (and
disappear) together.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from retrieval.types import SessionMeta
from staffroom_errors import LibraryError, LoaderError

CATALOG_NAMES = ("catalog.yaml", "catalog.yml")
MANAGED_DIR = "field-ideas"  # published field ideas: one folder each, with its own catalog.yaml
_LIST_FIELDS = ("grade_bands", "subjects", "tags")
_TEXT_FIELDS = ("title", "presenter", "date", "url", "summary")
# Front matter and catalog keys -> SessionMeta fields.
_FIELD_NAMES = {f.name for f in fields(SessionMeta)}
_ALIASES = {"recording_url": "url", "url": "url", "recording": "url", "speaker": "presenter"}


@dataclass(frozen=True)
class Catalog:
    """The catalog's sessions and which session each listed file belongs to."""

    sessions: Mapping[str, SessionMeta] = field(default_factory=dict)
    file_sessions: Mapping[str, str] = field(default_factory=dict)  # relative POSIX path -> id
    path: str = ""  # the catalog's file name, "" when the library has none
    untitled: frozenset[str] = frozenset()  # listed sessions that take their files' title


@dataclass(frozen=True)
class FileHints:
    """What one parsed file says about its session (kept in the manifest between builds)."""

    title: str = ""
    front_matter: Mapping[str, Any] = field(default_factory=dict)


def load_catalog(library: Path) -> Catalog:
    """Read the library's catalog (with the managed field-idea folders'); empty when none."""
    for name in CATALOG_NAMES:
        path = library / name
        if path.is_file():
            catalog = _parse_catalog(_read_yaml(path, name), name)
            break
    else:
        catalog = Catalog()
    return _with_managed(catalog, library)


def _read_yaml(path: Path, name: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as err:
        raise LibraryError(f"Cannot read {name}: {err}.") from err
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise LibraryError(
            f"{name} is not valid YAML{at}.", hint="Check indentation and quotes there."
        ) from err


def _with_managed(catalog: Catalog, library: Path) -> Catalog:
    """``catalog`` plus each ``field-ideas/<folder>/catalog.yaml`` (hidden folders skipped)."""
    root = library / MANAGED_DIR
    if not root.is_dir():
        return catalog
    sessions, files = dict(catalog.sessions), dict(catalog.file_sessions)
    untitled = set(catalog.untitled)
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        name = f"{MANAGED_DIR}/{folder.name}/{CATALOG_NAMES[0]}"
        if not (folder / CATALOG_NAMES[0]).is_file():
            continue
        part = _parse_catalog(_read_yaml(folder / CATALOG_NAMES[0], name), name)
        for sid, meta in part.sessions.items():
            if sid in sessions:
                raise LibraryError(f"{name}: the session id {sid!r} is used twice.")
            sessions[sid] = meta
        untitled |= part.untitled
        for rel, sid in part.file_sessions.items():
            files[f"{MANAGED_DIR}/{folder.name}/{rel}"] = sid
    return Catalog(sessions, files, catalog.path, frozenset(untitled))


def _parse_catalog(raw: Any, name: str) -> Catalog:
    if raw is None:
        return Catalog(path=name)
    if not isinstance(raw, dict):
        raise LibraryError(f"{name} must be a mapping with a 'sessions:' list.")
    entries = raw.get("sessions") or []
    if not isinstance(entries, list):
        raise LibraryError(f"{name}: 'sessions' must be a list of sessions.")
    sessions: dict[str, SessionMeta] = {}
    file_sessions: dict[str, str] = {}
    untitled: set[str] = set()
    for number, entry in enumerate(entries, 1):
        where = f"{name}, session {number}"
        if not isinstance(entry, dict):
            raise LibraryError(f"{where}: each session must be a mapping (id: ..., title: ...).")
        sid = entry.get("id")
        if not isinstance(sid, str | int) or isinstance(sid, bool) or not str(sid).strip():
            raise LibraryError(f"{where}: every session needs an 'id' (a short name).")
        sid = str(sid).strip()
        if sid in sessions:
            raise LibraryError(f"{name}: the session id {sid!r} is used twice.")
        sessions[sid] = session_meta(sid, entry, where=f"{name}, session {sid!r}")
        if not entry.get("title"):
            untitled.add(sid)
        files = entry.get("files") or []
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise LibraryError(f"{name}, session {sid!r}: 'files' must be a list of paths.")
        for file in files:
            rel = normalise_path(file)
            if rel in file_sessions and file_sessions[rel] != sid:
                raise LibraryError(
                    f"{name}: {rel} is listed in both {file_sessions[rel]!r} and {sid!r}."
                )
            file_sessions[rel] = sid
    return Catalog(sessions, file_sessions, name, frozenset(untitled))


def normalise_path(path: str) -> str:
    """A catalog path as the scanner spells it: relative, POSIX, no ``./``."""
    return PurePosixPath(path.strip().replace("\\", "/")).as_posix().lstrip("/").removeprefix("./")


def session_meta(sid: str, data: Mapping[str, Any], *, where: str) -> SessionMeta:
    """SessionMeta from catalog or front-matter keys; LibraryError on wrong types."""
    values: dict[str, Any] = {"session_id": sid}
    for key, value in data.items():
        target = _ALIASES.get(key, key)
        if value is None or target in values:
            continue
        if target in _TEXT_FIELDS:
            values[target] = _text(value, f"{where}: '{key}'")
        elif target in _LIST_FIELDS:
            values[target] = _strings(value, f"{where}: '{key}'")
    values.setdefault("title", readable(sid))
    return SessionMeta(**values)


def check_front_matter(front: Mapping[str, Any], rel: str) -> None:
    """LoaderError when a file's front matter has values of the wrong type."""
    try:
        session_meta("-", front, where=f"{rel} front matter")
    except LibraryError as err:
        raise LoaderError(err.message) from err


def _text(value: Any, what: str) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return " ".join(str(value).split())
    raise LibraryError(f"{what} must be text, not a {type(value).__name__}.")


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str | int | float) else value
    if not isinstance(items, list | tuple):
        raise LibraryError(f"{what} must be a list like [6-8, 9-12].")
    return tuple(_text(v, what) for v in items if v is not None and str(v).strip())


def readable(name: str) -> str:
    """A file or id made readable: ``t3/intro_to-git`` -> ``Intro to git``."""
    stem = PurePosixPath(name).name
    words = re.sub(r"[_\-.]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else name


def own_session_id(rel: str) -> str:
    """The session id of a file no session lists: its relative path without the suffix."""
    path = PurePosixPath(rel)
    return path.with_suffix("").as_posix() if path.suffix else rel


def resolve_sessions(
    catalog: Catalog, hints: Mapping[str, FileHints]
) -> tuple[dict[str, str], dict[str, SessionMeta], list[str]]:
    """Map every file to a session and build each session's metadata.

    Catalog values win; front matter fills what the catalog leaves empty, and fully describes
    sessions the catalog does not know. Returns (file -> session id, sessions, warnings).
    """
    file_session: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    warnings: list[str] = []
    for rel in sorted(hints):
        front = hints[rel].front_matter
        named = front.get("session", front.get("session_id"))
        sid = catalog.file_sessions.get(rel)
        if sid is None and isinstance(named, str | int) and str(named).strip():
            sid = str(named).strip()
        sid = sid or own_session_id(rel)
        file_session[rel] = sid
        members.setdefault(sid, []).append(rel)
    sessions: dict[str, SessionMeta] = {}
    for sid, rels in members.items():
        titled = sid not in catalog.untitled
        files = [(r, hints[r]) for r in rels]
        sessions[sid] = _merge(sid, catalog.sessions.get(sid), titled, files)
    for rel, sid in sorted(catalog.file_sessions.items()):
        if rel not in hints:
            warnings.append(
                f"{catalog.path} lists {rel} (session {sid!r}) but it was not ingested."
            )
    return file_session, sessions, warnings


def _merge(
    sid: str, listed: SessionMeta | None, titled: bool, files: Sequence[tuple[str, FileHints]]
) -> SessionMeta:
    """One session's metadata from its catalog entry (if any) and its files' hints."""
    if listed is not None:
        values = {f.name: getattr(listed, f.name) for f in fields(SessionMeta)}
    else:
        values = {"session_id": sid, "title": ""}
    if not titled:
        values["title"] = ""
    for rel, hint in files:
        front = {k: v for k, v in hint.front_matter.items() if k not in ("session", "session_id")}
        if not front:
            continue
        extra = session_meta(sid, front, where=rel)
        for name in sorted(_front_keys(front) & _FIELD_NAMES - {"session_id"}):
            if not values.get(name):
                values[name] = getattr(extra, name)
    if not values.get("title"):
        titles = [hint.title for _, hint in files if hint.title]
        values["title"] = titles[0] if titles else readable(own_session_id(files[0][0]))
    return SessionMeta(**values)


def _front_keys(front: Mapping[str, Any]) -> set[str]:
    return {_ALIASES.get(k, k) for k in front}

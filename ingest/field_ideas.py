"""Published field ideas: one managed library folder per idea, written atomically.

    field-ideas/idea-12-exit-tickets-on-sticky-notes/
        catalog.yaml     the session's catalog entry (paths relative to this folder)
        about.md         the practice in the author's words, and where it came from
        recording.vtt    the transcript, when one was given (its own suffix kept)
        handout.pdf      the handout, when one was given

``check_files`` refuses a file that the library could not index before anything is written.
``write_folder`` builds the whole folder under a hidden temporary name (the scanner and the
catalog skip hidden folders) and moves it into place with renames; the folder it replaces is
kept aside until ``Written.commit`` (after the re-index succeeded) or put back by
``Written.rollback``. A crash leaves at most a hidden folder behind, never half a session.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.catalog import CATALOG_NAMES, MANAGED_DIR
from ingest.loaders import SUPPORTED_SUFFIXES, load
from staffroom_errors import InputError, LibraryError, LoaderError

TRANSCRIPT_SUFFIXES = (".vtt", ".srt", ".txt", ".md")
MAX_FILE_BYTES = 50 * 1024 * 1024
SLUG_CHARS = 48


@dataclass(frozen=True)
class FieldSession:
    """What a published idea's folder holds (text is the idea's, written as given)."""

    idea_id: int
    title: str
    url: str
    about: str  # Markdown: the practice and its provenance
    presenter: str = ""
    date: str = ""  # ISO date
    grade_bands: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)
    transcript: Path | None = None
    handout: Path | None = None

    @property
    def session_id(self) -> str:
        return session_id(self.idea_id)


def session_id(idea_id: int) -> str:
    """The library session id of a published idea."""
    return f"field-idea-{idea_id}"


def slug(text: str) -> str:
    """``Exit tickets, on sticky notes!`` -> ``exit-tickets-on-sticky-notes`` (ASCII, short)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:SLUG_CHARS].rstrip("-") or "idea"


def folder_name(idea_id: int, title: str) -> str:
    return f"idea-{idea_id}-{slug(title)}"


def check_files(transcript: Path | None, handout: Path | None) -> None:
    """InputError with a reason a person can act on when a file could not join the library."""
    for label, path, suffixes in (
        ("transcript", transcript, TRANSCRIPT_SUFFIXES),
        ("handout", handout, SUPPORTED_SUFFIXES),
    ):
        if path is not None:
            _check_file(label, path, suffixes)


def _check_file(label: str, path: Path, suffixes: Sequence[str]) -> None:
    shown = ", ".join(s for s in suffixes if s not in (".markdown", ".htm"))
    if not path.is_file():
        raise InputError(f"The {label} {path} is not a file I can find.")
    if path.suffix.lower() not in suffixes:
        raise InputError(
            f"The {label} {path.name} is a {path.suffix or 'file without a suffix'}; "
            f"a {label} must be one of {shown}."
        )
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InputError(f"The {label} {path.name} cannot be read ({err.strerror}).") from err
    if size > MAX_FILE_BYTES:
        raise InputError(f"The {label} {path.name} is over {MAX_FILE_BYTES // 2**20} MB.")
    try:
        parsed = load(path)
    except (LoaderError, OSError) as err:
        reason = err.message if isinstance(err, LoaderError) else str(err)
        raise InputError(f"The {label} {path.name} can't be read: {reason}") from err
    if not (parsed.cues or parsed.blocks):
        raise InputError(f"The {label} {path.name} has no text to index.")
    if parsed.problems:  # the library would index it only in part
        raise InputError(
            f"The {label} {path.name} is partly broken: {'; '.join(parsed.problems)}.",
            hint="Fix it and publish again.",
        )


@dataclass
class Written:
    """A folder moved into place; ``commit`` drops what it replaced, ``rollback`` restores it."""

    folder: Path
    aside: list[tuple[Path, Path]]  # (hidden copy, original place) of each replaced version
    done: bool = False

    @property
    def rel(self) -> str:
        return f"{MANAGED_DIR}/{self.folder.name}"

    @property
    def replaced(self) -> bool:
        return bool(self.aside)

    def commit(self) -> None:
        if not self.done:
            for hidden, _ in self.aside:
                shutil.rmtree(hidden, ignore_errors=True)
        self.done = True

    def rollback(self) -> None:
        """Put the library back as it was before ``write_folder``."""
        if self.done:
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        _restore(self.aside)
        self.done = True


def _restore(aside: Sequence[tuple[Path, Path]]) -> None:
    for hidden, original in aside:
        if not original.exists():
            hidden.rename(original)


def existing_folders(library: Path, idea_id: int) -> list[Path]:
    """The published folder(s) of ``idea_id`` (its title, hence its name, may have changed)."""
    root = library / MANAGED_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob(f"idea-{idea_id}-*") if p.is_dir())


def write_folder(library: Path, session: FieldSession) -> Written:
    """Write ``session``'s folder next to its final place, then move it in (see the docstring)."""
    root = library / MANAGED_DIR
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".idea-{session.idea_id}.new-", dir=root))
    except OSError as err:
        raise LibraryError(
            f"Cannot write into the library at {root} ({err.strerror or err}).",
            hint="Check STAFFROOM_LIBRARY and its permissions.",
        ) from err
    try:
        files = _fill(staging, session)
        _write_catalog(staging, session, files)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    final = root / folder_name(session.idea_id, session.title)
    aside: list[tuple[Path, Path]] = []
    try:
        for n, previous in enumerate(existing_folders(library, session.idea_id)):
            hidden = root / f".{previous.name}.old-{n}"
            shutil.rmtree(hidden, ignore_errors=True)
            previous.rename(hidden)
            aside.append((hidden, previous))
        staging.rename(final)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        _restore(aside)
        raise LibraryError(f"Cannot move the published folder into place ({err}).") from err
    return Written(final, aside)


def _fill(folder: Path, session: FieldSession) -> list[str]:
    files = ["about.md"]
    (folder / "about.md").write_text(session.about, encoding="utf-8")
    for stem, path in (("recording", session.transcript), ("handout", session.handout)):
        if path is not None:
            name = f"{stem}{path.suffix.lower()}"
            shutil.copyfile(path, folder / name)
            files.append(name)
    return files


def _write_catalog(folder: Path, session: FieldSession, files: list[str]) -> None:
    entry: dict[str, Any] = {
        "id": session.session_id,
        "title": session.title,
        "presenter": session.presenter,
        "date": session.date,
        "recording_url": session.url,
        "grade_bands": list(session.grade_bands),
        "subjects": list(session.subjects),
        "tags": list(session.tags),
        "summary": session.summary,
        "files": files,
        "provenance": dict(session.provenance),
    }
    text = (
        "# Written by `staffroom ideas publish`: publish the idea again to change it.\n"
        + yaml.safe_dump({"sessions": [entry]}, allow_unicode=True, sort_keys=False)
    )
    (folder / CATALOG_NAMES[0]).write_text(text, encoding="utf-8")

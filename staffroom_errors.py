"""Staffroom's one error tree.

Every package raises these; the conversation core (and the CLI) turn them into friendly,
one-line text in exactly one place. Anything else that escapes is a bug: it is logged with its
traceback and the user gets a polite "try again".

    StaffroomError                 base: carries a user-facing message
    ├── ConfigError                settings that cannot work (missing path, bad URL, ...)
    ├── LibraryError               the session library: missing path, empty library, bad catalog
    │   └── LoaderError            one file could not be parsed (reported and skipped)
    ├── IndexError_                no index yet, unreadable or corrupt index directory
    ├── RetrievalError             embedding or search failed at query time
    ├── StoreError                 the database could not be reached or written
    │   └── DatabaseUnavailable    it did not answer (down, restarting): worth a retry
    ├── IdeaError                  the idea queue refused an action
    │   ├── TransitionError        a status change that is not allowed (or lost a race)
    │   └── PermissionDenied       the user may not do this (not staff, not admin)
    └── InputError                 the user's input is unusable (empty, too long, malformed)
"""

from __future__ import annotations


class StaffroomError(Exception):
    """Base of all expected errors; ``str(err)`` is safe to show a user."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_text(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class ConfigError(StaffroomError):
    """Settings that cannot work."""


class LibraryError(StaffroomError):
    """The session library cannot be read as a whole."""


class LoaderError(LibraryError):
    """One library file could not be parsed."""


class IndexError_(StaffroomError):  # noqa: N801 - trailing underscore avoids the builtin
    """No usable index: never built, unreadable or corrupt."""


class RetrievalError(StaffroomError):
    """Embedding or search failed at query time."""


class StoreError(StaffroomError):
    """The database could not be reached or written."""


class DatabaseUnavailable(StoreError):
    """The database did not answer (down, restarting, or too busy): worth trying again soon."""


class IdeaError(StaffroomError):
    """The idea queue refused an action."""


class TransitionError(IdeaError):
    """A status change that is not allowed, or that another reviewer made first."""


class PermissionDenied(IdeaError):
    """The user may not perform this action."""


class InputError(StaffroomError):
    """The user's input is unusable."""

"""What `staffroom serve` turns on at start-up, and why; its first index on a fresh data dir.

``surfaces`` decides from settings alone which chat surfaces run (Slack over HTTP, Slack Socket
Mode, Teams) and gives the reason for each, so the log says exactly what is listening.
``FirstIndex`` builds the configured library in the background when no index exists yet, under
the same database lock as every other re-index, and tells ``/readyz`` how far it got.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.reindex import job

if TYPE_CHECKING:
    from bot.settings import Settings
    from retrieval.embedder import Embedder
    from store import Database

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

# Third-party loggers that narrate their own start-up at INFO (migrations, "Loading faiss",
# model loading, every HTTP request): quiet unless STAFFROOM_LOG_LEVEL=DEBUG.
NOISY_LOGGERS = (
    "alembic",
    "faiss",
    "sentence_transformers",
    "transformers",
    "huggingface_hub",
    "httpx",
    "httpcore",
    "urllib3",
    "filelock",
    "openai",
    "msal",
    "botbuilder",
    "slack_bolt",
    "slack_sdk",
    "asyncio",
    "aiohttp.access",
    "bm25s",
)


def quiet_third_party_logs(level: str) -> None:
    """Raise the noisy libraries to WARNING, unless the operator asked for DEBUG."""
    if level.strip().upper() == "DEBUG":
        return
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class Surface:
    """One way people reach Staffroom: on or off, and the reason in words."""

    name: str  # "Slack HTTP", "Slack Socket Mode", "Teams"
    where: str  # "POST /slack/events", "a WebSocket to Slack", "POST /api/messages"
    on: bool
    why: str

    def line(self) -> str:
        state = f"on ({self.where})" if self.on else "off"
        return f"{self.name} is {state}: {self.why}"


@dataclass(frozen=True)
class Surfaces:
    slack_http: Surface
    socket_mode: Surface
    teams: Surface

    def all(self) -> tuple[Surface, ...]:
        return (self.slack_http, self.socket_mode, self.teams)

    @property
    def any_on(self) -> bool:
        return any(s.on for s in self.all())


def surfaces(settings: Settings) -> Surfaces:
    """Which chat surfaces `serve` runs with ``settings``, each with its reason."""
    token = bool(settings.slack_bot_token.strip())
    secret = bool(settings.slack_signing_secret.strip())
    app_token = bool(settings.slack_app_token.strip())
    if not token:
        http_why = "SLACK_BOT_TOKEN is not set"
    elif not secret:
        http_why = "SLACK_SIGNING_SECRET is not set"
    else:
        http_why = "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set"
    if not app_token:
        socket_why = "SLACK_APP_TOKEN is not set"
    elif not token:
        socket_why = "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not"
    else:
        socket_why = "SLACK_APP_TOKEN and SLACK_BOT_TOKEN are set"
    return Surfaces(
        slack_http=Surface("Slack HTTP", "POST /slack/events", token and secret, http_why),
        socket_mode=Surface(
            "Slack Socket Mode", "a WebSocket to Slack", token and app_token, socket_why
        ),
        teams=_teams(settings),
    )


def _teams(settings: Settings) -> Surface:
    mode = settings.teams.strip().lower()
    app_id = bool(settings.microsoft_app_id.strip())
    where = "POST /api/messages"
    if mode == "off":
        return Surface("Teams", where, False, "STAFFROOM_TEAMS=off")
    if mode == "on":
        auth = "" if app_id else ", WITHOUT authentication (MICROSOFT_APP_ID is not set)"
        return Surface("Teams", where, True, f"STAFFROOM_TEAMS=on{auth}")
    if app_id:
        return Surface("Teams", where, True, "MICROSOFT_APP_ID is set")
    if settings.host in LOCAL_HOSTS:
        return Surface(
            "Teams",
            where,
            True,
            f"no MICROSOFT_APP_ID, so WITHOUT authentication, for the Bot Framework Emulator: "
            f"only because STAFFROOM_HOST is {settings.host}",
        )
    return Surface("Teams", where, False, "MICROSOFT_APP_ID is not set")


def log_surfaces(found: Surfaces) -> None:
    for surface in found.all():
        log.info("%s", surface.line())
    if not found.any_on:
        log.warning(
            "No chat surface is on: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (or "
            "SLACK_APP_TOKEN for Socket Mode), or MICROSOFT_APP_ID for Teams"
        )


# --- the first index of a fresh data dir -------------------------------------------------------


@dataclass
class FirstIndex:
    """Builds the library once when the data dir has no index; ``/readyz`` reads ``problem``."""

    library: Path
    index_dir: Path
    # idle, pending (about to claim the lock), waiting (another process builds), running,
    # done, failed
    state: str = "idle"
    error: str = ""
    tracker: job.Tracker = field(default_factory=job.Tracker)

    def needed(self) -> bool:
        """No index is published yet and the library has files to build one from."""
        from retrieval.snapshot import IndexRoot

        if IndexRoot(self.index_dir).current() is not None:
            return False
        if self.library.is_dir() and any(p.is_file() for p in self.library.rglob("*")):
            if self.state == "idle":
                self.state = "pending"
            return True
        log.warning(
            "no index yet, and the library %s has no files: add sessions there and run "
            "`staffroom reindex` (or `/pd reindex`); /readyz answers 503 until then",
            self.library,
        )
        return False

    def problem(self) -> str | None:
        """What ``/readyz`` says about the index while this runs (None: nothing to add)."""
        if self.state == "pending":
            return f"index: none yet; starting the first index of {self.library}"
        if self.state == "running":
            return f"index: indexing {self.tracker.percent}% (first index of {self.library})"
        if self.state == "waiting":
            return "index: another process is building the first index"
        if self.state == "failed":
            return f"index: the first index of {self.library} failed: {self.error}"
        return None

    async def run(self, database: Database, embedder: Embedder) -> None:
        """Build now if nothing is published and the library has files (never raises)."""
        try:
            await asyncio.to_thread(self._run, database, embedder)
        except Exception as err:  # the server keeps running; /readyz and the log say why
            self.state, self.error = "failed", str(err) or type(err).__name__
            log.exception("the first index of %s failed", self.library)

    def _run(self, database: Database, embedder: Embedder) -> None:
        if not self.needed():
            self.state = "idle"
            return
        held = job.claim(database, job.replica_id(), "staffroom serve (first index)", "serve")
        if isinstance(held, job.Busy):
            self.state = "waiting"
            log.info("no index yet; %s is building one", held.started_by)
            return
        self.state = "running"
        log.info("no index yet: indexing %s in the background", self.library)
        outcome = job.execute(database, held, self.library, self.index_dir, embedder, self.tracker)
        if outcome.ok:
            self.state = "done"
            log.info("first index: %s", job.outcome_text(outcome).splitlines()[0])
        else:
            self.state, self.error = "failed", outcome.error
            log.error("the first index of %s failed: %s", self.library, outcome.error)

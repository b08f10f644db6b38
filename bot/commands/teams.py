"""``staffroom teams-package``: the Teams app package (manifest and icons) to upload."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.commands import settings_from


def add(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "teams-package",
        parents=[common],
        help="build the Teams app package (manifest and icons) to upload",
    )
    p.add_argument("--output", "-o", default="staffroom-teams.zip", help="the zip to write")
    p.add_argument("--version", help="the app version Teams sees (default: Staffroom's own)")
    p.set_defaults(func=cmd_teams_package)


def cmd_teams_package(args: argparse.Namespace) -> int:
    from bot.teams_package import write_package

    output = Path(args.output)
    manifest = write_package(settings_from(args), output, version=args.version)
    developer = manifest["developer"]
    print(
        f"wrote {output}: {manifest['name']['short']} {manifest['version']} for "
        f"{', '.join(manifest['validDomains'])} (app id {manifest['id']})\n"
        f"  developer {developer['name']!r}, privacy {developer['privacyUrl']}, "
        f"terms {developer['termsOfUseUrl']}\n"
        "  Upload it in Teams: Apps > Manage your apps > Upload an app > Upload a custom app."
    )
    return 0

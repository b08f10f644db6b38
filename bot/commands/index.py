"""``staffroom index list`` and ``staffroom index rollback [VERSION]``: the kept index versions.

A rollback is the same one-file pointer swap as a publish: a running server notices it on its
next search (it re-reads the CURRENT pointer) and loads that version, with no restart.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.commands import settings_from


def add(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "index", parents=[common], help="list the kept index versions, or roll back to one"
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = actions.add_parser("list", parents=[common], help="kept versions, newest last")
    q.set_defaults(func=cmd_list)
    q = actions.add_parser(
        "rollback",
        parents=[common],
        help="make an earlier version live again (default: the one before the live one)",
    )
    q.add_argument("version", nargs="?", help="a version name or number from `index list`")
    q.set_defaults(func=cmd_rollback)


def cmd_list(args: argparse.Namespace) -> int:
    from ingest.versions import list_versions
    from staffroom_errors import IndexError_

    settings = settings_from(args)
    versions = list_versions(settings.index_dir)
    if not versions:
        raise IndexError_(
            f"No index in {settings.index_dir}.", hint="Run `staffroom ingest PATH` first."
        )
    print(
        f"{'':2}{'VERSION':<26}{'BUILT (UTC)':<21}{'FILES':>6}{'SESSIONS':>9}{'CHUNKS':>8}  LIBRARY"
    )
    for v in versions:
        mark = "* " if v.live else "  "
        built = v.built_at.replace("T", " ").removesuffix("+00:00")[:19]
        counts = f"{v.files:>6}{v.sessions:>9}{v.chunks:>8}" if not v.problem else f"{'':>23}"
        print(f"{mark}{v.name:<26}{built:<21}{counts}  {v.problem or v.library}")
    print(
        f"* live · {len(versions)} kept (STAFFROOM_INDEX_KEEP_VERSIONS={settings.index_keep_versions})"
    )
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from ingest.versions import rollback
    from retrieval.embedder import BUNDLED_NAME

    settings = settings_from(args)
    model = settings.embed_model or BUNDLED_NAME  # the configured model's name, as it records it
    done = rollback(settings.index_dir, args.version, model=model)
    v = done.after
    if not done.changed:
        print(f"index version {v.name} is already live; nothing changed")
        return 0
    print(
        f"index version {v.name} is live again (was {done.before}): {v.files} files, "
        f"{v.sessions} sessions, {v.chunks} chunks from {v.library}\n"
        "  A running server switches to it on its next question; "
        f"`staffroom index rollback {done.before}` undoes this."
    )
    return 0

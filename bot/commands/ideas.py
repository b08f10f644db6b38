"""``staffroom ideas list|export|publish``: the idea queue from a shell.

``publish N --url RECORDING [--transcript FILE] [--handout FILE]`` turns adopted idea N into a
library session (``bot/flows/publish.py``): the same run as the chat's, with a progress bar.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "ideas", parents=[common], help="list, export or publish ideas from the idea queue"
    )
    verbs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    v = verbs.add_parser("list", parents=[common], help="ideas, newest first")
    v.add_argument("--status", help="only ideas with this status")
    v.set_defaults(func=cmd_list)
    v = verbs.add_parser("export", parents=[common], help="every idea as CSV")
    v.add_argument("--format", choices=["csv"], default="csv", help="export format")
    v.add_argument("--output", "-o", help="export file (default: standard output)")
    v.set_defaults(func=cmd_export)
    v = verbs.add_parser(
        "publish", parents=[common], help="make an adopted idea a library session (re-indexes)"
    )
    v.add_argument("idea", type=int, help="the idea's number")
    v.add_argument("--url", required=True, help="the recording's web address")
    v.add_argument("--transcript", help="its transcript (.vtt, .srt, .txt or .md)")
    v.add_argument("--handout", help="a handout (any file type the library indexes)")
    v.add_argument("--no-author", action="store_true", help="don't name the teacher who pitched it")
    v.set_defaults(func=cmd_publish)


def _database(args: argparse.Namespace) -> Any:
    from bot.commands import settings_from
    from store import migrate
    from store.db import Database

    url = settings_from(args).database_url_or_default
    migrate.upgrade(url)
    return Database.from_url(url)


def cmd_list(args: argparse.Namespace) -> int:
    import ideas

    database = _database(args)
    try:
        with database.session() as s:
            for idea in ideas.list_ideas(s, status=args.status or None):
                who = idea.author_name or idea.author_id
                print(f"#{idea.id:<5} {idea.status:<13} {idea.title}  ({who})")
    finally:
        database.dispose()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import ideas

    database = _database(args)
    try:
        with database.session() as s:
            if not args.output:
                ideas.export_csv(s, sys.stdout)
                return 0
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                rows = ideas.export_csv(s, out)
        print(f"exported {rows} ideas to {args.output}", file=sys.stderr)
    finally:
        database.dispose()
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish under the shared re-index lock; the people to tell are told by the pipeline."""
    import asyncio
    from pathlib import Path

    from rich.console import Console

    from bot.app import build
    from bot.commands import settings_from
    from bot.progress import ProgressBar
    from ideas import Actor

    settings = settings_from(args)
    components = build(settings)
    try:
        publisher = components.publisher
        assert publisher is not None
        request = _request(args, Path)
        login = _login()
        who = Actor("cli", login, f"{login} (staffroom CLI)")
        with ProgressBar(Console(stderr=True)) as on_progress:
            published = asyncio.run(publisher.publish(who, request, on_progress))
    finally:
        components.close()
    print(published.text())
    return 0


def _request(args: argparse.Namespace, path: Any) -> Any:
    from bot.flows.publish_session import PublishRequest

    return PublishRequest(
        args.idea,
        args.url,
        path(args.transcript).expanduser() if args.transcript else None,
        path(args.handout).expanduser() if args.handout else None,
        credit_author=not args.no_author,
    )


def _login() -> str:
    import getpass

    try:
        return str(getpass.getuser())
    except Exception:  # no login name in some containers
        return "unknown"

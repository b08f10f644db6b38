"""``staffroom privacy forget USER_ID``: delete one person's questions, votes, drafts and
follow-through (tries, check-ins, reflections) on request, and record that it was done (not what was deleted)."""

from __future__ import annotations

import argparse
from typing import Any


def add(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("privacy", parents=[common], help="privacy requests: forget a person")
    p.add_argument("action", choices=["forget"])
    p.add_argument("user_id", help="the person's user id (U0123, or slack:U0123 for one platform)")
    p.set_defaults(func=cmd_privacy)


def cmd_privacy(args: argparse.Namespace) -> int:
    from bot.commands import settings_from
    from bot.reindex.watch import open_database
    from follow.people import forget as forget_follow_through
    from insights.retention import Person, forget
    from staffroom_errors import InputError

    settings = settings_from(args)
    person = Person.parse(args.user_id)
    if not person.user_id:
        raise InputError("Give the user id to forget, e.g. U0123ABC or slack:U0123ABC.")
    database = open_database(settings)
    try:
        with database.session() as s:
            forget(s, person, requested_by=f"cli:{_login()}")
            forget_follow_through(s, person.platform, person.user_id)
    finally:
        database.dispose()
    where = f" on {person.platform}" if person.platform else " on every platform"
    print(
        f"Forgot {person.user_id}{where}: their questions, votes, pitch drafts, chat state, "
        "tries, check-ins and reflections are deleted. The privacy log records that this was done, not what."
    )
    return 0


def _login() -> str:
    import getpass

    try:
        return str(getpass.getuser())
    except Exception:  # no login name in some containers
        return "unknown"

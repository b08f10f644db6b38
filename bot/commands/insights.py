"""``staffroom insights [--since 30d] [--format text|json|csv]``: the insights pages' figures.

Built like the server (``bot.app.build``): the catalog is the searcher's, and new questions are
grouped into topics first by the server's own insights job, with the searcher's model.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "insights", parents=[common], help="what staff asked: the insights pages' figures"
    )
    p.add_argument("--since", default="30d", help="how far back: 30d, 12w, 6m, 1y (default 30d)")
    p.add_argument("--format", choices=["text", "json", "csv"], default="text")
    p.add_argument(
        "--no-group", action="store_true", help="don't group new questions into topics first"
    )
    p.set_defaults(func=cmd_insights)


def cmd_insights(args: argparse.Namespace) -> int:
    import asyncio
    from zoneinfo import ZoneInfo

    from bot.app import build
    from bot.commands import settings_from
    from bot.insights_wiring import catalog
    from insights.clusters import pending_count
    from insights.period import Period
    from insights.report import build_report, to_csv, to_text
    from store import utcnow

    settings = settings_from(args)
    period = Period.since(args.since, utcnow().astimezone(ZoneInfo(settings.timezone)).date())
    components = build(settings)
    try:
        database, insights = components.database, components.insights
        assert database is not None and insights is not None
        with database.session() as s:
            pending = pending_count(s)
        if pending and not args.no_group:
            print(f"grouping {pending} new question(s) into topics…", file=sys.stderr)
            asyncio.run(insights.jobs.upkeep())
        sessions = catalog(components.retriever) if components.retriever is not None else []
        with database.session() as s:
            report = build_report(s, period, settings.min_group, sessions)
    finally:
        components.close()
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.write(to_csv(report))
    else:
        sys.stdout.write(to_text(report))
    return 0

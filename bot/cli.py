"""The `staffroom` command line.

Heavy imports (torch, faiss, slack, botbuilder) stay inside the commands so that
`staffroom --help` answers instantly. Expected errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.commands import settings_from
from staffroom_errors import StaffroomError

if TYPE_CHECKING:
    from bot.core import Core
    from bot.settings import Settings
    from retrieval.embedder import Embedder
    from retrieval.types import Filters, SearchResponse

JSON_TOP = 10
TEXT_TOP = 3
REPLACE_HELP = "index a different folder than the live index's, replacing the whole library"


def _embedder(settings: Settings) -> Embedder:
    from retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.embed_model, device=settings.embed_device)


def _filters(args: argparse.Namespace) -> Filters:
    from retrieval.types import Filters

    return Filters(
        grade_bands=tuple(args.grade or ()),
        subjects=tuple(args.subject or ()),
        tags=tuple(args.tag or ()),
    )


# --- ingest -------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    """A build under the same lock as `reindex` (chat and CLI): one build at a time."""
    from rich.console import Console

    from bot.progress import ProgressBar, print_summary
    from bot.reindex import job
    from bot.reindex.watch import open_database

    settings = settings_from(args)
    library = Path(args.path) if args.path else settings.library
    console = Console(stderr=True)
    embedder = _embedder(settings)
    database = open_database(settings)
    try:
        held = job.claim(database, job.replica_id(), job.started_by_cli("ingest"), "cli")
        if isinstance(held, job.Busy):
            raise _busy(held.text())
        with ProgressBar(console) as on_progress:
            outcome = job.execute(database, held, library, settings.index_dir, embedder,
                                  on_progress, full=args.full, raising=True, replace=args.replace,
                                  keep_versions=settings.index_keep_versions)  # fmt: skip
    finally:
        database.dispose()
    assert outcome.summary is not None  # execute raised otherwise
    print_summary(console, outcome.summary)
    if outcome.summary.failed and not args.allow_failures:
        failed = len(outcome.summary.failed)
        console.print(f"{failed} file(s) failed: exit status 1 (--allow-failures accepts that)")
        return 1
    return 0


def _busy(text: str) -> StaffroomError:
    from staffroom_errors import IndexError_

    return IndexError_(text)


# --- ask ----------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace) -> int:
    """Questions answered by the same core as the bots (not logged: no insight, no gap)."""
    import asyncio

    from bot.app import build
    from retrieval.hints import check_filters

    if args.question != "-" and not " ".join(args.question.split()):
        raise _input_error()
    settings = settings_from(args)
    components = build(settings, embedder=_embedder(settings))
    try:
        filters = _filters(args)
        if components.retriever is not None and not filters.is_empty():
            check_filters(filters, components.retriever.sessions())  # unknown values: clear error
        return asyncio.run(_ask(components.core, args))
    finally:
        components.close()


async def _ask(core: Core, args: argparse.Namespace) -> int:
    filters, top = _filters(args), args.top or (JSON_TOP if args.json else TEXT_TOP)
    lines = sys.stdin if args.question == "-" else [args.question]
    for line in lines:
        question = " ".join(line.split())
        if question and not args.json and not args.top:  # the bots' own judged answer
            from bot.render.text import render

            sys.stdout.write(render(await core.answers.preview(question, filters=filters)) + "\n")
        elif question:
            response = await core.lookup(question, top=top, filters=filters)
            _emit(response, args.json, top, sys.stdout)
        sys.stdout.flush()
    return 0


def _input_error() -> StaffroomError:
    from staffroom_errors import InputError

    return InputError('Ask a question, e.g. staffroom ask "how do I run exit tickets?"')


def _emit(response: SearchResponse, as_json: bool, top: int, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(response_json(response), ensure_ascii=False) + "\n")
    else:
        out.write(format_response(response, top) + "\n")


def response_json(response: SearchResponse) -> dict[str, Any]:
    """The stable JSON shape of `staffroom ask --json`."""
    from retrieval.moments import deep_link

    results = []
    for result in response.results:
        best = result.best
        results.append(
            {
                "session_id": result.session.session_id,
                "title": result.session.title,
                "presenter": result.session.presenter,
                "source": best.source,
                "score": round(float(result.score), 6),
                "start": best.start,
                "end": best.end,
                "url": deep_link(result.session.url, best.start),
                "snippet": best.snippet,
            }
        )
    return {"question": response.query, "good_match": response.good_match, "results": results}


def format_response(response: SearchResponse, top: int = TEXT_TOP) -> str:
    """Plain-text answer for the terminal: the same reply the chat and the bots give."""
    from bot.flows.ask import reply_for
    from bot.render.text import render

    return render(reply_for(response, None, top))


# --- chat, status, serve --------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.app import build
    from bot.terminal import run_chat

    app = build(settings_from(args))
    return run_chat(app.core, pull=app.follow.due_for if app.follow is not None else None)


def cmd_status(args: argparse.Namespace) -> int:
    """The live index and the last re-index: what `status` says in chat, as a table."""
    from bot.commands import flags
    from bot.reindex import job
    from bot.reindex.watch import open_database
    from ingest.versions import partial_problems
    from retrieval.snapshot import IndexRoot
    from staffroom_errors import IndexError_

    settings = settings_from(args)
    info = IndexRoot(settings.index_dir).info()
    if info is None:
        raise IndexError_(
            f"No index in {settings.index_dir}.", hint="Run `staffroom ingest PATH` first."
        )
    print(f"index version  {info.version}")
    print(f"index dir      {info.path}")
    print(f"sessions       {info.sessions}")
    print(f"files          {info.files}")
    print(f"chunks         {info.chunks}")
    for key, value in (("model", info.model), ("built_at", info.built_at), ("library", info.library)):
        if value:
            print(f"{key:<14} {value}")
    for line in flags.status_lines(settings.index_dir):
        print(line)
    for path, problem in partial_problems(settings.index_dir):
        print(f"partial        {path}: {problem}")
    try:
        database = open_database(settings)
    except StaffroomError as err:  # the index is still worth showing
        print(f"last re-index  unknown ({err.user_text()})")
        return 0
    try:
        for line in job.last_run_lines(database):
            print(f"last re-index  {line}")
    finally:
        database.dispose()
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from store import migrate

    settings = settings_from(args)
    url = settings.database_url_or_default
    if args.action == "upgrade":
        migrate.upgrade(url)
    print(f"database at revision {migrate.current(url)}")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bot.progress import ProgressBar
    from bot.reindex.watch import run_cli

    settings = settings_from(args)
    library = Path(args.path) if args.path else settings.library
    embedder = _embedder(settings)
    if args.watch:
        return run_cli(settings, library, embedder, watching=True, interval=args.interval,
                       replace=args.replace)  # fmt: skip
    with ProgressBar(Console(stderr=True)) as on_progress:
        return run_cli(settings, library, embedder, full=args.full, progress=on_progress,
                       replace=args.replace)  # fmt: skip


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.server import serve

    serve(settings_from(args))
    return 0


# --- entry point -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="staffroom",
        description="Just-in-time PD for teachers: ask the session library, pitch ideas.",
    )
    parser.add_argument("--data-dir", help="index and database folder (STAFFROOM_DATA_DIR)")
    # Also accepted after the command (`staffroom ingest PATH --data-dir D`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "ingest", parents=[common], help="index a session library folder (incremental)"
    )
    p.add_argument("path", nargs="?", help="library folder (default: STAFFROOM_LIBRARY)")
    p.add_argument("--full", action="store_true", help="re-read every file")
    p.add_argument("--replace", action="store_true", help=REPLACE_HELP)
    p.add_argument(
        "--allow-failures", action="store_true", help="exit 0 even when some files failed"
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", parents=[common], help="ask the library a question")
    p.add_argument("question", help="the question, or - to read one question per line")
    p.add_argument("--json", action="store_true", help="print JSON (one object per question)")
    p.add_argument("--top", type=int, default=0, help="how many sessions to return")
    p.add_argument("--grade", action="append", help="grade band filter, e.g. 6-8")
    p.add_argument("--subject", action="append", help="subject filter, e.g. Math")
    p.add_argument("--tag", action="append", help="tag filter, e.g. 'exit tickets'")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[common], help="chat with Staffroom in the terminal")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("status", parents=[common], help="show the live index version and counts")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("db", parents=[common], help="database migrations (upgrade, current)")
    p.add_argument("action", choices=["upgrade", "current"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser(
        "reindex",
        parents=[common],
        help="re-index the library under the shared lock (--watch: whenever it changes)",
    )
    p.add_argument("path", nargs="?", help="library folder (default: STAFFROOM_LIBRARY)")
    p.add_argument("--watch", action="store_true", help="keep watching; re-index on changes")
    p.add_argument(
        "--interval", type=float, default=30.0, help="seconds between checks when watching"
    )
    p.add_argument("--full", action="store_true", help="re-read every file (not with --watch)")
    p.add_argument("--replace", action="store_true", help=REPLACE_HELP)
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("serve", parents=[common], help="run the Slack/Teams server")
    p.add_argument("--host", help="address to listen on (default: STAFFROOM_HOST, 0.0.0.0)")
    p.add_argument("--port", type=_port, help="port to listen on (default: STAFFROOM_PORT, 3000)")
    p.set_defaults(func=cmd_serve)

    from bot.commands import flags, ideas, index, insights, privacy, teams

    for area in (flags, ideas, index, insights, privacy, teams):
        area.add(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except StaffroomError as err:
        print(f"staffroom: {err.user_text()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("staffroom: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The `staffroom` command line.

Heavy imports (torch, faiss, slack, botbuilder) stay inside the commands so that
`staffroom --help` answers instantly. Expected errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from staffroom_errors import StaffroomError

if TYPE_CHECKING:
    from bot.settings import Settings
    from retrieval.types import SearchResponse

JSON_TOP = 10
TEXT_TOP = 3


def _settings(args: argparse.Namespace) -> Settings:
    from bot.settings import Settings

    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)


def _embedder(settings: Settings):
    from retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.embed_model, device=settings.embed_device)


def _searcher(settings: Settings):
    from retrieval.search import Searcher

    return Searcher(settings.index_dir, _embedder(settings), threshold=settings.match_threshold)


def _filters(args: argparse.Namespace):
    from retrieval.types import Filters

    return Filters(
        grade_bands=tuple(args.grade or ()),
        subjects=tuple(args.subject or ()),
        tags=tuple(args.tag or ()),
    )


# --- ingest -------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest import build_index

    settings = _settings(args)
    library = Path(args.path) if args.path else settings.library
    console = Console(stderr=True)
    embedder = _embedder(settings)
    with _progress_bar(console) as on_progress:
        summary = build_index(
            library, settings.index_dir, embedder, full=args.full, progress=on_progress
        )
    _print_summary(console, summary)
    return 0


class _progress_bar:
    """A rich progress bar fed by ingest's Progress events, one task per phase."""

    def __init__(self, console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]{task.description:<8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}", style="dim"),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> Callable[[Any], None]:
        self._bar.__enter__()
        return self._update

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)

    def _update(self, event) -> None:
        task = self._tasks.get(event.phase)
        if task is None:
            task = self._bar.add_task(event.phase, total=event.total or None, detail="")
            self._tasks[event.phase] = task
        detail = str(event.detail or "")[-40:]
        self._bar.update(task, completed=event.done, total=event.total or None, detail=detail)


def _print_summary(console, summary) -> None:
    line = (
        f"added {len(summary.added)} · changed {len(summary.changed)} · "
        f"unchanged {len(summary.unchanged)} · removed {len(summary.removed)} · "
        f"failed {len(summary.failed)} · {summary.sessions} sessions · {summary.chunks} chunks "
        f"({summary.embedded} embedded) · {summary.seconds:.1f}s"
    )
    console.print(line)
    for path, reason in summary.failed:
        console.print(f"[yellow]skipped[/] {path}: {reason}")
    for warning in getattr(summary, "warnings", ()):
        console.print(f"[yellow]note[/] {warning}")
    if summary.published:
        console.print(f"index version [bold]{summary.version}[/] is live")
    else:
        console.print(f"nothing changed; index version [bold]{summary.version}[/] stays live")


# --- ask ----------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    searcher = _searcher(settings)
    filters = searcher.check_filters(_filters(args))
    top = args.top or (JSON_TOP if args.json else TEXT_TOP)
    if args.question == "-":
        for line in sys.stdin:
            question = line.strip()
            if not question:
                continue
            response = searcher.search(question, k=top, filters=filters)
            _emit(response, args.json, sys.stdout)
            sys.stdout.flush()
        return 0
    question = " ".join(args.question.split())
    if not question:
        raise _input_error()
    _emit(searcher.search(question, k=top, filters=filters), args.json, sys.stdout)
    return 0


def _input_error() -> StaffroomError:
    from staffroom_errors import InputError

    return InputError('Ask a question, e.g. staffroom ask "how do I run exit tickets?"')


def _emit(response: SearchResponse, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(response_json(response), ensure_ascii=False) + "\n")
    else:
        out.write(format_response(response) + "\n")


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


def format_response(response: SearchResponse) -> str:
    """Plain-text answer for the terminal: the same cards the chat and the bots show."""
    from bot.flows.ask import answer_line, card
    from bot.messages import Reply
    from bot.render.text import render

    if not response.results or not response.good_match:
        return (
            "Nothing in the library covers that yet. Try other words, or tell your PD team "
            "what you were looking for."
        )
    cards = tuple(card(result) for result in response.results)
    return render(Reply(text=answer_line(response), cards=cards))


# --- chat, status, serve --------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.app import build
    from bot.terminal import run_chat

    return run_chat(build(_settings(args)).core)


def cmd_status(args: argparse.Namespace) -> int:
    from retrieval.snapshot import IndexRoot, Snapshot
    from staffroom_errors import IndexError_

    settings = _settings(args)
    current = IndexRoot(settings.index_dir).current()
    if current is None:
        raise IndexError_(
            f"No index in {settings.index_dir}.", hint="Run `staffroom ingest PATH` first."
        )
    snap = Snapshot.load(current)
    info = snap.info
    print(f"index version  {snap.version}")
    print(f"index dir      {current}")
    print(f"sessions       {len(snap.sessions)}")
    print(f"files          {len(snap.files)}")
    print(f"chunks         {len(snap.chunks)}")
    for key in ("model", "built_at", "library"):
        if key in info:
            print(f"{key:<14} {info[key]}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from store import migrate

    settings = _settings(args)
    url = settings.database_url_or_default
    if args.action == "upgrade":
        migrate.upgrade(url)
    print(f"database at revision {migrate.current(url)}")
    return 0


def cmd_ideas(args: argparse.Namespace) -> int:
    import ideas
    from store import migrate
    from store.db import Database

    settings = _settings(args)
    url = settings.database_url_or_default
    migrate.upgrade(url)
    database = Database.from_url(url)
    try:
        with database.session() as s:
            if args.action == "export":
                out = (
                    open(args.output, "w", newline="", encoding="utf-8")
                    if args.output
                    else sys.stdout
                )
                try:
                    rows = ideas.export_csv(s, out)
                finally:
                    if args.output:
                        out.close()
                if args.output:
                    print(f"exported {rows} ideas to {args.output}", file=sys.stderr)
                return 0
            for idea in ideas.list_ideas(s, status=args.status or None):
                print(
                    f"#{idea.id:<5} {idea.status:<13} {idea.title}  ({idea.author_name or idea.author_id})"
                )
    finally:
        database.dispose()
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bot.reindex_watch import run_cli

    settings = _settings(args)
    library = Path(args.path) if args.path else settings.library
    embedder = _embedder(settings)
    if args.watch:
        return run_cli(settings, library, embedder, watching=True, interval=args.interval)
    with _progress_bar(Console(stderr=True)) as on_progress:
        return run_cli(settings, library, embedder, full=args.full, progress=on_progress)


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.server import serve

    serve(_settings(args))
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

    p = sub.add_parser("ideas", parents=[common], help="list or export the idea queue")
    p.add_argument("action", choices=["list", "export"])
    p.add_argument("--status", help="only ideas with this status (list)")
    p.add_argument("--format", choices=["csv"], default="csv", help="export format")
    p.add_argument("--output", "-o", help="export file (default: standard output)")
    p.set_defaults(func=cmd_ideas)

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
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("serve", parents=[common], help="run the Slack/Teams server")
    p.set_defaults(func=cmd_serve)
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

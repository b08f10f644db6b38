"""Progress a newcomer can watch in the terminal: a rich bar per ingest phase, and the summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.markup import escape


class ProgressBar:
    """A rich progress bar fed by ingest's Progress events, one task per phase."""

    def __init__(self, console: Any) -> None:
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

    def __exit__(self, *exc: Any) -> None:
        self._bar.__exit__(*exc)

    def _update(self, event: Any) -> None:
        task = self._tasks.get(event.phase)
        if task is None:
            task = self._bar.add_task(event.phase, total=event.total or None, detail="")
            self._tasks[event.phase] = task
        detail = str(event.detail or "")[-40:]
        self._bar.update(task, completed=event.done, total=event.total or None, detail=detail)


def print_summary(console: Any, summary: Any) -> None:
    line = (
        f"added {len(summary.added)} · changed {len(summary.changed)} · "
        f"unchanged {len(summary.unchanged)} · removed {len(summary.removed)} · "
        f"failed {len(summary.failed)} · {summary.sessions} sessions · {summary.chunks} chunks "
        f"({summary.embedded} embedded, {summary.cache_hits} from the cache) · "
        f"{summary.seconds:.1f}s"
    )
    console.print(line)
    for path, reason in summary.failed:
        console.print(f"[yellow]skipped[/] {escape(path)}: {escape(reason)}", highlight=False)
    for path, problem in summary.partial:
        console.print(f"[yellow]partial[/] {escape(path)}: {escape(problem)}", highlight=False)
    for warning in getattr(summary, "warnings", ()):
        console.print(f"[yellow]note[/] {warning}")
    flagged = getattr(summary, "flagged", ())
    for path, what in flagged:
        console.print(f"[red]flagged[/] {escape(path)}: {escape(what)}", highlight=False)
    if flagged:
        console.print(
            "[red]flagged[/] passages read like instructions to an AI: they are not shown or "
            "sent to the LLM until you review them and run `staffroom flags clear FILE`."
        )
    if summary.published:
        console.print(f"index version [bold]{summary.version}[/] is live")
    else:
        console.print(f"nothing changed; index version [bold]{summary.version}[/] stays live")

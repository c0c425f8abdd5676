"""A progress bar on stderr for long work reported as ``Progress`` events (parsing files, say).

Drawn only on a terminal, and rich is imported only when there is something to draw, so a warm
`r1agent map` (no files to parse) pays nothing for it and pipes and --json stay clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from r1agent.events import Event, EventSink, Progress

if TYPE_CHECKING:
    from rich.console import Console


@contextmanager
def progress_bar(console: Console | None = None) -> Iterator[EventSink]:
    """An event sink that draws each ``Progress`` task as a transient bar (done/total, elapsed)."""
    with ExitStack() as stack:
        bar: Any = None
        tasks: dict[str, Any] = {}

        def sink(event: Event) -> None:
            nonlocal bar, console
            if not isinstance(event, Progress):
                return
            if bar is None:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
                from rich.progress import Progress as RichProgress

                console = console or Console(stderr=True)
                columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
                bar = stack.enter_context(
                    RichProgress(*columns, console=console, transient=True, disable=not console.is_terminal))
            if event.task not in tasks:
                tasks[event.task] = bar.add_task(event.task, total=event.total)
            bar.update(tasks[event.task], completed=event.done, total=event.total)

        yield sink

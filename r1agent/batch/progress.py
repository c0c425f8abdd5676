"""The batch's progress bar: done, failed and running counts, and an ETA from the pace so far."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .records import InstanceRecord


class BatchProgress:
    """Updated by the pool as instances start and finish; silent when ``enabled`` is False."""

    def __init__(self, total: int, enabled: bool = True, console: Console | None = None):
        self.total, self.done, self.failed, self.running = total, 0, 0, 0
        self._bar = Progress(
            TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[green]{task.fields[ok]} done[/] [red]{task.fields[failed]} failed[/] "
                       "[cyan]{task.fields[running]} running[/]"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console or Console(stderr=True), disable=not enabled, transient=False,
        )
        self._task = self._bar.add_task("batch", total=total, ok=0, failed=0, running=0)

    def __enter__(self) -> BatchProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def started(self) -> None:
        self.running += 1
        self._refresh()

    def finished(self, record: InstanceRecord) -> None:
        self.running = max(0, self.running - 1)
        if record.failed:
            self.failed += 1
        else:
            self.done += 1
        self._bar.advance(self._task)
        self._refresh()

    def _refresh(self) -> None:
        self._bar.update(self._task, ok=self.done, failed=self.failed, running=self.running)

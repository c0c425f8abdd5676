"""The candidates of a run in a table: each row moves from editing to testing to its verdict,
with the test counts, as the events arrive."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from r1agent.agent.state import Candidate
from r1agent.events import CandidateVerdict, EditsParsed, SandboxStarted, TestProgress

STATUS_STYLE = {
    "verified": "bold green", "plausible": "yellow", "failed": "red", "regressed": "bold red",
    "malformed": "magenta", "pending": "dim", "editing": "dim", "sandbox": "cyan", "testing": "cyan",
}
COLUMNS = ("candidate", "status", "passed", "failed", "red→green", "broke", "files")


@dataclass
class CandidateRow:
    """What the table shows of one candidate; built from events, then settled from the state."""

    key: str
    status: str = "editing"
    passed: int = 0
    failed: int = 0
    fail_to_pass: int = 0
    pass_to_fail: int = 0
    files: list[str] = field(default_factory=list)
    output: str = ""  # the failing test output, for the log pane
    patch: str = ""

    def cells(self) -> tuple:
        return (
            self.key, Text(self.status, style=STATUS_STYLE.get(self.status.split()[0], "")),
            Text(str(self.passed), style="green"), Text(str(self.failed), style="red" if self.failed else ""),
            str(self.fail_to_pass), Text(str(self.pass_to_fail), style="red" if self.pass_to_fail else ""),
            ", ".join(self.files),
        )


def row_from_candidate(c: Candidate) -> CandidateRow:
    tests = c.report.tests if c.report else {}
    return CandidateRow(
        key=c.key, status=c.status,
        passed=sum(s == "passed" for s in tests.values()),
        failed=sum(s in ("failed", "error") for s in tests.values()),
        fail_to_pass=len(c.fail_to_pass), pass_to_fail=len(c.pass_to_fail), files=list(c.files),
        output=c.report.output_tail if c.report else c.edit_feedback, patch=c.patch,
    )


class CandidateTable(DataTable):
    """One row per candidate, keyed ``r{round}c{index}`` like the run record."""

    DEFAULT_CLASSES = "candidates"

    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_by_key: dict[str, CandidateRow] = {}

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name)

    def _put(self, row: CandidateRow) -> None:
        if row.key in self.rows_by_key and row.key in self.rows:
            for name, value in zip(COLUMNS, row.cells(), strict=True):
                self.update_cell(row.key, name, value, update_width=True)
        else:
            self.add_row(*row.cells(), key=row.key)
        self.rows_by_key[row.key] = row

    def _row(self, key: str) -> CandidateRow:
        return self.rows_by_key.get(key) or CandidateRow(key)

    def apply(self, rnd: int, event: EditsParsed | SandboxStarted | TestProgress | CandidateVerdict) -> None:
        """Move the candidate ``event`` names (within round ``rnd``) on by one step."""
        row = self._row(f"r{rnd}c{event.candidate}")
        if isinstance(event, EditsParsed):
            row.status, row.files = ("editing" if event.ok else "malformed"), list(event.files)
        elif isinstance(event, SandboxStarted):
            row.status = "sandbox"
        elif isinstance(event, TestProgress):
            row.status = f"testing {event.stage}" if not event.done else row.status
            if event.done:
                row.passed, row.failed = event.passed, event.failed
        elif isinstance(event, CandidateVerdict):
            row.status = event.status
            row.fail_to_pass, row.pass_to_fail = len(event.fail_to_pass), len(event.pass_to_fail)
        self._put(row)

    def settle(self, candidates: list[Candidate]) -> None:
        """Replace what the events said with the run's own record of every candidate."""
        for c in candidates:
            self._put(row_from_candidate(c))

    def selected(self) -> CandidateRow | None:
        """The row under the cursor, or the newest one."""
        if not self.rows_by_key:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            key = None
        return self.rows_by_key.get(key) or list(self.rows_by_key.values())[-1]

    def reset(self) -> None:
        self.clear()
        self.rows_by_key.clear()

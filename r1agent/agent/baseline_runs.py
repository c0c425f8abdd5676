"""The unchanged code's test results, run for each selected test or file the first time a candidate
needs it, so the baseline covers exactly what candidates are judged on, never the whole suite."""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

from r1agent.errors import BaselineError
from r1agent.events import Message
from r1agent.sandbox.report import why_unusable

from .related import related_test_files, test_files

NOT_RUNNABLE = "the repo's tests cannot run on the unchanged code, so no fix can be judged"
WHOLE_SUITE = "(the whole suite)"  # marks a covered full run


class BaselineRuns:
    """Shared by a round's candidate threads; ``tests``/``covered`` go back into the state after it."""

    def __init__(self, state, svc, emit, graph=None):
        self.state, self.svc, self.emit, self.graph = state, svc, emit, graph
        self.tests: dict[str, str] = dict(state.baseline.tests) if state.baseline else {}
        self.covered: set[str] = set(state.baseline_covered)
        self._lock = threading.Lock()

    def selection(self, changed: list[str]) -> list[str]:
        """The target tests, then the test files related to ``changed``."""
        related = related_test_files(changed, Path(self.state.base_dir), self.graph,
                                     graph_limit=self.svc.settings.tests.related_graph_files)
        return list(dict.fromkeys([*self.state.target_tests, *related]))

    @cached_property
    def all_test_files(self) -> list[str]:
        return test_files(Path(self.state.base_dir))

    def ensure_full(self) -> dict[str, str]:
        """The baseline of the whole suite, for a candidate that nothing narrower could judge."""
        return self.ensure([WHOLE_SUITE])

    def ensure(self, selection: list[str]) -> dict[str, str]:
        """The baseline results, with every item of ``selection`` run on the unchanged code (plus the
        reproduction test). A run that says nothing about the code is a setup error (BaselineError)."""
        with self._lock:
            missing = [s for s in selection if s not in self.covered]
            if missing:
                state = self.state
                with self.svc.sandbox.create(f"{state.run_id}-baseline-{len(self.covered)}") as sb:
                    if state.repro_patch:
                        sb.apply_patch(state.repro_patch)
                    report = sb.run_tests(None if missing == [WHOLE_SUITE] else missing)
                broken = why_unusable(report, self.svc.settings.tests.timeout, expected=state.target_tests)
                if broken:
                    raise BaselineError(f"{NOT_RUNNABLE}: {broken}")
                self.tests |= report.tests
                self.covered |= set(missing)
                bad = sum(s in ("failed", "error") for s in report.tests.values())
                self.emit(Message(f"baseline: {len(report.tests) - bad} of {len(report.tests)} tests pass in the "
                                  f"{len(missing)} newly selected test file(s) or test(s)"))
            return dict(self.tests)


def index_graph(svc, repo: Path):
    """The def/ref graph of the repo's index, or None when the index cannot give one."""
    try:
        from r1agent.tools.index import load_snapshot

        return load_snapshot(repo, svc.settings).graph
    except Exception:  # noqa: BLE001 - imports alone still select related tests
        return None

"""The unchanged code's test results, run for each selected test or file the first time a candidate
needs it, so the baseline covers exactly what candidates are judged on, never the whole suite."""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from r1agent.errors import BaselineError
from r1agent.events import Message
from r1agent.sandbox.report import TestReport, why_unusable

from .related import related_test_files, test_files

NOT_RUNNABLE = "the repo's tests cannot run on the unchanged code, so no fix can be judged"
WHOLE_SUITE = "(the whole suite)"  # marks a covered full run


class BaselineRuns:
    """Shared by a round's candidate threads; ``tests``/``covered``/``dropped`` go back into the state after it."""

    def __init__(self, state, svc, emit, graph=None):
        self.state, self.svc, self.emit, self.graph = state, svc, emit, graph
        self.tests: dict[str, str] = dict(state.baseline.tests) if state.baseline else {}
        self.covered: set[str] = set(state.baseline_covered)
        self.dropped: set[str] = set(state.baseline_dropped)
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
        reproduction test), or left out for time (``dropped``). A run that says nothing about the code is a
        setup error (BaselineError)."""
        with self._lock:
            missing = [s for s in selection if s not in self.covered and s not in self.dropped]
            if missing:
                state, tests = self.state, self.svc.settings.tests
                with self.svc.sandbox.create(f"{state.run_id}-baseline-{len(self.covered)}") as sb:
                    if state.repro_patch:
                        sb.apply_patch(state.repro_patch)
                    if missing == [WHOLE_SUITE]:
                        runs = [(missing, sb.run_tests(None))]
                    else:
                        runs = within_seconds(sb, missing, tests.related_seconds, tests.timeout, state.target_tests)
                found = {t: s for _, r in runs for t, s in r.tests.items()}
                kept = [(chunk, r) for i, (chunk, r) in enumerate(runs) if i == 0 or not r.timed_out]
                for _, r in kept:
                    if broken := why_unusable(replace(r, tests=found, summary={}), tests.timeout, state.target_tests):
                        raise BaselineError(f"{NOT_RUNNABLE}: {broken}")
                ran = [s for chunk, _ in kept for s in chunk]
                left_out = [s for s in missing if s not in ran]
                self.tests |= found
                self.covered |= set(ran)
                self.dropped |= set(left_out)
                bad = sum(s in ("failed", "error") for s in found.values())
                self.emit(Message(f"baseline: {len(found) - bad} of {len(found)} tests pass in the "
                                  f"{len(ran)} newly selected test file(s) or test(s)"))
                if left_out:
                    self.emit(Message(
                        f"related tests: {len(left_out)} test file(s) left out, the least closely related, as the "
                        f"baseline did not finish them within tests.related_seconds ({tests.related_seconds:g} s): "
                        f"{', '.join(left_out[:5])}{f' and {len(left_out) - 5} more' if len(left_out) > 5 else ''}",
                        level="warning"))
            return dict(self.tests)

    def kept(self, selection: list[str]) -> list[str]:
        """``selection`` less what the baseline left out for time: candidates run what it ran."""
        return [s for s in selection if s not in self.dropped]


PACE_MARGIN = 0.8  # a later run is sized to this share of the time left at the pace so far


def within_seconds(sb, selection: list[str], seconds: float, timeout: float,
                   targets: list[str]) -> list[tuple[list[str], TestReport]]:
    """Run ``selection`` (closest first) in successive runs until ``seconds`` are spent: the targets and
    the first file, then runs sized by the pace so far, each at most twice what ran before it, so a run
    killed at the time left (reported timed out; its files are left out) loses no more than ran. The
    first always runs, within ``timeout``."""
    if seconds <= 0:
        return [(selection, sb.run_tests(selection, timeout=timeout))]
    first = sum(s in targets for s in selection) + 1
    chunk, rest = selection[:first], selection[first:]
    runs, spent, done = [], 0.0, 0
    while chunk:
        report = sb.run_tests(chunk, timeout=timeout if not runs else min(timeout, seconds - spent))
        runs.append((chunk, report))
        spent, done = spent + report.duration_s, done + len(chunk)
        left = seconds - spent
        if report.timed_out or left <= 0 or not rest:
            break
        size = min(2 * done, len(rest) if spent <= 0 else max(1, int(PACE_MARGIN * left * done / spent)))
        chunk, rest = rest[:size], rest[size:]
    return runs


def index_graph(svc, repo: Path):
    """The def/ref graph of the repo's index, or None when the index cannot give one."""
    try:
        from r1agent.tools.index import load_snapshot

        return load_snapshot(repo, svc.settings).graph
    except Exception:  # noqa: BLE001 - imports alone still select related tests
        return None

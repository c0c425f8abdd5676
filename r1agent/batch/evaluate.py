"""Grading a prediction as SWE-bench does: in a fresh sandbox at base_commit, apply the instance's
test_patch, then the model patch, run the test files of FAIL_TO_PASS and PASS_TO_PASS, and call it resolved only when
every FAIL_TO_PASS test passes and no PASS_TO_PASS test fails (a test missing from the run fails)."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from r1agent.diffs import kept_files
from r1agent.sandbox import PatchError, TestReport
from r1agent.sandbox.runners import as_swebench_runs
from r1agent.sandbox.testrun import runner_for
from r1agent.sandbox.trial import Stage, run_trial
from r1agent.settings import Settings

from .instances import Instance
from .records import Evaluation
from .slots import SandboxSlots, open_bounded_backend


def qualify(test_ids: list[str], files: dict[str, str]) -> dict[str, str]:
    """SWE-bench names some repos' tests bare (sympy: ``test_Function``), meaning the function of that
    name in the files the test_patch touches. Each bare id that one of ``files`` defines, as a node id."""
    out: dict[str, str] = {}
    for test_id in test_ids:
        if "::" in test_id or "/" in test_id or test_id.endswith(".py"):
            continue
        name = test_id.split("[", 1)[0]
        pattern = re.compile(rf"^\s*(?:async\s+)?def {re.escape(name)}\(", re.M)
        found = sorted(p for p, text in files.items() if pattern.search(text))
        if found:
            out[test_id] = f"{found[0]}::{test_id}"
    return out


def test_files_of(test_ids: list[str]) -> list[str]:
    """The files holding these node ids: SWE-bench runs whole test files, and some of its ids cannot be
    passed to pytest (it cuts ids at the first space: ``test_x[multi``, and leaves debris such as ``[100%]``)."""
    files = {t.split("::", 1)[0] for t in test_ids}
    return sorted(f for f in files if f.endswith(".py") or "/" in f)  # its parser's debris ("[100%]") is no file


def swebench_name(test_id: str) -> str:
    """The name SWE-bench's pytest parser gives a test whose parameter is an absolute path: the path cut
    to its last part (``test_stdin[/testbed/m.py-m-/testbed/m.py]`` is ``test_stdin[/m.py]``), so that ids
    agree whatever the checkout's directory."""
    main, bracket, option = test_id.partition("[")
    if bracket and option.startswith("/") and not option.startswith("//") and "*" not in option:
        return f"{main}[/{option.rstrip(']').split('/')[-1]}]"
    return test_id


def _worst(statuses: list[str]) -> str:
    """One status for several tests under one name: it passes only if they all pass."""
    return next((s for s in statuses if s in ("failed", "error")), statuses[0])


def by_expected_id(expected: list[str], tests: dict[str, str]) -> dict[str, str]:
    """``tests`` keyed as SWE-bench names them: an id it cut at a space (``test_x[two``) stands for the
    tests whose full id begins with it, and an id whose parameter is an absolute path for those with the
    same last part (see ``swebench_name``); each passes only if they all pass."""
    wanted = set(expected)
    out = dict(tests)
    shortened: dict[str, list[str]] = {}
    for test_id, status in tests.items():
        if (short := swebench_name(test_id)) != test_id and short in wanted:
            shortened.setdefault(short, [tests[short]] if short in tests else []).append(status)
    out |= {short: _worst(found) for short, found in shortened.items()}
    for test_id in expected:
        if test_id in tests or "[" not in test_id or test_id.endswith("]"):
            continue
        found = [s for t, s in tests.items() if t.startswith(test_id)]
        if found:
            out[test_id] = _worst(found)
    return out


def expected_baseline(fail_to_pass: list[str], pass_to_pass: list[str]) -> TestReport:
    """The gold expectation in grade()'s terms: FAIL_TO_PASS fail and PASS_TO_PASS pass before the fix."""
    return TestReport(tests=dict.fromkeys(pass_to_pass, "passed") | dict.fromkeys(fail_to_pass, "failed"), exit_code=1)


def evaluate_patch(inst: Instance, checkout: Path, model_patch: str, settings: Settings,
                   slots: SandboxSlots) -> Evaluation:
    started = time.time()
    if not model_patch.strip():
        return Evaluation(resolved=False, patch_applied=False, still_failing=sorted(inst.FAIL_TO_PASS),
                          error="empty patch")
    backend = open_bounded_backend(settings, checkout, slots)
    with backend.create(f"eval-{inst.slug}") as sb:
        if inst.test_patch.strip():
            try:
                sb.apply_patch(inst.test_patch)
            except PatchError as e:
                return Evaluation(resolved=False, patch_applied=False, error=f"test_patch: {e}")
        named = [t for t in sorted(set(inst.FAIL_TO_PASS) | set(inst.PASS_TO_PASS))
                 if re.match(r"[\w./]", t)]  # SWE-bench's parser debris, "[100%]", names no test
        where = qualify(named, {p: sb.read_file_if_exists(p) or "" for p in kept_files(inst.test_patch)})
        back = {node: bare for bare, node in where.items()}

        def as_swebench_names(report: TestReport) -> TestReport:
            tests = by_expected_id(named, {back.get(t, t): s for t, s in report.tests.items()})
            return replace(report, tests=tests, summary={})

        f2p = [t for t in inst.FAIL_TO_PASS if t in named]
        stage = Stage("graded", test_files_of([where.get(t, t) for t in named]),
                      expected_baseline(f2p, [t for t in inst.PASS_TO_PASS if t in named]), f2p,
                      rename=as_swebench_names, runner=as_swebench_runs(runner_for(sb, settings.tests.command)))
        trial = run_trial(sb, [model_patch], [stage])
    took = round(time.time() - started, 2)
    if trial.last:  # the phase's stdout is the run's evaluate.log: what ran and how it ended, for whoever digs
        print(f"$ {trial.last.report.command}\n{trial.last.report.output_tail}", flush=True)
    if trial.patch_error:
        return Evaluation(resolved=False, patch_applied=False, still_failing=sorted(inst.FAIL_TO_PASS),
                          error=trial.patch_error, duration_s=took)
    g = trial.last.grade
    return Evaluation(
        resolved=g.resolved, patch_applied=True, fail_to_pass=g.fail_to_pass, still_failing=g.still_failing,
        pass_to_pass=g.pass_to_pass, pass_to_fail=g.pass_to_fail, duration_s=took,
    )

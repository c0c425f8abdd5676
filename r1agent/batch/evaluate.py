"""Grading a prediction as SWE-bench does: in a fresh sandbox at base_commit, apply the instance's
test_patch, then the model patch, run FAIL_TO_PASS and PASS_TO_PASS, and call it resolved only when
every FAIL_TO_PASS test passes and no PASS_TO_PASS test fails (a test missing from the run fails)."""

from __future__ import annotations

import time
from pathlib import Path

from r1agent.sandbox import PatchError, TestReport, grade
from r1agent.settings import Settings

from .instances import Instance
from .records import Evaluation
from .slots import SandboxSlots, open_bounded_backend


def expected_baseline(inst: Instance) -> TestReport:
    """The gold expectation in grade()'s terms: FAIL_TO_PASS fail and PASS_TO_PASS pass before the fix."""
    tests = dict.fromkeys(inst.PASS_TO_PASS, "passed") | dict.fromkeys(inst.FAIL_TO_PASS, "failed")
    return TestReport(tests=tests, exit_code=1)


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
        try:
            sb.apply_patch(model_patch)
        except PatchError as e:
            return Evaluation(resolved=False, patch_applied=False, still_failing=sorted(inst.FAIL_TO_PASS),
                              error=str(e), duration_s=round(time.time() - started, 2))
        report = sb.run_tests(sorted(set(inst.FAIL_TO_PASS) | set(inst.PASS_TO_PASS)))
    g = grade(expected_baseline(inst), report, fail_to_pass=list(inst.FAIL_TO_PASS))
    return Evaluation(
        resolved=g.resolved, patch_applied=True, fail_to_pass=g.fail_to_pass, still_failing=g.still_failing,
        pass_to_pass=g.pass_to_pass, pass_to_fail=g.pass_to_fail, duration_s=round(time.time() - started, 2),
    )

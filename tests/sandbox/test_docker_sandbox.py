"""A Docker sandbox: a locked-down copy of the repo where commands, patches and tests run."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from r1agent.sandbox import PatchError, grade
from r1agent.sandbox.docker_backend import DockerBackend

pytestmark = pytest.mark.docker


def _our_containers(client):
    return {c.name for c in client.containers.list(all=True, filters={"label": "r1agent=1"})}


def test_exec_runs_as_non_root_without_network_on_a_read_only_root(docker_backend):
    with docker_backend.create("basics") as sb:
        who = sb.exec("id -u; pwd; echo err >&2; exit 3")
        assert (who.stdout.split(), who.stderr, who.exit_code) == (["1000", "/work"], "err\n", 3)
        assert who.duration_s > 0 and not who.timed_out
        assert not sb.exec("touch /etc/evil").ok
        assert sb.exec("touch /work/fine /tmp/fine").ok
        assert "Network is unreachable" in sb.exec(
            ["python", "-c", "import socket; socket.create_connection(('1.1.1.1', 80), timeout=3)"]
        ).stderr
        mounts = sb.read_file_if_exists("../proc/mounts")
        assert mounts is None  # paths outside /work are refused
        assert "docker.sock" not in sb.exec("cat /proc/mounts; ls /var/run").stdout


def test_the_snapshot_includes_uncommitted_work_and_the_users_repo_is_never_touched(
    make_settings, docker_client, base_image, make_repo, sample_files, fix_add
):
    repo = make_repo(sample_files)
    (repo / "calc.py").write_text((repo / "calc.py").read_text() + "\nEXTRA = 1\n")
    (repo / "notes.txt").write_text("untracked\n")
    (repo / "debug.log").write_text("ignored\n")
    before = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    backend = DockerBackend(make_settings(), repo, client=docker_client)
    with backend.create("snap") as sb:
        assert "EXTRA = 1" in sb.read_file("calc.py")
        assert sb.read_file("notes.txt") == "untracked\n"
        assert sb.read_file_if_exists("debug.log") is None
        sb.apply_patch(fix_add)
        sb.write_file("pkg/new.py", "X = 2\n")
        assert sb.exec("ls -ld /work/pkg | cut -d' ' -f3").stdout.strip() in ("sandbox", "1000")
        diff = sb.diff()
    assert "+    return a + b" in diff and "+++ b/pkg/new.py" in diff and "EXTRA" not in diff
    assert "a - b" in (repo / "calc.py").read_text()
    assert not (repo / "pkg").exists()
    after = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    assert after == before


def test_a_patch_that_does_not_apply_is_refused_with_gits_reason(docker_backend):
    bad = "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def nothing_here():\n-    return 0\n+    return 1\n"
    with docker_backend.create("badpatch") as sb:
        with pytest.raises(PatchError, match="patch does not apply") as err:
            sb.apply_patch(bad)
        assert "calc.py" in err.value.rejects
        assert sb.diff() == ""


def test_baseline_and_patched_runs_grade_as_fail_to_pass(docker_backend, fix_add):
    with docker_backend.create("baseline") as sb:
        baseline = sb.run_tests()
    with docker_backend.create("candidate") as sb:
        sb.apply_patch(fix_add)
        targeted = sb.run_tests(["tests/test_calc.py::test_add"])
        full = sb.run_tests()
    assert baseline.tests["tests/test_calc.py::test_add"] == "failed"
    assert baseline.tests["tests/test_calc.py::TestMore::test_known_bug"] == "xfail"
    assert baseline.summary["skipped"] == 1 and baseline.exit_code == 1
    assert targeted.tests == {"tests/test_calc.py::test_add": "passed"}
    g = grade(baseline, full)
    assert g.fail_to_pass == ["tests/test_calc.py::test_add"] and g.pass_to_fail == [] and g.resolved
    assert full.all_passed and "passed" in full.output_tail


def test_output_is_capped_and_says_so(make_settings, docker_client, base_image, sample_repo):
    backend = DockerBackend(make_settings(output_cap=4000), sample_repo, client=docker_client)
    with backend.create("cap") as sb:
        result = sb.exec("yes abcdefgh | head -c 1000000")
    assert result.truncated and result.exit_code == 0
    assert "output capped at 4000 bytes" in result.stdout and len(result.stdout) < 5000


def test_container_is_removed_after_success_error_and_ctrl_c(docker_backend, docker_client):
    with docker_backend.create("ok") as sb:
        name = sb.name
        assert name in _our_containers(docker_client)
    assert name not in _our_containers(docker_client)
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with docker_backend.create("interrupted") as sb:
                name = sb.name
                raise exc
        assert name not in _our_containers(docker_client)


def test_leftovers_of_a_killed_run_are_removed_at_the_next_start(make_settings, docker_backend, docker_client, sample_repo):
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from r1agent.sandbox.docker_backend import DockerBackend
        from r1agent.settings import Settings
        backend = DockerBackend(Settings(), Path({str(sample_repo)!r}))
        backend._image = {docker_backend._image!r}
        with backend.create("crashed") as sb:
            print(sb.name, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    name = proc.stdout.strip()
    assert name in _our_containers(docker_client)
    DockerBackend(make_settings(), sample_repo, client=docker_client)
    assert name not in _our_containers(docker_client)


def test_candidates_run_in_parallel_each_in_its_own_container(docker_backend, fix_add):
    def run(patch: str | None):
        with docker_backend.create("par") as sb:
            if patch:
                sb.apply_patch(patch)
            return sb.name, sb.run_tests(["tests/test_calc.py::test_add"]).tests

    results = docker_backend.run_parallel(run, [fix_add, None, fix_add])
    assert [r[1]["tests/test_calc.py::test_add"] for r in results] == ["passed", "failed", "passed"]
    assert len({r[0] for r in results}) == 3


def test_memory_and_pid_limits_are_applied_inside_the_container(docker_backend):
    with docker_backend.create("limits") as sb:
        pids = sb.exec("cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max").stdout
        memory = sb.exec(
            "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
        ).stdout
    assert int(pids) == 256
    assert int(memory) == 512 * 1024 * 1024


def test_a_trial_runs_its_stages_in_order_and_stops_at_the_first_that_fails(docker_backend, fix_add):
    from r1agent.sandbox.report import TestReport
    from r1agent.sandbox.trial import Stage, run_trial

    asked: list[list[str]] = []

    def baseline_of_what_ran(report: TestReport) -> TestReport:
        asked.append(sorted(report.tests))
        return TestReport({t: "passed" for t in report.tests if "test_add" not in t}, 1)

    targeted = Stage("targeted", ["tests/test_calc.py::test_add"], targets=["tests/test_calc.py::test_add"])
    full = Stage("full", None, baseline_of_what_ran)
    events: list = []
    with docker_backend.create("trial-fixed") as sb:
        trial = run_trial(sb, [fix_add], [targeted, full], events.append, index=3)
    assert trial.passed and [r.stage.name for r in trial.results] == ["targeted", "full"]
    assert trial.results[0].grade.fail_to_pass == ["tests/test_calc.py::test_add"]
    assert "tests/test_calc.py::test_mul" in trial.last.grade.pass_to_pass and len(asked) == 1
    assert [(e.candidate, e.stage, e.done) for e in events] == [(3, "targeted", False), (3, "targeted", True),
                                                                (3, "full", False), (3, "full", True)]
    with docker_backend.create("trial-unfixed") as sb:
        trial = run_trial(sb, [], [targeted, full])
    assert not trial.passed and [r.stage.name for r in trial.results] == ["targeted"]
    assert trial.last.grade.still_failing == ["tests/test_calc.py::test_add"] and len(asked) == 1
    with docker_backend.create("trial-bad-patch") as sb:
        trial = run_trial(sb, [fix_add.replace("a - b", "a * b")], [targeted, full])
    assert trial.patch_error and not trial.results and not trial.passed
    with docker_backend.create("trial-stopped") as sb:
        trial = run_trial(sb, [fix_add], [targeted, full], stop=lambda: True)
    assert trial.stopped and not trial.results and not trial.passed

"""`r1agent sandbox …` as a person runs it: output, exit codes, and a clear error without Docker."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def r1agent(repo, *args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "r1agent", "-C", str(repo), "sandbox", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )


def test_help_documents_exit_codes(tmp_path):
    for cmd in (["--help"], ["exec", "--help"], ["test", "--help"]):
        out = r1agent(tmp_path, *cmd).stdout
        assert "Exit codes:" in out and "2 bad input or setup" in out


def test_unreachable_docker_engine_is_one_line_with_a_fix_and_exit_2(make_repo):
    repo = make_repo({"a.py": ""})
    done = r1agent(repo, "exec", "--", "true", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock" in lines[0]
    assert "sandbox.backend=local" in lines[0]


def test_no_permission_on_the_docker_socket_is_one_line_with_a_fix_and_exit_2(make_repo, tmp_path):
    """A user outside the docker group: as root, drop the capability that bypasses file modes."""
    import shutil
    import socket

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to act as a user without access")
    repo = make_repo({"a.py": ""})
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        path.chmod(0)
        caps = "-dac_override,-dac_read_search"
        done = subprocess.run(
            ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", sys.executable, "-m", "r1agent",
             "-C", str(repo), "sandbox", "exec", "--", "true"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "DOCKER_HOST": f"unix://{path}"},
        )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "permission denied reaching the Docker engine" in lines[0]
    assert "docker group" in lines[0]


@pytest.mark.docker
def test_exec_and_test_print_output_and_exit_codes(make_repo, sample_files, base_image):
    repo = make_repo(sample_files)
    ok = r1agent(repo, "exec", "--", "python", "-c", "print('hi from the sandbox')")
    assert ok.returncode == 0 and ok.stdout == "hi from the sandbox\n" and "[exit 0 in" in ok.stderr
    failed = r1agent(repo, "exec", "--", "sh", "-c", "exit 7")
    assert failed.returncode == 1 and "[exit 7 in" in failed.stderr

    report = r1agent(repo, "test", "--json")
    data = json.loads(report.stdout)
    assert report.returncode == 1
    assert data["tests"]["tests/test_calc.py::test_add"] == "failed"
    assert data["summary"]["passed"] == 3 and data["summary"]["total"] == 6
    one = r1agent(repo, "test", "tests/test_calc.py::test_mul")
    assert one.returncode == 0 and "PASSED   tests/test_calc.py::test_mul" in one.stdout

    listed = r1agent(repo, "ls")
    assert listed.returncode == 0 and base_image in listed.stdout and "r1agent/env-" in listed.stdout


def test_local_backend_runs_only_when_asked(make_repo, sample_files):
    repo = make_repo(sample_files)
    done = r1agent(repo, "test", "--backend", "local", "--json", "tests/test_calc.py::test_mul")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tests"] == {"tests/test_calc.py::test_mul": "passed"}
    assert "Docker is safer" in done.stderr

"""Hostile and broken code is contained, reported, leaves the host alone, and its container goes away."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from r1agent.sandbox.docker_backend import DockerBackend

pytestmark = pytest.mark.docker

HOST_MARK = f"/tmp/r1agent-escape-{uuid.uuid4().hex}"
HOSTILE_TESTS = {
    "tests/test_escape.py": (
        "import pathlib, pytest\n\n"
        f"@pytest.mark.parametrize('target', ['/etc/r1agent-evil', '/work/../outside', '/usr/lib/evil.py'])\n"
        "def test_writes_outside_work(target):\n    pathlib.Path(target).write_text('pwned')\n\n"
        f"def test_writes_to_host_tmp_path():\n    pathlib.Path({HOST_MARK!r}).write_text('only in the sandbox')\n"
    ),
    "tests/test_network.py": (
        "import socket\n\n"
        "def test_reaches_the_internet():\n    socket.create_connection(('1.1.1.1', 443), timeout=5)\n\n"
        "def test_resolves_a_name():\n    socket.getaddrinfo('pypi.org', 443)\n"
    ),
    "tests/test_background.py": (
        "import subprocess\n\n"
        "def test_leaves_a_daemon():\n"
        "    subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
        "    subprocess.run(['sh', '-c', 'sleep 2000 &'], check=True)\n"
    ),
}


def _gone(client, name: str) -> bool:
    return name not in {c.name for c in client.containers.list(all=True)}


@pytest.fixture(scope="module")
def hostile(docker_client, base_image, tmp_path_factory, make_settings, repo_factory):
    repo = repo_factory(tmp_path_factory.mktemp("hostile") / "hostile", HOSTILE_TESTS)
    backend = DockerBackend(make_settings(memory="256m", pids_limit=128), repo, client=docker_client)
    backend.ensure_image()
    return backend


def test_fork_bomb_hits_the_pid_limit_and_is_killed_at_the_timeout(hostile, docker_client):
    with hostile.create("forkbomb") as sb:
        name = sb.name
        result = sb.exec("bomb() { bomb | bomb & }; bomb; sleep 60", timeout=8)
        assert result.timed_out and "timed out after 8s" in result.stderr
        after = sb.exec("ps -e --no-headers | wc -l")
        assert after.ok and int(after.stdout) <= 6  # the reaper, the wrapper, bash, ps, wc
    assert _gone(docker_client, name)


def test_memory_hog_is_killed_by_the_memory_limit_and_reported(hostile, docker_client):
    with hostile.create("memhog") as sb:
        name = sb.name
        result = sb.exec(["python", "-c", "x = []\nwhile True: x.append(bytearray(50 << 20))"], timeout=60)
        assert result.exit_code == 137 and result.oom_killed and not result.timed_out
        assert "out of memory (limit 256m)" in result.stderr
        assert sb.exec("echo still alive").stdout == "still alive\n"
    assert _gone(docker_client, name)


def test_infinite_loop_is_killed_with_its_whole_process_tree(hostile, docker_client):
    with hostile.create("loop") as sb:
        name = sb.name
        result = sb.exec("sleep 500 & (while :; do :; done) & while :; do :; done", timeout=3)
        assert result.timed_out and result.exit_code == 124 and 3 <= result.duration_s < 30
        assert sb.exec("pgrep -c -x sleep || true").stdout.strip() == "0"
    assert _gone(docker_client, name)


def test_tests_writing_outside_the_work_dir_fail_and_the_host_is_untouched(hostile, docker_client):
    with hostile.create("escape") as sb:
        name = sb.name
        report = sb.run_tests(["tests/test_escape.py"])
    statuses = {k.split("::")[1]: v for k, v in report.tests.items()}
    assert statuses == {
        "test_writes_outside_work[/etc/r1agent-evil]": "failed",
        "test_writes_outside_work[/work/../outside]": "failed",
        "test_writes_outside_work[/usr/lib/evil.py]": "failed",
        "test_writes_to_host_tmp_path": "passed",  # the sandbox's own /tmp
    }
    assert "Read-only file system" in report.output_tail
    assert not Path(HOST_MARK).exists() and not Path("/etc/r1agent-evil").exists()
    assert _gone(docker_client, name)


def test_tests_trying_the_network_fail(hostile, docker_client):
    with hostile.create("network") as sb:
        name = sb.name
        report = sb.run_tests(["tests/test_network.py"])
    assert set(report.tests.values()) == {"failed"} and len(report.tests) == 2
    assert _gone(docker_client, name)


def test_background_processes_left_by_a_test_are_reported_and_killed(hostile, docker_client):
    with hostile.create("daemons") as sb:
        name = sb.name
        result = sb.exec(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_background.py"])
        assert result.ok and result.leftover_processes == 2
        assert "2 background process(es) left running were killed" in result.stderr
        assert sb.exec("pgrep -c sleep || true").stdout.strip() == "0"
    assert _gone(docker_client, name)

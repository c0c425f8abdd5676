"""The local backend: same interface on the host, in a temporary copy, under bubblewrap when present."""

from __future__ import annotations

import shutil

import pytest

from r1agent.sandbox import PatchError, grade, open_backend
from r1agent.sandbox.local_backend import LocalBackend


@pytest.fixture
def local(make_repo, sample_files, make_settings):
    repo = make_repo(sample_files)
    return repo, open_backend(make_settings(backend="local"), repo)


def test_open_backend_gives_local_only_when_the_setting_says_so(local):
    assert isinstance(local[1], LocalBackend)


def test_patch_tests_and_diff_work_on_a_copy(local, fix_add):
    repo, backend = local
    with backend.create("base") as sb:
        baseline = sb.run_tests()
    with backend.create("fix") as sb:
        work = sb.work
        sb.apply_patch(fix_add)
        candidate = sb.run_tests()
        assert "+    return a + b" in sb.diff()
        with pytest.raises(PatchError):
            sb.apply_patch(fix_add)
    assert grade(baseline, candidate).fail_to_pass == ["tests/test_calc.py::test_add"]
    assert "a - b" in (repo / "calc.py").read_text()
    assert not work.exists()


def test_timeout_kills_the_command(local):
    _, backend = local
    with backend.create("loop") as sb:
        result = sb.exec("while :; do :; done", timeout=1)
    assert result.timed_out and result.exit_code == 124


@pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")
def test_under_bubblewrap_there_is_no_network_and_the_host_is_read_only(local):
    _, backend = local
    with backend.create("jail") as sb:
        assert not sb.exec("touch /etc/r1agent-local-evil").ok
        net = sb.exec(["python3", "-c", "import socket; socket.create_connection(('1.1.1.1', 80), timeout=3)"])
        assert "unreachable" in net.stderr
        assert sb.exec("touch inside").ok

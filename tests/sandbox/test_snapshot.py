"""The snapshot is the working tree as git sees it, and taking it never changes the user's repo."""

from __future__ import annotations

import subprocess
import tarfile

import pytest

from r1agent.errors import RepoError
from r1agent.sandbox.snapshot import snapshot_paths, snapshot_tar


def _git_state(repo):
    status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--ignored"], capture_output=True, text=True).stdout
    index = (repo / ".git" / "index").read_bytes() if (repo / ".git" / "index").exists() else b""
    return status, index


def test_snapshot_has_uncommitted_and_untracked_files_but_not_ignored_ones(make_repo):
    repo = make_repo({"a.py": "old\n", ".gitignore": "*.log\nbuild/\n", "gone.py": "x\n"})
    (repo / "a.py").write_text("new\n")
    (repo / "new.py").write_text("fresh\n")
    (repo / "debug.log").write_text("noise\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.py").write_text("artifact\n")
    (repo / "gone.py").unlink()
    before = _git_state(repo)

    with snapshot_tar(repo) as buf, tarfile.open(fileobj=buf) as tar:
        files = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}

    assert files == {"a.py": "new\n", "new.py": "fresh\n", ".gitignore": "*.log\nbuild/\n"}
    assert _git_state(repo) == before


def test_snapshot_works_in_a_repo_without_commits(make_repo):
    repo = make_repo({"main.py": "print(1)\n", "pkg/mod.py": ""}, commit=False)
    assert snapshot_paths(repo) == ["main.py", "pkg/mod.py"]
    with snapshot_tar(repo) as buf, tarfile.open(fileobj=buf) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["pkg"].isdir() and members["pkg"].uid == 1000
    assert members["main.py"].uid == 1000


def test_snapshot_keeps_executable_bits_and_symlinks(make_repo):
    repo = make_repo({"run.sh": "#!/bin/sh\n"})
    (repo / "run.sh").chmod(0o755)
    (repo / "link.sh").symlink_to("run.sh")
    with snapshot_tar(repo) as buf, tarfile.open(fileobj=buf) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["run.sh"].mode == 0o755
    assert members["link.sh"].issym() and members["link.sh"].linkname == "run.sh"


def test_snapshot_of_a_plain_directory_is_refused(tmp_path):
    with pytest.raises(RepoError, match="not a git repository"):
        snapshot_paths(tmp_path)


def test_a_resumed_run_tests_the_snapshot_it_began_with(make_repo, tmp_path):
    import io
    import tarfile

    from r1agent.sandbox.baseline import FrozenSnapshot

    class Run(FrozenSnapshot):
        def __init__(self, repo, kept):
            self.repo, self.snapshot_file = repo, kept

    def text_of(snapshot: bytes, name: str) -> str:
        with tarfile.open(fileobj=io.BytesIO(snapshot)) as tar:
            return tar.extractfile(name).read().decode()

    repo = make_repo({"calc.py": "X = 1\n"})
    (repo / "calc.py").write_text("X = 2\n")  # uncommitted work, part of the snapshot
    kept = tmp_path / "run" / "snapshot.tar"
    kept.parent.mkdir()
    first = Run(repo, kept).snapshot()
    (repo / "calc.py").write_text("X = 3\n")  # edited after the run was killed
    resumed = Run(repo, kept)
    assert resumed.snapshot() == first and text_of(first, "calc.py") == "X = 2\n"
    resumed.refresh_snapshot()  # after a hand-off, a follow-up takes the tree as it is now
    assert not kept.exists() and text_of(resumed.snapshot(), "calc.py") == "X = 3\n"

"""r1agent.diffs reads the patches git itself writes: made here by real git in a real repo."""

from __future__ import annotations

import subprocess

import pytest

from r1agent.diffs import changed_lines, diffstat, kept_files, touched_files
from r1agent.tools.edits.patch import file_patch


def git(repo, *args) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git_patch(tmp_path):
    """A patch from `git diff --cached` that modifies, creates, removes and renames files."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.invalid")
    git(repo, "config", "user.name", "t")
    (repo / "keep.sql").write_text("select 1;\n-- a comment\n-- another\nselect 2;\n")
    (repo / "gone.py").write_text("x = 1\ny = 2\n")
    (repo / "old_name.py").write_text("".join(f"line {i}\n" for i in range(20)))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    # removed lines that begin with "-- " (SQL comments) must still count as removed lines
    (repo / "keep.sql").write_text("select 1;\nselect 2;\n")
    (repo / "gone.py").unlink()
    (repo / "new.py").write_text("print('new')\n")
    git(repo, "mv", "old_name.py", "new_name.py")
    git(repo, "add", "-A")
    return git(repo, "diff", "--cached", "-M")


def test_diffstat_counts_every_line_and_no_dev_null(git_patch):
    stat = diffstat(git_patch)
    assert "/dev/null" not in stat and "dev/null" not in stat
    assert stat == {"gone.py": [0, 2], "keep.sql": [0, 2], "new.py": [1, 0], "new_name.py": [0, 0]}


def test_touched_and_kept_files(git_patch):
    assert sorted(touched_files(git_patch)) == ["gone.py", "keep.sql", "new.py", "new_name.py"]
    assert sorted(kept_files(git_patch)) == ["keep.sql", "new.py", "new_name.py"]


def test_equal_fixes_with_other_spacing_and_context_compare_equal():
    before = "def f(x):\n    return x+1\n\n\ndef g():\n    pass\n"
    one = file_patch("m.py", before, before.replace("return x+1", "return x + 2"))
    other = file_patch("m.py", before, before.replace("return x+1", "return  x +  2"))
    assert one != other and changed_lines(one) == changed_lines(other)
    assert changed_lines(one) != changed_lines(file_patch("m.py", before, before.replace("x+1", "x+3")))


def test_text_that_is_not_a_diff_has_no_files():
    assert diffstat("") == {} and touched_files("no diff here\n") == []
    assert changed_lines("@@ broken\n") == ()

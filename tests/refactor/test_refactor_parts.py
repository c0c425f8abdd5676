"""The parts of `r1agent refactor` that need no model or sandbox: reading R1's list, the focus, applying saved patches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from r1agent.refactor import store
from r1agent.refactor.outcome import VerifiedSuggestion
from r1agent.refactor.staged import export_staged_tree, staged_focus
from r1agent.refactor.suggest import parse_suggestions

R1AGENT = Path(sys.executable).parent / "r1agent"
EDIT = "a.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_suggestions_are_read_despite_markdown_decoration_and_capped():
    answer = (f"Some preamble.\n\n1. **Suggestion:** Rename x for clarity\n{EDIT}\n"
              f"## Suggestion 2: Inline the constant\n{EDIT.replace('x = 2', 'x = 3')}\n"
              f"Suggestion: A third one\n{EDIT.replace('x = 2', 'x = 4')}")
    found = parse_suggestions(answer, limit=2)
    assert [s.rationale for s in found] == ["Rename x for clarity", "Inline the constant"]
    assert found[0].answer_text.startswith("a.py\n") and "x = 3" in found[1].answer_text
    assert found[0].id != found[1].id and len(found[0].id) == 8


def test_focus_and_staged_copy_come_from_the_index_not_the_work_tree(make_repo, tmp_path):
    repo = make_repo({"a.py": "x = 1\n", "b.py": "y = 1\n"})
    (repo / "a.py").write_text("x = 1\nz = 3\n")
    git(repo, "add", "a.py")
    (repo / "a.py").write_text("unstaged = True\n")
    index_before = (repo / ".git" / "index").read_bytes()

    focus = staged_focus(repo)
    export_staged_tree(repo, tmp_path / "copy")

    assert focus.paths == ("a.py",) and focus.texts["a.py"] == "x = 1\nz = 3\n" and "+z = 3" in focus.diff
    assert (tmp_path / "copy" / "a.py").read_text() == "x = 1\nz = 3\n"
    assert (tmp_path / "copy" / "b.py").read_text() == "y = 1\n"
    assert (repo / "a.py").read_text() == "unstaged = True\n"
    assert (repo / ".git" / "index").read_bytes() == index_before


def test_apply_touches_the_index_only_with_stage_and_refuses_unknown_ids(make_repo):
    repo = make_repo({"a.py": "x = 1\n"})
    patch = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    store.save(repo, VerifiedSuggestion(id="0badc0de", rationale="Bump x", files=["a.py"], patch=patch))

    unknown = subprocess.run([str(R1AGENT), "refactor", "--apply", "feedf00d"], cwd=repo, capture_output=True, text=True)
    assert unknown.returncode == 2 and "no saved suggestion feedf00d" in unknown.stderr
    assert (repo / "a.py").read_text() == "x = 1\n"

    done = subprocess.run([str(R1AGENT), "refactor", "--apply", "0badc0de", "--stage"], cwd=repo,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Bump x" in done.stdout
    assert (repo / "a.py").read_text() == "x = 2\n"
    assert git(repo, "show", ":a.py") == "x = 2\n"

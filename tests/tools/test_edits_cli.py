"""`r1agent apply`: exit 0 applied, 1 refused with feedback, 2 bad input; --dry-run changes nothing."""

from __future__ import annotations

import json
import subprocess

import pytest

from r1agent.cli import main

GOOD = "app.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n"
STALE = "app.py\n```python\n<<<<<<< SEARCH\ny = 1\n=======\ny = 2\n>>>>>>> REPLACE\n```\n"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.fixture
def repo(make_repo, tmp_path):
    return make_repo({"app.py": "x = 1\n"})


def _answer(tmp_path, text: str):
    path = tmp_path / "answer.md"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_apply_writes_the_files_and_prints_the_patch(repo, tmp_path, capsys):
    code, out, err = _run(capsys, "-C", str(repo), "apply", _answer(tmp_path, GOOD))
    assert code == 0
    assert out.startswith("diff --git a/app.py b/app.py\n") and "+x = 2\n" in out
    assert "changed app.py" in err
    assert (repo / "app.py").read_text() == "x = 2\n"
    assert subprocess.run(["git", "apply", "-R", "--check", "-"], cwd=repo, input=out.encode()).returncode == 0


def test_dry_run_prints_the_patch_and_changes_nothing(repo, tmp_path, capsys):
    code, out, _ = _run(capsys, "-C", str(repo), "apply", _answer(tmp_path, GOOD), "--dry-run")
    assert code == 0 and "+x = 2\n" in out
    assert (repo / "app.py").read_text() == "x = 1\n"


def test_refused_answer_exits_1_with_the_feedback(repo, tmp_path, capsys):
    code, out, _ = _run(capsys, "-C", str(repo), "apply", _answer(tmp_path, STALE))
    assert code == 1
    assert "Block 1 (app.py): SEARCH does not match the file." in out
    assert "    1 | x = 1" in out
    assert (repo / "app.py").read_text() == "x = 1\n"


def test_json_output_carries_outcomes_and_feedback(repo, tmp_path, capsys):
    code, out, _ = _run(capsys, "-C", str(repo), "apply", _answer(tmp_path, GOOD + STALE), "--json", "--dry-run")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["patch"] == ""
    assert [(o["index"], o["status"]) for o in data["applied"]] == [(1, "applied")]
    assert [(o["index"], o["reason"]) for o in data["failed"]] == [(2, "not_found")]
    assert "Block 1 applied cleanly" in data["feedback"]


def test_edit_outside_the_repo_is_an_edit_error_exit_2(repo, tmp_path, capsys):
    answer = GOOD + "../escape.py\n<<<<<<< SEARCH\n=======\nboom = 1\n>>>>>>> REPLACE\n"
    code, out, err = _run(capsys, "-C", str(repo), "apply", _answer(tmp_path, answer))
    assert code == 2 and out == ""
    assert err.strip() == "r1agent: error: ../escape.py: '..' is refused; use a path inside the repo"
    assert (repo / "app.py").read_text() == "x = 1\n"
    assert not (repo.parent / "escape.py").exists()


def test_missing_or_non_utf8_answer_file_is_bad_input(repo, tmp_path, capsys):
    code, _, err = _run(capsys, "-C", str(repo), "apply", str(tmp_path / "nope.md"))
    assert code == 2 and "answer file not found" in err
    (tmp_path / "bin.md").write_bytes(b"\xff\xfe\x00")
    code, _, err = _run(capsys, "-C", str(repo), "apply", str(tmp_path / "bin.md"))
    assert code == 2 and "not UTF-8" in err

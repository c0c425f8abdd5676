"""The edit API as the agent uses it: the format prompt, atomic writes, git-identical patches, feedback."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from r1agent.tools.edits import (
    FORMAT_PROMPT,
    FUZZY_LINES_PER_DIFFERENCE,
    FUZZY_THRESHOLD,
    Reason,
    Status,
    apply_answer,
    parse_answer,
)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def _block(path: str, search: str, replace: str) -> str:
    return f"{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


def _git_diff_without_index_lines(repo: Path) -> str:
    raw = subprocess.run(["git", "diff", "--no-color", "--no-ext-diff"], cwd=repo, check=True,
                         capture_output=True).stdout.decode("utf-8")  # bytes: keep the CRs of CRLF lines
    return "".join(line for line in raw.splitlines(keepends=True) if not line.startswith("index "))


def test_format_prompt_examples_parse_and_apply(make_repo):
    parsed = parse_answer(FORMAT_PROMPT)
    assert not parsed.problems
    assert [b.path for b in parsed.blocks] == ["src/shapes/area.py", "tests/test_area.py"]
    repo = make_repo({"src/shapes/area.py": "def area(w, h):\n    return w * h\n"})
    result = apply_answer(FORMAT_PROMPT, repo)
    assert result.ok, result.feedback
    assert result.files["src/shapes/area.py"] == "def area(width, height):\n    return width * height\n"
    assert result.files["tests/test_area.py"].startswith("from shapes.area import area\n")


def test_format_prompt_states_the_rules_the_matcher_enforces():
    for rule in ("exactly", "unique", "must not overlap", "`...`", "leave REPLACE empty", "leave SEARCH empty"):
        assert rule in FORMAT_PROMPT


def test_patch_is_what_git_diff_prints_for_the_same_change(make_repo):
    repo = make_repo({"x.txt": "a\nb\nc", "crlf.txt": "one\r\ntwo\r\nthree\r\n"})
    answer = _block("x.txt", "c\n", "C\n") + _block("crlf.txt", "two\n", "2\nzwei\n") + _block("new/n.txt", "", "hi\n")
    result = apply_answer(answer, repo, write=True)
    assert result.ok, result.feedback
    _git(repo, "add", "-N", "new/n.txt")
    assert result.patch == _git_diff_without_index_lines(repo)
    assert (repo / "x.txt").read_bytes() == b"a\nb\nC"
    assert (repo / "crlf.txt").read_bytes() == b"one\r\n2\r\nzwei\r\nthree\r\n"


def test_without_write_nothing_on_disk_changes(make_repo):
    repo = make_repo({"a.py": "x = 1\n"})
    result = apply_answer(_block("a.py", "x = 1\n", "x = 2\n"), repo)
    assert result.ok and result.files == {"a.py": "x = 2\n"}
    assert (repo / "a.py").read_text() == "x = 1\n"


def test_write_keeps_the_file_mode(make_repo):
    repo = make_repo({"run.sh": "echo one\n"})
    (repo / "run.sh").chmod(0o755)
    assert apply_answer(_block("run.sh", "echo one\n", "echo two\n"), repo, write=True).ok
    assert (repo / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (repo / "run.sh").read_text() == "echo two\n"


def test_feedback_lets_the_next_round_resend_only_the_failed_block(make_repo):
    repo = make_repo({"m.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n"})
    first = apply_answer(_block("m.py", "def f():\n    return 1\n", "def f():\n    return 10\n")
                         + _block("m.py", "def g():\n    return 3\n", "def g():\n    return 30\n"), repo)
    assert not first.ok and [o.index for o in first.failed] == [2]
    assert "Block 1 applied cleanly; do not resend it." in first.feedback
    assert "    5 | def g():" in first.feedback and "    6 |     return 2" in first.feedback
    assert len(first.feedback) < 600
    # the agent carries the applied blocks forward and adds only the corrected one
    second = apply_answer(first.applied_text + _block("m.py", "def g():\n    return 2\n", "def g():\n    return 30\n"),
                          repo)
    assert second.ok, second.feedback
    assert second.files["m.py"] == "def f():\n    return 10\n\n\ndef g():\n    return 30\n"


def test_new_file_with_a_syntax_error_is_refused_with_its_line(make_repo):
    repo = make_repo({"a.py": "x = 1\n"})
    result = apply_answer(_block("pkg/new.py", "", "def ok():\n    return 1\n\ndef bad(:\n    pass\n"), repo)
    assert not result.ok
    assert result.failed[0].reason is Reason.SYNTAX_ERROR and result.failed[0].line == 4
    assert "syntax error at line 4" in result.feedback


def test_fuzzy_match_needs_the_threshold_and_few_differing_lines(make_repo):
    body = "def total(items):\n    # sum the prices\n    values = [i.price for i in items]\n    return sum(values)\n"
    repo = make_repo({"a.py": body})
    new = "def total(items):\n    # sum the prices\n    values = [i.price * i.qty for i in items]\n    return sum(values)\n"
    typo = body.replace("prices", "price")  # one line of four differs by a letter
    far = body.replace("[i.price for i in items]", "[t.cost for t in things if t]")
    short = "def total(items):\n    # sum the price\n"  # one of two lines differs: too short to guess
    assert apply_answer(_block("a.py", typo, new), repo).applied[0].strategy == "fuzzy"
    assert apply_answer(_block("a.py", far, new), repo).failed[0].reason is Reason.NOT_FOUND
    assert apply_answer(_block("a.py", short, "def total(items):\n"), repo).failed[0].reason is Reason.NOT_FOUND
    assert 0.5 < FUZZY_THRESHOLD < 1 and FUZZY_LINES_PER_DIFFERENCE == 4


def test_partial_path_is_resolved_with_git_ls_files_and_untracked_files_count(make_repo):
    repo = make_repo({"pkg/core/engine.py": "SPEED = 1\n"})
    (repo / "pkg" / "core" / "extra.py").write_text("MORE = 1\n")  # untracked but not ignored
    result = apply_answer(_block("core/engine.py", "SPEED = 1\n", "SPEED = 2\n")
                          + _block("extra.py", "MORE = 1\n", "MORE = 2\n"), repo)
    assert result.ok, result.feedback
    assert sorted(result.files) == ["pkg/core/engine.py", "pkg/core/extra.py"]


def test_outcomes_report_strategy_and_line_for_each_block(make_repo):
    repo = make_repo({"a.py": "class A:\n    def f(self):\n        return 1\n"})
    result = apply_answer(_block("a.py", "def f(self):\n    return 1\n", "def f(self):\n    return 2\n"), repo)
    (outcome,) = result.applied
    assert (outcome.status, outcome.strategy, outcome.line, outcome.path) == (Status.APPLIED, "indent", 2, "a.py")
    assert result.files["a.py"] == "class A:\n    def f(self):\n        return 2\n"


def test_an_answer_where_every_block_is_already_applied_is_not_ok_but_not_failed(make_repo):
    repo = make_repo({"a.py": "x = 2\ny = 3\n"})
    result = apply_answer(_block("a.py", "x = 1\ny = 3\n", "x = 2\ny = 3\n"), repo)
    assert not result.ok and not result.failed and result.patch == ""
    assert re.search(r"Nothing changed: every edit block is already applied", result.feedback)


def test_an_in_repo_symlink_edits_its_target_and_the_patch_names_the_target(make_repo):
    repo = make_repo({"real/conf.py": "A = 1\n"})
    (repo / "alias").symlink_to("real", target_is_directory=True)
    result = apply_answer(_block("alias/conf.py", "A = 1\n", "A = 2\n"), repo, write=True)
    assert result.ok, result.feedback
    assert list(result.files) == ["real/conf.py"] and "a/real/conf.py" in result.patch
    assert (repo / "real" / "conf.py").read_text() == "A = 2\n"


def test_a_numpydoc_heading_underline_inside_search_is_code_not_the_divider(make_repo):
    # sympy and numpydoc docstrings underline headings with eight '='; the divider is the exact seven.
    source = 'def f(x):\n    """Square.\n\n    Examples\n    ========\n\n    >>> f(2)\n    4\n    """\n    return x + x\n'
    repo = make_repo({"pkg/f.py": source})
    search = '    Examples\n    ========\n\n    >>> f(2)\n    4\n    """\n    return x + x\n'
    answer = _block("pkg/f.py", search, search.replace("x + x", "x * x"))
    parsed = parse_answer(answer)
    assert not parsed.problems
    assert parsed.blocks[0].search == search
    result = apply_answer(answer, repo)
    assert result.ok, result.feedback
    assert result.files["pkg/f.py"] == source.replace("x + x", "x * x")


def test_the_first_prompt_reads_the_same_edit_format_text():
    from r1agent.agent.prompting import EDIT_FORMAT

    assert EDIT_FORMAT.read_text(encoding="utf-8") == FORMAT_PROMPT

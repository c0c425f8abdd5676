"""Every answer in the fixture corpus gets its expected outcome: the exact files, or the specific refusal."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from edits_corpus import Case, build_repo, load_cases

from r1agent.tools.edits import Reason, Status, apply_answer

CASES = load_cases()


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes()
            for p in sorted(repo.rglob("*")) if p.is_file() and ".git" not in p.relative_to(repo).parts}


def test_corpus_is_large_and_covers_every_outcome():
    assert len(CASES) >= 60
    assert {c.expect for c in CASES} == {"ok", "already", "failed"}
    reasons = {c.reason for c in CASES if c.expect == "failed"}
    assert {r.value for r in Reason} - reasons == set(), "each refusal reason has a fixture"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_answer_gets_its_expected_outcome(case: Case, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = build_repo(case, tmp_path / "repo", outside)
    before = _snapshot(repo)

    result = apply_answer(case.answer, repo, write=True)

    for text in case.feedback:
        assert text in result.feedback, result.feedback
    if case.expect == "ok":
        assert result.ok, result.feedback
        assert result.files == case.results
        for path, text in case.results.items():
            assert (repo / path).read_bytes() == text.encode("utf-8")
        # the patch applies with git at the base commit and gives the same files
        _git(repo, "stash", "--include-untracked", "-q")
        _git(repo, "apply", "--whitespace=nowarn", "-", stdin=result.patch)
        for path, text in case.results.items():
            assert (repo / path).read_bytes() == text.encode("utf-8")
    elif case.expect == "already":
        assert not result.ok and not result.failed and result.patch == ""
        assert {o.status for o in result.applied} == {Status.ALREADY_APPLIED}
        assert _snapshot(repo) == before
    else:
        assert not result.ok and result.patch == "" and result.files == {}
        assert case.reason in {o.reason for o in result.failed}, result.feedback
        if case.block is not None:
            assert any(o.index == case.block and o.reason == case.reason for o in result.failed), result.feedback
        assert _snapshot(repo) == before, "a refused answer changes nothing"
        assert not list(outside.iterdir())

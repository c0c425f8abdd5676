"""The batch's inputs and outputs without the agent: instance files, checkouts at base_commit from
bare mirrors, crash-safe records, and the report. Real git repos, real files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from r1agent.batch.instances import load_instances
from r1agent.batch.materialize import materialize
from r1agent.batch.records import (
    PREDICTIONS,
    RECORDS,
    Evaluation,
    InstanceRecord,
    RecordStore,
    Usage,
    read_records,
)
from r1agent.batch.report import write_report
from r1agent.errors import InputError, RepoError


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def history_repo(make_repo) -> tuple[Path, str, str]:
    """A repo with two commits: (path, first sha, second sha)."""
    repo = make_repo({"calc.py": "VERSION = 1\n"}, name="calc")
    first = git(repo, "rev-parse", "HEAD")
    (repo / "calc.py").write_text("VERSION = 2\n")
    git(repo, "commit", "-qam", "bump")
    return repo, first, git(repo, "rev-parse", "HEAD")


def test_swe_bench_lines_parse_with_json_encoded_test_lists(tmp_path):
    path = write_jsonl(tmp_path / "i.jsonl", [{
        "instance_id": "acme__calc-1", "repo": "acme/calc", "base_commit": "abc123", "problem_statement": "boom",
        "FAIL_TO_PASS": '["tests/test_a.py::test_x"]', "PASS_TO_PASS": "[]", "version": "1.0", "created_at": "x",
    }])
    [inst] = load_instances(path)
    assert inst.FAIL_TO_PASS == ["tests/test_a.py::test_x"] and inst.PASS_TO_PASS == []
    assert inst.evaluable and inst.repo_name == "acme/calc"


def test_simple_form_takes_a_repo_path_relative_to_the_file_and_gets_an_id(tmp_path):
    (tmp_path / "proj").mkdir()
    path = write_jsonl(tmp_path / "i.jsonl", [{"repo_path": "proj", "issue": "mean is wrong"}])
    [inst] = load_instances(path)
    assert inst.repo_path == str((tmp_path / "proj").resolve())
    assert inst.problem_statement == "mean is wrong" and inst.instance_id.startswith("proj-")
    assert not inst.evaluable


@pytest.mark.parametrize("row, words", [
    ({"instance_id": "a", "repo": "acme/calc", "problem_statement": "x"}, "base_commit is required"),
    ({"instance_id": "a", "repo": "not a repo", "base_commit": "1", "problem_statement": "x"}, "expected owner/name"),
    ({"instance_id": "a", "repo": "acme/calc", "base_commit": "1"}, "problem_statement"),
    ({"instance_id": "a", "problem_statement": "x"}, "either repo"),
])
def test_bad_instance_names_line_and_field(tmp_path, row, words):
    path = write_jsonl(tmp_path / "i.jsonl", [{"repo_path": "/tmp", "issue": "fine"}, row])
    with pytest.raises(InputError, match=r"i\.jsonl:2: ") as e:
        load_instances(path)
    assert words in str(e.value)


def test_duplicate_ids_and_broken_json_are_refused(tmp_path):
    row = {"instance_id": "a", "repo_path": "/tmp", "issue": "x"}
    with pytest.raises(InputError, match="appears twice"):
        load_instances(write_jsonl(tmp_path / "d.jsonl", [row, row]))
    (tmp_path / "b.jsonl").write_text('{"instance_id": \n')
    with pytest.raises(InputError, match=r"b\.jsonl:1: invalid JSON"):
        load_instances(tmp_path / "b.jsonl")


def test_ids_with_slashes_get_distinct_safe_folder_names(tmp_path):
    path = write_jsonl(tmp_path / "i.jsonl", [
        {"instance_id": "a/b", "repo_path": "/tmp", "issue": "x"},
        {"instance_id": "a:b", "repo_path": "/tmp", "issue": "x"},
    ])
    one, two = load_instances(path)
    assert "/" not in one.slug and one.slug != two.slug


def test_checkout_from_bare_mirror_is_at_base_commit(tmp_path, history_repo):
    repo, first, _second = history_repo
    mirrors = tmp_path / "mirrors"
    mirrors.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(mirrors / "acme__calc.git")], check=True)
    [inst] = load_instances(write_jsonl(tmp_path / "i.jsonl", [
        {"instance_id": "acme__calc-1", "repo": "acme/calc", "base_commit": first, "problem_statement": "x"}]))
    checkout = materialize(inst, tmp_path / "work", mirrors, clone_base="http://127.0.0.1:9/nowhere")
    assert checkout.base_commit == first
    assert (checkout.path / "calc.py").read_text() == "VERSION = 1\n"
    assert git(checkout.path, "status", "--porcelain") == ""


def test_rematerialising_replaces_a_dirty_checkout(tmp_path, history_repo):
    repo, _first, second = history_repo
    [inst] = load_instances(write_jsonl(tmp_path / "i.jsonl", [{"repo_path": str(repo), "issue": "x"}]))
    checkout = materialize(inst, tmp_path / "work")
    assert checkout.base_commit == second
    (checkout.path / "calc.py").write_text("half-done edit\n")
    (checkout.path / "stray.txt").write_text("left by a killed run\n")
    again = materialize(inst, tmp_path / "work")
    assert (again.path / "calc.py").read_text() == "VERSION = 2\n" and not (again.path / "stray.txt").exists()
    assert git(repo, "status", "--porcelain") == ""  # the source repo is never touched


def test_unknown_base_commit_and_missing_mirror_fail_in_one_line(tmp_path, history_repo):
    repo, _first, _second = history_repo
    rows = [{"instance_id": "x", "repo_path": str(repo), "issue": "x", "base_commit": "0" * 40},
            {"instance_id": "y", "repo": "acme/none", "base_commit": "1" * 40, "problem_statement": "x"}]
    bad_commit, no_repo = load_instances(write_jsonl(tmp_path / "i.jsonl", rows))
    with pytest.raises(RepoError, match="is not in"):
        materialize(bad_commit, tmp_path / "work")
    with pytest.raises(RepoError, match="cannot clone"):
        materialize(no_repo, tmp_path / "work", tmp_path, clone_base=str(tmp_path / "no-such-host"))


def record(iid: str, status="verified", repo="acme/calc", **kw) -> InstanceRecord:
    return InstanceRecord(instance_id=iid, repo=repo, status=status, model_patch=f"patch of {iid}\n", **kw)


def test_store_survives_a_torn_last_line_and_drops_unfinished_predictions(tmp_path):
    store = RecordStore(tmp_path)
    store.add(record("a"), "r1agent")
    store.add(record("b"), "r1agent")
    # A crash: c's prediction landed, its record was cut mid-line.
    with open(tmp_path / PREDICTIONS, "a") as fh:
        fh.write(json.dumps({"instance_id": "c", "model_name_or_path": "r1agent", "model_patch": "p"}) + "\n")
    with open(tmp_path / RECORDS, "a") as fh:
        fh.write('{"instance_id": "c", "repo": "ac')
    reopened = RecordStore(tmp_path)
    assert reopened.finished_ids() == {"a", "b"}
    reopened.add(record("c"), "r1agent")
    preds = [json.loads(line) for line in (tmp_path / PREDICTIONS).read_text().splitlines()]
    assert [p["instance_id"] for p in preds] == ["a", "b", "c"]
    assert set(preds[0]) == {"instance_id", "model_name_or_path", "model_patch"}
    assert [r.instance_id for r in read_records(tmp_path)] == ["a", "b", "c"]


def test_report_has_resolved_rate_per_repo_table_and_chart(tmp_path):
    store = RecordStore(tmp_path)
    store.add(record("a", usage=Usage(total=1200), rounds=1, duration_s=40,
                     evaluation=Evaluation(resolved=True, patch_applied=True)), "m")
    store.add(record("b", status="unverified", usage=Usage(total=3000), rounds=3, duration_s=90,
                     evaluation=Evaluation(resolved=False, patch_applied=True)), "m")
    store.add(record("c", status="timeout", repo="acme/other", error="timed out after 5s"), "m")
    path = write_report(tmp_path)
    html = path.read_text()
    assert "1 / 2 (50.0%)" in html  # resolved among the evaluated
    assert "<td>acme/calc</td>" in html and "<td>acme/other</td>" in html
    assert "data:image/png;base64," in html and "timed out after 5s" in html
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_of_a_folder_without_records_is_refused(tmp_path):
    with pytest.raises(InputError, match="no records.jsonl"):
        write_report(tmp_path)

"""What an earlier full run of a repo's suite took, kept per repo (its first commit) in the cache dir."""

from __future__ import annotations

import json
import os
import subprocess

from r1agent.agent.suite_pace import Pace, count_test_defs, record, recorded, repo_key


def test_a_clone_shares_the_record_and_a_kill_never_lowers_a_measurement(make_repo, tmp_path):
    repo = make_repo({"tests/test_a.py": "def test_a():\n    pass\n\n\nasync def test_b():\n    pass\n",
                      "tests/helpers.py": "def test_like():\n    pass\n", "src/mod.py": "def test_not():\n    pass\n"})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    assert count_test_defs(repo) == 2  # test files only
    key = repo_key(repo)
    assert key and repo_key(clone) == key
    assert repo_key(tmp_path / "nowhere") is None
    cache = tmp_path / "cache"
    assert recorded(cache, key) is None
    record(cache, key, 100.0, 50, finished=True)
    assert recorded(cache, repo_key(clone)) == Pace(2.0, True)
    record(cache, key, 60.0, 50, finished=False)  # killed sooner than the suite once took: keep the measurement
    assert recorded(cache, key) == Pace(2.0, True)
    record(cache, key, 300.0, 50, finished=False)
    assert recorded(cache, key) == Pace(6.0, False)
    record(cache, key, 50.0, 50, finished=True)  # a finished run is a measurement: it replaces a bound
    assert recorded(cache, key) == Pace(1.0, True)


def test_a_damaged_record_is_as_none(make_repo, tmp_path):
    key = repo_key(make_repo({"tests/test_a.py": "def test_a():\n    pass\n"}))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "suite-pace.json").write_text("{not json")
    assert recorded(cache, key) is None
    record(cache, key, 10.0, 5, finished=True)
    assert recorded(cache, key) == Pace(2.0, True)
    (cache / "suite-pace.json").write_text(json.dumps({key: {"seconds_per_test": "x"}}))
    assert recorded(cache, key) is None


def test_the_key_is_the_oldest_root_so_a_history_merged_in_later_keeps_it(make_repo):
    repo = make_repo({"tests/test_a.py": "def test_a():\n    pass\n"})
    before = repo_key(repo)
    main = subprocess.run(["git", "-C", str(repo), "branch", "--show-current"], capture_output=True, text=True,
                          check=True).stdout.strip()

    def git(*args: str, date: str = "2030-01-01T00:00:00") -> None:
        env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)

    git("checkout", "-q", "--orphan", "docs")
    git("rm", "-q", "-rf", ".")
    (repo / "README").write_text("docs\n")
    git("add", "README")
    git("commit", "-q", "-m", "docs history")
    git("checkout", "-q", main)
    git("merge", "-q", "--allow-unrelated-histories", "-m", "merge docs", "docs")
    roots = subprocess.run(["git", "-C", str(repo), "rev-list", "--max-parents=0", "HEAD"], capture_output=True,
                           text=True, check=True).stdout.split()
    assert len(roots) == 2 and repo_key(repo) == before

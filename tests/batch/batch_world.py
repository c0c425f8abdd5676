"""A small SWE-bench-like world for the batch tests: two real repos with known bugs at known
commits, bare mirrors made with `git clone --bare`, an instances file, and scripted R1 answers
chosen per instance by a marker in the issue text."""

from __future__ import annotations

import json
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

from r1agent.cli import main
from r1agent.scripted import ScriptedEndpoint, ScriptedTurn

PYPROJECT = textwrap.dedent("""\
    [project]
    name = "{name}"
    version = "0.1.0"

    [tool.pytest.ini_options]
    testpaths = ["tests"]
    pythonpath = ["."]
""")

STATS_BUGGY_MEAN = textwrap.dedent('''\
    def mean(xs):
        return sum(xs) / (len(xs) - 1)


    def median(xs):
        ordered = sorted(xs)
        mid = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[mid]
        return (ordered[mid - 1] + ordered[mid]) / 2
''')
STATS_BUGGY_MEDIAN = STATS_BUGGY_MEAN.replace("(len(xs) - 1)", "len(xs)").replace(
    "return (ordered[mid - 1] + ordered[mid]) / 2", "return ordered[mid - 1]")
STATS_TESTS = textwrap.dedent("""\
    from stats import mean, median


    def test_mean():
        assert mean([1, 2, 3, 4]) == 2.5


    def test_median_odd():
        assert median([3, 1, 2]) == 2


    def test_median_even():
        assert median([4, 1, 3, 2]) == 2.5
""")
TEXT_SRC = 'def shout(s):\n    return s.lower() + "!"\n'
TEXT_TESTS = 'from text import shout\n\n\ndef test_shout():\n    assert shout("hi") == "HI!"\n'


def edit(path: str, search: str, replace: str) -> str:
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n\nCommit: Fix it\n"


FIX_MEAN = edit("stats.py", "    return sum(xs) / (len(xs) - 1)", "    return sum(xs) / len(xs)")
FIX_MEDIAN = edit("stats.py", "    return ordered[mid - 1]", "    return (ordered[mid - 1] + ordered[mid]) / 2")
FIX_SHOUT = edit("text.py", '    return s.lower() + "!"', '    return s.upper() + "!"')


def scripted_turns() -> list[ScriptedTurn]:
    """One answer per instance, picked by the marker its issue carries; reusable any number of times."""
    return [
        ScriptedTurn(reasoning="mean divides by n - 1.", answer=FIX_MEAN, match="ISSUE-MEAN"),
        ScriptedTurn(reasoning="median of even lists takes one value.", answer=FIX_MEDIAN, match="ISSUE-MEDIAN"),
        ScriptedTurn(reasoning="shout lowercases.", answer=FIX_SHOUT, match="ISSUE-SHOUT"),
    ]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def commit_files(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def new_test_patch(path: str, body: str) -> str:
    """A git patch adding a new test file, as SWE-bench's test_patch does."""
    lines = body.splitlines()
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines))


@dataclass
class World:
    root: Path
    mirrors: Path
    instances: Path
    ids: list[str]


def build_world(root: Path) -> World:
    """Repos acme/stats (two commits, one bug each) and acme/text, their bare mirrors, three instances."""
    stats, text = root / "src" / "stats", root / "src" / "text"
    for repo in (stats, text):
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
    mean_commit = commit_files(stats, {"pyproject.toml": PYPROJECT.format(name="stats"), "stats.py": STATS_BUGGY_MEAN,
                                       "tests/test_stats.py": STATS_TESTS}, "stats with a mean bug")
    median_commit = commit_files(stats, {"stats.py": STATS_BUGGY_MEDIAN}, "fix mean, break median")
    text_commit = commit_files(text, {"pyproject.toml": PYPROJECT.format(name="text"), "text.py": TEXT_SRC,
                                      "tests/test_text.py": TEXT_TESTS}, "text helpers")
    mirrors = root / "mirrors"
    mirrors.mkdir()
    for repo, name in ((stats, "acme__stats.git"), (text, "acme__text.git")):
        subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(mirrors / name)], check=True)
    extra_mean = "from stats import mean\n\n\ndef test_mean_of_one():\n    assert mean([7]) == 7\n"
    # The shout fix passes the repo's test but not the hidden one: unresolved by SWE-bench's rules.
    extra_shout = 'from text import shout\n\n\ndef test_shout_strips():\n    assert shout(" hi ") == "HI!"\n'
    rows = [
        {"instance_id": "acme__stats-1", "repo": "acme/stats", "base_commit": mean_commit,
         "problem_statement": "ISSUE-MEAN: mean([1, 2, 3, 4]) returns 3.33, expected 2.5.",
         "test_patch": new_test_patch("tests/test_hidden.py", extra_mean),
         "FAIL_TO_PASS": json.dumps(["tests/test_hidden.py::test_mean_of_one", "tests/test_stats.py::test_mean"]),
         "PASS_TO_PASS": json.dumps(["tests/test_stats.py::test_median_odd", "tests/test_stats.py::test_median_even"]),
         "environment_setup_commit": mean_commit},
        {"instance_id": "acme__stats-2", "repo": "acme/stats", "base_commit": median_commit,
         "problem_statement": "ISSUE-MEDIAN: median of an even-length list returns one element, not the mean of two.",
         "test_patch": "", "FAIL_TO_PASS": json.dumps(["tests/test_stats.py::test_median_even"]),
         # "[100%]": debris SWE-bench's log parser leaves in some instances' lists; it names no test.
         "PASS_TO_PASS": json.dumps(["tests/test_stats.py::test_mean", "tests/test_stats.py::test_median_odd", "[100%]"])},
        {"instance_id": "acme__text-1", "repo": "acme/text", "base_commit": text_commit,
         "problem_statement": "ISSUE-SHOUT: shout('hi') gives 'hi!', it should shout.",
         "test_patch": new_test_patch("tests/test_hidden.py", extra_shout),
         "FAIL_TO_PASS": json.dumps(["tests/test_hidden.py::test_shout_strips", "tests/test_text.py::test_shout"]),
         "PASS_TO_PASS": "[]"},
    ]
    instances = root / "instances.jsonl"
    instances.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return World(root, mirrors, instances, [r["instance_id"] for r in rows])


def subset(world: World, dest: Path, ids: list[str]) -> World:
    """The same world with only some of its instances."""
    rows = [r for r in read_jsonl(world.instances) if r["instance_id"] in ids]
    dest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return World(world.root, world.mirrors, dest, ids)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Small and quick: one candidate, one round, no reproduction test.
SETTINGS = ["--set", "budget.candidates=1", "--set", "budget.rounds=1", "--set", "sandbox.parallel=2"]


def batch_args(world: World, out: Path, endpoint: ScriptedEndpoint, *extra: str) -> list[str]:
    return [*SETTINGS, "batch", str(world.instances), "--out", str(out), "--mirrors", str(world.mirrors),
            "--endpoint", endpoint.base_url, "--no-reproduce", *extra]


def run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    return 0

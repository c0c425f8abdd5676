"""Property tests: random files and random non-overlapping blocks apply exactly, and the patch agrees with git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from r1agent.tools.edits import apply_answer

PATH = "data/file.txt"
# No marker characters (<, =, >) or backticks: a file line equal to "=======" cannot be quoted in a block.
LINE = st.text(alphabet=st.sampled_from(list("abcxyz  \t_.:(){}#é日")), max_size=12)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("prop")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "config", "core.autocrlf", "false"], cwd=root, check=True)
    (root / "data").mkdir()
    return root


@st.composite
def edit_plans(draw):
    """A file, a split of it into segments, and new text for some of the segments."""
    lines = draw(st.lists(LINE, min_size=1, max_size=30))
    cuts = sorted(draw(st.sets(st.integers(1, len(lines) - 1), max_size=6)) if len(lines) > 1 else set())
    bounds = [0, *cuts, len(lines)]
    segments = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
    edits = {}
    for seg in segments:
        if draw(st.booleans()):
            edits[seg] = draw(st.lists(LINE, max_size=4))
    assume(edits)
    order = draw(st.permutations(list(edits)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return lines, edits, order, newline


def _count(lines: list[str], part: list[str]) -> int:
    return sum(lines[i: i + len(part)] == part for i in range(len(lines) - len(part) + 1))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.filter_too_much])
@given(plan=edit_plans())
def test_blocks_apply_to_exactly_the_intended_file_and_patch_round_trips_through_git(repo, plan):
    lines, edits, order, newline = plan
    for (a, b), new in edits.items():
        old = lines[a:b]
        assume(_count(lines, old) == 1)  # a unique SEARCH: ambiguity is refused by design
        assume([x.rstrip() for x in old] != [x.rstrip() for x in new])
        assume(lines[a: a + len(new)] != new)  # not already present where it would go
    original = "".join(line + newline for line in lines)
    intended_lines: list[str] = []
    for a, b in _segments(lines, edits):
        intended_lines += edits.get((a, b), lines[a:b])
    intended = "".join(line + newline for line in intended_lines)
    answer = "\n".join(
        f"{PATH}\n<<<<<<< SEARCH\n" + "".join(x + "\n" for x in lines[a:b]) + "=======\n"
        + "".join(x + "\n" for x in edits[(a, b)]) + ">>>>>>> REPLACE\n"
        for a, b in order
    )
    target = repo / PATH
    target.write_bytes(original.encode("utf-8"))

    result = apply_answer(answer, repo)

    assert result.ok, result.feedback
    assert result.files[PATH].encode("utf-8") == intended.encode("utf-8")
    assert target.read_bytes() == original.encode("utf-8"), "write=False leaves the file alone"
    done = subprocess.run(["git", "apply", "--whitespace=nowarn", "-"], cwd=repo, input=result.patch.encode("utf-8"),
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert target.read_bytes() == intended.encode("utf-8")


def _segments(lines: list[str], edits: dict) -> list[tuple[int, int]]:
    """Edited segments plus the untouched stretches between them, in file order."""
    out, pos = [], 0
    for a, b in sorted(edits):
        if pos < a:
            out.append((pos, a))
        out.append((a, b))
        pos = b
    if pos < len(lines):
        out.append((pos, len(lines)))
    return out


@st.composite
def indented_plans(draw):
    """A file indented one level deeper than the SEARCH/REPLACE the model writes for it."""
    words = draw(st.lists(st.from_regex(r"[a-z]{1,6}(\(\))?", fullmatch=True), min_size=2, max_size=20, unique=True))
    levels = draw(st.lists(st.integers(0, 2), min_size=len(words), max_size=len(words)))
    a = draw(st.integers(0, len(words) - 1))
    b = draw(st.integers(a + 1, len(words)))
    new = draw(st.lists(st.tuples(st.integers(0, 2), st.from_regex(r"[A-Z][a-z]{0,5}", fullmatch=True)),
                        min_size=1, max_size=4))
    unit = draw(st.sampled_from(["    ", "\t"]))
    return words, levels, a, b, new, unit


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=indented_plans())
def test_search_written_without_the_files_indentation_is_reindented_to_the_file(repo, plan):
    words, levels, a, b, new, unit = plan
    model = "    "  # the model always writes four spaces per level
    file_lines = [unit + unit * lvl + w for w, lvl in zip(words, levels, strict=True)]
    search = [model * lvl + w for w, lvl in zip(words[a:b], levels[a:b], strict=True)]
    replace = [model * lvl + w for lvl, w in new]
    intended = file_lines[:a] + [unit + unit * lvl + w for lvl, w in new] + file_lines[b:]
    (repo / PATH).write_text("".join(x + "\n" for x in file_lines), encoding="utf-8")
    answer = f"{PATH}\n<<<<<<< SEARCH\n" + "".join(x + "\n" for x in search) + "=======\n" + "".join(
        x + "\n" for x in replace) + ">>>>>>> REPLACE\n"

    result = apply_answer(answer, repo)

    assert result.ok, result.feedback
    assert result.files[PATH] == "".join(x + "\n" for x in intended)

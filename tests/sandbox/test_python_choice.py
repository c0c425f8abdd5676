"""Which Python a repo gets: its own declarations first, then the Python settled at its commit date."""

from __future__ import annotations

from datetime import date

import pytest

from r1agent.sandbox.python_choice import choose_python, dependency_cutoff


def write(root, files):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_requires_python_bounds_and_classifiers_choose(tmp_path):
    write(tmp_path, {"pyproject.toml": '[project]\nrequires-python = ">=3.10"\nclassifiers = [\n'
                                       '  "Programming Language :: Python :: 3.11",\n'
                                       '  "Programming Language :: Python :: 3.13",\n]\n'})
    late = choose_python(tmp_path, day=date(2026, 1, 1))
    assert (late.version, late.suite) == ("3.13", "trixie")
    assert late.reason == "pyproject.toml classifiers lists 3.13, within pyproject.toml requires-python '>=3.10'"
    # In 2024 3.13 had not settled: the newest listed one that had.
    assert choose_python(tmp_path, day=date(2024, 6, 1)).version == "3.11"


def test_setup_cfg_tox_and_ci_are_read(tmp_path):
    write(tmp_path, {"setup.cfg": "[options]\npython_requires = >=3.6, <3.10\n"})
    assert choose_python(tmp_path, day=date(2026, 1, 1)).version == "3.9"
    other = tmp_path / "b"
    write(other, {"tox.ini": "[tox]\nenvlist = py3{7,8}, lint\n"})
    pick = choose_python(other, day=date(2026, 1, 1))
    assert (pick.version, pick.reason) == ("3.9", "tox.ini envlist lists up to 3.8; 3.9 is the nearest offered")
    ci = tmp_path / "c"
    write(ci, {".github/workflows/test.yml": "jobs:\n  t:\n    strategy:\n      matrix:\n"
                                             "        python-version: ['3.9', '3.10', '3.11']\n"})
    assert choose_python(ci, day=date(2026, 1, 1)).reason == ".github/workflows/test.yml lists 3.11"


def test_without_declarations_the_commit_date_decides_and_the_setting_overrides(tmp_path):
    assert choose_python(tmp_path, day=date(2019, 3, 1)).version == "3.9"
    assert choose_python(tmp_path, day=date(2024, 3, 1)).version == "3.11"
    assert choose_python(tmp_path, day=date(2026, 3, 1)).version == "3.13"
    forced = choose_python(tmp_path, "3.11", day=date(2019, 3, 1))
    assert (forced.version, forced.reason) == ("3.11", "sandbox.python")
    with pytest.raises(ValueError, match="sandbox.python must be auto or one of 3.9, 3.11, 3.13"):
        choose_python(tmp_path, "2.7")


def test_a_bound_that_allows_no_offered_python_takes_the_nearest(tmp_path):
    write(tmp_path, {"setup.py": "setup(python_requires='>=2.7,<3.8')\n"})
    pick = choose_python(tmp_path, day=date(2018, 1, 1))
    assert pick.version == "3.9" and "allows none of 3.9, 3.11, 3.13" in pick.reason


def test_the_dependency_cutoff(tmp_path):
    assert dependency_cutoff("today", tmp_path, "3.9") is None
    assert dependency_cutoff("2022-05-01", tmp_path, "3.9") == date(2022, 5, 1)
    # Never before the chosen Python's first wheels: a 2016 commit on 3.9 resolves as of early 2021.
    assert dependency_cutoff("2016-07-01", tmp_path, "3.9") == date(2021, 1, 3)

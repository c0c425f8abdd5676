"""Dependency detection, the image hash, and reading the host's apt mirror and pip settings."""

from __future__ import annotations

from datetime import date

from r1agent.sandbox.deps import (
    CONSTRAINTS,
    EDITABLE,
    UV,
    InstallStep,
    cutoff_flags,
    dependency_files,
    deps_hash,
    install_plan,
    requirement_files,
    setup_py_extras,
)
from r1agent.sandbox.host_mirror import host_sources, release_mirror


def test_pyproject_with_test_extra_and_requirements_become_install_steps(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n[project.optional-dependencies]\ntest = ["pytest"]\ndocs = []\n'
    )
    (tmp_path / "requirements-dev.txt").write_text("six\n")
    files = dependency_files(["pyproject.toml", "requirements-dev.txt", "src/demo.py", "docs/requirements.txt"])
    assert files == ["pyproject.toml", "requirements-dev.txt"]
    steps = install_plan(tmp_path, files, None).steps
    assert [(s.source, s.command) for s in steps[:2]] == [
        ("requirements-dev.txt", f"{UV} pip install -r requirements-dev.txt"),
        ("pyproject.toml", f"{UV} pip install {EDITABLE} '.[test]'"),
    ]
    assert steps[-1].source == "pytest"


def test_test_requirements_are_chosen_over_docs_and_lint_pins(tmp_path):
    names = ["requirements/docs.txt", "requirements/dev.txt", "requirements/tests.txt", "requirements/typing.txt",
             "requirements.txt"]
    assert requirement_files(sorted(names)) == ["requirements.txt", "requirements/tests.txt"]
    assert requirement_files(["requirements-dev.txt", "docs/requirements.txt"]) == ["requirements-dev.txt"]


def test_a_cutoff_date_limits_every_install_but_keeps_build_tools_able_to_do_editable_installs(tmp_path):
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(name='old')\n")
    steps = install_plan(tmp_path, ["setup.py"], None, cutoff=date(2019, 5, 1)).steps
    assert steps[0].command == (f"{UV} pip install --exclude-newer 2019-05-01 --exclude-newer-package "
                                f"setuptools=2022-09-01 --exclude-newer-package wheel=2022-09-01 {EDITABLE} .")
    assert "--exclude-newer 2019-05-01" in steps[-1].command  # pytest of that time too
    assert "exclude-newer-package setuptools=2023-01-02" in cutoff_flags(date(2023, 1, 2))


def test_groups_locks_and_tox_deps_are_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "g"\nversion = "0"\n[dependency-groups]\ntests = ["pytest"]\nlint = ["ruff"]\n')
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "six"\nversion = "1.15.0"\n')
    plan = install_plan(tmp_path, ["poetry.lock", "pyproject.toml"], None)
    assert plan.steps[0].command == f"{UV} pip install -c {CONSTRAINTS} {EDITABLE} . --group tests"
    assert plan.files == {"locked.txt": "six==1.15.0\n"}
    (tmp_path / "tox.ini").write_text("[tox]\nenvlist = py39\n[testenv]\ndeps =\n    pytest<7\n"
                                      "    py38: mock\n    {env:EXTRA:}\ncommands = pytest\n")
    (tmp_path / "setup.py").write_text("")
    plan = install_plan(tmp_path, ["setup.py", "tox.ini"], None)
    assert [s.source for s in plan.steps] == ["tox.ini", "setup.py", "pytest"]
    assert plan.files == {"tox-deps.txt": "pytest<7\n"}


def test_hash_follows_dependency_files_setup_and_cutoff_only(tmp_path):
    (tmp_path / "requirements.txt").write_text("six\n")

    def digest(setup=None, cutoff=None):
        plan = install_plan(tmp_path, ["requirements.txt"], setup, cutoff)
        return deps_hash(tmp_path, ["requirements.txt"], plan, "sha256:base", {})

    first = digest()
    (tmp_path / "app.py").write_text("changed\n")
    assert digest() == first
    assert digest(setup="make deps") != first
    assert digest(cutoff=date(2021, 1, 1)) != first
    (tmp_path / "requirements.txt").write_text("six==1.16\n")
    assert digest() != first


def test_mirror_is_read_from_deb822_and_one_line_sources(tmp_path):
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    (apt / "sources.list").write_text("# comment\ndeb [arch=amd64] http://mirror.invalid/debian-ports sid main\n")
    (apt / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb-src\nURIs: http://src.invalid/debian\nSuites: bookworm\nComponents: main\n"
    )
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "bookworm").write_text("")
    assert [s.suite for s in host_sources(apt)] == ["sid", "bookworm", "bookworm-updates"]
    mirror = release_mirror(apt, scripts)
    assert (mirror.uri, mirror.suite) == ("http://mirror.invalid/debian", "bookworm")


def test_a_failed_install_is_named_by_its_real_error_not_pips_closing_hint():
    from r1agent.sandbox.env_image import install_reason

    pip_output = """Obtaining file:///work
  Installing build dependencies: started
  error: subprocess-exited-with-error

  × Getting requirements to build editable did not run successfully.
  │ exit code: 1
  ╰─> [6 lines of output]
      Traceback (most recent call last):
        File "setup.py", line 3, in <module>
          from collections import Mapping
      ImportError: cannot import name 'Mapping' from 'collections' (/usr/lib/python3.11/collections/__init__.py)
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
error: subprocess-exited-with-error
hint: See above for details.
"""
    assert install_reason(pip_output.splitlines()) == (
        "ImportError: cannot import name 'Mapping' from 'collections' (/usr/lib/python3.11/collections/__init__.py)")
    boxed = ["  × python setup.py egg_info did not run successfully.", "  │ exit code: 1", "  ╰─> [3 lines of output]",
             "      error in chardet setup command: use_2to3 is invalid.", "      [end of output]",
             "  ╰─> See above for output."]
    assert install_reason(boxed) == "error in chardet setup command: use_2to3 is invalid."
    resolver = ["Collecting foo==9.9", "ERROR: Could not find a version that satisfies the requirement foo==9.9",
                "ERROR: No matching distribution found for foo==9.9"]
    assert install_reason(resolver) == "ERROR: No matching distribution found for foo==9.9"


def test_a_version_from_git_is_the_latest_release_tag(make_repo):
    import subprocess

    from r1agent.sandbox.deps import vcs_version

    scm = '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n'
    repo = make_repo({"pyproject.toml": scm, "a.py": "x = 1\n"})
    assert vcs_version(repo, ["pyproject.toml"]) == "0.0.0"  # no tag yet
    subprocess.run(["git", "tag", "v2.1.0rc1"], cwd=repo, check=True)
    assert vcs_version(repo, ["pyproject.toml"]) == "2.1.0rc1"
    plain = make_repo({"pyproject.toml": '[project]\nname = "p"\nversion = "1"\n'})
    assert vcs_version(plain, ["pyproject.toml"]) is None


UV_NO_SOLUTION = """Using Python 3.9.2 environment at: /opt/venv
error: No solution found when resolving dependencies
  cause: Because there are no versions of atomicwrites and pytest==4.4.1 depends on atomicwrites>=1.0, we can conclude \
that pytest==4.4.1 cannot be used.
hint: `atomicwrites` was filtered by `exclude-newer` to only include packages uploaded before 2021-01-04T00:00:00Z. \
The latest version satisfying the requirement is v1.4.1, published at 2022-07-08T18:31:40.459Z.
"""


def test_a_package_the_cutoff_leaves_without_releases_is_allowed_its_oldest_later_one():
    from r1agent.sandbox.env_image import exempted, install_reason

    command = f"{UV} pip install --exclude-newer 2021-01-04 -e ."
    retry = exempted(command, UV_NO_SOLUTION)
    assert retry == f"{UV} pip install --exclude-newer-package atomicwrites=2022-07-09 --exclude-newer 2021-01-04 -e ."
    assert exempted(retry, UV_NO_SOLUTION) is None  # never the same exemption twice
    assert exempted(f"{UV} pip install -e .", UV_NO_SOLUTION) is None  # no cut-off, nothing to exempt
    assert install_reason(UV_NO_SOLUTION.splitlines()).startswith("Because there are no versions of atomicwrites")


def test_a_build_system_pinning_a_setuptools_without_editable_installs_is_built_beside_a_newer_one(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools~=62.6", "wheel~=0.37.1", "setuptools_scm>=6"]\n'
        'build-backend = "setuptools.build_meta"\n[project]\nname = "p"\nversion = "1"\n')
    steps = install_plan(tmp_path, ["pyproject.toml"], None).steps
    assert steps[0] == InstallStep("build-system.requires",
                                   f"{UV} pip install 'setuptools>=64,<70' wheel 'setuptools_scm>=6'")
    assert steps[1].command == f"{UV} pip install --no-build-isolation {EDITABLE} ."
    (tmp_path / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools>=61"]\n[project]\nname = "p"\n')
    assert [s.source for s in install_plan(tmp_path, ["pyproject.toml"], None).steps] == ["pyproject.toml", "pytest"]


def test_exact_pins_become_lower_bounds_when_the_python_is_newer_than_the_repo_lists(tmp_path):
    from r1agent.sandbox.python_choice import choose_python

    (tmp_path / "setup.py").write_text("setup(classifiers=['Programming Language :: Python :: 3.5'])\n")
    (tmp_path / "requirements.txt").write_text("pytest==2.8.1\ncoverage == 4.0\n-e .\n")
    assert choose_python(tmp_path, day=date(2016, 6, 1)).newer_than_declared
    plan = install_plan(tmp_path, ["requirements.txt", "setup.py"], None, date(2021, 1, 4), relax_pins=True)
    assert plan.steps[0].command.endswith("-r /tmp/r1agent/relaxed-requirements.txt")
    assert plan.files["relaxed-requirements.txt"] == "pytest>=2.8.1\ncoverage >= 4.0\n-e .\n"


def test_setup_py_test_extras_are_read_without_running_it(tmp_path):
    (tmp_path / "setup.py").write_text(
        "import sys\nextras = {'docs': ['sphinx'], 'test': ['pytest', 'html5lib']}\n"
        "if sys.platform == 'win32': raise SystemExit('never run')\n"
        "setup(name='s', extras_require=extras)\n")
    steps = install_plan(tmp_path, ["setup.py"], None).steps
    assert steps[0].command == f"{UV} pip install {EDITABLE} '.[test]'"
    assert setup_py_extras("setup(extras_require={'testing': []})") == {"testing"}
    assert setup_py_extras("setup(") == set()  # a broken setup.py: no extras, the installer says why

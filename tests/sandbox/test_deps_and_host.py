"""Dependency detection, the image hash, and reading the host's apt mirror and pip settings."""

from __future__ import annotations

from r1agent.sandbox.deps import dependency_files, deps_hash, install_plan
from r1agent.sandbox.host_mirror import host_sources, release_mirror


def test_pyproject_with_test_extra_and_requirements_become_install_steps(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n[project.optional-dependencies]\ntest = ["pytest"]\ndocs = []\n'
    )
    (tmp_path / "requirements-dev.txt").write_text("six\n")
    files = dependency_files(["pyproject.toml", "requirements-dev.txt", "src/demo.py", "docs/requirements.txt"])
    assert files == ["pyproject.toml", "requirements-dev.txt"]
    steps = install_plan(tmp_path, files, None)
    assert [(s.source, s.command) for s in steps[:2]] == [
        ("requirements-dev.txt", "python -m pip install -r requirements-dev.txt"),
        ("pyproject.toml", "python -m pip install -e '.[test]'"),
    ]
    assert steps[-1].source == "pytest"


def test_tool_only_pyproject_is_not_installed_and_setup_setting_overrides(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    assert [s.source for s in install_plan(tmp_path, ["pyproject.toml"], None)] == ["pytest"]
    steps = install_plan(tmp_path, ["pyproject.toml"], "make deps")
    assert [(s.source, s.command) for s in steps[:1]] == [("sandbox.setup", "make deps")]


def test_hash_follows_dependency_files_and_setup_only(tmp_path):
    (tmp_path / "requirements.txt").write_text("six\n")
    first = deps_hash(tmp_path, ["requirements.txt"], None, "sha256:base")
    (tmp_path / "app.py").write_text("changed\n")
    assert deps_hash(tmp_path, ["requirements.txt"], None, "sha256:base") == first
    assert deps_hash(tmp_path, ["requirements.txt"], "make deps", "sha256:base") != first
    (tmp_path / "requirements.txt").write_text("six==1.16\n")
    assert deps_hash(tmp_path, ["requirements.txt"], None, "sha256:base") != first


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

"""The environment image: dependencies installed once per dependency hash, failures named by file."""

from __future__ import annotations

import pytest

from r1agent.sandbox import DependencyInstallError
from r1agent.sandbox.docker_backend import DockerBackend

pytestmark = pytest.mark.docker

PROJECT = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "envdemo"\nversion = "0.1"\n\n[project.optional-dependencies]\ntest = ["iniconfig"]\n\n'
        '[tool.setuptools]\npy-modules = ["envdemo"]\n'
    ),
    "envdemo.py": "VALUE = 42\n",
    "tests/test_env.py": "import iniconfig, envdemo\n\ndef test_installed():\n    assert envdemo.VALUE == 42\n",
}


def test_declared_dependencies_are_installed_and_the_image_is_cached(docker_client, base_image, make_repo, make_settings):
    repo = make_repo(PROJECT, name="envdemo")
    backend = DockerBackend(make_settings(), repo, client=docker_client)
    tag = backend.ensure_image()
    assert tag.startswith("r1agent/env-envdemo:")
    with backend.create("env") as sb:
        report = sb.run_tests()
        assert sb.exec(["python", "-c", "import envdemo, iniconfig"]).ok
        # the editable install puts the checkout on sys.path, where tools that search it for a module's
        # file (astroid, so pylint's own tests) find it; an import hook alone they cannot see
        on_path = sb.exec("cd / && python -c 'import sys; print(\"/work\" in sys.path)'")
        assert on_path.stdout.strip() == "True"
    assert report.tests == {"tests/test_env.py::test_installed": "passed"}
    (repo / "envdemo.py").write_text("VALUE = 43\n")  # not a dependency file: same image
    assert DockerBackend(make_settings(), repo, client=docker_client).ensure_image() == tag


def test_a_failed_install_names_the_file_and_shows_pips_error(docker_client, base_image, make_repo, make_settings):
    repo = make_repo({"requirements-test.txt": "./no-such-local-package\n", "test_x.py": "def test_x():\n    pass\n"})
    backend = DockerBackend(make_settings(), repo, client=docker_client)
    with pytest.raises(DependencyInstallError, match="from requirements-test.txt failed") as err:
        backend.ensure_image()
    assert err.value.source == "requirements-test.txt"
    assert "no-such-local-package" in err.value.output_tail
    assert "\n" not in str(err.value)
    mine = {"label": ["r1agent.kind=build", f"r1agent.repo={repo}"]}
    assert docker_client.containers.list(all=True, filters=mine) == []


def test_setup_setting_replaces_detection(docker_client, base_image, make_repo, make_settings):
    repo = make_repo({"requirements.txt": "./not-used\n", "test_y.py": "def test_y():\n    pass\n"})
    settings = make_settings(setup="echo custom-setup > /opt/venv/marker")
    backend = DockerBackend(settings, repo, client=docker_client)
    backend.ensure_image()
    with backend.create("setup") as sb:
        assert sb.exec("cat /opt/venv/marker").stdout == "custom-setup\n"
        assert sb.run_tests().tests == {"test_y.py::test_y": "passed"}


def test_the_install_runs_as_the_sandbox_user_within_memory_and_pid_limits(docker_client, base_image, make_repo,
                                                                           make_settings):
    repo = make_repo({"test_z.py": "def test_z():\n    pass\n"})
    backend = DockerBackend(make_settings(setup="id -u > /opt/venv/installed-by"), repo, client=docker_client)
    backend.ensure_image()
    with backend.create("uid") as sb:
        assert sb.exec("cat /opt/venv/installed-by").stdout == "1000\n"

    hog = "python -c 'b = bytearray(700 * 2**20); print(len(b))'"
    backend = DockerBackend(make_settings(setup=hog, memory="256m"), make_repo({"a.py": "x = 1\n"}), client=docker_client)
    with pytest.raises(DependencyInstallError, match="memory limit"):
        backend.ensure_image()

    forks = ("python -c 'import subprocess; ps = [subprocess.Popen([\"sleep\", \"5\"]) for _ in range(200)]; "
             "print(\"forked\", len(ps))'")
    forking = make_repo({"b.py": "y = 1\n"})
    backend = DockerBackend(make_settings(setup=forks, pids_limit=64), forking, client=docker_client)
    with pytest.raises(DependencyInstallError) as err:
        backend.ensure_image()
    assert "forked" not in err.value.output_tail and "Resource temporarily unavailable" in err.value.output_tail
    for built in (repo, forking):
        mine = {"label": ["r1agent.kind=build", f"r1agent.repo={built}"]}
        assert docker_client.containers.list(all=True, filters=mine) == []


SCM_PROJECT = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=64", "setuptools_scm>=8"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "scmdemo"\ndynamic = ["version"]\n\n[tool.setuptools_scm]\n\n'
        '[tool.setuptools]\npy-modules = ["scmdemo"]\n'
    ),
    "scmdemo.py": "VALUE = 1\n",
    "tests/test_scm.py": "import scmdemo\n\ndef test_it():\n    assert scmdemo.VALUE == 1\n",
}


def test_a_version_read_from_git_builds_from_a_copy_without_history(docker_client, base_image, make_repo,
                                                                    make_settings):
    import subprocess

    repo = make_repo(SCM_PROJECT, name="scmdemo")
    subprocess.run(["git", "tag", "v1.4.0"], cwd=repo, check=True)
    backend = DockerBackend(make_settings(), repo, client=docker_client)
    backend.ensure_image()
    with backend.create("scm") as sb:
        got = sb.exec(["python", "-c", "import importlib.metadata as m; print(m.version('scmdemo'))"])
        assert got.stdout.strip() == "1.4.0"
        assert sb.run_tests().tests == {"tests/test_scm.py::test_it": "passed"}

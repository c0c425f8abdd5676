"""The wheel, an editable install and the source tree all offer the same r1agent package.

pyproject lists the packages by hand (data folders among them); these tests build and install a
copy of the checkout for real, so a subpackage or a data file that the list misses fails here
rather than on a user's machine, and so does a setuptools warning on a user's first install.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Run inside an interpreter: import every module the wheel has, report where each came from,
# and list what the package exposes beyond them (walking each directory once).
WALK = """
import importlib, importlib.resources, json, os, pkgutil, sys
expected, data = json.loads(sys.argv[1]), json.loads(sys.argv[2])
files = {name: importlib.import_module(name).__file__ for name in expected}
seen_dirs, found = set(), set()
todo = ["r1agent"]
while todo:
    package = importlib.import_module(todo.pop())
    found.add(package.__name__)
    for entry in package.__path__:
        if os.path.realpath(entry) in seen_dirs:
            continue
        seen_dirs.add(os.path.realpath(entry))
        for info in pkgutil.iter_modules([entry], package.__name__ + "."):
            if info.name in found or info.name.endswith("__main__"):
                continue
            found.add(info.name)
            if info.ispkg:
                todo.append(info.name)
print(json.dumps({
    "files": files,
    "found": sorted(found),
    "data": {f"{pkg}/{rel}": importlib.resources.files(pkg).joinpath(rel).is_file() for pkg, rel in data},
}))
"""


def _run(*cmd: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(str(c) for c in cmd[:4])} ...: {done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """The checkout's files as git sees them (tracked and new, not ignored), without build leftovers."""
    copy = tmp_path_factory.mktemp("src") / "r1agent-src"
    listed = _run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).split("\0")
    for rel in filter(None, listed):
        if (ROOT / rel).is_file():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, copy / rel)
    return copy


@pytest.fixture(scope="module")
def wheel(source_copy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, source_copy)
    (built,) = out.glob("r1agent-*.whl")
    return built


def _source_packages(copy: Path) -> dict[str, Path]:
    """Every package in the source tree, by import name: r1agent/ and the subfolders reached
    through __init__.py files (a folder of data, like a demo repo, is not a package)."""
    found: dict[str, Path] = {}
    todo = [("r1agent", copy / "r1agent")]
    while todo:
        dotted, path = todo.pop()
        if not (path / "__init__.py").is_file() or dotted in found:
            continue
        found[dotted] = path
        todo += [(f"{dotted}.{sub.name}", sub) for sub in path.iterdir() if sub.is_dir() and sub.name.isidentifier()]
    return found


def _wheel_modules(names: list[str]) -> set[str]:
    """Modules in the wheel: .py files whose every folder up to r1agent/ holds an __init__.py."""
    inits = {str(PurePosixPath(n).parent) for n in names if n.endswith("/__init__.py")}
    modules = set()
    for n in names:
        path = PurePosixPath(n)
        folders = [str(p) for p in path.parents if str(p) != "."]
        if path.parts[0] != "r1agent" or path.suffix != ".py" or path.stem == "__main__":
            continue
        if all(f in inits for f in folders):
            parts = path.with_suffix("").parts
            modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def _wheel_package_data(names: list[str]) -> list[tuple[str, str]]:
    """(package, file) for each non-Python file the wheel ships directly inside a package folder."""
    inits = {str(PurePosixPath(n).parent) for n in names if n.endswith("/__init__.py")}
    pairs = []
    for n in names:
        path = PurePosixPath(n)
        if str(path.parent) in inits and path.suffix not in (".py", ".pyc"):
            pairs.append((".".join(path.parent.parts), path.name))
    return pairs


def _fresh_venv(where: Path) -> Path:
    """A venv that sees the project's dependencies (from this venv) but not its r1agent."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", where], check=True)
    python = where / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    (Path(purelib) / "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


def _walk(python: Path, modules: set[str], data: list[tuple[str, str]], cwd: Path) -> dict:
    return json.loads(_run(python, "-c", WALK, json.dumps(sorted(modules)), json.dumps(data), cwd=cwd))


def test_wheel_holds_every_subpackage_and_data_file(source_copy, wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packages = _source_packages(source_copy)
    assert {"r1agent", "r1agent.commands", "r1agent.agent", "r1agent.tools", "r1agent.sandbox", "r1agent.tui"} <= set(packages)
    for dotted, folder in packages.items():
        prefix = dotted.replace(".", "/")
        for file in folder.iterdir():
            if file.is_file() and file.suffix != ".pyc":
                assert f"{prefix}/{file.name}" in names, f"{file.relative_to(source_copy)} is missing from the wheel"
    # Nothing with a generic name lands at the top of site-packages.
    assert {PurePosixPath(n).parts[0] for n in names if ".dist-info/" not in n} == {"r1agent"}


@pytest.fixture(scope="module")
def installs(source_copy, wheel, tmp_path_factory) -> dict[str, dict]:
    """What an editable install, a wheel install and the source tree each import."""
    names = zipfile.ZipFile(wheel).namelist()
    modules, data = _wheel_modules(names), _wheel_package_data(names)
    where = tmp_path_factory.mktemp("venvs")
    editable_python = _fresh_venv(where / "editable")
    editable = subprocess.run([sys.executable, "-m", "pip", "--python", str(editable_python), "install", "-q",
                               "--no-deps", "--no-build-isolation", "-e", str(source_copy)],
                              capture_output=True, text=True, timeout=600)
    assert editable.returncode == 0, editable.stderr[-3000:]
    installed_python = _fresh_venv(where / "installed")
    _run(sys.executable, "-m", "pip", "--python", installed_python, "install", "-q", "--no-deps", wheel)
    return {
        "wheel": {"found": sorted(modules), "root": where / "installed"},
        "editable install output": editable.stdout + editable.stderr,
        "editable": _walk(editable_python, modules, data, cwd=where),
        "installed": _walk(installed_python, modules, data, cwd=where),
        "source tree": _walk(Path(sys.executable), modules, data, cwd=source_copy),
    }


def test_editable_wheel_and_source_runs_import_every_module_and_data_file(installs, source_copy):
    modules = set(installs["wheel"]["found"])
    for kind in ("editable", "installed", "source tree"):
        found = installs[kind]
        assert set(found["files"]) == modules, kind
        assert all(found["data"].values()), (kind, [k for k, ok in found["data"].items() if not ok])
        assert modules <= set(found["found"]), (kind, modules - set(found["found"]))
    # Each came from where it should: the checkout for editable and source runs, site-packages for the wheel.
    assert installs["editable"]["files"]["r1agent.agent"] == str(source_copy / "r1agent" / "agent" / "__init__.py")
    assert installs["source tree"]["files"]["r1agent.tools"] == str(source_copy / "r1agent" / "tools" / "__init__.py")
    assert installs["installed"]["files"]["r1agent.agent"].startswith(str(installs["wheel"]["root"]))


def test_editable_and_source_runs_expose_nothing_beyond_the_wheel(installs):
    modules = set(installs["wheel"]["found"])
    assert set(installs["installed"]["found"]) == modules
    for kind in ("editable", "source tree"):
        assert set(installs[kind]["found"]) == modules, (kind, set(installs[kind]["found"]) - modules)


def test_an_editable_install_prints_no_setuptools_warning(installs):
    """A user's first `pip install -e .` is quiet: no license table, no undeclared data folders, no
    editable-finder notice. (pip's own notes about this machine's package indexes are not setuptools'.)"""
    output = installs["editable install output"]
    noise = [line for line in output.splitlines() if "Warning" in line or line.strip() == "!!"]
    assert noise == [], output[-3000:]

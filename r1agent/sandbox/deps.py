"""Which files declare a repo's dependencies, how to install them, and the hash that names the result."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import hashlib
import json
import os
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

DEPENDENCY_PATTERNS = (
    "pyproject.toml", "setup.py", "setup.cfg", "tox.ini", "requirements*.txt", "requirements/*.txt",
    "uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock",
)
TEST_NAMES = ("test", "tests", "testing", "dev")  # extras and dependency groups that hold test dependencies
PLAN_VERSION = "5"  # bump when the install recipe changes, so cached images are rebuilt
TOOLS_DIR = "/tmp/r1agent"  # the build's own tools (uv) and generated files; removed before the commit
UV = f"{TOOLS_DIR}/uv"
LOCK_EXPORT = f"{TOOLS_DIR}/uv-lock.txt"
CONSTRAINTS = f"{TOOLS_DIR}/locked.txt"
TOX_DEPS = f"{TOOLS_DIR}/tox-deps.txt"
# An editable install needs a setuptools with PEP 660 (64+, 2022-08); an older cut-off would forbid it.
EDITABLE_TOOLING = date(2022, 9, 1)
BUILD_TOOLS = ("setuptools", "wheel")
# setuptools' default editable install of a flat layout is an import hook, which tools that search
# sys.path for a module's file (astroid, so pylint; mypy) cannot see: compat mode puts the root on sys.path
# as `pip install -e` always did. Other backends ignore the setting.
EDITABLE = "-C editable_mode=compat -e"


@dataclass(frozen=True)
class InstallStep:
    """One shell command run as the sandbox user in /work; ``source`` names the file (or setting) it comes from."""

    source: str
    command: str
    optional: bool = False  # a failure is reported and the build goes on (the project's own install follows)


@dataclass(frozen=True)
class InstallPlan:
    """The steps, and the generated files they read (name in TOOLS_DIR -> text)."""

    steps: list[InstallStep]
    files: dict[str, str] = field(default_factory=dict)


def dependency_files(paths: list[str]) -> list[str]:
    """The snapshot's dependency declarations and lock files (top level, plus requirements/*.txt)."""
    return sorted(p for p in paths if any(fnmatch.fnmatchcase(p, pat) for pat in DEPENDENCY_PATTERNS))


def _toml(repo: Path, name: str) -> dict:
    try:
        return tomllib.loads((repo / name).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
        return {}  # the installer reports a broken file with its own words


def _declared_extras(repo: Path, files: list[str]) -> list[str]:
    extras: set[str] = set()
    if "pyproject.toml" in files:
        extras |= set(_toml(repo, "pyproject.toml").get("project", {}).get("optional-dependencies", {}))
    if "setup.cfg" in files:
        cfg = configparser.ConfigParser()
        try:
            cfg.read(repo / "setup.cfg", encoding="utf-8")
            if cfg.has_section("options.extras_require"):
                extras |= set(cfg.options("options.extras_require"))
        except (configparser.Error, UnicodeDecodeError):
            pass
    if "setup.py" in files:
        extras |= setup_py_extras((repo / "setup.py").read_text(encoding="utf-8", errors="replace"))
    return [e for e in TEST_NAMES if e in extras]


def setup_py_extras(source: str) -> set[str]:
    """The extras a setup.py declares, read without running it: the string keys of the dict given as
    ``extras_require=``, directly or through a variable assigned a dict literal."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    assigned = {t.id: n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Dict)
                for t in n.targets if isinstance(t, ast.Name)}
    extras: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "extras_require":
            value = assigned.get(node.value.id) if isinstance(node.value, ast.Name) else node.value
            if isinstance(value, ast.Dict):
                extras |= {k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return extras


def _declared_groups(repo: Path, files: list[str]) -> list[str]:
    """PEP 735 dependency groups that hold test dependencies."""
    groups = _toml(repo, "pyproject.toml").get("dependency-groups", {}) if "pyproject.toml" in files else {}
    return [g for g in TEST_NAMES if g in groups]


def _is_installable(repo: Path, files: list[str]) -> bool:
    if "setup.py" in files or "setup.cfg" in files:
        return True
    if "pyproject.toml" in files:
        data = _toml(repo, "pyproject.toml")
        return not data or "project" in data or "build-system" in data
    return False


def requirement_files(files: list[str]) -> list[str]:
    """The requirements files to install: the runtime ones plus those for tests; docs, lint and CI
    pins are left out. With no test file among them, every file but the docs ones."""
    txt = [f for f in files if f.endswith(".txt")]
    tests = [f for f in txt if "test" in Path(f).name.lower()]
    if not tests:
        return [f for f in txt if "doc" not in f.lower()]
    runtime = [f for f in txt if Path(f).stem.lower() in ("requirements", "base", "main", "install", "runtime")]
    return runtime + tests


def locked_pins(repo: Path, files: list[str]) -> str | None:
    """``name==version`` lines from a poetry, pdm or Pipfile lock, used as constraints: what the lock
    pins is what gets installed, whichever extras or groups pull it in."""
    pins: dict[str, str] = {}
    for name in ("poetry.lock", "pdm.lock"):
        if name in files:
            for package in _toml(repo, name).get("package", []):
                if package.get("name") and package.get("version"):
                    pins[package["name"]] = package["version"]
    if "Pipfile.lock" in files:
        try:
            data = json.loads((repo / "Pipfile.lock").read_text(encoding="utf-8"))
        except (ValueError, OSError):
            data = {}
        for section in ("default", "develop"):
            for pkg, spec in (data.get(section) or {}).items():
                if isinstance(spec, dict) and str(spec.get("version", "")).startswith("=="):
                    pins[pkg] = spec["version"][2:]
    return "".join(f"{k}=={v}\n" for k, v in sorted(pins.items())) or None


def tox_deps(repo: Path, files: list[str]) -> str | None:
    """Plain requirement lines of tox's ``[testenv] deps`` (factor-conditional and templated ones left out)."""
    if "tox.ini" not in files:
        return None
    cfg = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        cfg.read(repo / "tox.ini", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    lines = [ln.strip() for ln in cfg.get("testenv", "deps", fallback="").splitlines()]
    keep = [ln for ln in lines if ln and not ln.startswith("#") and "{" not in ln and not re.match(r"^[\w,!-]+:\s", ln)]
    return "".join(ln + "\n" for ln in keep) or None


def old_build_tools(repo: Path, files: list[str]) -> list[str] | None:
    """When ``[build-system] requires`` pins a setuptools too old for editable installs (PEP 660 came in
    64), the other build requirements, to be installed beside a newer setuptools; else None."""
    if "pyproject.toml" not in files:
        return None
    requires = _toml(repo, "pyproject.toml").get("build-system", {}).get("requires", [])
    parsed = []
    for text in requires:
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement:
            return None
    tools = [r for r in parsed if r.name.lower() == "setuptools"]
    if not tools or any(r.specifier.contains("70.0") for r in tools):
        return None
    return [str(r) for r in parsed if r.name.lower() not in BUILD_TOOLS]


def cutoff_flags(cutoff: date | None) -> str:
    """uv's flags for "nothing newer than ``cutoff``"; build tools stay new enough for editable installs."""
    if cutoff is None:
        return ""
    tools_day = max(cutoff, EDITABLE_TOOLING).isoformat()
    return f" --exclude-newer {cutoff.isoformat()}" + "".join(
        f" --exclude-newer-package {tool}={tools_day}" for tool in BUILD_TOOLS)


def relaxed(text: str) -> str:
    """A requirements file with its exact pins (``pkg==1.2``) loosened to lower bounds (``pkg>=1.2``)."""
    return re.sub(r"^(\s*[A-Za-z0-9][\w.\[\],-]*\s*)===?(\s*[\w.*+!-]+)", r"\1>=\2", text, flags=re.M)


def install_plan(repo: Path, files: list[str], setup: str | None, cutoff: date | None = None,
                 relax_pins: bool = False) -> InstallPlan:
    """The steps that install the repo's dependencies; ``sandbox.setup`` replaces detection.

    A uv.lock is installed as locked; other locks constrain what is installed; otherwise the runtime
    and test requirements files, then the project itself (editable) with its test extras and groups,
    resolved with nothing newer than ``cutoff``. With ``relax_pins`` (the sandbox's Python is newer than
    any the repo lists), exact pins of requirements files become lower bounds: a 2016 pin of coverage
    cannot run on 3.9, the newest release before the cut-off can."""
    uv_install = f"{UV} pip install{cutoff_flags(cutoff)}"
    generated: dict[str, str] = {}
    steps: list[InstallStep] = []
    extras, groups = _declared_extras(repo, files), _declared_groups(repo, files)
    if setup:
        steps.append(InstallStep("sandbox.setup", setup))
    elif "uv.lock" in files:
        selection = "".join(f" --extra {e}" for e in extras) + "".join(f" --group {g}" for g in groups)
        steps.append(InstallStep("uv.lock", f"{UV} export --frozen --no-hashes --no-emit-project --format "
                                            f"requirements-txt{selection} -o {LOCK_EXPORT} -q && "
                                            f"{UV} pip install -r {LOCK_EXPORT}"))
        uv_install += f" -c {LOCK_EXPORT}"  # what else is installed keeps to the lock's versions
        if _is_installable(repo, files):
            steps.append(InstallStep("pyproject.toml", f"{uv_install} --no-deps {EDITABLE} ."))
    else:
        if pins := locked_pins(repo, files):
            generated[Path(CONSTRAINTS).name] = pins
            uv_install += f" -c {CONSTRAINTS}"
        reqs, installable = requirement_files(files), _is_installable(repo, files)
        if installable and (others := old_build_tools(repo, files)) is not None:
            # Its own build tools, but a setuptools that can do editable installs; builds use the venv's.
            tools = " ".join(shlex.quote(t) for t in ["setuptools>=64,<70", "wheel", *others])
            steps.append(InstallStep("build-system.requires", f"{uv_install} {tools}"))
            uv_install += " --no-build-isolation"
        # Beside an installable project, its requirements files are extras (often a developer's whole
        # toolbox, pinned years ago): one that no longer installs is reported, not fatal.
        for f in reqs:
            source = shlex.quote(f)
            if relax_pins:
                name = "relaxed-" + f.replace("/", "-")
                generated[name] = relaxed((repo / f).read_text(encoding="utf-8", errors="replace"))
                source = f"{TOOLS_DIR}/{name}"
            steps.append(InstallStep(f, f"{uv_install} -r {source}", optional=installable))
        if not (extras or groups or any("test" in f for f in reqs)) and (deps := tox_deps(repo, files)):
            generated[Path(TOX_DEPS).name] = deps
            steps.append(InstallStep("tox.ini", f"{uv_install} -r {TOX_DEPS}", optional=installable))
        if installable:
            target = f".[{','.join(extras)}]" if extras else "."
            source = next(f for f in ("pyproject.toml", "setup.py", "setup.cfg") if f in files)
            selection = "".join(f" --group {g}" for g in groups)
            steps.append(InstallStep(source, f"{uv_install} {EDITABLE} {shlex.quote(target)}{selection}"))
    steps.append(InstallStep("pytest", f"python -c 'import pytest' 2>/dev/null || {uv_install} pytest"))
    return InstallPlan(steps, generated)


_VCS_VERSIONED = re.compile(r"setuptools[_-]scm|hatch[_-]vcs|versioneer", re.I)
_RELEASE = re.compile(r"^[vV]?(\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d*)?)$")


def vcs_version(repo: Path, files: list[str]) -> str | None:
    """The version a build that reads it from git (setuptools_scm, hatch-vcs, versioneer) is told, since
    the build copy has no history: the newest version tag HEAD contains, else 0.0.0. None when none is used."""
    if not any(_VCS_VERSIONED.search((repo / f).read_text(encoding="utf-8", errors="replace")) for f in files):
        return None
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    done = subprocess.run(["git", "-C", str(repo), "tag", "--merged", "HEAD", "--sort=-creatordate"],
                          capture_output=True, text=True, env=env)
    tags = done.stdout.split() if done.returncode == 0 else []
    return next((m[1] for t in tags if (m := _RELEASE.match(t))), "0.0.0")


def install_environment(repo: Path, files: list[str]) -> dict[str, str]:
    """Variables every install step of this repo gets, beyond the host's index and CA settings."""
    version = vcs_version(repo, files)
    return {"SETUPTOOLS_SCM_PRETEND_VERSION": version} if version else {}


def deps_hash(repo: Path, files: list[str], plan: InstallPlan, base_image_id: str,
              environment: dict[str, str]) -> str:
    """Names the environment image by everything that determines it: the base, the dependency files,
    the install steps (the setup command and cut-off date are in them), their generated files and
    the repo's install environment."""
    h = hashlib.sha256()
    parts = [PLAN_VERSION, base_image_id, str(sorted(environment.items())),
             *(f"{st.source}\0{st.command}" for st in plan.steps), *(f"{k}\0{v}" for k, v in sorted(plan.files.items()))]
    for part in parts:
        h.update(part.encode() + b"\0")
    for f in files:
        h.update(f.encode() + b"\0" + (repo / f).read_bytes() + b"\0")
    return h.hexdigest()

"""Which files declare a repo's dependencies, how to install them, and the hash that names the result."""

from __future__ import annotations

import configparser
import fnmatch
import hashlib
import os
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEPENDENCY_PATTERNS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements*.txt", "requirements/*.txt")
TEST_EXTRAS = ("test", "tests", "testing", "dev")
PLAN_VERSION = "3"  # bump when the install recipe changes, so cached images are rebuilt


@dataclass(frozen=True)
class InstallStep:
    """One shell command run as root in /work; ``source`` names the file (or setting) it comes from."""

    source: str
    command: str


def dependency_files(paths: list[str]) -> list[str]:
    """The snapshot's dependency declarations (top level, plus requirements/*.txt)."""
    return sorted(p for p in paths if any(fnmatch.fnmatchcase(p, pat) for pat in DEPENDENCY_PATTERNS))


def _declared_extras(repo: Path, files: list[str]) -> list[str]:
    extras: set[str] = set()
    if "pyproject.toml" in files:
        try:
            data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
            extras |= set(data.get("project", {}).get("optional-dependencies", {}))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            pass  # pip will report a broken pyproject.toml with its own words
    if "setup.cfg" in files:
        cfg = configparser.ConfigParser()
        try:
            cfg.read(repo / "setup.cfg", encoding="utf-8")
            if cfg.has_section("options.extras_require"):
                extras |= set(cfg.options("options.extras_require"))
        except (configparser.Error, UnicodeDecodeError):
            pass
    return [e for e in TEST_EXTRAS if e in extras]


def _is_installable(repo: Path, files: list[str]) -> bool:
    if "setup.py" in files or "setup.cfg" in files:
        return True
    if "pyproject.toml" in files:
        try:
            data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            return True  # let pip say what is wrong
        return "project" in data or "build-system" in data
    return False


def install_plan(repo: Path, files: list[str], setup: str | None) -> list[InstallStep]:
    """The steps that install the repo's dependencies; ``sandbox.setup`` replaces detection."""
    if setup:
        steps = [InstallStep("sandbox.setup", setup)]
    else:
        steps = [
            InstallStep(f, f"python -m pip install -r {shlex.quote(f)}")
            for f in files if f.endswith(".txt")
        ]
        if _is_installable(repo, files):
            extras = _declared_extras(repo, files)
            target = f".[{','.join(extras)}]" if extras else "."
            source = next(f for f in ("pyproject.toml", "setup.py", "setup.cfg") if f in files)
            steps.append(InstallStep(source, f"python -m pip install -e {shlex.quote(target)}"))
    steps.append(InstallStep("pytest", "python -c 'import pytest' 2>/dev/null || python -m pip install pytest"))
    return steps


_VCS_VERSIONED = re.compile(r"setuptools[_-]scm|hatch[_-]vcs|versioneer", re.I)
_RELEASE = re.compile(r"^[vV]?(\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?)$")


def vcs_version(repo: Path, files: list[str]) -> str | None:
    """The version a build that reads it from git (setuptools_scm, hatch-vcs, versioneer) is told, since
    the build copy has no history: the latest release tag of HEAD, else 0.0.0. None when none is used."""
    if not any(_VCS_VERSIONED.search((repo / f).read_text(encoding="utf-8", errors="replace")) for f in files):
        return None
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    done = subprocess.run(["git", "-C", str(repo), "describe", "--tags", "--abbrev=0"], capture_output=True,
                          text=True, env=env)
    m = _RELEASE.match(done.stdout.strip()) if done.returncode == 0 else None
    return m[1] if m else "0.0.0"


def install_environment(repo: Path, files: list[str]) -> dict[str, str]:
    """Variables every install step of this repo gets, beyond the host's index and CA settings."""
    version = vcs_version(repo, files)
    return {"SETUPTOOLS_SCM_PRETEND_VERSION": version} if version else {}


def deps_hash(repo: Path, files: list[str], setup: str | None, base_image_id: str,
              environment: dict[str, str] | None = None) -> str:
    """Names the environment image: changes to any dependency file, the setup command, the install
    environment (``install_environment``, computed when not given) or the base rebuild it."""
    environment = install_environment(repo, files) if environment is None else environment
    h = hashlib.sha256()
    for part in (PLAN_VERSION, base_image_id, setup or "", str(sorted(environment.items()))):
        h.update(part.encode() + b"\0")
    for f in files:
        h.update(f.encode() + b"\0" + (repo / f).read_bytes() + b"\0")
    return h.hexdigest()

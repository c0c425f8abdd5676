"""Which Python a repo's sandbox gets: one Debian suite per Python, chosen from the repo's own declarations.

Old code breaks on a new Python (``collections.Mapping``, ``distutils``) and new code on an old one, so the
choice reads what the repo says it supports (``requires-python``, ``python_requires``, classifiers, tox
envs, CI matrices) and, failing those, takes the Python that was established at the commit's date.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

# Python version -> the Debian suite whose python3 it is, with the release date of that Python.
SUITES = {"3.9": "bullseye", "3.11": "bookworm", "3.13": "trixie"}
RELEASED = {"3.9": date(2020, 10, 5), "3.11": date(2022, 10, 24), "3.13": date(2024, 10, 7)}
# A Python counts as current for a commit once it has been out this long: wheels of compiled
# dependencies (numpy, scipy, matplotlib) reach a new Python months after its release.
SETTLING = timedelta(days=365)
AUTO = "auto"


@dataclass(frozen=True)
class PythonChoice:
    version: str
    reason: str
    newer_than_declared: bool = False  # the repo lists only older Pythons: its exact pins were made for those

    @property
    def suite(self) -> str:
        return SUITES[self.version]

    @property
    def base_tag(self) -> str:
        return f"r1agent/base:{self.suite}"


def _minor(text: str) -> str | None:
    m = re.fullmatch(r"3\.(\d{1,2})", text.strip())
    return f"3.{int(m[1])}" if m else None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


@dataclass
class Declarations:
    """What a repo says about its Python: a specifier (hard bound) and versions it lists (preference)."""

    spec: SpecifierSet | None = None
    spec_source: str = ""
    listed: dict[str, str] = None  # version -> the file that lists it

    def __post_init__(self):
        self.listed = self.listed or {}

    def add_spec(self, text: str, source: str) -> None:
        if self.spec is None and text.strip():
            try:
                self.spec, self.spec_source = SpecifierSet(text.strip()), source
            except InvalidSpecifier:
                pass

    def add_listed(self, versions, source: str) -> None:
        for v in versions:
            if (m := _minor(v)) is not None:
                self.listed.setdefault(m, source)


_CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d{1,2})\b")
_PYTHON_REQUIRES = re.compile(r"python_requires\s*=\s*['\"]([^'\"]+)['\"]")
_TOX_ENV = re.compile(r"\bpy3(\d{1,2})\b")
_TOX_BRACES = re.compile(r"\bpy3\{([\d,\s]+)\}")
_CI_VERSION = re.compile(r"""['"]?(3\.\d{1,2})['"]?(?![\d.])""")


def _from_pyproject(repo: Path, found: Declarations) -> None:
    try:
        project = tomllib.loads(_read(repo / "pyproject.toml")).get("project", {})
    except tomllib.TOMLDecodeError:
        return
    found.add_spec(str(project.get("requires-python", "")), "pyproject.toml requires-python")
    found.add_listed(_CLASSIFIER.findall("\n".join(project.get("classifiers", []))), "pyproject.toml classifiers")


def _from_setup(repo: Path, found: Declarations) -> None:
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read_string(_read(repo / "setup.cfg"))
    except configparser.Error:
        cfg = configparser.ConfigParser()
    found.add_spec(cfg.get("options", "python_requires", fallback=""), "setup.cfg python_requires")
    found.add_listed(_CLASSIFIER.findall(cfg.get("metadata", "classifiers", fallback="")), "setup.cfg classifiers")
    setup_py = _read(repo / "setup.py")
    if m := _PYTHON_REQUIRES.search(setup_py):
        found.add_spec(m[1], "setup.py python_requires")
    found.add_listed(_CLASSIFIER.findall(setup_py), "setup.py classifiers")


def _from_tox(repo: Path, found: Declarations) -> None:
    text = _read(repo / "tox.ini")
    m = re.search(r"^envlist\s*=\s*((?:.*\n(?:[ \t]+.*\n)*))", text, re.M)
    if m:
        envs = [f"3.{n}" for n in _TOX_ENV.findall(m[1])]
        envs += [f"3.{n.strip()}" for group in _TOX_BRACES.findall(m[1]) for n in group.split(",") if n.strip()]
        found.add_listed(envs, "tox.ini envlist")


def _from_ci(repo: Path, found: Declarations) -> None:
    workflows = repo / ".github" / "workflows"
    for path in sorted(workflows.glob("*.y*ml")) if workflows.is_dir() else []:
        for line_match in re.finditer(r"python(?:-version|_version)?s?\s*:\s*(.*(?:\n\s*-\s*.*)*)", _read(path)):
            found.add_listed(_CI_VERSION.findall(line_match[1]), f".github/workflows/{path.name}")


def declarations(repo: Path) -> Declarations:
    """The repo's own statements about its Python, strongest source first."""
    found = Declarations()
    for reader in (_from_pyproject, _from_setup, _from_tox, _from_ci):
        reader(repo, found)
    return found


def commit_date(repo: Path) -> date:
    """The date of the snapshot's commit (HEAD); today when there is none."""
    done = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%cs", "HEAD"], capture_output=True, text=True)
    try:
        return date.fromisoformat(done.stdout.strip())
    except ValueError:
        return date.today()


def _n(version: str) -> int:
    return int(version.split(".")[1])


def settled_python(day: date) -> str:
    """The newest offered Python that had settled by ``day`` (the oldest offered one before any had)."""
    settled = [v for v, released in RELEASED.items() if released + SETTLING <= day]
    return settled[-1] if settled else next(iter(SUITES))


def choose_python(repo: Path, requested: str = AUTO, day: date | None = None) -> PythonChoice:
    """The Python for ``repo``: ``requested`` when not "auto", else the newest offered one the repo allows
    and lists that had settled by its commit date; failing a list, the one settled at that date."""
    if requested != AUTO:
        if requested not in SUITES:
            raise ValueError(f"sandbox.python must be auto or one of {', '.join(SUITES)}, not {requested!r}")
        return PythonChoice(requested, "sandbox.python")
    day = day or commit_date(repo)
    era = _n(settled_python(day))
    found = declarations(repo)
    offered = list(SUITES)
    allowed = [v for v in offered if found.spec is None or found.spec.contains(v + ".0", prereleases=True)]
    bound = f"{found.spec_source} '{found.spec}'" if found.spec is not None else ""
    if not allowed:  # e.g. '<3.9' or '>=3.14': the offered Python nearest the bound
        older = any(found.spec.contains(v, prereleases=True) for v in ("2.7.0", *(f"3.{m}.0" for m in range(9))))
        pick = offered[0] if older else offered[-1]
        return PythonChoice(pick, f"{bound} allows none of {', '.join(offered)}; {pick} is the nearest", older)
    listed = [v for v in allowed if v in found.listed]
    if listed:
        pick = max([v for v in listed if _n(v) <= era] or listed, key=_n)
        why = f"{found.listed[pick]} lists {pick}"
    elif found.listed:  # it lists only Pythons not offered: the allowed one nearest its newest
        newest = max(found.listed, key=_n)
        pick = min(allowed, key=lambda v: (abs(_n(v) - _n(newest)), _n(v)))
        why = f"{found.listed[newest]} lists up to {newest}; {pick} is the nearest offered"
    else:
        pick = max([v for v in allowed if _n(v) <= era] or [min(allowed, key=_n)], key=_n)
        why = f"the Python settled by the commit date {day.isoformat()}"
    newer = bool(found.listed) and not listed and _n(pick) > max(map(_n, found.listed))
    return PythonChoice(pick, f"{why}, within {bound}" if bound else why, newer)


# The oldest cut-off that still finds wheels of compiled packages for a Python: a few months after it.
WHEELS_LAG = timedelta(days=90)


def dependency_cutoff(setting: str, repo: Path, python: str | None) -> date | None:
    """The newest upload date dependencies may have (None: no limit, for "today"). "commit" is the
    snapshot's commit date; never earlier than the chosen Python's first wheels, which an older
    cut-off could not find."""
    if setting == "today":
        return None
    day = commit_date(repo) if setting == "commit" else date.fromisoformat(setting)
    return max(day, RELEASED[python] + WHEELS_LAG) if python in RELEASED else day

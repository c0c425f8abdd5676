"""The project's own linters (ruff, flake8), detected from its config, and their findings as comparable keys.

Findings are compared without line numbers, so a refactor that moves code does not look like new findings.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

LINT_TIMEOUT_S = 120
_FLAKE8_LINE = re.compile(r"^(?P<path>.+?):\d+:\d+: (?P<code>\S+) (?P<text>.*)$")
CONFIG_FILES = ("pyproject.toml", "ruff.toml", ".ruff.toml", "setup.cfg", ".flake8", "tox.ini")


@dataclass(frozen=True)
class Linter:
    """``module`` is what ``python -m`` runs; ``args`` come before the file names."""

    name: str
    module: str
    args: tuple[str, ...]

    def command(self, python: str, files: list[str]) -> list[str]:
        return [python, "-m", self.module, *self.args, *files]


RUFF = Linter("ruff", "ruff", ("check", "--no-cache", "--exit-zero", "--output-format", "json"))
FLAKE8 = Linter("flake8", "flake8", ("--exit-zero",))


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _ini_has(path: Path, section: str) -> bool:
    cfg = configparser.ConfigParser()
    try:
        cfg.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return False
    return cfg.has_section(section)


def detect_linters(root: Path) -> list[Linter]:
    """ruff when ruff.toml/.ruff.toml or [tool.ruff] exists; flake8 when .flake8 or a [flake8] section does."""
    found: list[Linter] = []
    if (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file() or "ruff" in _toml(root / "pyproject.toml").get("tool", {}):
        found.append(RUFF)
    if (root / ".flake8").is_file() or any(_ini_has(root / f, "flake8") for f in ("setup.cfg", "tox.ini")):
        found.append(FLAKE8)
    return found


def _relative(path: str, root: str) -> str:
    p = PurePosixPath(path)
    return p.relative_to(root).as_posix() if p.is_absolute() and p.is_relative_to(root) else p.as_posix().removeprefix("./")


def findings(linter: Linter, output: str, root: str) -> Counter[str]:
    """Each finding as ``path: code message`` (no position; paths relative to ``root``), counted."""
    keys: Counter[str] = Counter()
    if linter is RUFF:
        try:
            items = json.loads(output or "[]")
        except json.JSONDecodeError:
            return keys
        for item in items:
            keys[f"{_relative(item.get('filename', ''), root)}: {item.get('code')} {item.get('message')}"] += 1
        return keys
    for line in output.splitlines():
        m = _FLAKE8_LINE.match(line.strip())
        if m:
            keys[f"{_relative(m['path'], root)}: {m['code']} {m['text']}"] += 1
    return keys


def host_python_for(linter: Linter) -> str | None:
    """A host interpreter that can run ``linter`` (ours, or one next to a ``ruff``/``flake8`` on PATH)."""
    probe = subprocess.run([sys.executable, "-m", linter.module, "--version"], capture_output=True)
    if probe.returncode == 0:
        return sys.executable
    exe = shutil.which(linter.name)
    if exe:
        sibling = Path(exe).resolve().parent / "python"
        if sibling.exists():
            return str(sibling)
    return None


def run_on_host(linter: Linter, python: str, root: Path, files: list[str]) -> Counter[str]:
    done = subprocess.run(linter.command(python, files), cwd=root, capture_output=True, text=True, timeout=LINT_TIMEOUT_S)
    return findings(linter, done.stdout, str(root.resolve()))


def copy_for_lint(src_root: Path, dest: Path, files: dict[str, str]) -> None:
    """A minimal tree for a host lint run: the project's lint config plus the candidate's files."""
    for name in CONFIG_FILES:
        if (src_root / name).is_file():
            shutil.copy2(src_root / name, dest / name)
    for rel, text in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

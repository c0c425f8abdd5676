"""What an issue names: identifiers, file paths, and stack-trace frames, matched against the repo."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_PATH = re.compile(r"[\w./\\-]+\.[A-Za-z]{1,5}\b")
# Python: File "x/y.py", line 12, in func   |   JS/Go/Java/Rust: at fn (path/file.ts:12:3), file.go:12
_PY_FRAME = re.compile(r'File "([^"]+)", line (\d+)(?:, in (\S+))?')
_GENERIC_FRAME = re.compile(r"([\w./\\-]+\.[A-Za-z]{1,5}):(\d+)")


@dataclass(frozen=True)
class Frame:
    path: str
    line: int
    function: str = ""


@dataclass
class Mentions:
    """Names that look like code (snake_case, CamelCase, dotted, `quoted`), paths, and frames."""

    identifiers: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    frames: list[Frame] = field(default_factory=list)


def _code_like(word: str) -> bool:
    return "_" in word or "." in word or (any(c.isupper() for c in word[1:]) and any(c.islower() for c in word))


def find_mentions(text: str) -> Mentions:
    m = Mentions()
    for quoted in set(re.findall(r"`([^`\n]{1,120})`", text)):  # anything quoted counts as code
        m.identifiers.update(w for w in _IDENT.findall(quoted) for w in [w, *w.split(".")] if len(w) > 2)
    for word in _IDENT.findall(text):
        if _code_like(word) and len(word) > 2:
            m.identifiers.add(word)
            m.identifiers.update(p for p in word.split(".") if len(p) > 2)
    m.paths.update(path.replace("\\", "/").lstrip("./") for path in _PATH.findall(text))
    m.frames += [Frame(fpath.replace("\\", "/"), int(line), func) for fpath, line, func in _PY_FRAME.findall(text)]
    m.frames += [Frame(fpath.replace("\\", "/"), int(line)) for fpath, line in _GENERIC_FRAME.findall(text)]
    return m


def match_path(mentioned: str, repo_paths: list[str]) -> list[str]:
    """Repo paths a mentioned path (maybe absolute, maybe a suffix, maybe a dotted module) points at."""
    mentioned = mentioned.lstrip("/")
    parts = PurePosixPath(mentioned).parts
    # Longest suffix of the mention that is a repo path wins: /usr/lib/.../pkg/mod.py -> pkg/mod.py.
    for k in range(len(parts)):
        suffix = "/".join(parts[k:])
        hits = [p for p in repo_paths if p == suffix or p.endswith("/" + suffix)]
        if hits and (k < len(parts) - 1 or len(hits) <= 3):
            return hits
    return []

"""The edit fixture corpus: answer texts with the repo they apply to and the outcome expected.

Each ``tests/fixtures/edits/*.case`` file is a list of sections opened by ``%%%% kind: args`` lines:
``case`` (a description), ``expect`` (``ok``, ``already``, or ``failed REASON [block N]``),
``feedback`` (a text the feedback must contain), ``file: PATH [crlf] [nonl] [hex] [from BASE]``
(a repo file, its content below or read from ``base/BASE``), ``symlink: PATH -> outside``,
``answer`` (the model answer), and ``result: PATH [crlf] [nonl]`` (a changed file's expected text).
Shared by the corpus tests and ``bench/bench_edits.py``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "edits"
MARK = "%%%% "


@dataclass
class FileSpec:
    path: str
    data: bytes


@dataclass
class Case:
    name: str
    description: str
    expect: str  # ok | already | failed
    reason: str | None
    block: int | None
    answer: str
    files: list[FileSpec] = field(default_factory=list)
    symlinks: list[str] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)
    feedback: list[str] = field(default_factory=list)


def _content(body: list[str], flags: list[str]) -> str:
    while body and not body[-1].strip():
        body = body[:-1]
    text = "".join(line + "\n" for line in body)
    if "nonl" in flags:
        text = text[:-1]
    if "crlf" in flags:
        text = text.replace("\n", "\r\n")
    return text


def _file_data(body: list[str], flags: list[str]) -> bytes:
    if "from" in flags:
        return (CORPUS / "base" / flags[flags.index("from") + 1]).read_bytes()
    if "hex" in flags:
        return bytes.fromhex("".join(body))
    return _content(body, flags).encode("utf-8")


def load_case(path: Path) -> Case:
    sections: list[tuple[str, list[str], list[str]]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith(MARK):
            kind, _, args = line[len(MARK):].partition(":")
            sections.append((kind.strip(), args.split(), []))
        elif sections:
            sections[-1][2].append(line)
    case = Case(path.stem, "", "", None, None, "")
    for kind, args, body in sections:
        if kind == "case":
            case.description = " ".join(args)
        elif kind == "expect":
            case.expect = args[0]
            case.reason = args[1] if len(args) > 1 else None
            case.block = int(args[3]) if len(args) > 3 and args[2] == "block" else None
        elif kind == "feedback":
            case.feedback.append(" ".join(args))
        elif kind == "file":
            case.files.append(FileSpec(args[0], _file_data(body, args[1:])))
        elif kind == "symlink":
            case.symlinks.append(args[0])
        elif kind == "answer":
            case.answer = _content(body, args)
        elif kind == "result":
            case.results[args[0]] = _content(body, args[1:])
        else:
            raise ValueError(f"{path.name}: unknown section {kind!r}")
    if case.expect not in ("ok", "already", "failed"):
        raise ValueError(f"{path.name}: bad expect {case.expect!r}")
    return case


def load_cases() -> list[Case]:
    return [load_case(p) for p in sorted(CORPUS.glob("*.case"))]


def build_repo(case: Case, dest: Path, outside: Path) -> Path:
    """A committed git repo holding the case's files; symlinks point at ``outside``."""
    dest.mkdir(parents=True)
    for spec in case.files:
        target = dest / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(spec.data)
    for link in case.symlinks:
        (dest / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(outside, dest / link)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    for args in (["init", "-q", "-b", "main"], ["config", "core.autocrlf", "false"], ["add", "-A"],
                 ["commit", "-q", "--allow-empty", "-m", "base"]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True, env=env)
    return dest

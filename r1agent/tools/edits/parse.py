"""Read edits out of a model answer: SEARCH/REPLACE blocks, unified diffs, and whole new files.

The parser is lenient about decoration (fences or none, ``File:`` prefixes, bold or backticked
paths, prose around blocks) and strict about structure: a block without its divider or end marker
is reported as malformed, never guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from r1agent.tools.edits.model import BlockKind, EditBlock, ParseProblem, Reason
from r1agent.tools.edits.syntax import LANGUAGE_BY_SUFFIX

SEARCH_RE = re.compile(r"^\s*<{5,9}\s*SEARCH\b")
DIVIDER_RE = re.compile(r"^\s*={5,9}\s*$")
REPLACE_RE = re.compile(r"^\s*>{5,9}\s*REPLACE\b")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})\s*(.*?)\s*$")
HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
PATH_RE = re.compile(r"[\w.\-/+@~]+")
PATH_PREFIX_RE = re.compile(r"^(?:file\s*name|filename|file|path)\s*:\s*", re.IGNORECASE)
BACKTICKED_RE = re.compile(r"`([^`\s]+)`")
KNOWN_SUFFIXES = frozenset(LANGUAGE_BY_SUFFIX) | {
    ".md", ".rst", ".txt", ".cfg", ".ini", ".xml", ".sql", ".proto", ".lock", ".env", ".csv", ".in", ".mk",
    ".gradle", ".j2", ".jinja", ".tcss", ".scss", ".vue", ".svelte", ".ex", ".exs", ".hs", ".ml", ".r", ".jl",
}
LOOKBACK = 4  # lines searched above a SEARCH marker for its path


@dataclass
class ParsedAnswer:
    """Blocks and problems, numbered together in the order they appear in the answer."""

    blocks: list[EditBlock] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.blocks) + len(self.problems)


def strip_reasoning(answer: str) -> str:
    """Drop an inline ``<think>`` section if one slipped through; edits live in the answer only."""
    return answer.rsplit("</think>", 1)[1] if "</think>" in answer else answer


def clean_path(line: str) -> str | None:
    """The path on a path line (``**File:** `src/x.py```, ``# src/x.py:``), or None for prose."""
    s = line.strip()
    s = re.sub(r"^(?:#+|//+|--|/\*|<!--)\s*", "", s)  # a heading, or the path as a comment in the fence
    s = re.sub(r"\s*(?:\*/|-->)$", "", s).replace("**", "").replace("`", "").strip().strip("'\"")
    s = PATH_PREFIX_RE.sub("", s).strip().rstrip(":").strip()
    s = re.sub(r"\s+\([^()]*\):?$", "", s)  # "src/app.py (updated)"
    s = s.replace("\\_", "_").replace("\\", "/")
    return _path_like(s)


def _path_like(s: str) -> str | None:
    if s.startswith("./"):
        s = s[2:]
    if not s or not PATH_RE.fullmatch(s) or s.endswith(".") or set(s) <= {".", "/"}:
        return None
    return s if ("." in s or "/" in s) else None


def _path_in_prose(line: str) -> str | None:
    """A unique backticked file name inside a prose line such as "In `src/app.py`, change:".

    Only names with a folder or a known file suffix count, so `self.count` is not taken for a file.
    """
    found = {p for p in (_path_like(m) for m in BACKTICKED_RE.findall(line))
             if p and ("/" in p or PurePosixPath(p).suffix.lower() in KNOWN_SUFFIXES)}
    return found.pop() if len(found) == 1 else None


def _path_in_fence_info(info: str) -> str | None:
    for token in re.split(r"[\s:=]+", info):
        path = _path_like(token.strip("'\""))
        if path:
            return path
    return None


def _divider(lines: list[str], candidates: list[int]) -> int:
    """The divider among a block's divider-like lines. Code holds such lines too (a numpydoc heading
    underline is eight '='), so the format's own exact ``=======`` wins, and the first of those."""
    exact = [k for k in candidates if lines[k].strip() == "======="]
    return (exact or candidates)[0]


def _as_text(lines: list[str]) -> str:
    if len(lines) >= 2 and FENCE_RE.match(lines[0]) and FENCE_RE.match(lines[-1]):
        lines = lines[1:-1]  # a fence wrapped inside the SEARCH or REPLACE part
    return "".join(line + "\n" for line in lines)


def _diff_path(field_text: str) -> str:
    name = field_text.split("\t")[0].strip()
    name = re.sub(r"\s+\d{4}-\d\d-\d\d .*$", "", name)  # a timestamp after the name
    if name != "/dev/null" and re.match(r"^[ab]/", name):
        name = name[2:]
    return name


class _Parser:
    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.out = ParsedAnswer()
        self.last_path: str | None = None
        self.in_fence = False

    def _next_index(self) -> int:
        return self.out.count + 1

    def _problem(self, reason: Reason, message: str, line: int, path: str | None = None) -> None:
        self.out.problems.append(ParseProblem(self._next_index(), reason, message, line + 1, path))

    def _block(self, path: str, search: str, replace: str, kind: BlockKind, line: int,
               hint: int | None = None) -> None:
        self.out.blocks.append(EditBlock(self._next_index(), path, search, replace, kind, line + 1, hint))

    def run(self) -> ParsedAnswer:
        i, n = 0, len(self.lines)
        while i < n:
            line = self.lines[i]
            if SEARCH_RE.match(line):
                i = self._search_replace(i)
            elif line.startswith("--- ") and i + 1 < n and self.lines[i + 1].startswith("+++ "):
                i = self._unified_diff(i)
            elif FENCE_RE.match(line):
                if self.in_fence:
                    self.in_fence = False
                    i += 1
                else:
                    i = self._fence_open(i)
            else:
                i += 1
        return self.out

    def _find_path(self, i: int) -> str | None:
        for k in range(i - 1, max(-1, i - 1 - LOOKBACK), -1):
            line = self.lines[k]
            if not line.strip():
                continue
            if REPLACE_RE.match(line) or DIVIDER_RE.match(line) or SEARCH_RE.match(line):
                return None
            fence = FENCE_RE.match(line)
            if fence:
                path = _path_in_fence_info(fence.group(2))
                if path:
                    return path
                continue
            return clean_path(line) or _path_in_prose(line)
        return None

    def _search_replace(self, i: int) -> int:
        start, n = i, len(self.lines)
        path = self._find_path(i) or self.last_path
        i += 1
        while i < n and not (REPLACE_RE.match(self.lines[i]) or SEARCH_RE.match(self.lines[i])):
            i += 1
        dividers = [k for k in range(start + 1, i) if DIVIDER_RE.match(self.lines[k])]
        if not dividers:
            self._problem(Reason.MALFORMED, "SEARCH part has no ======= divider", start, path)
            return i
        if i >= n or not REPLACE_RE.match(self.lines[i]):
            self._problem(Reason.MALFORMED, "block has no >>>>>>> REPLACE end marker", start, path)
            return i
        divider = _divider(self.lines, dividers)
        if path is None:
            self._problem(Reason.MISSING_PATH, "no file path on the line before <<<<<<< SEARCH", start)
        else:
            self.last_path = path
            self._block(path, _as_text(self.lines[start + 1:divider]), _as_text(self.lines[divider + 1:i]),
                        BlockKind.SEARCH_REPLACE, start)
        return i + 1

    def _unified_diff(self, i: int) -> int:
        start = i
        old, new = _diff_path(self.lines[i][4:]), _diff_path(self.lines[i + 1][4:])
        i += 2
        if new == "/dev/null":
            self._problem(Reason.UNSUPPORTED, f"deleting {old} is not supported; edit it instead", start, old)
            return self._skip_hunks(i)
        path = clean_path(new)
        if path is None:
            self._problem(Reason.MISSING_PATH, f"unreadable path in diff header: {new!r}", start)
            return self._skip_hunks(i)
        self.last_path = path
        found = False
        while i < len(self.lines) and HUNK_RE.match(self.lines[i]):
            found = True
            i = self._hunk(i, path, new_file=(old == "/dev/null"))
        if not found:
            self._problem(Reason.MALFORMED, f"diff for {path} has no @@ hunk", start, path)
        return i

    def _skip_hunks(self, i: int) -> int:
        while i < len(self.lines) and self.lines[i][:1] in ("@", " ", "+", "-", "\\"):
            i += 1
        return i

    def _hunk(self, i: int, path: str, new_file: bool) -> int:
        header = HUNK_RE.match(self.lines[i])
        assert header is not None
        old_start = int(header.group(1))
        counts = None
        if header.group(2) is not None and header.group(4) is not None:
            counts = (int(header.group(2)), int(header.group(4)))
        start, n = i, len(self.lines)
        search: list[str] = []
        replace: list[str] = []
        i += 1
        while i < n:
            line = self.lines[i]
            # Outside a fence, trust the header counts, so prose bullets ("- x") after the diff are not eaten.
            if not self.in_fence and counts is not None and len(search) >= counts[0] and len(replace) >= counts[1]:
                break
            if line.startswith("@@") or (line.startswith("--- ") and i + 1 < n and self.lines[i + 1].startswith("+++ ")):
                break
            tag = line[:1]
            if tag == "\\":
                i += 1
                continue
            if line == "":
                # Models drop the space of blank context lines; keep it only inside the hunk.
                nxt = self.lines[i + 1][:1] if i + 1 < n else ""
                if nxt not in (" ", "+", "-", "") or i + 1 >= n:
                    break
                tag, line = " ", " "
            if tag not in (" ", "+", "-") or FENCE_RE.match(line):
                break
            if tag in (" ", "-"):
                search.append(line[1:])
            if tag in (" ", "+"):
                replace.append(line[1:])
            i += 1
        if new_file:
            self._block(path, "", _as_text(replace), BlockKind.UDIFF, start)
        else:
            self._block(path, _as_text(search), _as_text(replace), BlockKind.UDIFF, start, old_start)
        return i

    def _fence_open(self, i: int) -> int:
        """A fence holding a bare file under a path line is a whole new file; otherwise step inside."""
        fence = FENCE_RE.match(self.lines[i])
        assert fence is not None
        marker, info = fence.group(1), fence.group(2)
        close = next((k for k in range(i + 1, len(self.lines))
                      if self.lines[k].strip().startswith(marker) and not self.lines[k].strip().strip(marker[0])),
                     None)
        body = self.lines[i + 1: close if close is not None else len(self.lines)]
        looks_like_edit = any(SEARCH_RE.match(x) or HUNK_RE.match(x) or x.startswith("+++ ") for x in body)
        path = None if looks_like_edit else (_path_in_fence_info(info) or self._bare_path_above(i))
        if path is None or close is None:
            self.in_fence = True
            return i + 1
        self._block(path, "", _as_text(body), BlockKind.WHOLE_FILE, i)
        return close + 1

    def _bare_path_above(self, i: int) -> str | None:
        for k in range(i - 1, max(-1, i - 3), -1):
            if self.lines[k].strip():
                return clean_path(self.lines[k])
        return None


def parse_answer(answer: str) -> ParsedAnswer:
    """Every edit in ``answer`` (the model's answer text, not its reasoning), in order of appearance."""
    return _Parser(strip_reasoning(answer)).run()

"""Apply every edit of one answer in memory, atomically, and write the files only when all succeed."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from r1agent.tools.edits.feedback import render_feedback
from r1agent.tools.edits.match import AlreadyApplied, Match, Miss, locate
from r1agent.tools.edits.model import (
    BlockKind,
    BlockOutcome,
    EditBlock,
    EditResult,
    Reason,
    Status,
)
from r1agent.tools.edits.parse import parse_answer
from r1agent.tools.edits.patch import file_patch
from r1agent.tools.edits.paths import Refusal, RepoPaths
from r1agent.tools.edits.syntax import new_error_line
from r1agent.tools.edits.textfile import BinaryFile, TextFile, block_lines
from r1agent.tools.excerpts import marker_in


@dataclass
class _Placed:
    """A block that found its place: lines [start, end) of the original become ``new``."""

    block: EditBlock
    start: int
    end: int
    new: list[str]
    strategy: str


@dataclass
class _FileWork:
    path: str
    blocks: list[EditBlock] = field(default_factory=list)


def _ok(block: EditBlock, strategy: str, line: int | None, message: str = "applied") -> BlockOutcome:
    return BlockOutcome(block.index, block.path, Status.APPLIED, block.kind, strategy, None, message, line, "", block)


def _fail(block: EditBlock, reason: Reason, message: str, line: int | None = None, closest: str = "",
          path: str | None = None) -> BlockOutcome:
    return BlockOutcome(block.index, path or block.path, Status.FAILED, block.kind, "", reason, message, line,
                        closest, block)


def _already(block: EditBlock, path: str, line: int | None, message: str) -> BlockOutcome:
    return BlockOutcome(block.index, path, Status.ALREADY_APPLIED, block.kind, "", None, message, line, "", block)


class _FileEditor:
    """Places the blocks aimed at one file against its original text, then splices them in."""

    def __init__(self, path: str, original: TextFile | None):
        self.path = path
        self.original = original
        self.outcomes: list[BlockOutcome] = []
        self.placed: list[_Placed] = []

    def run(self, blocks: list[EditBlock]) -> TextFile | None:
        partial = [b for b in blocks if b.kind is not BlockKind.WHOLE_FILE]
        whole = [b for b in blocks if b.kind is BlockKind.WHOLE_FILE]
        base = self.original.copy() if self.original is not None else self._create(partial, whole)
        if base is None:
            return None
        for b in partial:
            self._place(base, b)
        self._drop_overlaps()
        result = base.copy()
        for p in sorted(self.placed, key=lambda p: (p.start, p.block.index), reverse=True):
            result.splice(p.start, p.end, p.new)
        self._record_placed()
        for b in whole:
            if TextFile.from_text(b.replace).lines == result.lines:
                self.outcomes.append(_already(b, self.path, 1, "already applied: the file already has this content"))
            else:
                self.outcomes.append(_fail(b, Reason.WHOLE_FILE_EXISTS, f"{self.path} exists; change it with "
                                           "SEARCH/REPLACE blocks, not a whole-file listing", path=self.path))
        return result

    def _create(self, partial: list[EditBlock], whole: list[EditBlock]) -> TextFile | None:
        """Start a missing file from its first whole-file or empty-SEARCH block (taken out of its list)."""
        source = whole[0] if whole else (partial[0] if partial and not partial[0].search else None)
        if source is None:
            self.outcomes += [_fail(b, Reason.FILE_NOT_FOUND, f"{self.path} does not exist; use an empty "
                                    "SEARCH to create it", path=self.path) for b in partial]
            return None
        if not source.replace.strip():
            self.outcomes += [_fail(b, Reason.MALFORMED, f"the new file {self.path} would be empty",
                                    path=self.path) for b in partial + whole]
            return None
        (whole if source in whole else partial).remove(source)
        self.outcomes.append(_ok(source, "new_file", 1))
        return TextFile.from_text(source.replace)

    def _place(self, base: TextFile, b: EditBlock) -> None:
        search, replace = block_lines(b.search), block_lines(b.replace)
        if not search:
            if not replace:
                self.outcomes.append(_fail(b, Reason.MALFORMED, "SEARCH and REPLACE are both empty", path=self.path))
                return
            n = len(base.lines)
            if b.kind is BlockKind.UDIFF and b.line_hint is not None:
                at = min(max(b.line_hint, 0), n)  # a hunk with no context lines inserts after its start line
                self.placed.append(_Placed(b, at, at, replace, "hint"))
            elif n >= len(replace) and [x.rstrip() for x in base.lines[n - len(replace):]] == [
                    r.rstrip() for r in replace]:
                self.outcomes.append(_already(b, self.path, n - len(replace) + 1,
                                              "already applied: the file already ends with this text"))
            else:
                self.placed.append(_Placed(b, n, n, replace, "append"))
            return
        elided = marker_in(search)
        if elided is not None and not any(marker_in([line]) for line in base.lines):
            a, z = elided
            first = base.lines[a - 1].strip() if 0 < a <= len(base.lines) else ""
            self.outcomes.append(_fail(
                b, Reason.ELIDED, f"SEARCH quotes the marker for lines {a}-{z} of {self.path}, which were not shown; "
                f"quote the real lines instead (line {a} reads {first[:80]!r}), or search only shown lines",
                a, path=self.path))
            return
        found = locate(base.lines, search, replace, b.line_hint)
        if isinstance(found, Match):
            self.placed.append(_Placed(b, found.start, found.end, found.replacement, found.strategy))
        elif isinstance(found, AlreadyApplied):
            self.outcomes.append(_already(b, self.path, found.line or None, found.message))
        else:
            assert isinstance(found, Miss)
            self.outcomes.append(_fail(b, found.reason, found.message, found.line, found.closest, self.path))

    def _drop_overlaps(self) -> None:
        kept: list[_Placed] = []
        for p in sorted(self.placed, key=lambda p: p.block.index):
            clash = next((k for k in kept if p.start < k.end and k.start < p.end
                          or (p.start == p.end == k.start == k.end and p.strategy != "append")), None)
            if clash is None:
                kept.append(p)
                continue
            if (clash.block.search, clash.block.replace) == (p.block.search, p.block.replace):
                self.outcomes.append(_already(p.block, self.path, p.start + 1, f"a repeat of block {clash.block.index}"))
                continue
            self.outcomes.append(_fail(p.block, Reason.OVERLAP, f"overlaps block {clash.block.index} (lines "
                                       f"{clash.start + 1}-{clash.end}); merge them into one block",
                                       p.start + 1, path=self.path))
        self.placed = kept

    def _record_placed(self) -> None:
        shift = 0
        for p in sorted(self.placed, key=lambda p: (p.start, p.block.index)):
            out = _ok(p.block, p.strategy, p.start + 1 + shift)
            out.path = self.path
            self.outcomes.append(out)
            shift += len(p.new) - (p.end - p.start)

    def blame_syntax(self, line: int, text: str) -> None:
        """Turn the applied block nearest to a new syntax error into a failure naming that line."""
        applied = [o for o in self.outcomes if o.status is Status.APPLIED]
        if not applied:
            return
        culprit = min(applied, key=lambda o: (0 if (o.line or 0) <= line else 1, abs(line - (o.line or 0))))
        culprit.status, culprit.reason, culprit.line = Status.FAILED, Reason.SYNTAX_ERROR, line
        culprit.message = f"the edit introduces a syntax error at line {line}: {text.strip()[:80]!r}"


def _load(paths: RepoPaths, rel: str) -> TextFile | None | Refusal:
    full = paths.root / rel
    if not full.exists():
        return None
    try:
        return TextFile.decode(full.read_bytes())
    except BinaryFile as e:
        return Refusal(Reason.BINARY, f"{rel}: binary file ({e}); it cannot be edited as text")
    except OSError as e:
        return Refusal(Reason.NOT_A_FILE, f"{rel}: unreadable ({e.strerror})")


def _write(root: Path, files: dict[str, str]) -> None:
    """Write each file through a temporary sibling and a rename, so a crash leaves no half-written file."""
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o7777 if target.exists() else None
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".r1agent")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def apply_answer(answer: str, root: Path, *, write: bool = False) -> EditResult:
    """Apply every edit in ``answer`` to the files under ``root``: all of them, or none with feedback."""
    paths = RepoPaths(Path(root))
    parsed = parse_answer(answer)
    outcomes: list[BlockOutcome] = [
        BlockOutcome(p.index, p.path, Status.FAILED, BlockKind.SEARCH_REPLACE, "", p.reason, p.message, None)
        for p in parsed.problems
    ]
    work: dict[str, _FileWork] = {}
    for b in parsed.blocks:
        # a path created by an earlier block of this answer is taken as written
        target = b.path if b.path in work else paths.resolve(b.path, creating=not b.search)
        if isinstance(target, Refusal):
            outcomes.append(_fail(b, target.reason, target.message))
        else:
            work.setdefault(target, _FileWork(target)).blocks.append(b)
    files: dict[str, str] = {}
    originals: dict[str, str | None] = {}
    for path, job in work.items():
        loaded = _load(paths, path)
        if isinstance(loaded, Refusal):
            outcomes += [_fail(b, loaded.reason, loaded.message, path=path) for b in job.blocks]
            continue
        editor = _FileEditor(path, loaded)
        result = editor.run(job.blocks)
        if result is not None:
            before = loaded.text() if loaded is not None else None
            after = result.text()
            if after != before:
                bad = new_error_line(path, before, after)
                if bad is not None:
                    editor.blame_syntax(bad, result.lines[bad - 1] if bad <= len(result.lines) else "")
                files[path], originals[path] = after, before
        outcomes += editor.outcomes
    if not parsed.count:
        outcomes.append(BlockOutcome(0, None, Status.FAILED, reason=Reason.NO_EDITS,
                                     message="no edit blocks found; use the SEARCH/REPLACE format"))
    outcomes.sort(key=lambda o: o.index)
    failed = [o for o in outcomes if o.status is Status.FAILED]
    applied = [o for o in outcomes if o.status is not Status.FAILED]
    if failed:
        files = {}
    patch = "".join(file_patch(p, originals[p], files[p]) for p in sorted(files))
    ok = not failed and bool(patch)
    feedback = render_feedback(applied, failed, sorted(files))
    if ok and write:
        _write(paths.root, files)
    return EditResult(ok, patch, files, applied, failed, feedback)

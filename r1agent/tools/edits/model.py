"""The typed values that flow from answer text to patch: blocks, per-block outcomes, the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    SEARCH_REPLACE = "search_replace"
    UDIFF = "udiff"
    WHOLE_FILE = "whole_file"


class Status(StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    FAILED = "failed"


class Reason(StrEnum):
    """Why a block failed; stable names that tests, the agent and `--json` rely on."""

    MALFORMED = "malformed"
    MISSING_PATH = "missing_path"
    OUTSIDE_REPO = "outside_repo"
    GIT_DIR = "git_dir"
    BINARY = "binary"
    NOT_A_FILE = "not_a_file"
    FILE_NOT_FOUND = "file_not_found"
    AMBIGUOUS_PATH = "ambiguous_path"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    ELIDED = "elided"
    OVERLAP = "overlap"
    WHOLE_FILE_EXISTS = "whole_file_exists"
    UNSUPPORTED = "unsupported"
    SYNTAX_ERROR = "syntax_error"
    NO_EDITS = "no_edits"


# Reasons that mean "the edit aims outside the repository"; the CLI turns these into EditError.
UNSAFE_REASONS = frozenset({Reason.OUTSIDE_REPO, Reason.GIT_DIR})


@dataclass(frozen=True)
class EditBlock:
    """One edit as written by the model; texts use "\\n" line ends and end with "\\n" unless empty."""

    index: int
    path: str
    search: str
    replace: str
    kind: BlockKind = BlockKind.SEARCH_REPLACE
    answer_line: int = 0
    line_hint: int | None = None  # 1-based old start line of a diff hunk; a tie-breaker only

    def render(self) -> str:
        """The block as SEARCH/REPLACE text, so an agent can carry applied blocks into a later answer."""
        return f"{self.path}\n<<<<<<< SEARCH\n{self.search}=======\n{self.replace}>>>>>>> REPLACE\n"


@dataclass(frozen=True)
class ParseProblem:
    """A piece of answer text that looked like an edit but could not be read as one."""

    index: int
    reason: Reason
    message: str
    answer_line: int
    path: str | None = None


@dataclass
class BlockOutcome:
    """What happened to one block: where it matched and how, or why it failed."""

    index: int
    path: str | None
    status: Status
    kind: BlockKind = BlockKind.SEARCH_REPLACE
    strategy: str = ""  # exact | trailing_ws | indent | fuzzy | elision | hint | new_file | append
    reason: Reason | None = None
    message: str = ""
    line: int | None = None  # 1-based line in the file where the block matched (or the error is)
    closest: str = ""  # numbered actual lines nearest to a failed SEARCH
    block: EditBlock | None = field(default=None, repr=False)


@dataclass
class EditResult:
    """The outcome of one answer: all blocks applied (``ok``) with a patch, or feedback for the model.

    ``ok`` means no block failed and some file changed; already-applied blocks count as applied.
    """

    ok: bool
    patch: str
    files: dict[str, str]
    applied: list[BlockOutcome]
    failed: list[BlockOutcome]
    feedback: str

    @property
    def applied_text(self) -> str:
        """The applied blocks as answer text; prepend it to the next answer so they need not be resent."""
        return "\n".join(o.block.render() for o in self.applied if o.block is not None)

    @property
    def unsafe(self) -> list[BlockOutcome]:
        """Failed blocks that aimed outside the repository."""
        return [o for o in self.failed if o.reason in UNSAFE_REASONS]

"""The hand-off question (the graph's approval pause): show the verified patch, let the person
approve or reject it and choose the working tree or a new branch."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, RadioButton, RadioSet

from .diffview import DiffView

_BRANCH_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


@dataclass(frozen=True)
class Decision:
    """The answer sent back into the graph (see r1agent.agent.nodes.approve)."""

    approve: bool
    mode: str = "worktree"  # "worktree" | "branch"
    branch: str | None = None

    def as_resume(self) -> dict:
        return {"approve": self.approve, "mode": self.mode, "branch": self.branch}


@dataclass(frozen=True)
class Question:
    """What the graph paused with."""

    run_id: str
    candidate: str
    patch: str
    files: tuple[str, ...]

    @classmethod
    def from_pending(cls, pending: dict) -> Question:
        return cls(str(pending.get("run_id", "")), str(pending.get("candidate", "")),
                   str(pending.get("patch", "")), tuple(pending.get("files", ())))


class ApprovalScreen(ModalScreen[Decision]):
    """Approve (ctrl+y) or reject (ctrl+n); ``w``/``b`` pick where the patch goes."""

    BINDINGS = [
        Binding("ctrl+y", "approve", "Approve", priority=True),
        Binding("ctrl+n", "reject", "Reject", priority=True),
        Binding("escape", "reject", "Reject", show=False),
        Binding("s", "toggle_split", "Side by side"),
        Binding("w", "mode('worktree')", "Working tree"),
        Binding("b", "mode('branch')", "Branch"),
    ]

    def __init__(self, question: Question, default_branch: str):
        super().__init__()
        self.question = question
        self.default_branch = default_branch

    def compose(self) -> ComposeResult:
        q = self.question
        with Vertical(id="approval"):
            yield Label(f"Apply verified candidate {q.candidate}? ({', '.join(q.files)})", id="approval-title")
            yield DiffView(q.patch, id="approval-diff")
            with Horizontal(id="approval-where"):
                with RadioSet(id="approval-mode"):
                    yield RadioButton("working tree", value=True, id="mode-worktree")
                    yield RadioButton("new branch", id="mode-branch")
                yield Input(self.default_branch, placeholder="branch name", id="approval-branch", disabled=True)
            with Horizontal(id="approval-buttons"):
                yield Button("Approve (ctrl+y)", variant="success", id="approve")
                yield Button("Reject (ctrl+n)", variant="error", id="reject")
            yield Label("", id="approval-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#approval-diff", DiffView).focus()

    def _mode(self) -> str:
        return "branch" if self.query_one("#mode-branch", RadioButton).value else "worktree"

    def on_radio_set_changed(self, _event: RadioSet.Changed) -> None:
        self.query_one("#approval-branch", Input).disabled = self._mode() != "branch"

    def action_mode(self, mode: str) -> None:
        self.query_one(f"#mode-{mode}", RadioButton).value = True
        if mode == "branch":
            self.query_one("#approval-branch", Input).disabled = False
            self.query_one("#approval-branch", Input).focus()

    def action_toggle_split(self) -> None:
        view = self.query_one("#approval-diff", DiffView)
        view.split = not view.split

    def action_approve(self) -> None:
        mode = self._mode()
        branch = self.query_one("#approval-branch", Input).value.strip() if mode == "branch" else None
        if mode == "branch" and not (branch and _BRANCH_OK.match(branch) and ".." not in branch):
            self.query_one("#approval-error", Label).update(f"not a usable branch name: {branch!r}")
            return
        self.dismiss(Decision(True, mode, branch))

    def action_reject(self) -> None:
        self.dismiss(Decision(False))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "approve":
            self.action_approve()
        else:
            self.action_reject()

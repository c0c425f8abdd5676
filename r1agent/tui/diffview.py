"""A candidate's patch, syntax-highlighted, as a unified or a side-by-side diff.

The patch is parsed into hunks (by r1agent.diffs); difflib's SequenceMatcher pairs each hunk's old and new lines
into side-by-side rows; rich's Syntax colours the code with the file's own lexer."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static

from r1agent.diffs import parse


@dataclass
class DiffLine:
    kind: str  # " " context, "-" removed, "+" added
    old_no: int | None
    new_no: int | None
    text: str


@dataclass
class Hunk:
    header: str
    lines: list[DiffLine] = field(default_factory=list)


@dataclass
class FileDiff:
    path: str
    hunks: list[Hunk] = field(default_factory=list)


def parse_patch(patch: str) -> list[FileDiff]:
    """Files and hunks of a git-style unified diff, as r1agent.diffs parses it."""
    files = []
    for patched in parse(patch):
        diff = FileDiff(patched.path)
        for hunk in patched:
            header = f"@@ -{hunk.source_start},{hunk.source_length} +{hunk.target_start},{hunk.target_length} @@"
            lines = [DiffLine(x.line_type, x.source_line_no, x.target_line_no, x.value.rstrip("\r\n"))
                     for x in hunk if x.line_type in (" ", "-", "+")]
            diff.hunks.append(Hunk(header + (f" {hunk.section_header}" if hunk.section_header else ""), lines))
        files.append(diff)
    return files


def side_by_side_rows(hunk: Hunk) -> list[tuple[DiffLine | None, DiffLine | None]]:
    """Pair the hunk's old and new lines: equal lines face each other, changes line up."""
    old = [x for x in hunk.lines if x.kind != "+"]
    new = [x for x in hunk.lines if x.kind != "-"]
    matcher = difflib.SequenceMatcher(None, [x.text for x in old], [x.text for x in new], autojunk=False)
    rows: list[tuple[DiffLine | None, DiffLine | None]] = []
    for _op, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = old[i1:i2], new[j1:j2]
        for k in range(max(len(left), len(right))):
            rows.append((left[k] if k < len(left) else None, right[k] if k < len(right) else None))
    return rows


@dataclass(frozen=True)
class DiffColours:
    syntax_theme: str
    added: str
    removed: str


DARK = DiffColours("ansi_dark", "on #14361f", "on #4a1a1a")
LIGHT = DiffColours("ansi_light", "on #d7f5dd", "on #fbe0e0")


def _highlighted(lines: list[DiffLine], path: str, theme: str) -> dict[int, Text]:
    """Highlight the lines as one block (so multi-line strings lex right); map id(line) → Text."""
    if not lines:
        return {}
    lexer = Syntax.guess_lexer(path, code="\n".join(x.text for x in lines))
    block = Syntax("", lexer, theme=theme).highlight("\n".join(x.text for x in lines))
    parts = block.split("\n", allow_blank=True)
    return {id(x): parts[i] if i < len(parts) else Text(x.text) for i, x in enumerate(lines)}


def _code(line: DiffLine | None, texts: dict[int, Text], colours: DiffColours) -> Text:
    if line is None:
        return Text("")
    text = texts[id(line)].copy()
    if line.kind == "+":
        text.stylize(colours.added)
    elif line.kind == "-":
        text.stylize(colours.removed)
    return text


def _no(n: int | None) -> Text:
    return Text("" if n is None else str(n), style="dim")


def render_file(diff: FileDiff, split: bool, colours: DiffColours) -> RenderableType:
    """One file's diff as a table: ``old | new`` columns side by side, or one unified column."""
    table = Table.grid(padding=(0, 1), expand=True)
    if split:
        for ratio in (None, 1, None, 1):
            table.add_column(ratio=ratio, overflow="fold", justify="right" if ratio is None else "left")
    else:
        table.add_column(justify="right")
        table.add_column(justify="right")
        table.add_column(width=1)
        table.add_column(ratio=1, overflow="fold")
    for hunk in diff.hunks:
        old_texts = _highlighted([x for x in hunk.lines if x.kind != "+"], diff.path, colours.syntax_theme)
        new_texts = _highlighted([x for x in hunk.lines if x.kind == "+"], diff.path, colours.syntax_theme)
        texts = old_texts | new_texts
        header = Text(hunk.header, style="cyan")
        table.add_row(*((Text(""), header, Text(""), Text("")) if split else (Text(""), Text(""), Text(""), header)))
        if split:
            for left, right in side_by_side_rows(hunk):
                table.add_row(_no(left.old_no if left else None), _code(left, texts, colours),
                              _no(right.new_no if right else None), _code(right, texts, colours))
        else:
            for line in hunk.lines:
                sign = Text(line.kind, style={"+": "green", "-": "red"}.get(line.kind, "dim"))
                table.add_row(_no(line.old_no), _no(line.new_no), sign, _code(line, texts, colours))
    return Group(Text(diff.path, style="bold underline"), table)


class DiffView(VerticalScroll, can_focus=True):
    """A scrollable patch; ``split`` switches between unified and side-by-side."""

    DEFAULT_CLASSES = "diff"
    split: reactive[bool] = reactive(False)

    def __init__(self, patch: str = "", **kwargs):
        super().__init__(**kwargs)
        self.patch = patch

    def compose(self) -> ComposeResult:
        yield Static(id="diff-body")

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _t: self.refresh_diff(), init=False)
        self.refresh_diff()

    def watch_split(self, _split: bool) -> None:
        if self.is_mounted:
            self.refresh_diff()

    def show(self, patch: str) -> None:
        self.patch = patch
        self.refresh_diff()

    def refresh_diff(self) -> None:
        files = parse_patch(self.patch)
        colours = DARK if self.app.current_theme.dark else LIGHT
        body: RenderableType = (Group(*(render_file(f, self.split, colours) for f in files)) if files
                                else Text("This candidate has no patch.", style="dim"))
        self.query_one("#diff-body", Static).update(body)


class DiffScreen(Screen):
    """Full-screen diff of one candidate."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("s", "toggle_split", "Side by side / unified"),
    ]

    def __init__(self, title: str, patch: str, split: bool = False):
        super().__init__()
        self.diff_title, self.patch, self.start_split = title, patch, split

    def compose(self) -> ComposeResult:
        yield Static(self.diff_title, classes="screen-title")
        view = DiffView(self.patch, id="diff")
        view.split = self.start_split
        yield view
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DiffView).focus()

    def action_toggle_split(self) -> None:
        view = self.query_one(DiffView)
        view.split = not view.split

"""Render changed files as a normalised `git diff` patch (a/ b/ prefixes, /dev/null for new files)."""

from __future__ import annotations

from difflib import SequenceMatcher

CONTEXT = 3


def _keep_ends(text: str) -> list[str]:
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def _range(start: int, count: int) -> str:
    # git: an empty range names the line before it; a count of one is left out
    first = start + 1 if count else start
    return f"{first}" if count == 1 else f"{first},{count}"


def _line(tag: str, line: str) -> str:
    return f"{tag}{line}" if line.endswith("\n") else f"{tag}{line}\n\\ No newline at end of file\n"


def file_patch(path: str, old: str | None, new: str) -> str:
    """The patch taking ``old`` (None for a new file) to ``new``; empty when they are equal."""
    if old == new:
        return ""
    a, b = _keep_ends(old or ""), _keep_ends(new)
    out = [f"diff --git a/{path} b/{path}\n"]
    if old is None:
        out += ["new file mode 100644\n", "--- /dev/null\n"]
    else:
        out.append(f"--- a/{path}\n")
    out.append(f"+++ b/{path}\n")
    for group in SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(CONTEXT):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2 - i1)} +{_range(j1, j2 - j1)} @@\n")
        for tag, x1, x2, y1, y2 in group:
            if tag == "equal":
                out += [_line(" ", line) for line in a[x1:x2]]
                continue
            out += [_line("-", line) for line in a[x1:x2]]
            out += [_line("+", line) for line in b[y1:y2]]
    return "".join(out)

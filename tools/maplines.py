"""How a definition prints in the repo map, and what that line costs in tokens.

The cost is kept per definition in the index snapshot (``Columns.def_tokens``), computed when a file's
rows enter it, so a render adds up known costs instead of estimating each candidate line again: in a
fresh process, after a one-file change, those estimates were a third of the render.
"""

from __future__ import annotations

from r1agent.tools.tokens import estimate_tokens


def definition_line(start_line: int, qualname: str, signature: str) -> str:
    """Its line number, an indent per enclosing definition (``A.B.c`` is two deep), its signature."""
    return f"{start_line:>5}│{'  ' * qualname.count('.')}{signature}\n"


def definition_tokens(start_line: int, qualname: str, signature: str) -> int:
    return estimate_tokens(definition_line(start_line, qualname, signature))

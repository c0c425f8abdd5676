"""How a definition prints in the repo map, and what that line costs in tokens.

The cost is kept per definition in the index snapshot (``Columns.def_tokens``), computed when a file's
rows enter it, so a render adds up known costs instead of estimating each candidate line again: in a
fresh process, after a one-file change, those estimates were a third of the render.

A line's cost splits exactly at the "│" after its number: the estimate's pieces (tokens.py) hold digits
or letters, never both, so no piece spans that boundary. The snapshot keeps the part after it, which
an edit above a definition does not change; the number's part is added when the line is printed.
"""

from __future__ import annotations

from functools import lru_cache

from r1agent.tools.tokens import estimate_tokens


def definition_line(start_line: int, qualname: str, signature: str) -> str:
    """Its line number, an indent per enclosing definition (``A.B.c`` is two deep), its signature."""
    return f"{start_line:>5}{_body(qualname, signature)}"


def _body(qualname: str, signature: str) -> str:
    return f"│{'  ' * qualname.count('.')}{signature}\n"


def body_tokens(qualname: str, signature: str) -> int:
    """The cost of a definition's line after its number (see the module's note)."""
    return estimate_tokens(_body(qualname, signature))


@lru_cache(maxsize=4096)
def number_tokens(start_line: int) -> int:
    """The cost of a line's number: with ``body_tokens``, what the whole line costs."""
    return estimate_tokens(f"{start_line:>5}")

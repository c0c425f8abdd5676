"""Names whose references say little about which definition they mean, so their graph edges weigh less."""

from __future__ import annotations

# Method names every container and stream has: a call to them rarely means the repo's own definition.
_UBIQUITOUS = frozenset(
    "append extend insert pop remove clear copy get set items keys values update add discard join split strip "
    "format encode decode read write close open flush send recv run start stop next iter len str repr hash "
    "find index count replace lower upper sort reverse setdefault log debug info warning error exception map "
    "match filter search sub".split()
)


def says_little(name: str) -> bool:
    """Private (``_x``), very short, or a method name every container and stream has."""
    return name.startswith("_") or len(name) < 3 or name in _UBIQUITOUS

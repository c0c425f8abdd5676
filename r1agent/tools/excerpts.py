"""Excerpts of a large file: the ranked definitions verbatim, a skeleton of the rest, elisions marked.

R1 quotes what it is shown in SEARCH blocks, so every shown line is the file's own line, unchanged, and
every run of hidden lines becomes one marker line that no file contains (``⋮ lines 30-119 not shown``).
A SEARCH that quotes a marker is refused by the edit layer with the real line numbers (see ``marker_in``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from r1agent.tools.symbols import Definition

MARKER = "⋮ lines {start}-{end} not shown"
_MARKER = re.compile(r"^\s*⋮ lines (\d+)-(\d+) not shown\s*$")
FILL_GAP = 2  # hidden runs this short are shown instead: a marker would cost as much and hide code
HEADER_LINES = 40  # the top of a module (imports, constants) shown with its first excerpt, at most
CLASS_HEADER_LINES = 60  # a class's lines before its first member (docstring, attributes), shown with any member
_CONTAINERS = {"class", "struct", "interface", "trait", "enum", "impl", "module"}


@dataclass(frozen=True)
class Span:
    """Lines ``start``..``end`` (1-based, inclusive) of a file, verbatim."""

    start: int
    end: int
    text: str


def marker_in(search_lines: Sequence[str]) -> tuple[int, int] | None:
    """The line range of the first elision marker quoted in a SEARCH, or None."""
    return next(((int(m[1]), int(m[2])) for line in search_lines if (m := _MARKER.match(line))), None)


def _merge(ranges: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted((max(1, a), min(n, b)) for a, b in ranges if a <= b):
        if out and a <= out[-1][1] + 1 + FILL_GAP:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    if out and out[0][0] <= 1 + FILL_GAP:
        out[0] = (1, out[0][1])
    if out and out[-1][1] >= n - FILL_GAP:
        out[-1] = (out[-1][0], n)
    return out


def render(lines: Sequence[str], ranges: list[tuple[int, int]]) -> tuple[str, tuple[Span, ...]]:
    """``lines`` (each with its line end) shown where ``ranges`` say, each hidden run as one marker."""
    n = len(lines)
    spans = tuple(Span(a, b, "".join(lines[a - 1:b])) for a, b in _merge(ranges, n))
    parts: list[str] = []
    at = 1
    for s in spans:
        if s.start > at:
            parts.append(MARKER.format(start=at, end=s.start - 1) + "\n")
        parts.append(s.text if s.text.endswith("\n") else s.text + "\n")
        at = s.end + 1
    if at <= n:
        parts.append(MARKER.format(start=at, end=n) + "\n")
    return "".join(parts), spans


def _parents(defs: Sequence[Definition], i: int) -> list[int]:
    """Indices of the definitions that enclose definition ``i``, outermost first."""
    d = defs[i]
    return [j for j, o in enumerate(defs) if j != i and o.start_line <= d.start_line and d.end_line <= o.end_line
            and (o.start_line, -o.end_line) < (d.start_line, -d.end_line)]


def first_member(defs: Sequence[Definition], i: int) -> int:
    """The first line of the first definition nested in definition ``i``, or the line after its end."""
    d = defs[i]
    return min((o.start_line for o in defs if d.start_line < o.start_line <= d.end_line), default=d.end_line + 1)


def unit_span(lines: Sequence[str], defs: Sequence[Definition], i: int) -> list[tuple[int, int]]:
    """What showing definition ``i`` takes: its lines (decorators too) and the opening lines of the classes
    around it, up to their first member (at most CLASS_HEADER_LINES)."""
    d, start = defs[i], defs[i].start_line
    indent, k = len(lines[start - 1]) - len(lines[start - 1].lstrip()), start - 1
    while k >= 1 and (text := lines[k - 1].lstrip()) and (  # up through decorators, which may span lines
            (deeper := len(lines[k - 1]) - len(text) > indent) or text[0] in "@)]}"):
        start, k = (k if text[0] == "@" and not deeper else start), k - 1
    heads = [(defs[j].start_line, min(first_member(defs, j), defs[j].start_line + CLASS_HEADER_LINES) - 1)
             for j in _parents(defs, i)]
    return [(start, d.end_line), *heads]


def header_span(defs: Sequence[Definition], n: int) -> tuple[int, int] | None:
    """The top of the module before its first definition (imports, constants), at most HEADER_LINES."""
    first = min((d.start_line for d in defs), default=n + 1)
    end = min(first - 1, HEADER_LINES, n)
    return (1, end) if end >= 1 else None


def is_container(defs: Sequence[Definition], i: int) -> bool:
    """A class (or the like) with members: it is shown through its members, with its opening lines."""
    return defs[i].kind in _CONTAINERS and first_member(defs, i) <= defs[i].end_line


def excerpt(lines: Sequence[str], prefix: Sequence[int], defs: Sequence[Definition], chosen: Sequence[int],
            skeleton_tokens: int) -> tuple[str, tuple[Span, ...]]:
    """Definitions ``chosen`` (indices into ``defs``, best first) shown whole, with the module header and
    their classes' openings, then the first line of other definitions, outer ones first, within
    ``skeleton_tokens`` more. Returns the text as the prompt holds it and the verbatim spans."""
    n = len(lines)

    def cost(ranges: list[tuple[int, int]]) -> int:
        merged = _merge(ranges, n)
        return sum(prefix[b] - prefix[a - 1] for a, b in merged) + 8 * (len(merged) + 1)  # a marker: ~8 tokens

    header = header_span(defs, n)
    ranges = ([header] if header else []) + [r for i in chosen for r in unit_span(lines, defs, i)]
    covered = {k for i in chosen for k, o in enumerate(defs)
               if defs[i].start_line <= o.start_line and o.end_line <= defs[i].end_line}
    budget = cost(ranges) + skeleton_tokens
    for outer_only in (True, False):
        for i, d in enumerate(defs):
            if i in covered or (outer_only and _parents(defs, i)):
                continue
            line = (d.start_line, d.start_line)
            if cost(ranges + [line]) > budget:
                break
            ranges.append(line)
            covered.add(i)
    return render(lines, ranges)

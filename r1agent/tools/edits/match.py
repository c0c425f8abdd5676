"""Find where a SEARCH text sits in a file, trying stricter rules first.

Tiers, in order: exact; trailing-whitespace-insensitive; leading-indentation-relative (the
replacement is re-indented to the file's style, which also covers tabs against spaces); then a
fuzzy match whose similarity is at least ``FUZZY_THRESHOLD``, with at most one line in
``FUZZY_LINES_PER_DIFFERENCE`` differing, and which must be unique. Two
places matching at any tier is an ambiguity and fails: the matcher never guesses. A SEARCH with
``...`` elision lines is first matched literally (``...`` is real code in Python stubs); failing
that, its pieces are matched in order, each uniquely, and the elided lines in between are kept.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise

from r1agent.tools.edits.model import Reason

# difflib ratio over the stripped lines, joined. 0.9 tolerates a typo or two in a
# ten-line SEARCH but not a different statement; below it the block fails with the closest lines.
FUZZY_THRESHOLD = 0.9
# At most one SEARCH line in this many may differ from the file, so a short SEARCH (under four
# lines) never matches fuzzily: there, one different line is a real difference, not a typo.
FUZZY_LINES_PER_DIFFERENCE = 4
CLOSEST_MAX_LINES = 8
CLOSEST_CANDIDATES = 40  # windows scored by characters when looking for the closest lines
NUMBERED_RE = re.compile(r"^ *\d+ \| ?")
ELISION_LINES = frozenset({"...", "…", "# ...", "// ...", "/* ... */", "<!-- ... -->", "-- ..."})


@dataclass(frozen=True)
class Match:
    start: int  # 0-based, end exclusive
    end: int
    replacement: list[str]
    strategy: str


@dataclass(frozen=True)
class AlreadyApplied:
    line: int  # 1-based
    message: str


@dataclass(frozen=True)
class Miss:
    reason: Reason
    message: str
    line: int | None = None
    closest: str = ""


Located = Match | AlreadyApplied | Miss
LineEq = Callable[[str, str], bool]


def _exact(a: str, b: str) -> bool:
    return a == b


def _rstrip_eq(a: str, b: str) -> bool:
    return a.rstrip() == b.rstrip()


def _positions(lines: list[str], part: list[str], eq: LineEq, lo: int = 0) -> list[int]:
    m = len(part)
    return [i for i in range(lo, len(lines) - m + 1)
            if eq(lines[i], part[0]) and all(eq(lines[i + k], part[k]) for k in range(1, m))]


def _indent(s: str) -> str:
    return s[: len(s) - len(s.lstrip())]


def _width(indent: str) -> int:
    return len(indent.expandtabs(4))


def _indent_map(window: list[str], search: list[str]) -> dict[int, str] | None:
    """Search indent width -> file indent, if the window equals the search up to a consistent re-indent."""
    mapping: dict[int, str] = {}
    for have, want in zip(window, search, strict=True):
        if not want.strip() or not have.strip():
            if want.strip() or have.strip():
                return None
            continue
        if have.strip() != want.strip():
            return None
        if mapping.setdefault(_width(_indent(want)), _indent(have)) != _indent(have):
            return None
    widths = [_width(v) for _, v in sorted(mapping.items())]
    if not mapping or any(a >= b for a, b in pairwise(widths)):
        return None
    return mapping


def _reindent(replace: list[str], mapping: dict[int, str]) -> list[str]:
    """Give each replacement line the file's indentation for its level, extrapolating new levels."""
    keys = sorted(mapping)
    base_w, base_f = keys[0], mapping[keys[0]]
    rel = [k - base_w for k in keys[1:]]
    rel += [_width(_indent(r)) - base_w for r in replace if r.strip() and _width(_indent(r)) > base_w]
    # The model's indent unit; a lone deeper line (8 over 0) is read in 4s, the usual unit, when it fits.
    step_w = (math.gcd(*rel, 4) if math.gcd(*rel, 4) >= 2 else math.gcd(*rel)) if rel else 4
    if "\t" in "".join(mapping.values()):
        unit = "\t"
    elif len(keys) > 1:  # the file's unit: its width per model level, measured on the deepest SEARCH line
        levels = (keys[-1] - base_w) // step_w
        unit = " " * max(1, (_width(mapping[keys[-1]]) - _width(base_f)) // levels)
    else:
        unit = " " * step_w
    out = []
    for line in replace:
        if not line.strip():
            out.append(line.strip(" \t"))
            continue
        w = _width(_indent(line))
        if w in mapping:
            out.append(mapping[w] + line.lstrip())
            continue
        levels = (w - base_w) // step_w if w >= base_w else -((base_w - w + step_w - 1) // step_w)
        if levels >= 0:
            out.append(base_f + unit * levels + line.lstrip())
        else:
            cut = len(unit) * -levels
            out.append(base_f[: max(0, len(base_f) - cut)] + line.lstrip())
    return out


def _numbered(lines: list[str], start: int, end: int) -> str:
    end = min(end, start + CLOSEST_MAX_LINES, len(lines))
    return "\n".join(f"{k + 1:>5} | {lines[k]}" for k in range(start, end))


def _pick(positions: list[int], hint: int | None) -> int | None:
    """The one position, or the unique nearest to a diff hunk's line hint; None when ambiguous."""
    if len(positions) == 1:
        return positions[0]
    if hint is None:
        return None
    dist = sorted((abs(p + 1 - hint), p) for p in positions)
    return dist[0][1] if dist[0][0] != dist[1][0] else None


def _ambiguous(lines: list[str], positions: list[int]) -> Miss:
    where = ", ".join(str(p + 1) for p in positions[:6])
    return Miss(Reason.AMBIGUOUS, f"SEARCH matches {len(positions)} places (lines {where}); "
                "add surrounding lines so it matches exactly one", positions[0] + 1)


def _trim_blank_edges(search: list[str], replace: list[str]) -> tuple[list[str], list[str]] | None:
    """Models add stray blank lines around SEARCH; drop them (and their twins in REPLACE)."""
    s, r = list(search), list(replace)
    while len(s) > 1 and not s[0].strip():
        s.pop(0)
        if r and not r[0].strip():
            r.pop(0)
    while len(s) > 1 and not s[-1].strip():
        s.pop()
        if r and not r[-1].strip():
            r.pop()
    return (s, r) if len(s) != len(search) else None


def _unnumbered(search: list[str], replace: list[str]) -> tuple[list[str], list[str]] | None:
    """Models copy the "  12 | code" lines of our feedback into SEARCH; strip those line numbers."""
    def strip(part: list[str]) -> list[str] | None:
        if not part or not all(NUMBERED_RE.match(x) for x in part):
            return None
        return [NUMBERED_RE.sub("", x, count=1) for x in part]

    s = strip(search)
    return (s, strip(replace) or replace) if s is not None else None


def _strict(lines: list[str], search: list[str], replace: list[str], hint: int | None) -> Located | None:
    for eq, name in ((_exact, "exact"), (_rstrip_eq, "trailing_ws")):
        found = _positions(lines, search, eq)
        if found:
            pos = _pick(found, hint)
            return _ambiguous(lines, found) if pos is None else Match(pos, pos + len(search), replace, name)
    m = len(search)
    hits = []
    for i in range(len(lines) - m + 1):
        if lines[i].strip() == search[0].strip():
            mapping = _indent_map(lines[i: i + m], search)
            if mapping is not None:
                hits.append((i, mapping))
    if hits:
        pos = _pick([h[0] for h in hits], hint)
        if pos is None:
            return _ambiguous(lines, [h[0] for h in hits])
        mapping = dict(hits)[pos]
        return Match(pos, pos + m, _reindent(replace, mapping), "indent")
    return None


def _elided(lines: list[str], search: list[str], replace: list[str]) -> Located:
    def pieces(part: list[str]) -> list[list[str]]:
        out: list[list[str]] = [[]]
        for line in part:
            if line.strip() in ELISION_LINES:
                out.append([])
            else:
                out[-1].append(line)
        return out

    sp, rp = pieces(search), pieces(replace)
    advice = "SEARCH skips lines with '...'; copy every line of the region exactly instead"
    if len(sp) != len(rp) or not sp[0] or not sp[-1]:
        return Miss(Reason.ELIDED, advice)
    spans: list[tuple[int, int]] = []
    lo = 0
    for piece in sp:
        if not piece:
            return Miss(Reason.ELIDED, advice)
        found = _positions(lines, piece, _exact, lo) or _positions(lines, piece, _rstrip_eq, lo)
        if len(found) != 1:
            return Miss(Reason.ELIDED, advice + (" (a piece matches several places)" if found else ""),
                        closest=_closest(lines, piece)[1])
        spans.append((found[0], found[0] + len(piece)))
        lo = found[0] + len(piece)
    out: list[str] = []
    for k, (_, b) in enumerate(spans):
        out.extend(rp[k])
        if k + 1 < len(spans):
            out.extend(lines[b: spans[k + 1][0]])
    return Match(spans[0][0], spans[-1][1], out, "elision")


def _shared_lines(stripped: list[str], key: list[str]) -> list[int]:
    """For each window start, how many SEARCH lines the window holds (as a multiset): a cheap upper bound
    on the lines a diff can match, computed with one sliding pass."""
    m, want, have, common, out = len(key), Counter(key), Counter(), 0, []
    for i, x in enumerate(stripped):
        have[x] += 1
        common += have[x] <= want[x]
        if i >= m:
            y = stripped[i - m]
            common -= have[y] <= want[y]
            have[y] -= 1
        if i >= m - 1:
            out.append(common)
    return out or [common]


def _ratio(stripped: list[str], i: int, m: int, sm: SequenceMatcher) -> float:
    sm.set_seq1("\n".join(stripped[i: i + m]))
    return sm.ratio()


def _closest(lines: list[str], search: list[str]) -> tuple[int | None, str]:
    """The window of the file most like SEARCH, and its numbered text, for feedback.

    Scored by characters on a short list: the windows sharing most lines with SEARCH, and the
    windows starting where SEARCH's first line is most alike (for a SEARCH with every line altered).
    """
    m = len(search)
    if not lines or m == 0:
        return None, ""
    stripped, key = [x.strip() for x in lines], [s.strip() for s in search]
    shared = _shared_lines(stripped, key)
    picks = sorted(range(len(shared)), key=lambda i: -shared[i])[:CLOSEST_CANDIDATES]
    if max(shared) < 2:  # hardly a line in common: rank the file's lines by likeness to SEARCH's first
        first = next((k for k, s in enumerate(key) if s), 0)
        line_sm = SequenceMatcher(None, autojunk=False)
        line_sm.set_seq2(key[first])
        by_line = []
        for i, x in enumerate(stripped):
            line_sm.set_seq1(x)
            by_line.append((line_sm.quick_ratio(), i))
        picks += [max(0, i - first) for _, i in sorted(by_line, reverse=True)[:CLOSEST_CANDIDATES]]
    sm = SequenceMatcher(None, autojunk=False)
    sm.set_seq2("\n".join(key))
    last = max(0, len(lines) - m)
    best_i = max({min(p, last) for p in picks}, key=lambda i: (_ratio(stripped, i, m, sm), -i))
    return best_i, _numbered(lines, best_i, best_i + m)


def _fuzzy(lines: list[str], search: list[str], replace: list[str]) -> Located:
    m = len(search)
    stripped, key = [x.strip() for x in lines], [s.strip() for s in search]
    need = m - m // FUZZY_LINES_PER_DIFFERENCE
    sm = SequenceMatcher(None, autojunk=False)
    sm.set_seq2("\n".join(key))
    good = []  # windows passing both rules: the character ratio and few differing lines
    for i, count in enumerate(_shared_lines(stripped, key)):
        if count < need:
            continue
        score = _ratio(stripped, i, m, sm)
        if score < FUZZY_THRESHOLD:
            continue
        same = sum(b.size for b in SequenceMatcher(None, stripped[i: i + m], key).get_matching_blocks())
        if m - same <= m // FUZZY_LINES_PER_DIFFERENCE:
            good.append((score, i))
    if not good:
        best_i, text = _closest(lines, search)
        return Miss(Reason.NOT_FOUND, "SEARCH does not match the file", None if best_i is None else best_i + 1, text)
    _, best_i = max(good)
    rivals = [i for _, i in good if abs(i - best_i) >= m]
    if rivals:
        return _ambiguous(lines, sorted([best_i, *rivals]))
    have = next((x for x in lines[best_i: best_i + m] if x.strip()), "")
    want = next((x for x in search if x.strip()), "")
    base_f, base_s = _indent(have), _indent(want)
    out = [base_f + r[len(base_s):] if base_s != base_f and r.startswith(base_s) and r.strip() else r
           for r in replace]
    return Match(best_i, best_i + m, out, "fuzzy")


def _already_there(lines: list[str], search: list[str], replace: list[str]) -> int | None:
    """Where REPLACE already stands, if that shows the edit was made before."""
    added = {r.strip() for r in replace if r.strip()} - {s.strip() for s in search}
    if not added:  # REPLACE only keeps SEARCH lines (a deletion): its presence proves nothing
        return None
    found = _positions(lines, replace, _rstrip_eq)
    if not found:
        return None
    solid = [r for r in replace if r.strip()]
    if len(solid) >= 2 or sum(len(r.strip()) for r in solid) >= 30:
        return found[0] + 1
    # A short line such as "pass" occurs anywhere: accept it only where SEARCH was aimed.
    best_i = _closest(lines, search)[0]
    span = max(len(search), len(replace))
    near = [p for p in found if best_i is not None and abs(p - best_i) < span]
    return near[0] + 1 if near else None


def locate(lines: list[str], search: list[str], replace: list[str], hint: int | None = None) -> Located:
    """Where ``search`` (non-empty) sits in ``lines``, with the replacement fitted to the file."""
    if [s.rstrip() for s in search] == [r.rstrip() for r in replace]:
        return AlreadyApplied(0, "SEARCH and REPLACE are identical; nothing to change")
    result = _strict(lines, search, replace, hint)
    for variant in (_trim_blank_edges, _unnumbered):
        if result is None:
            fixed = variant(search, replace)
            if fixed is not None:
                result = _strict(lines, *fixed, hint)
    if isinstance(result, Match):
        tail = lines[result.start: result.start + len(result.replacement)]
        if len(result.replacement) > result.end - result.start and [t.rstrip() for t in tail] == [
                r.rstrip() for r in result.replacement]:
            return AlreadyApplied(result.start + 1, "already applied: the REPLACE text is already in the file")
        return result
    if result is not None:
        return result
    if any(s.strip() in ELISION_LINES for s in search):
        return _elided(lines, search, replace)
    # Before fuzzy matching, which could otherwise match SEARCH against its own earlier replacement.
    there = _already_there(lines, search, replace)
    if there is not None:
        return AlreadyApplied(there, "already applied: the REPLACE text is already in the file")
    return _fuzzy(lines, search, replace)

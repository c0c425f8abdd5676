"""Parse one source file with tree-sitter into its definitions and the names it references."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from typing import NamedTuple

import tree_sitter
from tree_sitter_language_pack import get_language

from r1agent.tools.languages import LanguageSpec, parser, query_source
from r1agent.tools.patterns import TagPatterns
from r1agent.tools.terms import identifiers

# Kinds that hold other definitions: a function nested in one of these is a method.
_CONTAINERS = {"class", "struct", "interface", "trait", "enum", "impl"}
_SIGNATURE_CHARS = 160


class Definition(NamedTuple):
    """A tuple, so thousands load from the index snapshot quickly."""

    name: str
    kind: str  # class, function, method, struct, interface, enum, trait, type, macro, module
    qualname: str  # Outer.inner for nested definitions
    start_line: int  # 1-based, inclusive
    end_line: int
    signature: str


class Block(NamedTuple):
    """A run of top-level syntax that starts a line, with what the file's parse found in it: after an
    edit, the blocks whose bytes did not change are kept and only the rest is parsed (see reparse.py)."""

    size: int  # bytes, up to the next block
    digest: str  # of those bytes
    lines: int  # newlines in them
    definitions: int  # how many of the file's definitions start in it (they follow in file order)
    references: dict[str, int]
    identifiers: int  # how many of the file's identifier words are in it (they too follow in file order)


def block_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


@dataclass
class ParsedFile:
    """What the index keeps for a file; ``syntax_errors`` marks a partial tree still worth indexing."""

    definitions: list[Definition] = field(default_factory=list)
    references: dict[str, int] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)  # every identifier-like word, for lexical search
    syntax_errors: bool = False
    blocks: list[Block] = field(default_factory=list)  # none for a tree with errors: nothing is reused


def _short_name(text: str) -> str:
    """``ns::Klass::method`` or ``~Klass`` as written in C++ declarators -> the last plain name."""
    return text.rsplit("::", 1)[-1].rsplit(".", 1)[-1].strip()


def _signature(node: tree_sitter.Node, source: bytes) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None and body.start_byte > node.start_byte else node.end_byte
    head = source[node.start_byte:end].decode("utf-8", "replace")
    if body is None:
        head = head.split("\n", 1)[0]
    head = " ".join(head.split()).rstrip("{:= ").strip()
    return head if len(head) <= _SIGNATURE_CHARS else head[: _SIGNATURE_CHARS - 1] + "…"


def _impl_name(node: tree_sitter.Node, source: bytes) -> str | None:
    """The type a Rust ``impl`` block or a Go method receiver belongs to."""
    if node.type == "impl_item":
        t = node.child_by_field_name("type")
        return source[t.start_byte:t.end_byte].decode("utf-8", "replace") if t else None
    return None


@cache
def _kind_ranks(spec: LanguageSpec) -> dict[str, int]:
    """Each definition kind's rank: the kind of the earliest pattern wins when several tag one node."""
    ranks: dict[str, int] = {}
    for p in _tag_patterns(spec).patterns:
        if p.capture and p.capture.startswith("def."):
            ranks.setdefault(p.capture, len(ranks))
    return ranks


@cache
def _tag_patterns(spec: LanguageSpec) -> TagPatterns:
    return TagPatterns(query_source(spec))


# Trees are matched by the walk (patterns.py) until a language's walked nodes reach this many, about
# what building its query would have cost (~0.5 us a node against 2-90 ms); past that, the compiled query.
WALK_BUDGET = 20_000
_walked: Counter[LanguageSpec] = Counter()
_queries: dict[LanguageSpec, tree_sitter.Query] = {}


def _captures(root: tree_sitter.Node, spec: LanguageSpec) -> dict[str, list[tree_sitter.Node]]:
    """The tags query's captures on ``root``, in one pass (two passes cost twice the tree walk).

    Either way gives the same captures (tests hold the walk to the query), so which one ran never shows."""
    query = _queries.get(spec)
    if query is None and _walked[spec] + root.descendant_count <= WALK_BUDGET:
        _walked[spec] += root.descendant_count
        return _tag_patterns(spec).captures(root)
    if query is None:
        query = _queries[spec] = tree_sitter.Query(get_language(spec.grammar), query_source(spec))
    return tree_sitter.QueryCursor(query).captures(root)


def parse_source(source: bytes, spec: LanguageSpec) -> ParsedFile:
    """Definitions (with spans, signatures, nesting) and reference counts of one file's bytes."""
    tree = parser(spec.grammar).parse(source)
    root = tree.root_node
    ranks = _kind_ranks(spec)
    caps = _captures(root, spec)
    # Two patterns may capture one name (a call and an attribute): count each position once.
    ref_at = {n.start_byte: n.text.decode("utf-8", "replace") for n in caps.get("ref", [])}
    refs = Counter(ref_at.values())
    tagged: dict[int, tuple[tree_sitter.Node, str]] = {}  # def node id -> (node, kind of its earliest pattern)
    for key, nodes in caps.items():
        if key in ranks:
            for node in nodes:
                if node.id not in tagged or ranks[key] < ranks["def." + tagged[node.id][1]]:
                    tagged[node.id] = (node, key[4:])
    found: dict[int, tuple[tree_sitter.Node, str, str]] = {}  # def node id -> (node, kind, name)
    scope: dict[int, list[str]] = {}  # def node id -> outer names written in the name (C++ ns::K::m)
    for name_node in sorted(caps.get("name", []), key=lambda n: n.start_byte):
        owner = name_node.parent  # a name belongs to the nearest tagged node around it
        while owner is not None and owner.id not in tagged:
            owner = owner.parent
        if owner is None or owner.id in found:
            continue
        raw = source[name_node.start_byte:name_node.end_byte].decode("utf-8", "replace")
        name = _short_name(raw)
        if name:
            found[owner.id] = (owner, tagged[owner.id][1], name)
            scope[owner.id] = [s.strip() for s in raw.split("::")[:-1] if s.strip()]

    definitions = []
    for node, kind, name in found.values():
        outer: list[str] = list(reversed(scope[node.id]))
        outer_kinds: list[str] = ["class"] * len(outer)
        p = node.parent
        while p is not None:
            if p.id in found:
                outer.append(found[p.id][2])
                outer_kinds.append(found[p.id][1])
            else:
                impl = _impl_name(p, source)
                if impl:
                    outer.append(impl)
                    outer_kinds.append("impl")
            p = p.parent
        if kind == "function" and outer_kinds and outer_kinds[0] in _CONTAINERS:
            kind = "method"
        if kind == "method" and spec.grammar == "go":
            recv = node.child_by_field_name("receiver")
            if recv is not None:
                # "(s *Server[T])" -> "Server": the last name before any type parameters.
                rtype = re.findall(r"[A-Za-z_]\w*", recv.text.decode("utf-8", "replace").split("[", 1)[0])
                if rtype:
                    outer = [rtype[-1]]
        qual = ".".join([*reversed(outer), name])
        signature = _signature(node, source)
        definitions.append(Definition(
            name=name, kind=kind, qualname=qual,
            start_line=node.start_point[0] + 1, end_line=node.end_point[0] + 1,
            signature=signature,
        ))
    definitions.sort(key=lambda d: (d.start_line, d.end_line, d.name))
    text = source.decode("utf-8", "replace")
    if root.has_error:
        blocks, words = [], identifiers(text)
    else:
        blocks, words = _blocks(root, source, text, definitions, ref_at)
    return ParsedFile(definitions=definitions, references=dict(refs), identifiers=words,
                      syntax_errors=root.has_error, blocks=blocks)


def _blocks(
    root: tree_sitter.Node, source: bytes, text: str, definitions: list[Definition], ref_at: dict[int, str],
) -> tuple[list[Block], list[str]]:
    """The file cut at the line after each top-level node, unless the next node starts on that line,
    and the file's identifier words, found block by block (a block starts a line, so no word spans two).

    A block so ends where its last node's line does: text added after it (say, a function appended
    with blank lines before it) leaves the block as it was, and only the new text is parsed. Comments
    join the block after them: the parser passes over them, so a block of comments alone would not
    separate what comes before it from what follows (an indented line after them continues a body)."""
    cuts = [0]
    nodes = root.children
    for i, node in enumerate(nodes):
        after = nodes[i + 1].start_byte if i + 1 < len(nodes) else len(source)
        cut = node.end_byte if node.end_point[1] == 0 else source.find(b"\n", node.end_byte) + 1
        if not node.is_extra and cuts[-1] < cut <= after and cut < len(source):
            cuts.append(cut)
    spans = list(zip(cuts, [*cuts[1:], len(source)], strict=True))
    rows = [0]  # the line each block starts on (0-based), then the line count
    for a, b in spans:
        rows.append(rows[-1] + source.count(b"\n", a, b))
    refs: list[Counter[str]] = [Counter() for _ in cuts]
    for at, name in ref_at.items():
        refs[bisect_right(cuts, at) - 1][name] += 1
    defs = Counter(bisect_right(rows, d.start_line - 1, hi=len(cuts)) - 1 for d in definitions)
    # Where each block starts in ``text``: at its byte offset, unless some character takes several bytes.
    at = [*cuts, len(text)] if len(text) == len(source) else \
        list(accumulate((len(source[a:b].decode("utf-8", "replace")) for a, b in spans), initial=0))
    blocks, words = [], []
    for i, (a, b) in enumerate(spans):
        found = identifiers(text, at[i], at[i + 1])
        words += found
        blocks.append(Block(b - a, block_digest(source[a:b]), rows[i + 1] - rows[i], defs[i],
                            dict(sorted(refs[i].items())), len(found)))
    return blocks, words

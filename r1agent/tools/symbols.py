"""Parse one source file with tree-sitter into its definitions and the names it references."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

import tree_sitter
from tree_sitter_language_pack import get_language

from r1agent.tools.languages import LanguageSpec, parser, query_source
from r1agent.tools.terms import identifiers

# Kinds that hold other definitions: a function nested in one of these is a method.
_CONTAINERS = {"class", "struct", "interface", "trait", "enum", "impl"}
_SIGNATURE_CHARS = 160
_DEF_CAPTURE = re.compile(r"@(def\.\w+)")


class Definition(NamedTuple):
    """A tuple, so thousands load from the index snapshot quickly."""

    name: str
    kind: str  # class, function, method, struct, interface, enum, trait, type, macro, module
    qualname: str  # Outer.inner for nested definitions
    start_line: int  # 1-based, inclusive
    end_line: int
    signature: str


@dataclass
class ParsedFile:
    """What the index keeps for a file; ``syntax_errors`` marks a partial tree still worth indexing."""

    definitions: list[Definition] = field(default_factory=list)
    references: dict[str, int] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)  # every identifier-like word, for lexical search
    syntax_errors: bool = False


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
    for capture in _DEF_CAPTURE.findall(query_source(spec)):
        ranks.setdefault(capture, len(ranks))
    return ranks


@cache
def _query(spec: LanguageSpec) -> tree_sitter.Query:
    return tree_sitter.Query(get_language(spec.grammar), query_source(spec))


def parse_source(source: bytes, spec: LanguageSpec) -> ParsedFile:
    """Definitions (with spans, signatures, nesting) and reference counts of one file's bytes."""
    tree = parser(spec.grammar).parse(source)
    root = tree.root_node
    ranks = _kind_ranks(spec)
    caps = tree_sitter.QueryCursor(_query(spec)).captures(root)
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
    return ParsedFile(definitions=definitions, references=dict(refs),
                      identifiers=identifiers(source.decode("utf-8", "replace")), syntax_errors=root.has_error)

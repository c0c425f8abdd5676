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


@cache
def _query(spec: LanguageSpec) -> tuple[tree_sitter.Query, dict[str, int]]:
    """The language's tags query, and each definition capture's rank: when several patterns tag one node,
    the kind of the earliest wins."""
    text = query_source(spec)
    ranks = {capture: k for k, capture in enumerate(dict.fromkeys(_DEF_CAPTURE.findall(text)))}
    return tree_sitter.Query(get_language(spec.grammar), text), ranks


def parse_source(source: bytes, spec: LanguageSpec) -> ParsedFile:
    """Definitions (with spans, signatures, nesting) and reference counts of one file's bytes."""
    root = parser(spec.grammar).parse(source).root_node
    query, ranks = _query(spec)
    caps = tree_sitter.QueryCursor(query).captures(root)
    # Two patterns may capture one name (a call and an attribute): count each position once.
    refs = Counter({n.start_byte: n.text.decode("utf-8", "replace") for n in caps.get("ref", [])}.values())
    tagged: dict[int, tuple[tree_sitter.Node, str]] = {}  # def node id -> (node, kind of its earliest pattern)
    for key in sorted((key for key in caps if key in ranks), key=ranks.__getitem__):
        for node in caps[key]:
            tagged.setdefault(node.id, (node, key[4:]))
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
            elif p.type == "impl_item" and (impl := p.child_by_field_name("type")) is not None:
                outer.append(source[impl.start_byte:impl.end_byte].decode("utf-8", "replace"))  # Rust: impl T
                outer_kinds.append("impl")
            p = p.parent
        if kind == "function" and outer_kinds and outer_kinds[0] in _CONTAINERS:
            kind = "method"
        if kind == "method" and spec.grammar == "go" and (recv := node.child_by_field_name("receiver")) is not None:
            # "(s *Server[T])" -> "Server": the last name before any type parameters.
            outer = re.findall(r"[A-Za-z_]\w*", recv.text.decode("utf-8", "replace").split("[", 1)[0])[-1:] or outer
        definitions.append(Definition(name, kind, ".".join([*reversed(outer), name]), node.start_point[0] + 1,
                                      node.end_point[0] + 1, _signature(node, source)))
    definitions.sort(key=lambda d: (d.start_line, d.end_line, d.name))
    return ParsedFile(definitions=definitions, references=dict(refs),
                      identifiers=identifiers(source.decode("utf-8", "replace")), syntax_errors=root.has_error)

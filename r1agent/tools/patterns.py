"""The tags queries (``queries/*.scm``) matched by a walk over the syntax tree, without building a Query.

Building a tree-sitter ``Query`` costs a fixed 0.5-11 ms per language before any pattern is added (its
analysis scans the grammar's whole parse table), 2-90 ms for a whole tags query (C++ is the worst),
and a process pays it again for every language it parses. A run that re-parses one edited file
would spend most of its time there. So ``symbols`` matches small trees with this walk and keeps the
compiled query for bulk parsing, where its faster matching pays back the build.

The walk understands the part of the query language the tags queries use: node patterns
``(type field: (child) (child))``, the wildcard ``(_)``, alternatives ``[(a) (b)]`` and ``@captures``.
Anything else is refused when the query is read, so a query cannot silently mean something else
here. Tests hold the walk to tree-sitter's own ``Query`` over real files of every language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter

_NODE_TYPE = re.compile(r"[A-Za-z_]\w*")
_TOKEN = re.compile(r"\s*(?:;[^\n]*|(?P<tok>[()\[\]]|@[\w.]+|[A-Za-z_]\w*:|[A-Za-z_]\w*)|(?P<bad>\S+))")


@dataclass(frozen=True)
class Pattern:
    """A node of one of ``types`` (None: any named node) whose children match ``children``.

    A child pattern with a field name must match some child in that field; without one, some named child.
    """

    types: frozenset[str] | None
    children: tuple[tuple[str | None, Pattern], ...] = ()
    capture: str | None = None


def parse_patterns(source: str) -> list[Pattern]:
    """The patterns of a query file, in order; ValueError on syntax this walk does not implement."""
    tokens: list[str] = []
    for m in _TOKEN.finditer(source):
        if m.group("bad"):
            raise ValueError(f"query syntax not supported by the tree walk: {m.group('bad')!r}")
        if m.group("tok"):
            tokens.append(m.group("tok"))
    pos = 0

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("query ends inside a pattern")
        pos += 1
        return tokens[pos - 1]

    def pattern() -> Pattern:
        opening = take()
        if opening == "[":  # alternatives: plain node types only
            types: set[str] = set()
            while tokens[pos:pos + 1] != ["]"]:
                alt = pattern()
                if alt.types is None or alt.children or alt.capture:
                    raise ValueError("only plain node types are supported inside [ ]")
                types |= alt.types
            take()
            return captured(Pattern(frozenset(types)))
        if opening != "(":
            raise ValueError(f"expected '(' in query, got {opening!r}")
        kind = take()
        if not _NODE_TYPE.fullmatch(kind):
            raise ValueError(f"expected a node type after '(', got {kind!r}")
        children: list[tuple[str | None, Pattern]] = []
        while tokens[pos:pos + 1] != [")"]:
            field = take()[:-1] if tokens[pos:pos + 1] and tokens[pos].endswith(":") else None
            children.append((field, pattern()))
        take()
        return captured(Pattern(None if kind == "_" else frozenset([kind]), tuple(children)))

    def captured(p: Pattern) -> Pattern:  # the @name after a pattern, if any
        nonlocal pos
        if tokens[pos:pos + 1] and tokens[pos].startswith("@"):
            p = Pattern(p.types, p.children, take()[1:])
        return p

    patterns = []
    while pos < len(tokens):
        patterns.append(pattern())
        if patterns[-1].types is None:
            raise ValueError("a pattern may not start with (_): it would be tried at every node")
    return patterns


def _matches(node: tree_sitter.Node, p: Pattern) -> list[list[tuple[str, tree_sitter.Node]]]:
    """Every way ``node`` matches ``p``, each as its captures; empty when it does not match."""
    if not node.is_named or (p.types is not None and node.type not in p.types):
        return []
    ways: list[list[tuple[str, tree_sitter.Node]]] = [[(p.capture, node)] if p.capture else []]
    for field, child in p.children:
        options = [way for kid in (node.children_by_field_name(field) if field else node.named_children)
                   for way in _matches(kid, child)]
        if not options:
            return []
        ways = [w + o for w in ways for o in options]
    return ways


class TagPatterns:
    """A query's patterns indexed by the node type at their root, ready to match a tree."""

    def __init__(self, source: str) -> None:
        self.patterns = parse_patterns(source)
        self._by_type: dict[str, list[Pattern]] = {}
        for p in self.patterns:
            for kind in p.types or ():
                self._by_type.setdefault(kind, []).append(p)

    def captures(self, root: tree_sitter.Node) -> dict[str, list[tree_sitter.Node]]:
        """Capture name -> captured nodes, as ``QueryCursor.captures`` gives them (order aside).

        Only named nodes are visited: patterns start at named nodes, and anonymous ones (tokens) are
        leaves, which skips about half the tree in C."""
        out: dict[str, list[tree_sitter.Node]] = {}
        by_type, todo = self._by_type, [root]
        while todo:
            node = todo.pop()
            patterns = by_type.get(node.type)
            if patterns is not None:
                for p in patterns:
                    for way in _matches(node, p):
                        for name, captured in way:
                            out.setdefault(name, []).append(captured)
            todo += node.named_children
        return out

"""Parse an edited file by re-parsing only the top-level blocks the edit touched.

An edit to a big file usually changes one function. The file's last parse left its blocks (see
``symbols.Block``); the blocks whose bytes are unchanged at the start and at the end of the new file
keep what that parse found in them, and only the span between them is parsed, together with one kept
block on each side. Those two neighbours are the check that the edit did not change how the text
around it parses (an ``else:`` added after an ``if``, a line continuing the statement before it): the
span must parse without errors, with each neighbour still a block of the same bytes. Otherwise the
whole file is parsed, so the result is always what a whole-file parse gives (tests compare the two).
"""

from __future__ import annotations

from collections import Counter

from r1agent.tools.languages import LanguageSpec
from r1agent.tools.symbols import Block, Definition, ParsedFile, block_digest, parse_source


def parse_edited(
    source: bytes, spec: LanguageSpec, old_blocks: list[Block], old_defs: list[Definition], old_words: list[str],
) -> ParsedFile:
    """What ``parse_source(source, spec)`` gives, from the file's last parse (its blocks, definitions and
    identifier words)."""
    n = len(old_blocks)
    head, start = 0, 0  # unchanged blocks at the start, and where the first changed one begins
    while head < n and _holds(source, start, old_blocks[head]):
        start += old_blocks[head].size
        head += 1
    tail, end = 0, len(source)  # unchanged blocks at the end, not overlapping the head ones
    while head + tail < n and end - old_blocks[n - 1 - tail].size >= start \
            and _holds(source, end - old_blocks[n - 1 - tail].size, old_blocks[n - 1 - tail]):
        end -= old_blocks[n - 1 - tail].size
        tail += 1
    keep_head, keep_tail = max(head - 1, 0), max(tail - 1, 0)  # the neighbours are parsed again
    # Nothing to keep (or no blocks: the last parse had errors), or words that do not fit the blocks.
    if keep_head + keep_tail == 0 or sum(b.identifiers for b in old_blocks) != len(old_words):
        return parse_source(source, spec)
    lo = sum(b.size for b in old_blocks[:keep_head])
    hi = len(source) - sum(b.size for b in old_blocks[n - keep_tail:])
    span = parse_source(source[lo:hi], spec)
    if span.syntax_errors or not span.blocks \
            or (head and span.blocks[0][:2] != old_blocks[keep_head][:2]) \
            or (tail and span.blocks[-1][:2] != old_blocks[n - 1 - keep_tail][:2]):
        return parse_source(source, spec)
    before = sum(b.lines for b in old_blocks[:keep_head])  # lines above the span
    shift = source.count(b"\n") - sum(b.lines for b in old_blocks)  # lines the edit added
    defs_head = sum(b.definitions for b in old_blocks[:keep_head])
    defs_tail = len(old_defs) - sum(b.definitions for b in old_blocks[n - keep_tail:])
    words_head = sum(b.identifiers for b in old_blocks[:keep_head])
    words_tail = len(old_words) - sum(b.identifiers for b in old_blocks[n - keep_tail:])
    blocks = [*old_blocks[:keep_head], *span.blocks, *old_blocks[n - keep_tail:]]
    references: Counter[str] = Counter()
    for b in blocks:
        references.update(b.references)
    return ParsedFile(
        definitions=[*old_defs[:defs_head], *(_moved(d, before) for d in span.definitions),
                     *(_moved(d, shift) for d in old_defs[defs_tail:])],
        references=dict(references),
        identifiers=[*old_words[:words_head], *span.identifiers, *old_words[words_tail:]],
        blocks=blocks,
    )


def _holds(source: bytes, at: int, block: Block) -> bool:
    """Whether ``block``'s bytes are what ``source`` has at ``at``."""
    return at + block.size <= len(source) and block_digest(source[at:at + block.size]) == block.digest


def _moved(d: Definition, lines: int) -> Definition:
    return d._replace(start_line=d.start_line + lines, end_line=d.end_line + lines) if lines else d

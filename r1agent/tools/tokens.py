"""A fast, deterministic token estimate for DeepSeek-V3/R1's byte-level BPE.

It mirrors the tokenizer's pre-tokenizer split (letters, 1-3 digit groups, punctuation runs, spaces) and
charges long words by length, as BPE splits rare long words. ``bench/bench_token_estimate.py`` measures
it against the real DeepSeek tokenizer; it is additive over lines, so a map's cost is a sum of its lines.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Same shape as DeepSeek-V3's pre-tokenizer regex, in Python's `re` dialect.
_PIECES = re.compile(
    r"[0-9]{1,3}"
    r"|[!-/:-@\[-`{-~][A-Za-z]+"
    r"|[^\r\n\w!-/:-@\[-`{-~]?[^\W\d_]+"
    r"| ?[!-/:-@\[-`{-~]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
    r"|[^\x00-\x7f]"
)
_WORD_CHARS_PER_TOKEN = 5.0  # fitted on Python sources against the real tokenizer
_PUNCT_CHARS_PER_TOKEN = 3.0  # runs like "):" or "->" merge, long runs do not


@lru_cache(maxsize=1 << 16)  # code repeats its pieces ("def", "(self", ") ->") a lot
def _piece_cost(piece: str) -> int:
    n = len(piece.strip())
    if n == 0:
        return 1
    if piece[-1].isalpha():
        if piece[0] in "/│" and n > 2:
            # Path segments ("/module") and the map's line rule split from the word that follows.
            return 1 + max(1, round((n - 1) / _WORD_CHARS_PER_TOKEN))
        return max(1, round(n / _WORD_CHARS_PER_TOKEN))
    if not piece.isascii():
        return len(piece.encode("utf-8")) // 2 or 1
    if piece.strip()[0].isdigit():
        return 1
    return max(1, round(n / _PUNCT_CHARS_PER_TOKEN + 0.3))


def estimate_tokens(text: str) -> int:
    """Estimated token count of ``text``; additive, so the cost of a render is the sum of its lines."""
    return sum(map(_piece_cost, _PIECES.findall(text)))

"""Split source text and issue text into the lowercase search terms BM25 ranks on, and the BM25 itself."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# camelCase / PascalCase / ACRONYMWord boundaries.
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Words so common in code or prose that they only add noise to the ranking.
STOPWORDS = frozenset(
    """
    a an and are as at be but by for from if in into is it its of on or that the then this to was were
    will with not no yes do does did can could should would self cls def class return import none true
    false null nil var let const func fn pub new use let end else elif while try except finally raise
    pass lambda static void int str bool float public private protected package this that when which
    """.split()
)


@lru_cache(maxsize=1 << 16)
def _expand(ident: str) -> tuple[str, ...]:
    """The terms one identifier contributes (cached: code repeats its names a lot)."""
    low = ident.lower()
    parts = split_identifier(ident)
    out = [low] if low not in STOPWORDS and len(low) > 1 else []
    if len(parts) > 1:
        out.extend(p for p in parts if p not in STOPWORDS)
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def split_identifier(ident: str) -> tuple[str, ...]:
    """``parseHTTPResponse_v2`` -> ``["parse", "http", "response", "v2"]`` (parts of 2+ chars)."""
    return tuple(p.lower() for chunk in ident.split("_") for p in _CAMEL.findall(chunk) if len(p) > 1)


def identifiers(text: str) -> list[str]:
    """The identifier-like words of a text, in order (cheap: the index stores these, not terms)."""
    return _IDENT.findall(text)


def terms_of_identifiers(idents: list[str]) -> list[str]:
    """Search terms from identifiers: each whole, plus its parts when it has several."""
    return [t for ident, count in Counter(idents).items() for t in _expand(ident) * count]


def terms(text: str) -> list[str]:
    """Search terms of a text."""
    return terms_of_identifiers(_IDENT.findall(text))


def definition_terms(name: str, qualname: str, signature: str) -> tuple[str, ...]:
    """A definition's search terms: its name, the parts of its qualified name, its signature's terms."""
    return (name.lower(), *split_identifier(qualname.replace(".", "_")), *terms(signature))


def query_counts(docs: Sequence[Sequence[str]], query: set[str]) -> dict[str, np.ndarray]:
    """Per query term, its count in each of ``docs``."""
    counts = {q: np.zeros(len(docs)) for q in query}
    for k, doc in enumerate(docs):
        for t in query.intersection(doc):
            counts[t][k] = doc.count(t)
    return counts


def bm25(counts: dict[str, np.ndarray], lengths: np.ndarray, query: list[str], k1: float = 1.5,
         b: float = 0.75) -> np.ndarray:
    """Okapi BM25 of every document for ``query``, given only each query term's count per document
    (``counts``) and each document's length: the caller looks up a handful of terms, never every word
    of the repository. Lucene's idf, log(1 + (N - df + 0.5) / (df + 0.5)), keeps common terms positive."""
    n = len(lengths)
    scores = np.zeros(n)
    if n == 0 or not lengths.any():
        return scores
    norm = k1 * (1 - b + b * lengths / lengths.mean())
    for term, times in Counter(query).items():
        tf = counts.get(term)
        if tf is None or not tf.any():
            continue
        df = np.count_nonzero(tf)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        scores += times * idf * tf * (k1 + 1) / (tf + norm)
    return scores

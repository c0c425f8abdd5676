"""Packed strings: a splice shares bytes, and reads back exactly what a list would hold."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from r1agent.tools.strings import MAX_RUNS, Strings

texts = st.lists(st.text(max_size=12), max_size=20)


@given(texts)
def test_rows_read_back_as_written(items):
    packed = Strings.of(items)
    assert len(packed) == len(items)
    assert list(packed) == items
    assert [packed[k] for k in range(len(items))] == items
    if items:
        assert packed[-1] == items[-1]
    with pytest.raises(IndexError):
        packed[len(items)]


@given(st.lists(st.tuples(texts, st.integers(0, 20), st.integers(0, 20)), max_size=5))
def test_a_splice_equals_the_list_splice_and_survives_pickling(parts):
    pieces, expected = [], []
    for items, a, b in parts:
        a, b = min(a, len(items)), min(b, len(items))
        pieces.append((Strings.of(items), a, b))
        expected += items[a:b]
    spliced = Strings.spliced(pieces)
    assert list(spliced) == expected and [spliced[k] for k in range(len(expected))] == expected
    assert spliced == Strings.of(expected)
    again = pickle.loads(pickle.dumps(spliced))
    assert again == spliced and list(again) == expected
    # A splice of a splice (the next edit of the same snapshot) still reads right.
    assert list(Strings.spliced([(spliced, 1, len(expected)), (spliced, 0, 1)])) == expected[1:] + expected[:1]


def test_a_splice_shares_the_bytes_it_keeps():
    big = Strings.of([f"def function_{i}(argument):" for i in range(1000)])
    spliced = Strings.spliced([(big, 0, 400), (Strings.of(["def new():"]), 0, 1), (big, 401, 1000)])
    assert all(run.data is big._runs[0].data for run in spliced._runs if len(run.data) > 100)
    assert spliced[400] == "def new():" and spliced[401] == "def function_401(argument):"


def test_splices_of_splices_are_packed_again_past_a_few_runs():
    rows = [f"row {i}" for i in range(200)]
    strings = Strings.of(rows)
    for k in range(100):  # a long session: one row swapped at a time, all over the file
        at = (k * 37) % 200
        rows[at] = f"edit {k}"
        strings = Strings.spliced([(strings, 0, at), (Strings.of([rows[at]]), 0, 1), (strings, at + 1, 200)])
        assert len(strings._runs) <= MAX_RUNS
    assert list(strings) == rows

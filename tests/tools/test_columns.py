"""Columns spliced file by file equal columns built from scratch, whatever the sequence of edits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from r1agent.tools.columns import Columns, _parents
from r1agent.tools.index import FileRecord
from r1agent.tools.symbols import Definition

PATHS = [f"src/m{i}.py" for i in range(8)]
NAMES = ["alpha", "beta", "gamma", "delta", "run", "_hidden", "Zeta", "ab"]

definitions = st.lists(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(["function", "class", "method"]), st.integers(1, 500)),
    max_size=5,
).map(lambda ds: [Definition(n, k, f"alpha.{n}" if k == "method" else n, line, line + 3, f"def {n}(x)")
                  for n, k, line in sorted(ds, key=lambda d: (d[2], d[0]))])
records = st.builds(
    lambda path, defs, refs, err: FileRecord(path, "python", defs, refs, err),
    st.sampled_from(PATHS), definitions, st.dictionaries(st.sampled_from(NAMES), st.integers(1, 9), max_size=5),
    st.booleans(),
)
# Each step: files written (new or changed) and files removed.
steps = st.lists(st.tuples(st.lists(records, max_size=3), st.lists(st.sampled_from(PATHS), max_size=2)),
                 min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(start=st.lists(records, max_size=6), steps=steps)
def test_updates_equal_a_fresh_build(start, steps):
    current = {r.path: r for r in start}
    cols = Columns.from_records(current.values())
    for written, removed in steps:
        changed: dict[str, FileRecord | None] = {p: None for p in removed}
        changed.update({r.path: r for r in written})
        for path, rec in changed.items():
            if rec is None:
                current.pop(path, None)
            else:
                current[path] = rec
        cols = cols.updated(changed)
        fresh = Columns.from_records(current.values())
        assert cols.same_as(fresh)
        assert cols.records() == dict(sorted(current.items()))


def test_a_pickled_snapshot_reads_back_equal_even_with_separator_characters_in_strings():
    import pickle

    recs = [FileRecord("a.py", "python", [Definition("f", "function", "f", 1, 2, "def f(x='\0')")], {"g": 2}, False),
            FileRecord("b.py", "python", [], {}, True)]
    for cols in (Columns.from_records(recs), Columns.from_records(recs[1:]), Columns.from_records([])):
        assert pickle.loads(pickle.dumps(cols)).same_as(cols)


def test_each_definition_points_at_the_nearest_enclosing_one_by_name():
    defs = [Definition("A", "class", "A", 1, 9, "class A"), Definition("f", "method", "A.f", 2, 3, "def f"),
            Definition("g", "function", "A.B.g", 4, 5, "def g"), Definition("B", "class", "A.B", 6, 8, "class B"),
            Definition("h", "function", "C.h", 10, 11, "def h"), Definition("A", "class", "A", 12, 13, "class A")]
    # A.B.g: its class B comes later in the file, still its parent; C.h has no C; the second A points nowhere.
    assert _parents(defs) == [-1, 0, 3, 0, -1, -1]

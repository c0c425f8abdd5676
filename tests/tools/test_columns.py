"""Columns spliced file by file equal columns built from scratch, whatever the sequence of edits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from r1agent.tools.columns import Columns
from r1agent.tools.index import FileRecord
from r1agent.tools.symbols import Definition

PATHS = [f"src/m{i}.py" for i in range(8)]
NAMES = ["alpha", "beta", "gamma", "delta", "run", "_hidden", "Zeta", "ab"]

definitions = st.lists(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(["function", "class", "method"]), st.integers(1, 500)),
    max_size=5,
).map(lambda ds: [Definition(n, k, f"Outer.{n}" if k == "method" else n, line, line + 3, f"def {n}(x)")
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

"""The columns built from the index's records hold exactly those records, in path order."""

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


@settings(max_examples=150, deadline=None)
@given(recs=st.lists(records, max_size=8, unique_by=lambda r: r.path), data=st.data())
def test_columns_hold_every_record_in_path_order_whatever_the_order_given(recs, data):
    cols = Columns.from_records(data.draw(st.permutations(recs)))
    by_path = sorted(recs, key=lambda r: r.path)
    assert cols.paths == [r.path for r in by_path] and cols.langs == ["python"] * len(recs)
    used = {d.name for r in recs for d in r.definitions} | {n for r in recs for n in r.references}
    assert cols.names == sorted(used)
    for i, r in enumerate(by_path):
        a, b = int(cols.def_at[i]), int(cols.def_at[i + 1])
        shown = [(cols.names[n], s, e, q) for n, s, e, q in zip(cols.def_name[a:b], cols.def_start[a:b],
                                                                cols.def_end[a:b], cols.def_qualname[a:b], strict=True)]
        assert shown == [(d.name, d.start_line, d.end_line, d.qualname) for d in r.definitions]
        a, b = int(cols.ref_at[i]), int(cols.ref_at[i + 1])
        ids = cols.ref_name[a:b].tolist()
        assert ids == sorted(ids)  # ascending within a file, as the graph's joins expect
        assert {cols.names[n]: int(c) for n, c in zip(ids, cols.ref_count[a:b], strict=True)} == r.references
    assert cols.name_ids(["beta", "nowhere", "alpha"]).tolist() == [cols.names.index(n) for n in ("alpha", "beta")
                                                                      if n in used]


def test_each_definition_points_at_the_nearest_enclosing_one_by_name():
    defs = [Definition("A", "class", "A", 1, 9, "class A"), Definition("f", "method", "A.f", 2, 3, "def f"),
            Definition("g", "function", "A.B.g", 4, 5, "def g"), Definition("B", "class", "A.B", 6, 8, "class B"),
            Definition("h", "function", "C.h", 10, 11, "def h"), Definition("A", "class", "A", 12, 13, "class A")]
    # A.B.g: its class B comes later in the file, still its parent; C.h has no C; the second A points nowhere.
    assert _parents(defs) == [-1, 0, 3, 0, -1, -1]

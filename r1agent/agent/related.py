"""Which tests a change can break: the test files that import the changed modules or use the names
they define (the index's def/ref graph). Candidates run these instead of the whole suite."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test|tests?)\.py$")


def is_test_file(path: str) -> bool:
    return bool(_TEST_FILE.search(path))


def test_files(base: Path) -> list[str]:
    """Every test file of the snapshot at ``base`` (test_*.py, *_test.py, tests.py)."""
    return sorted(str(p.relative_to(base)) for p in base.rglob("*.py")
                  if is_test_file(str(p.relative_to(base))) and ".git" not in p.parts)


def _module_names(path: str) -> list[str]:
    """``src/pkg/sub/mod.py`` -> ``pkg.sub.mod`` (and the path's other dotted suffixes, for src layouts)."""
    parts = Path(path).with_suffix("").parts
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return [".".join(parts[i:]) for i in range(len(parts))]


def _imports(text: str, module: str) -> bool:
    """``import a.b.c``, ``from a.b.c import``, ``from a.b import c``."""
    head, _, last = module.rpartition(".")
    pattern = rf"^\s*(?:import\s+{re.escape(module)}\b|from\s+{re.escape(module)}\s+import\b"
    if head:
        pattern += rf"|from\s+{re.escape(head)}\s+import\s+(?:\(\s*)?(?:[\w\s,]*,\s*)?{re.escape(last)}\b"
    return re.search(pattern + ")", text, re.M) is not None


def _named_after(test: str, module: str) -> bool:
    """``test_mod.py`` (or ``mod_test.py``) for ``pkg/mod.py``, beside it or in a tests folder under its
    package or at the top: a test may reach the module only through the package (sympy's
    ``from sympy import mathematica_code``), which neither the imports nor the names show."""
    mod, test_path = Path(module), Path(test)
    if is_test_file(module) or test_path.name not in (f"test_{mod.stem}.py", f"{mod.stem}_test.py"):
        return False
    return test_path.parent.is_relative_to(mod.parent) or test_path.parts[0] in ("tests", "test", "testing")


def related_test_files(changed: Iterable[str], base: Path, graph=None, candidates: list[str] | None = None,
                       graph_limit: int | None = None, focus: bool = True) -> list[str]:
    """The test files related to ``changed`` (paths in ``base``), most closely related first, so a run cut
    short by time drops the weakest: the changed test files themselves, then those importing a changed
    module (by its full dotted name, or its name within its package) or named after it, and the ``graph_limit`` test files
    the def/ref ``graph`` links most closely to the changed files (see ``_link_weights``; ``focus=False``
    ranks by weight alone, the benchmark's peer)."""
    changed = [c for c in changed if c.endswith(".py")]
    pool = candidates if candidates is not None else test_files(base)
    own = sorted(c for c in changed if is_test_file(c))
    modules = []
    for c in changed:
        if not is_test_file(c) and (names := _module_names(c)):
            modules += [names[0], *(n for n in names[1:2] if "." in n)]  # pkg.mod, or mod in a src/ layout
    importers = set()
    for path in pool:
        try:
            text = (base / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if path not in own and (any(_imports(text, m) for m in modules) or any(_named_after(path, c) for c in changed)):
            importers.add(path)
    weight = _link_weights(graph, changed, focus) if graph is not None else {}
    pooled = set(pool) - set(own) - importers
    linked = [p for p in sorted(weight, key=lambda p: (-weight[p], p)) if p in pooled][:graph_limit]
    return own + sorted([*importers, *linked], key=lambda p: (-weight.get(p, 0.0), p not in importers, p))


def _link_weights(graph, changed: list[str], focus: bool = True) -> dict[str, float]:
    """How closely each file using names the changed files define is linked to them: its summed edge
    weight into them, times the share of all its edge weight that this is. A change to a core module
    (sympy's matrices.py) is used by most of the suite in passing; weight puts its own tests
    (test_matrices.py, test_sparse.py) ahead of those, and the share puts them ahead of the large files
    that use every module (test_args.py, test_wester.py), which also take the longest to run."""
    index = {p: i for i, p in enumerate(graph.paths)}
    into = np.isin(graph.dst, [index[c] for c in changed if c in index])
    weight = np.bincount(graph.src[into], weights=graph.weight[into], minlength=len(graph.paths))
    total = np.bincount(graph.src, weights=graph.weight, minlength=len(graph.paths)) if focus else weight
    return {graph.paths[i]: float(weight[i] ** 2 / total[i]) for i in np.flatnonzero(weight > 0)}

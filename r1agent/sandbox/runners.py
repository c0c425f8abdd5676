"""The test runners real projects use, each as a command for a selection and a parser of its report.

pytest (node ids, JUnit XML), sympy's ``bin/test`` (its verbose lines), Django's ``tests/runtests.py``
and plain unittest (``test_x (module.Class) ... ok``), and a configured ``tests.command`` with an
optional ``{tests}`` placeholder. Test ids are in the forms SWE-bench uses for these repos.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from r1agent.sandbox.junit import parse_junit

JUNIT_FILE = ".git/r1agent-junit.xml"  # inside the work dir, writable everywhere, never part of a diff
PLACEHOLDER = "{tests}"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_XPASS = re.compile(r"^XPASS (\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Runner:
    """How to run a selection (``command``) and read each test's status back (``parse(output, junit)``)."""

    name: str
    command: Callable[[str, list[str]], str]  # (python, selection) -> shell command
    parse: Callable[[str, str | None], dict[str, str]]
    junit: bool = False
    collect: Callable[[str], str] | None = None  # (python) -> a command listing the tests without running them


def _quoted(selection: list[str]) -> str:
    return " ".join(shlex.quote(s) for s in selection)


# --- pytest -----------------------------------------------------------------------------------

_JUNIT_ARGS = f"--junitxml={JUNIT_FILE} -o junit_family=xunit1"


def _pytest_parse(output: str, junit: str | None) -> dict[str, str]:
    tests = parse_junit(junit) if junit else {}
    for nid in _XPASS.findall(output):  # JUnit writes a non-strict xpass as a pass
        if nid in tests:
            tests[nid] = "xpass"
    return tests


_COLLECTED = re.compile(r"^(\S+\.py::\S.*?)\s*$", re.M)
_COLLECT_ERROR = re.compile(r"^ERROR (\S+\.py)\b", re.M)


def pytest_collected(output: str) -> dict[str, str]:
    """``pytest --collect-only -q``: one node id a line ("collected"); files that failed to import "error"."""
    found = dict.fromkeys(_COLLECTED.findall(output), "collected")
    return found | dict.fromkeys(_COLLECT_ERROR.findall(output), "error")


PYTEST = Runner(
    "pytest",
    lambda py, sel: f"{shlex.quote(py)} -m pytest -p no:cacheprovider --continue-on-collection-errors -rX -q "
                    f"{_JUNIT_ARGS} {_quoted(sel)}".strip(),
    _pytest_parse, junit=True,
    collect=lambda py: f"{shlex.quote(py)} -m pytest -p no:cacheprovider --collect-only -q",
)


# --- sympy's bin/test -------------------------------------------------------------------------

_SYMPY_FILE = re.compile(r"^(\S+\.py)\[(\d+|\?)\]")
_SYMPY_TEST = re.compile(r"^(test_\w+) (?:.* )?(ok|F|E|T|f|X|s|w|K)\s*(?:\[(?:OK|FAIL)\])?$")
_SYMPY_STATUS = {"ok": "passed", "F": "failed", "E": "error", "T": "error", "f": "xfail", "X": "xpass",
                 "s": "skipped", "w": "skipped", "K": "skipped"}


def sympy_parse(output: str, _junit: str | None = None) -> dict[str, str]:
    """``bin/test --verbose`` prints each file (``path.py[n]``) then one ``test_name <status>`` line per
    test; ids are ``path.py::test_name``. A file that fails to import (``path.py[?]``) is an error."""
    tests: dict[str, str] = {}
    current = ""
    for raw in output.splitlines():
        line = _ANSI.sub("", raw).strip()
        if m := _SYMPY_FILE.match(line):
            current = m[1]
            if m[2] == "?":
                tests[current] = "error"
        elif (m := _SYMPY_TEST.match(line)) and current:
            tests[f"{current}::{m[1]}"] = _SYMPY_STATUS[m[2]]
    return tests


def _sympy_command(python: str, selection: list[str], flags: str = "--verbose") -> str:
    files = list(dict.fromkeys(s.split("::", 1)[0] for s in selection))  # bin/test selects by file
    return f"{shlex.quote(python)} bin/test {flags} {_quoted(files)}".strip()


# With sympy's cache, as its developers run it: without it (-C) one file took 289 s, not 3.4 s.
SYMPY = Runner("sympy bin/test", _sympy_command, sympy_parse)
# As SWE-bench's harness runs it (-C: no cache), for grading against SWE-bench's expected results.
SYMPY_NO_CACHE = Runner("sympy bin/test -C", lambda py, sel: _sympy_command(py, sel, "-C --verbose"), sympy_parse)


def as_swebench_runs(runner: Runner) -> Runner:
    """The runner as SWE-bench's harness runs that repo's tests, where that differs from the usual way."""
    return SYMPY_NO_CACHE if runner is SYMPY else runner


# --- unittest and Django's runtests.py ---------------------------------------------------------

_UNITTEST = re.compile(r"^(\w+) \(([\w.]+)\)(?:\n.*?)?\s\.\.\.\s*(ok|FAIL|ERROR|skipped.*|expected failure|"
                       r"unexpected success)\s*$", re.M)
_UNITTEST_STATUS = {"ok": "passed", "FAIL": "failed", "ERROR": "error", "expected failure": "xfail",
                    "unexpected success": "xpass"}


def unittest_parse(output: str, _junit: str | None = None) -> dict[str, str]:
    """Verbose unittest lines, ``test_x (pkg.module.Class) ... ok``; the id is ``test_x (pkg.module.Class)``
    as SWE-bench writes it. Python 3.11+ writes the class as ``pkg.module.Class.test_x``: the same id."""
    tests: dict[str, str] = {}
    for name, where, status in _UNITTEST.findall(_ANSI.sub("", output)):
        where = where[: -len(name) - 1] if where.endswith("." + name) else where
        tests[f"{name} ({where})"] = "skipped" if status.startswith("skipped") else _UNITTEST_STATUS[status]
    return tests


def unittest_label(test_id: str, strip_prefix: str = "") -> str:
    """A test id or file as a unittest label: ``test_x (a.b.C)`` -> ``a.b.C.test_x``; ``a/b.py`` -> ``a.b``."""
    if m := re.fullmatch(r"(\w+) \(([\w.]+)\)", test_id.strip()):
        return f"{m[2]}.{m[1]}"
    path = test_id.split("::", 1)[0]
    if path.endswith(".py"):
        path = path[: -len(".py")]
        if strip_prefix and path.startswith(strip_prefix):
            path = path[len(strip_prefix):]
        return path.replace("/", ".")
    return test_id


UNITTEST = Runner(
    "unittest",
    lambda py, sel: f"{shlex.quote(py)} -m unittest -v {_quoted([unittest_label(s) for s in sel])}".strip(),
    unittest_parse,
)
DJANGO = Runner(
    "django runtests.py",
    lambda py, sel: f"{shlex.quote(py)} tests/runtests.py --verbosity 2 --parallel 1 "
                    f"{_quoted([unittest_label(s, 'tests/') for s in sel])}".strip(),
    unittest_parse,
)


# --- a configured command ---------------------------------------------------------------------

def configured(command: str) -> Runner:
    """``tests.command``: the selection goes where ``{tests}`` is, else at the end. pytest commands get
    a JUnit report; others are read as unittest or bin/test output, else judged by exit code alone."""
    def build(_python: str, selection: list[str]) -> str:
        chosen = _quoted(selection)
        extra = f" {_JUNIT_ARGS}" if "pytest" in command else ""
        if PLACEHOLDER in command:
            return command.replace(PLACEHOLDER, chosen + extra).strip()
        return f"{command}{extra} {chosen}".strip()

    def parse(output: str, junit: str | None) -> dict[str, str]:
        if "pytest" in command:
            return _pytest_parse(output, junit)
        return unittest_parse(output) or sympy_parse(output)

    return Runner(f"tests.command ({command})", build, parse, junit="pytest" in command)


def detect(read: Callable[[str], str | None]) -> Runner:
    """The runner a repo uses, from its files (``read(path)`` gives a file's text or None): sympy's
    ``bin/test`` and Django's ``tests/runtests.py`` where the repo has them, else pytest."""
    bin_test = read("bin/test")
    if bin_test is not None and ("runtests" in bin_test or "sympy.test(" in bin_test):
        return SYMPY
    if read("tests/runtests.py") is not None and not any(read(p) is not None for p in ("pytest.ini", "conftest.py")):
        return DJANGO
    return PYTEST

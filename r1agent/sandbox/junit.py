"""Per-test statuses from pytest's JUnit XML (xunit1 family, which records each test's file)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from r1agent.errors import SandboxError

# When one node id appears twice (a teardown error after a pass), the worse status wins.
_RANK = {"passed": 0, "xpass": 1, "skipped": 2, "xfail": 3, "failed": 4, "error": 5}
MAX_XML_BYTES = 64 << 20


def node_id(file: str | None, classname: str, name: str) -> str:
    """Rebuild pytest's node id: JUnit writes ``tests.test_x.TestA`` + ``test_y[1]`` for ``tests/test_x.py::TestA::test_y[1]``."""
    if file:
        module = file[:-3].replace("/", ".") if file.endswith(".py") else file.replace("/", ".")
        if not classname and name == module:  # a collection error names the module only
            return file
        rest = classname[len(module):].lstrip(".") if classname.startswith(module) else ""
        return "::".join([file, *(rest.split(".") if rest else []), name])
    if not classname:  # a collection error names the module only
        return name.replace(".", "/") + ".py"
    parts = classname.split(".")
    return "/".join(parts) + ".py::" + name


def _status(case: ET.Element) -> str:
    if case.find("error") is not None:
        return "error"
    if case.find("failure") is not None:
        return "failed"
    skipped = case.find("skipped")
    if skipped is not None:
        return "xfail" if skipped.get("type") == "pytest.xfail" else "skipped"
    return "passed"


def parse_junit(xml: str) -> dict[str, str]:
    """Map node id to passed / failed / error / skipped / xfail."""
    if len(xml) > MAX_XML_BYTES:
        raise SandboxError(f"JUnit report is {len(xml)} bytes, over the {MAX_XML_BYTES} byte limit")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise SandboxError(f"unreadable JUnit report: {e}") from None
    tests: dict[str, str] = {}
    for case in root.iter("testcase"):
        nid = node_id(case.get("file"), case.get("classname", ""), case.get("name", ""))
        status = _status(case)
        if _RANK[status] >= _RANK.get(tests.get(nid, "passed"), 0):
            tests[nid] = status
    return tests

"""Which runs of the unchanged code say nothing about it. Real pytest in the local backend's sandbox."""

from __future__ import annotations

from r1agent.sandbox import open_backend
from r1agent.sandbox.report import why_unusable
from r1agent.settings import Settings

LOCAL = Settings.model_validate({"sandbox": {"backend": "local"}})
PASSING = "def test_ok():\n    assert 1 + 1 == 2\n"


def test_a_hook_that_raises_is_an_internal_error_but_an_inner_sessions_lines_in_test_output_are_not(make_repo):
    """pytest-7220: pytest's own test of an inner session failed on Python 3.9 and printed that session's
    INTERNALERROR lines in its captured output; the outer run finished and reported every test."""
    inner = ("def test_inner_session():\n    print('INTERNALERROR> ValueError: Name node can\\'t be used with "
             "\\'None\\' constant')\n    assert False\n")
    crashed = make_repo({"tests/test_a.py": PASSING,
                         "conftest.py": "def pytest_collection_finish(session):\n    raise RuntimeError('hook')\n"})
    printed = make_repo({"tests/test_a.py": PASSING, "tests/test_inner.py": inner})
    with open_backend(LOCAL, crashed).create("crash") as sb:
        crash = sb.run_tests(["tests/test_a.py"], timeout=60)
    with open_backend(LOCAL, printed).create("inner") as sb:
        ran = sb.run_tests(["tests/test_a.py", "tests/test_inner.py"], timeout=60)
    assert why_unusable(crash) == "pytest stopped with an INTERNALERROR: RuntimeError: hook"
    assert "INTERNALERROR> ValueError" in ran.output_tail and ran.tests == {
        "tests/test_a.py::test_ok": "passed", "tests/test_inner.py::test_inner_session": "failed"}
    assert why_unusable(ran) is None

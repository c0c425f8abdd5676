"""Which tests judge a candidate, and whether they pass. A target is a node id or a file
(or a directory): a file target passes when it has tests and all of them pass."""

from __future__ import annotations

from collections.abc import Iterable

PASSING = ("passed", "xfail", "xpassed", "xpass")


def matching(target: str, tests: dict[str, str]) -> dict[str, str]:
    prefix = target.rstrip("/")
    return {t: s for t, s in tests.items() if t == prefix or t.startswith(prefix + "::") or t.startswith(prefix + "/")}


def unmet(targets: Iterable[str], tests: dict[str, str]) -> list[str]:
    """The targets that do not pass: missing, failing or erroring (SWE-bench: missing = failed)."""
    bad = []
    for target in targets:
        found = matching(target, tests)
        if not found or any(s not in PASSING and s != "skipped" for s in found.values()) or all(
            s == "skipped" for s in found.values()
        ):
            bad.append(target)
    return bad

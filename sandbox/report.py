"""A test run's result: the status of every test, counts, and the end of the output."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

STATUSES = ("passed", "failed", "error", "skipped", "xfail", "xpass")


@dataclass(frozen=True)
class TestReport:
    """``tests`` maps node id to one of STATUSES; ``summary`` counts them (plus ``total``)."""

    __test__ = False  # not a pytest test class

    tests: dict[str, str]
    exit_code: int
    output_tail: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    command: str = ""
    summary: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.summary:
            counts = Counter(self.tests.values())
            object.__setattr__(self, "summary", {s: counts.get(s, 0) for s in STATUSES} | {"total": len(self.tests)})

    @property
    def all_passed(self) -> bool:
        bad = self.summary.get("failed", 0) + self.summary.get("error", 0)
        return not self.timed_out and self.exit_code == 0 and bad == 0 and bool(self.tests)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

"""The agent tests' world: a buggy repo and R1's scripted answers (shared with bench/)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from r1agent.scripted import ScriptedTurn

PYPROJECT = textwrap.dedent("""\
    [project]
    name = "stats"
    version = "0.1.0"

    [tool.pytest.ini_options]
    testpaths = ["tests"]
    pythonpath = ["."]
""")

CORE = textwrap.dedent('''\
    """Small statistics helpers."""


    def mean(xs):
        """Arithmetic mean of a non-empty sequence."""
        return sum(xs) / (len(xs) - 1)


    def median(xs):
        """Middle value; the mean of the two middle values for an even count."""
        ordered = sorted(xs)
        mid = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[mid]
        return (ordered[mid - 1] + ordered[mid]) / 2
''')


def _filler(i: int) -> str:
    """Realistic bulk, so the repo context dominates the prompt as it does in real repos."""
    return textwrap.dedent(f'''\
        """Report section {i}: formatting helpers for table {i}."""


        def format_row_{i}(values, width=10, precision=2):
            """Format the values of table {i} as one fixed-width row."""
            cells = []
            for value in values:
                if isinstance(value, float):
                    cells.append(f"{{value:>{{width}}.{{precision}}f}}")
                else:
                    cells.append(str(value).rjust(width))
            return " | ".join(cells)


        def header_{i}(names, width=10):
            """Header line for table {i}, underlined with dashes."""
            line = " | ".join(name.center(width) for name in names)
            return line + "\\n" + "-" * len(line)
    ''')


TESTS = textwrap.dedent("""\
    from stats.core import mean, median


    def test_mean():
        assert mean([1, 2, 3, 4]) == 2.5


    def test_median_odd():
        assert median([3, 1, 2]) == 2


    def test_median_even():
        assert median([4, 1, 3, 2]) == 2.5
""")


def repo_files(filler: int = 12) -> dict[str, str]:
    files = {"pyproject.toml": PYPROJECT, "stats/__init__.py": "", "stats/core.py": CORE,
             "tests/test_core.py": TESTS}
    for i in range(filler):
        files[f"stats/report_{i}.py"] = _filler(i)
    return files


def edit(search: str, replace: str, path: str = "stats/core.py", commit: str = "Fix mean") -> str:
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n\nCommit: {commit}\n"


GOOD = edit("    return sum(xs) / (len(xs) - 1)", "    return sum(xs) / len(xs)")
STILL_WRONG = edit("    return sum(xs) / (len(xs) - 1)", "    return sum(xs) / (len(xs) + 1)")
REGRESSES = edit("        return ordered[mid]", "        return ordered[0]")
MALFORMED = edit("    return total / count", "    return sum(xs) / len(xs)")


def turn(answer: str, reasoning: str = "The mean divides by the wrong count.") -> ScriptedTurn:
    return ScriptedTurn(reasoning=reasoning, answer=answer)


def turns_n(*answers: str) -> ScriptedTurn:
    return ScriptedTurn(reasoning="", answer="", choices=[(f"Idea {i}.", a) for i, a in enumerate(answers)])


@dataclass
class CliResult:
    code: int
    out: str
    err: str

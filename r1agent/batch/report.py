"""``DIR/report.html``: resolved rate, a per-repo table and the token, time and round
distributions, with one PNG chart (also saved as ``DIR/report.png``). Built from records.jsonl
alone, so ``r1agent batch report DIR`` can rebuild it at any time."""

from __future__ import annotations

import base64
import io
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")  # files only; never a window, whatever the host has

import matplotlib.pyplot as plt  # noqa: E402 - after the backend choice
from matplotlib.ticker import MaxNLocator  # noqa: E402

from r1agent.errors import InputError  # noqa: E402

from .records import RECORDS, InstanceRecord, read_records  # noqa: E402
from .summary import read_summary, summarize_batch  # noqa: E402

REPORT, CHART = "report.html", "report.png"
_STATUS_COLORS = {"verified": "#2e7d32", "unverified": "#f9a825", "error": "#c62828", "timeout": "#6a1b9a"}


@dataclass(frozen=True)
class Spread:
    """p50 / p90 / max of one per-instance quantity."""

    name: str
    p50: float
    p90: float
    max: float


@dataclass(frozen=True)
class RepoRow:
    repo: str
    instances: int
    verified: int
    evaluated: int
    resolved: int
    median_tokens: float
    median_seconds: float


def spread(name: str, values: list[float]) -> Spread:
    if not values:
        return Spread(name, 0, 0, 0)
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return Spread(name, round(statistics.median(ordered), 1), round(p90, 1), round(ordered[-1], 1))


def repo_rows(records: list[InstanceRecord]) -> list[RepoRow]:
    groups: dict[str, list[InstanceRecord]] = defaultdict(list)
    for r in records:
        groups[r.repo].append(r)
    return [
        RepoRow(repo, len(rs), sum(r.status == "verified" for r in rs),
                sum(r.evaluation is not None for r in rs), sum(bool(r.evaluation and r.evaluation.resolved) for r in rs),
                statistics.median(r.usage.total for r in rs), round(statistics.median(r.duration_s for r in rs), 1))
        for repo, rs in sorted(groups.items())
    ]


def render_chart(records: list[InstanceRecord]) -> bytes:
    """Outcomes, then the token, time and round distributions, as one PNG."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    (outcome, tokens), (seconds, rounds) = axes
    counts = Counter(r.status for r in records)
    names = [s for s in _STATUS_COLORS if counts.get(s)]
    outcome.bar(names, [counts[s] for s in names], color=[_STATUS_COLORS[s] for s in names])
    evaluated = [r for r in records if r.evaluation is not None]
    if evaluated:
        outcome.bar(["resolved"], [sum(r.evaluation.resolved for r in evaluated)], color="#1565c0")
    outcome.set_title("Outcomes (instances)")
    tokens.hist([r.usage.total for r in records] or [0], bins=20, color="#455a64")
    tokens.set_title("Tokens per instance (prompt + completion)")
    seconds.hist([r.duration_s for r in records] or [0], bins=20, color="#00838f")
    seconds.set_title("Wall time per instance (s)")
    by_round = Counter(r.rounds for r in records)
    rounds.bar([str(k) for k in sorted(by_round)], [by_round[k] for k in sorted(by_round)], color="#6d4c41")
    rounds.set_title("Rounds per instance")
    for ax in (outcome, tokens, seconds, rounds):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of instances
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def write_report(out_dir: Path) -> Path:
    """(Re)build ``out_dir/report.html`` and ``out_dir/report.png`` from the records there."""
    if not (out_dir / RECORDS).exists():
        raise InputError(f"{out_dir}: no {RECORDS} here; is this a batch output directory?")
    records = sorted(read_records(out_dir), key=lambda r: r.instance_id)
    previous = read_summary(out_dir)
    summary = summarize_batch(records, total=max(previous.total if previous else 0, len(records)),
                              ran_now=previous.ran_now if previous else 0, wall_s=previous.wall_s if previous else 0,
                              requeued=previous.requeued if previous else {})
    png = render_chart(records)
    (out_dir / CHART).write_bytes(png)
    env = jinja2.Environment(loader=jinja2.PackageLoader("r1agent.batch", "."), autoescape=True)
    html = env.get_template("report.html.j2").render(
        summary=summary, records=records, repos=repo_rows(records), generated=time.strftime("%Y-%m-%d %H:%M:%S"),
        chart=base64.b64encode(png).decode(), title=out_dir.name,
        spreads=[spread("tokens", [r.usage.total for r in records]),
                 spread("seconds", [r.duration_s for r in records]),
                 spread("rounds", [r.rounds for r in records])],
    )
    path = out_dir / REPORT
    path.write_text(html, encoding="utf-8")
    return path

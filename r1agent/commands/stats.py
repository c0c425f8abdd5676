"""`r1agent stats`: the serving figures the agent's prompt design is judged by, from /metrics."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import click
from rich.console import Console
from rich.table import Table

from r1agent.serve.metrics import ServingStats, compute, metrics_url, scrape


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f}%"


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 1000:.0f} ms"


def _table(stats: ServingStats, url: str) -> Table:
    def rate(x: float) -> str:
        return f"{x:,.1f}" if stats.interval_s > 0 else "n/a (one scrape)"

    table = Table(caption=f"{url}: {stats.scope}, {stats.interval_s:.1f}s window", caption_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("prefix-cache hit rate", _pct(stats.prefix_cache_hit_rate) if stats.prefix_cache_exposed else "not exposed"),
        ("prompt tokens/s", rate(stats.prompt_tokens_per_s)),
        ("generation tokens/s", rate(stats.generation_tokens_per_s)),
        ("TTFT p50", _ms(stats.ttft_p50_s)),
        ("TTFT p95", _ms(stats.ttft_p95_s)),
        ("KV-cache usage", _pct(stats.kv_cache_usage)),
        ("requests running", str(stats.running)),
        ("requests waiting", str(stats.waiting)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@click.command("stats")
@click.option("--url", help="Server base URL or its /metrics URL (default: endpoint.base_url).")
@click.option("--interval", type=click.FloatRange(0), default=5.0, show_default=True,
              help="Seconds between the two scrapes that rates are measured over (0: one scrape).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def stats(app, url: str | None, interval: float, as_json: bool) -> None:
    """Prefix-cache hit rate, tokens/s, TTFT p50/p95, KV-cache usage, running and waiting requests."""
    target = url or app.load().settings.endpoint.base_url
    target = target if target.rstrip("/").endswith("/metrics") else metrics_url(target)
    before = scrape(target)
    if interval > 0:
        time.sleep(interval)
        after = scrape(target)
    else:
        after = before
    figures = compute(before, after)
    if as_json:
        click.echo(json.dumps({"url": target, **asdict(figures)}, indent=2))
    else:
        Console(highlight=False).print(_table(figures, target))

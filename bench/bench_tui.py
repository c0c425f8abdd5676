"""How the TUI keeps up with R1's reasoning stream: 10,000 tokens at 300 tokens/s, headless.

Two modes run in the same process, on the same text and schedule:
  batched  the app as shipped: events go through the pump, drained at most 30 times a second,
           and the reasoning panel writes through Textual's MarkdownStream;
  naive    the baseline: one blocking call_from_thread + Markdown.append per token.
Measured: how late token i reaches the screen after it was due (token-to-screen latency), how
late a 60 Hz UI timer fires while tokens stream (what a key press would wait), the number of
screen updates, and the wall time until the last token was shown. Prints naive/batched ratios.

    .venv/bin/python bench/bench_tui.py [--tokens 10000] [--rate 300] [--speed 1]

``--speed`` multiplies the rate (a faster clock); the printout says which rate was used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from bisect import bisect_left
from pathlib import Path

TEXT = (
    "The issue says touching ranges like (1, 3) and (3, 5) are not merged. Looking at merge_ranges, "
    "the loop sorts the ranges and extends the last merged range when `start < merged[-1][1]`. "
    "For (3, 5) after (1, 3): 3 < 3 is False, so it appends a new range instead. Wait, but what "
    "about nested ranges such as (1, 10) and (3, 4)? max() keeps the end, so those are fine.\n\n"
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def measure(batching: bool, tokens: list[str], rate: float, repo: Path, settings) -> dict:
    from r1agent.events import Phase, ReasoningDelta
    from r1agent.tui.app import R1App
    from r1agent.tui.session import AgentSession
    from r1agent.tui.transcript import Transcript

    app = R1App(AgentSession(settings, repo), batching=batching)
    offsets = []  # the text length once token i is shown
    total = 0
    for t in tokens:
        total += len(t)
        offsets.append(total)
    due: list[float] = []
    shown: list[tuple[float, int]] = []  # (time, characters of reasoning on screen)
    lags: list[float] = []
    streaming = threading.Event()

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        interval = 1 / 60
        expected = [time.perf_counter() + interval]

        def heartbeat() -> None:
            now = time.perf_counter()
            if streaming.is_set():
                lags.append(max(0.0, now - expected[0]))
                panel = app.query_one(Transcript).thinking
                shown.append((now, len(panel.text) if panel else 0))
            expected[0] = now + interval

        app.set_interval(interval, heartbeat)
        sink = app.sink()

        def produce() -> None:
            sink(Phase("thinking", "R1 is thinking (round 1, 1 candidate)"))
            start = time.perf_counter() + 0.2
            streaming.set()
            for i, tok in enumerate(tokens):
                when = start + i / rate
                due.append(when)
                pause = when - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                sink(ReasoningDelta(0, tok))

        producer = threading.Thread(target=produce)
        t0 = time.perf_counter()
        producer.start()
        while producer.is_alive():
            await asyncio.sleep(0.05)
        # wait until every character is on screen
        while True:
            panel = app.query_one(Transcript).thinking
            if panel is not None and len(panel.text) >= total:
                break
            await asyncio.sleep(0.01)
        streaming.clear()
        shown.append((time.perf_counter(), total))
        done = time.perf_counter()
        updates = app.applied_bursts

    times = [s[0] for s in shown]
    chars = [s[1] for s in shown]
    latencies = []
    for i, off in enumerate(offsets):
        k = bisect_left(chars, off)  # first sample showing token i (chars only grow)
        latencies.append(times[min(k, len(times) - 1)] - due[i])
    return {
        "latency_p50_ms": 1000 * statistics.median(latencies),
        "latency_p95_ms": 1000 * percentile(latencies, 0.95),
        "latency_max_ms": 1000 * max(latencies),
        "ui_lag_p95_ms": 1000 * percentile(lags, 0.95),
        "ui_lag_max_ms": 1000 * max(lags) if lags else float("nan"),
        "updates": updates,
        "wall_s": done - t0,
        "stream_s": len(tokens) / rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=300.0, help="tokens per second")
    parser.add_argument("--speed", type=float, default=1.0, help="run the clock this many times faster")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        os.environ[var] = str(work / var.lower())
    from r1agent.demo import make_demo_repo
    from r1agent.scripted import tokenize
    from r1agent.settings import load_settings

    repo = make_demo_repo(work / "ranges")
    settings = load_settings(repo=repo, flags={}).settings
    pieces = tokenize(TEXT)
    tokens = [pieces[i % len(pieces)] for i in range(args.tokens)]
    rate = args.rate * args.speed
    print(f"streaming {len(tokens):,} reasoning tokens at {rate:.0f} tokens/s"
          + (f" ({args.speed}x the {args.rate:.0f}/s target)" if args.speed != 1 else "") + ", 80x24, headless")
    results = {}
    for mode in ("batched", "naive"):
        results[mode] = asyncio.run(measure(mode == "batched", tokens, rate, repo, settings))
        r = results[mode]
        print(f"{mode:>8}: token→screen p50 {r['latency_p50_ms']:8.1f} ms  p95 {r['latency_p95_ms']:8.1f} ms  "
              f"max {r['latency_max_ms']:8.1f} ms | UI timer lag p95 {r['ui_lag_p95_ms']:6.1f} ms  "
              f"max {r['ui_lag_max_ms']:6.1f} ms | {r['updates']:,} updates | last token shown after "
              f"{r['wall_s']:.1f}s (stream {r['stream_s']:.1f}s)")
    b, n = results["batched"], results["naive"]
    print(f"ratio naive/batched: token→screen p95 {n['latency_p95_ms'] / b['latency_p95_ms']:.1f}x, "
          f"UI timer lag p95 {n['ui_lag_p95_ms'] / max(b['ui_lag_p95_ms'], 0.01):.1f}x, "
          f"screen updates {n['updates'] / max(b['updates'], 1):.1f}x")


if __name__ == "__main__":
    main()

"""``make bench``: run every benchmark, write bench/results/, and the README table.

Each benchmark module under ``bench/`` that defines ``main() -> dict`` (or the
end-to-end run here) contributes rows. Results go to
``bench/results/latest.json`` and between the ``bench:start`` / ``bench:end``
markers of README.md, with the machine described.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["describe_machine", "main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

#: Other benchmark modules: each has ``main() -> dict[str, Any]`` returning
#: {"title": str, "rows": [(metric, value, target)], ...}, or an adapter below.
OTHER_BENCHES = (
    "bench.bench_scoring",
    "bench.bench_detection",
    "bench.nab",
    "bench.bench_rules",
    "bench.bench_startup",
)


def _rules_summary() -> dict[str, Any]:
    from bench.bench_rules import run_bench, write_results

    r = run_bench()
    write_results(r)
    return {
        "title": "tracking rules",
        "result": r.__dict__,
        "rows": [
            (
                f"{r.subjects:,} subjects ({r.patterns:,} patterns) over {r.posts:,} posts",
                f"{r.posts_per_s:,.0f} posts/s on one core",
                ">= 50,000/s",
            )
        ],
    }


def _detection_summary() -> dict[str, Any]:
    from bench.bench_detection import main as detection_main

    detection_main([])
    result = json.loads((RESULTS / "detection.json").read_text(encoding="utf-8"))
    agg, bt = result["aggregation_detection"], result["backtest"]
    return {
        "title": "windows and detectors",
        "result": result,
        "rows": [
            (
                f"aggregation + detection, {agg['mentions']:,} mentions, one thread",
                f"{agg['mentions_per_s']:,} mentions/s",
                ">= 100,000/s",
            ),
            (
                f"backtest of {bt['points']:,} points ({bt['series']})",
                f"{bt['seconds']:.3f} s",
                "< 1 s",
            ),
        ],
    }


ADAPTERS = {"bench.bench_rules": _rules_summary, "bench.bench_detection": _detection_summary}


def describe_machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text(encoding="utf-8").split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, Kafka broker on the same machine"
    )


def _cpu_row(label: str, cpu: dict[str, float]) -> tuple[str, str, str]:
    parts = [
        f"{name.replace('_', ' ')} {cpu[name]:,.0f}"
        for name in ("analyzers", "broker", "replay_producer", "watcher")
        if name in cpu
    ]
    # What the measured CPU per mention allows if every core were busy all the time.
    bound = (os.cpu_count() or 1) * 1e6 / cpu["total"] if cpu.get("total") else 0.0
    busy = cpu.get("cores_busy", 0)
    value = f"{cpu.get('total', 0):,.0f} µs ({', '.join(parts)}); {busy:.2f} cores busy"
    return (f"CPU per mention, {label}", value, f"(all cores busy: {bound:,.0f}/s)")


def _cpu_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    if result.get("cpu_us_per_mention"):
        rows.append(_cpu_row(f"analyzer x{result['analyzers']} run", result["cpu_us_per_mention"]))
    if result.get("cpu_us_per_mention_one_analyzer"):
        rows.append(_cpu_row("one-analyzer run", result["cpu_us_per_mention_one_analyzer"]))
    return rows


def _e2e_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (
            f"end to end, replay -> raw -> analyzer x{result['analyzers']} -> scored",
            f"{result['e2e_mentions_per_s']:,.0f} mentions/s",
            ">= 10,000/s",
        ),
        (
            "end to end, one analyzer process",
            f"{result['e2e_one_analyzer_mentions_per_s']:,.0f} mentions/s",
            "",
        ),
        *_cpu_rows(result),
        (
            "bare VADER polarity_scores loop, same texts",
            f"{result['bare_vader_texts_per_s']:,.0f} texts/s",
            "",
        ),
        (
            f"ingest -> scored latency p50 at {result['latency_rate_per_s']:,.0f}/s",
            f"{result['p50_ingest_to_scored_s'] * 1000:,.0f} ms",
            "",
        ),
        (
            f"ingest -> scored latency p99 at {result['latency_rate_per_s']:,.0f}/s",
            f"{result['p99_ingest_to_scored_s'] * 1000:,.0f} ms",
            "< 1,000 ms",
        ),
    ]


def render_table(
    sections: list[tuple[str, list[tuple[str, str, str]]]], machine: str, when: str
) -> str:
    lines = [
        f"Measured {when} on {machine}.",
        "",
        "| benchmark | result | target |",
        "|---|---|---|",
    ]
    for title, rows in sections:
        for metric, value, target in rows:
            lines.append(f"| {title}: {metric} | {value} | {target} |")
    return "\n".join(lines)


def update_readme(table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")


def main() -> int:
    from bench.e2e import run_e2e

    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = describe_machine()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"machine: {machine}", flush=True)
    print("running the end-to-end benchmark (starts its own broker)...", flush=True)
    e2e = run_e2e().__dict__
    latest: dict[str, Any] = {"measured_at": when, "machine": machine, **e2e}
    sections = [("pipeline", _e2e_rows(e2e))]
    for name in OTHER_BENCHES:
        if importlib.util.find_spec(name) is None:
            continue
        print(f"running {name}...", flush=True)
        adapter = ADAPTERS.get(name)
        result = adapter() if adapter else importlib.import_module(name).main()
        latest[name.rsplit(".", 1)[1]] = result
        sections.append((result["title"], [tuple(r) for r in result["rows"]]))
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2) + "\n", encoding="utf-8")
    table = render_table(sections, machine, when)
    update_readme(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

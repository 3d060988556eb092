"""Start-up time of the ``earful`` command: the container healthcheck runs ``earful check``.

Each command is run as a fresh process several times; the median wall time is
reported, from process start to exit. ``earful check`` probes a port where
nothing listens, so what is measured is the interpreter, the dispatcher and
the check's own imports, not a worker's answer.

    python -m bench.bench_startup
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "measure"]

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = 7


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(argv: list[str], runs: int = RUNS) -> float:
    """Median seconds of ``python -m earful.cli <argv>`` from start to exit."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "earful.cli", *argv], capture_output=True, check=False
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> dict[str, Any]:
    bare = statistics.median(_timed([sys.executable, "-c", "pass"]) for _ in range(RUNS))
    check = measure(["check", "--url", f"http://127.0.0.1:{_closed_port()}/readyz"])
    help_ = measure(["--help"])
    result = {"python_s": bare, "check_s": check, "help_s": help_, "runs": RUNS}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return {
        "title": "command start-up",
        "result": result,
        "rows": [
            (
                "earful check (the container healthcheck), median wall time",
                f"{check:.2f} s",
                "< 0.5 s",
            ),
            ("earful --help", f"{help_:.2f} s", ""),
            ("a bare python interpreter, for comparison", f"{bare:.2f} s", ""),
        ],
    }


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False)
    return time.perf_counter() - started


if __name__ == "__main__":
    out = main()
    for metric, value, target in out["rows"]:
        print(f"{metric}: {value} (target {target or '-'})")

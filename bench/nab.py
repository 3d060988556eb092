"""NAB realTweets: the default volume detector's score on the five dev series (in sample).

The defaults were chosen with these series in the pool (``bench/loso.py``), so
this is an in-sample figure; the out-of-sample one is ``python -m bench.loso``.

Runs ``backtest_series`` (default configuration, no per-series tuning) over
every ``Twitter_volume_*.csv`` in ``shared/data/nab-realtweets-dev``, writes the
result CSVs to a temporary directory, scores the ``alert`` column with
``shared/tools/nab_score.py`` (NAB's rules: standard, low-FP and low-FN
profiles, normalised), prints the table and writes ``bench/results/nab.json``.

    python -m bench.nab
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from earful.analyze.backtest import backtest_series, read_series, write_results

__all__ = ["BEST_PUBLISHED", "PUBLISHED", "main", "run_nab"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data" / "nab-realtweets-dev"
SCORER = SHARED / "tools" / "nab_score.py"
RESULTS = ROOT / "bench" / "results"
#: Short profile name -> the scorer's key.
PROFILE_KEYS = {
    "standard": "standard",
    "low-FP": "reward_low_FP_rate",
    "low-FN": "reward_low_FN_rate",
}
#: Best published standard scores on these series (thresholds tuned on all of NAB).
PUBLISHED = {"ARTime": 83.8, "Numenta HTM": 66.1, "windowed Gaussian": 64.8}
#: The best published score per profile on these series, and whose it is.
BEST_PUBLISHED = {
    "standard": ("ARTime", 83.8),
    "low-FP": ("contextOSE", 75.7),
    "low-FN": ("ARTime", 89.2),
}


def run_nab(data: Path = DATA, scorer: Path = SCORER) -> dict[str, Any]:
    """Backtest every series in ``data`` and score them; the scorer's JSON plus per-file alerts."""
    with tempfile.TemporaryDirectory(prefix="earful-nab-") as tmp:
        out = Path(tmp)
        alerts: dict[str, int] = {}
        for series in sorted(data.glob("Twitter_volume_*.csv")):
            with series.open(encoding="utf-8", newline="") as fh:
                results = backtest_series(read_series(fh))
            with (out / series.name).open("w", encoding="utf-8", newline="") as fh:
                write_results(results, fh)
            alerts[series.name] = sum(r.alert for r in results)
        scores = out / "scores.json"
        subprocess.run(
            [
                sys.executable,
                str(scorer),
                "--data",
                str(data),
                "--results",
                str(out),
                "--json",
                str(scores),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        scored: dict[str, Any] = json.loads(scores.read_text(encoding="utf-8"))
    return {"scores": scored, "alerts": alerts}


def _normalised(scores: dict[str, Any]) -> dict[str, float]:
    """The normalised total per profile, under short names."""
    totals = scores["totals"]
    return {short: float(totals[key]["normalised"]) for short, key in PROFILE_KEYS.items()}


def main() -> dict[str, Any]:
    if not DATA.is_dir() or not SCORER.is_file():
        return {
            "title": "NAB realTweets",
            "rows": [("default volume detector", f"skipped: {DATA} or {SCORER} missing", "")],
        }
    result = run_nab()
    norm = _normalised(result["scores"])
    rows = [
        (
            f"default volume detector, {profile} (normalised, `alert`, in sample)",
            f"{norm[profile]:.1f}",
            f"> {BEST_PUBLISHED[profile][1]} ({BEST_PUBLISHED[profile][0]}, best published)",
        )
        for profile in PROFILE_KEYS
    ]
    files = result["scores"]["files"].values()
    hit = sum(f["standard"]["windows_detected"] for f in files)
    windows = sum(f["standard"]["windows"] for f in files)
    fp_rows = sum(f["standard"]["fp_rows"] for f in files)
    rows.append(
        ("labelled windows hit / alert rows outside them", f"{hit} of {windows} / {fp_rows}", "")
    )
    rows.append(("alert rows over the five series", str(sum(result["alerts"].values())), ""))
    summary = {"title": "NAB realTweets", "rows": rows, "normalised": norm, **result}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "nab.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    table = main()
    print("| metric | value | target |\n|---|---|---|")
    for metric, value, target in table["rows"]:
        print(f"| {metric} | {value} | {target} |")

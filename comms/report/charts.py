"""The report's PNG charts, drawn with matplotlib's Agg renderer (no display needed).

Each function draws one figure from a :class:`~earful.comms.report.summary.Report`
and writes it to a path. Figures are built with the object API
(:class:`matplotlib.figure.Figure`), not pyplot: no global backend switch, no
global list of open figures to leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any, Final

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

from earful.comms.report.summary import TABLE_SPAN, Report
from earful.events import ReactionStats, TermCount

__all__ = ["CHART_FILES", "draw_charts", "draw_reactions", "draw_timeline", "draw_top_lists"]

CHART_FILES: Final = {
    "timeline": "timeline.png",
    "reactions": "reactions.png",
    "top": "top.png",
}
_DPI: Final = 110
_SIGNAL_COLOURS: Final = {
    "outage_burst": "#d62728",
    "negative_surge": "#9467bd",
    "volume_spike": "#ff7f0e",
    "comms_silence": "#7f7f7f",
}
_BEFORE: Final = "#9ecae1"
_AFTER: Final = "#08519c"


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, format="png", dpi=_DPI, bbox_inches="tight", facecolor="white")
    return path


def draw_timeline(report: Report, path: Path) -> Path:
    """Mentions, negative share and outage reports per minute, updates and signals marked."""
    frame = report.minutes
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    x = pd.DatetimeIndex(frame.index).to_pydatetime()
    width = 1 / (24 * 60) * 0.9  # a bar per minute, in days
    axes[0].bar(x, frame["mentions"], width=width, align="edge", color="#4c72b0")
    axes[0].set_ylabel("mentions / min")
    axes[1].plot(x, frame["negative_share"], color="#c44e52", drawstyle="steps-post")
    axes[1].set_ylim(0, 1)
    axes[1].set_ylabel("negative share")
    axes[2].bar(x, frame["outage_reports"], width=width, align="edge", color="#dd8452")
    axes[2].set_ylabel("outage reports / min")
    seen_kinds: set[str] = set()
    for episode in report.episodes:
        colour = _SIGNAL_COLOURS.get(episode.kind, "#bcbd22")
        # A signal still open when the data ends is shaded to the end, hatched.
        name = f"{episode.kind} (still open)" if episode.is_open else episode.kind
        label = name if name not in seen_kinds else None
        seen_kinds.add(name)
        start = max(episode.window_start, report.since)
        end = min(episode.end_within(report.until), report.until)
        for i, ax in enumerate(axes):
            ax.axvspan(
                start,
                end,
                color=colour,
                alpha=0.12,
                label=label if i == 0 else None,
                hatch="//" if episode.is_open else None,
            )
    top = axes[0].get_ylim()[1]
    for n, update in enumerate(report.updates, start=1):
        for ax in axes:
            ax.axvline(update.created_at, color="#2ca02c", linewidth=1, alpha=0.8)
        axes[0].annotate(
            f"U{n}",
            (mdates.date2num(update.created_at), top),  # type: ignore[no-untyped-call]
            xytext=(2, -2 - 10 * ((n - 1) % 3)),
            textcoords="offset points",
            fontsize=8,
            color="#2ca02c",
            va="top",
        )
    if report.updates:
        axes[0].plot([], [], color="#2ca02c", label="official update (U1, U2...)")
    if report.updates or report.episodes:
        axes[0].legend(loc="upper left", fontsize=8, frameon=False)
    axes[0].set_title(f"{report.subject}: the conversation per minute (UTC)")
    axes[2].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=UTC))  # type: ignore[no-untyped-call]
    axes[2].set_xlim(report.since, report.until)
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    fig.autofmt_xdate()
    return _save(fig, path)


_METRICS: Final[tuple[tuple[str, str], ...]] = (
    ("negative_share", "negative share"),
    ("outage_reports_per_minute", "outage reports / min"),
    ("question_share", "question share"),
    ("per_minute", "mentions / min"),
)


def _value(stats: ReactionStats, name: str) -> float:
    value: Any = getattr(stats, name)
    return float(value) if value is not None else float("nan")


def draw_reactions(report: Report, path: Path) -> Path:
    """Before against after, per update, for the table's span: four small multiples."""
    rows = [r.all for r in report.reaction_rows if r.all is not None]
    fig = Figure(figsize=(11, 7), layout="constrained")
    if not rows:
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "no measured reaction (no official update in the period)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    else:
        numbers = {u.id: n for n, u in enumerate(report.updates, start=1)}
        labels = [f"U{numbers.get(r.update_id, '?')}\n{r.update_at:%H:%M}" for r in rows]
        positions = list(range(len(rows)))
        axes = fig.subplots(2, 2)
        for ax, (name, title) in zip(axes.flat, _METRICS, strict=True):
            before = [_value(r.before, name) for r in rows]
            after = [_value(r.after, name) for r in rows]
            ax.bar([p - 0.2 for p in positions], before, width=0.4, color=_BEFORE, label="before")
            ax.bar([p + 0.2 for p in positions], after, width=0.4, color=_AFTER, label="after")
            ax.set_title(title, fontsize=10)
            ax.set_xticks(positions, labels, fontsize=7)
            ax.grid(axis="y", alpha=0.3)
            if name == "negative_share":
                ax.set_ylim(0, 1)
        axes[0][0].legend(fontsize=8, frameon=False)
    fig.suptitle(
        f"{report.subject}: {TABLE_SPAN} minutes before and after each official update "
        "(observed change, not proven cause)",
        fontsize=11,
    )
    return _save(fig, path)


def _bars(ax: Any, items: Sequence[TermCount], title: str) -> None:
    terms = [t.term for t in reversed(items)]
    counts = [t.count for t in reversed(items)]
    ax.barh(terms, counts, color="#55a868")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    if not items:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)


def draw_top_lists(report: Report, path: Path) -> Path:
    """Top symptoms, places and platforms (distinct authors reporting each)."""
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    axes = fig.subplots(1, 3)
    _bars(axes[0], report.top_symptoms, "symptoms")
    _bars(axes[1], report.top_places, "places")
    _bars(axes[2], report.top_platforms, "platforms")
    fig.suptitle(f"{report.subject}: what outage reports name (distinct authors)", fontsize=11)
    return _save(fig, path)


def draw_charts(report: Report, directory: Path) -> dict[str, Path]:
    """Every chart into ``directory``; returns name -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "timeline": draw_timeline(report, directory / CHART_FILES["timeline"]),
        "reactions": draw_reactions(report, directory / CHART_FILES["reactions"]),
        "top": draw_top_lists(report, directory / CHART_FILES["top"]),
    }

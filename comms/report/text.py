"""The report as short plain-text sections for a terminal (what ``earful demo`` prints).

The numbers are the report's own (:func:`~earful.comms.report.summary.build_report`);
these functions only lay them out in lines: the responder's summary of one
subject, the signals and silence gaps of several, and the reaction to each
official update.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from earful.comms.report.summary import TABLE_SPAN, Report, SignalEpisode
from earful.events import TermCount

__all__ = ["reactions_text", "responder_text", "signals_text", "silences_text"]

#: How many complaint terms and loudest posts the responder's summary shows.
TERMS_SHOWN: Final = 10
LOUDEST_SHOWN: Final = 3
_UPDATE_WIDTH: Final = 34


def _clock(at: datetime | None) -> str:
    return "-" if at is None else f"{at:%H:%M}Z"


def _share(value: float | None) -> str:
    return "  -" if value is None else f"{value:4.0%}"


def _terms(items: Sequence[TermCount]) -> str:
    return ", ".join(f"{t.term} ({t.count})" for t in items) or "-"


def _flat(text: str, width: int) -> str:
    words = " ".join(text.split())
    return words if len(words) <= width else words[: width - 1] + "…"


def responder_text(report: Report) -> str:
    """Volume, negativity, the timeline's landmarks, complaint terms and the loudest posts."""
    share = f" ({report.negative_share:.0%})" if report.negative_share is not None else ""
    first, after = report.first_update, report.minutes_to_first_update
    first_text = "-"
    if first is not None and after is not None:
        first_text = f"{_clock(first.created_at)} ({after:.0f} min after the onset)"
    lines = [
        f"== What a responder sees (subject '{report.subject}') ==",
        f"mentions: {report.mentions} public and {report.official_mentions} official; "
        f"negative {report.negative} of {report.scored} scored{share}; "
        f"{report.unique_authors} authors",
        "by source: " + ", ".join(f"{k} {v}" for k, v in report.by_source.items()),
        f"outage reports: {report.outage_reports}; peak {report.peak_mentions} mentions "
        f"at {_clock(report.peak_minute)}; onset {_clock(report.onset)}; first update "
        + first_text,
        "top complaint terms: " + _terms(report.top_terms[:TERMS_SHOWN]),
        "loudest complaints:",
    ]
    for post in report.samples[:LOUDEST_SHOWN]:
        lines.append(
            f'  - "{_flat(post.text, 120)}" (engagement {post.engagement}, {post.source}, '
            f"{post.author})"
        )
    return "\n".join(lines)


def _subject(episode: SignalEpisode) -> str:
    return episode.last.subject


def signals_text(reports: Sequence[Report]) -> str:
    """Each signal's opening and resolution, in time order, over every subject."""
    events: list[tuple[datetime, str]] = []
    for report in reports:
        for e in report.episodes:
            events.append(
                (
                    e.opened_at,
                    f"  {_clock(e.opened_at)} open     {e.severity:8} {_subject(e)}: {e.kind} "
                    f"(peak observed {e.peak_observed:g} vs expected {e.expected:.1f})",
                )
            )
            if e.resolved_at is not None:
                events.append(
                    (
                        e.resolved_at,
                        f"  {_clock(e.resolved_at)} resolved {e.severity:8} {_subject(e)}: "
                        f"{e.kind} (after {e.minutes:.0f} min)",
                    )
                )
    lines = ["== Signals the detectors raised =="]
    lines += [line for _, line in sorted(events, key=lambda ev: ev[0])] or ["  none"]
    return "\n".join(lines)


def reactions_text(report: Report) -> str:
    """The reaction to each official update over :data:`TABLE_SPAN` minutes before and after."""
    lines = [
        f"== Official updates and the public's reaction ({TABLE_SPAN} minutes before -> after) =="
    ]
    if not report.reaction_rows:
        return "\n".join([*lines, "  no official update"])
    lines.append(
        f"  subject {report.subject}; observed change, not a proven effect. "
        "neg: negative share; ask: asking for information"
    )
    lines.append(
        f"  {'time':6} {'source':10} {'update':{_UPDATE_WIDTH}} {'neg':>11} {'ask':>11} "
        f"{'per min':>13} {'expected':>8} {'replies neg':>11}"
    )
    for row in report.reaction_rows:
        u, r = row.update, row.all
        head = f"  {_clock(u.created_at)} {u.source:10} {_flat(u.text, _UPDATE_WIDTH):34}"
        if r is None:
            lines.append(f"{head} (span not over when the data ends)")
            continue
        b, a = r.before, r.after
        expected = f"{r.expected.per_minute:8.1f}" if r.expected else "    cold"
        reply_neg = _share(row.replies.after.negative_share) if row.replies else "  -"
        cut = ""
        if not r.complete:
            why = "the end of the data" if a.span_end >= report.until else "the next update"
            cut = f"  (cut at {_clock(a.span_end)} by {why})"
        lines.append(
            f"{head} {_share(b.negative_share)} -> {_share(a.negative_share)} "
            f"{_share(b.question_share)} -> {_share(a.question_share)} "
            f"{b.per_minute:5.1f} -> {a.per_minute:5.1f} {expected} {reply_neg:>11}{cut}"
        )
    return "\n".join(lines)


def silences_text(reports: Sequence[Report]) -> str:
    """The comms_silence signals of every subject: the gap, and what people asked meanwhile."""
    lines = ["== Communications silence (for the comms team, not on-call) =="]
    episodes = sorted((e for r in reports for e in r.silences), key=lambda e: e.opened_at)
    for e in episodes:
        lines.append(
            f"  {_clock(e.opened_at)} open     {_subject(e)}: no official update since "
            f"{_clock(e.window_start)} (rule: {e.expected:.0f} min)"
        )
        evidence = e.last.evidence
        asks = "; ".join(f'"{_flat(s.text, 60)}"' for s in evidence.samples[:3])
        lines.append(f"      people ask: {asks or '-'}")
        lines.append(
            f"      top symptoms: {_terms(evidence.top_symptoms[:3])}; questions/min: "
            + (" ".join(f"{v:g}" for v in evidence.trend[-5:]) or "-")
        )
        if e.resolved_at is not None:
            lines.append(
                f"  {_clock(e.resolved_at)} resolved {_subject(e)}: no official update for "
                f"{e.peak_observed:.0f} min"
            )
    if not episodes:
        lines.append("  none")
    return "\n".join(lines)

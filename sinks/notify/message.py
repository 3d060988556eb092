"""What a responder reads: the pieces every notifier renders in its own format.

An alert message answers, in this order: what is happening to which subject,
how far above normal (observed against expected), since when, what people say
(three to five sample posts with links), where and on what (top symptoms,
places, platforms), and where to look next (the dashboard).
"""

from __future__ import annotations

from datetime import datetime

from earful.events import Alert, SampleMention, TermCount

__all__ = [
    "MAX_SAMPLES",
    "duration_text",
    "kind_title",
    "magnitude",
    "magnitude_text",
    "plain_text",
    "sample_snippet",
    "since_text",
    "title",
    "top_lines",
]

MAX_SAMPLES = 5

_KIND_TITLES = {
    "volume_spike": "Mention volume spike",
    "negative_surge": "Negative sentiment surge",
    "outage_burst": "Outage reports",
    "negative_share": "Negative sentiment share",
    "comms_silence": "Communications silence",
}
# Kinds whose observed/expected are shares in [0, 1], shown as percentages.
_SHARE_KINDS = frozenset({"negative_surge", "negative_share"})


def kind_title(kind: str) -> str:
    return _KIND_TITLES.get(kind, kind.replace("_", " ").capitalize())


def title(alert: Alert) -> str:
    """'FIRING critical: Outage reports for acme' / 'RESOLVED: ...'."""
    if alert.status == "resolved":
        return f"RESOLVED: {kind_title(alert.kind)} for {alert.subject}"
    return f"FIRING {alert.severity}: {kind_title(alert.kind)} for {alert.subject}"


def _number(value: float, share: bool) -> str:
    if share:
        return f"{value:.0%}"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"


def magnitude(kind: str, observed: float | None, expected: float | None) -> str | None:
    """'observed 412 vs expected 40 (10.3x normal)'; None without an observed value.

    A communications silence measures minutes since the last official update
    against the limit: 'no official update for 22 min (limit 15 min)'.
    """
    if observed is None:
        return None
    if kind == "comms_silence":
        limit = f" (limit {duration_text(expected * 60)})" if expected else ""
        return f"no official update for {duration_text(observed * 60)}{limit}"
    share = kind in _SHARE_KINDS and 0.0 <= observed <= 1.0
    shown = _number(observed, share)
    if expected is None:
        return f"observed {shown}"
    if expected > 0:
        ratio = observed / expected
        how = f"{ratio:.1f}x normal" if ratio >= 1.05 else "near normal"
    else:
        how = "normally none"
    return f"observed {shown} vs expected {_number(expected, share)} ({how})"


def magnitude_text(alert: Alert) -> str | None:
    """How far above normal this alert is, from its observed and expected values."""
    return magnitude(alert.kind, alert.observed, alert.expected)


def duration_text(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def since_text(alert: Alert, now: datetime) -> str:
    """'since 10:02 UTC (for 14 min)' or 'from 10:02 to 10:40 UTC (38 min)'."""
    start = alert.starts_at
    fmt = "%H:%M" if start.date() == now.date() else "%Y-%m-%d %H:%M"
    if alert.status == "resolved":
        end = alert.ends_at or now
        return (
            f"from {start:{fmt}} to {end:%H:%M} UTC "
            f"({duration_text((end - start).total_seconds())})"
        )
    return f"since {start:{fmt}} UTC (for {duration_text((now - start).total_seconds())})"


def top_lines(alert: Alert, limit: int = 5) -> list[tuple[str, str]]:
    """[('Symptoms', 'login (42), payments (7)'), ...] for the lists that are not empty."""
    evidence = alert.evidence
    rows: list[tuple[str, tuple[TermCount, ...]]] = [
        ("Symptoms", evidence.top_symptoms),
        ("Places", evidence.top_places),
        ("Platforms", evidence.top_platforms),
    ]
    return [
        (label, ", ".join(f"{t.term} ({t.count})" for t in terms[:limit]))
        for label, terms in rows
        if terms
    ]


def sample_snippet(sample: SampleMention, limit: int = 200) -> str:
    text = " ".join(sample.text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_text(alert: Alert, now: datetime) -> str:
    """The whole message as plain text (console, Alertmanager description, webhook)."""
    lines = [title(alert), alert.summary]
    magnitude = magnitude_text(alert)
    if magnitude:
        lines.append(magnitude)
    lines.append(since_text(alert, now))
    lines.extend(f"{label}: {values}" for label, values in top_lines(alert))
    for sample in alert.evidence.samples[:MAX_SAMPLES]:
        link = f" {sample.url}" if sample.url else ""
        lines.append(f'- "{sample_snippet(sample)}" ({sample.source}){link}')
    if alert.dashboard_url:
        lines.append(f"Dashboard: {alert.dashboard_url}")
    return "\n".join(lines)

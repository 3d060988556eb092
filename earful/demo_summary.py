"""What ``earful demo`` prints once its workers have caught up.

Every number about the incident is the incident report's: for each subject the
report's loader reads the run's topics and
:func:`~earful.comms.report.summary.build_report` computes the figures, with
the reactions as the conversation worker recorded them; the sections are laid
out by :mod:`earful.comms.report.text`. The demo adds what only it has: the
tone check of the first official update, and the deliveries its local webhook
receiver saw.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from earful.settings import BaseWorkerSettings

if TYPE_CHECKING:
    from earful.comms.report.summary import Report
    from earful.events import OfficialUpdate

__all__ = ["incident_subjects", "incident_summary", "load_reports", "receiver_summary"]

#: Webhook deliveries listed one by one; the rest are counted.
SHOWN_DELIVERIES: Final = 8


def incident_subjects(source: Path) -> list[str]:
    """The subjects the incident's mentions were tracked under, most mentioned first.

    The replay keeps each mention's ``subjects`` as recorded, so these are the
    subjects the pipeline scores; unreadable lines are the replay's to report.
    """
    counts: Counter[str] = Counter()
    with source.open("rb") as stream:
        for line in stream:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            subjects = record.get("subjects") if isinstance(record, dict) else None
            if isinstance(subjects, list):
                counts.update(s for s in subjects if isinstance(s, str))
    return [subject for subject, _ in counts.most_common()]


def load_reports(
    settings: BaseWorkerSettings, subjects: Sequence[str], *, now: datetime
) -> list[Report]:
    """Each subject's incident report from the run's topics (a subject with no record: none)."""
    from earful.comms.report.data import EARLIEST, LATEST, Selection, fit_period, load_topics
    from earful.comms.report.summary import build_report
    from earful.worker import make_consumer

    reports = []
    for subject in subjects:
        consumer = make_consumer(settings, group=None, topics=[])
        try:
            data = load_topics(settings, consumer, Selection(subject, EARLIEST, LATEST))
        finally:
            consumer.close(autocommit=False)
        try:
            data = fit_period(data)
        except ValueError:
            continue  # nothing of this subject reached the topics
        reports.append(build_report(data, now=now, reaction_source="recorded"))
    return reports


def incident_summary(reports: Sequence[Report]) -> str:
    """The responder's view of the first (main) subject, every subject's signals and silences,
    the reaction to the main subject's updates and a tone check of its first one."""
    from earful.comms.report.text import (
        reactions_text,
        responder_text,
        signals_text,
        silences_text,
    )

    if not reports:
        return "== No record of any subject reached the topics =="
    main = reports[0]
    sections = [
        responder_text(main),
        signals_text(reports),
        reactions_text(main),
        silences_text(reports),
    ]
    if main.updates:
        sections.append("\n".join(tone_summary(main.updates[0])))
    return "\n\n".join(sections)


def tone_summary(update: OfficialUpdate) -> list[str]:
    """``earful tone`` on an update: what a review before posting would have said."""
    from earful.comms.tone import ToneChecker

    posted_on = ("bluesky", "mastodon")
    networks = (update.source,) if update.source in posted_on else (*posted_on, "x")
    report = ToneChecker().review(update.text, networks)
    words = " ".join(update.text.split())
    lines = [
        f"== Tone check of the first update ({update.created_at:%H:%M}Z, {update.source}) ==",
        f'  "{words[:150]}{"…" if len(words) > 150 else ""}"',
        "  " + report.to_text().splitlines()[0],
    ]
    for finding in report.findings:
        if finding.severity in ("problem", "warning"):
            quoted = f' ["{finding.evidence[0].text}"]' if finding.evidence else ""
            lines.append(f"  {finding.severity.upper():8} {finding.message}{quoted}")
            lines.append(f"           -> {finding.suggestion}")
    lines.append('  (earful tone "draft" reviews a draft before it is posted)')
    return lines


def receiver_summary(receiver: Any, held_back: list[str]) -> str:
    """What the local webhook receiver got, and what the cooldown held back."""
    requests = list(receiver.requests)
    verified = sum(1 for r in requests if r.signature_ok)
    repeats = sum(n - 1 for n in receiver.counts().values() if n > 1)
    lines = [
        f"== Local webhook receiver ({receiver.url}) ==",
        f"  {len(requests)} deliveries, {verified} with a valid signature, {repeats} repeated",
    ]
    for r in requests[:SHOWN_DELIVERIES]:
        data = r.json().get("data", {})
        lines.append(f"  - {data.get('status', '?'):8} {data.get('summary', '')[:100]}")
    if len(requests) > SHOWN_DELIVERIES:
        lines.append(f"  ... and {len(requests) - SHOWN_DELIVERIES} more not shown")
    for summary in held_back:
        lines.append(
            f"  held back by the cooldown (grouped into an earlier alert): {summary[:100]}"
        )
    return "\n".join(lines)


def held_back(settings: BaseWorkerSettings, deliveries_topic: str, target: str) -> list[str]:
    """Alerts the notifier did not send to ``target`` because of the per-subject cooldown."""
    from earful.kafkautil import read_to_end
    from earful.sinks.delivery import DeliveryRecord
    from earful.worker import make_consumer

    consumer = make_consumer(settings, group=None, topics=[])
    try:
        records = [r.value for r in read_to_end(consumer, deliveries_topic)]
    finally:
        consumer.close(autocommit=False)
    held: dict[str, str] = {}
    for value in records:
        try:
            record = DeliveryRecord.model_validate_json(value)
        except ValueError:
            continue
        if (
            record.target == target
            and record.outcome == "suppressed"
            and record.detail.startswith("cooldown")
        ):
            held[record.dedup_key] = record.alert.summary if record.alert else record.dedup_key
    return list(held.values())

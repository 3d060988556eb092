"""The report from the real broker's topics, and the export command's round trip."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from earful.cli import main
from earful.comms.report.data import (
    Selection,
    export_topics,
    load_export,
    load_topics,
    report_topics,
)
from earful.events import OfficialUpdate, encode
from earful.settings import BaseWorkerSettings
from earful.worker import make_consumer, make_producer
from tests.comms.report.fixtures import burst_signals
from tests.comms.report.records import scored

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


@pytest.mark.kafka
def test_report_from_the_topics(
    settings_factory: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings: BaseWorkerSettings = settings_factory(BaseWorkerSettings)
    mentions = [scored(str(n), at(n / 2), "acme is down, login fails") for n in range(40)]
    update = OfficialUpdate(
        id="mastodon:u1",
        subject="acme",
        source="mastodon",
        kind="post",
        author="acme",
        text="Investigating",
        created_at=at(12),
    )
    producer = make_producer(settings)
    try:
        for m in [*mentions, scored("other", at(3), subject="acme-pay")]:
            producer.send(settings.topic_scored, key=m.subject.encode(), value=encode(m))
        for s in burst_signals(at(5)):
            producer.send(settings.topic_signals, key=b"acme", value=encode(s))
        producer.send(settings.topic_updates, key=b"acme", value=encode(update))
        producer.send(settings.topic_scored, key=b"acme", value=b"{not json")
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)

    selection = Selection("acme", T0, T0 + timedelta(hours=1))
    consumer = make_consumer(settings, group=None, topics=[])
    try:
        data = load_topics(settings, consumer, selection)
        exported = io.StringIO()
        stats = export_topics(consumer, [t for t, _ in report_topics(settings)], exported)
    finally:
        consumer.close(autocommit=False)
    assert len(data.mentions) == 40
    assert [u.id for u in data.updates] == ["mastodon:u1"]
    assert len(data.signals) == 3
    assert len(data.problems) == 1 and data.problems[0].where.startswith(settings.topic_scored)
    # The export holds every JSON record (both subjects) and reads back to the same data.
    assert stats.written == 41 + 3 + 1 and stats.skipped == 1
    path = tmp_path / "export.jsonl"
    path.write_text(exported.getvalue(), encoding="utf-8")
    again = load_export([path], selection)
    assert again.mentions == data.mentions and again.signals == data.signals
    assert again.updates == data.updates and not again.problems

    # The CLI, pointed at this test's topics by a config file.
    config = tmp_path / "earful.yaml"
    config.write_text(
        "".join(
            f"{k}: {getattr(settings, k)}\n"
            for k in (
                "kafka_bootstrap",
                "topic_scored",
                "topic_signals",
                "topic_updates",
                "topic_reactions",
            )
        ),
        encoding="utf-8",
    )
    out = tmp_path / "report"
    code = main(
        [
            "report",
            "--subject",
            "acme",
            "--since",
            "2026-11-20T10:00Z",
            "--until",
            "2026-11-20T11:00Z",
            "--config",
            str(config),
            "--output",
            str(out),
        ]
    )
    assert code == 0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| Public mentions | 40 |" in md
    # Onset: the burst signal at 10:05; first update 10:12.
    assert "| Time from onset to first official update | 7.0 min |" in md
    assert "1 unreadable" in md
    assert all(
        (out / n).stat().st_size > 1000 for n in ("timeline.png", "reactions.png", "top.png")
    )

    code = main(
        ["report", "export", "--config", str(config), "--output", str(tmp_path / "x.jsonl")]
    )
    assert code == 0
    assert (tmp_path / "x.jsonl").read_text(encoding="utf-8") == exported.getvalue()

    # The scored mentions alone, as `earful backtest --mentions` reads them: the two fit.
    mentions_file = tmp_path / "mentions.jsonl"
    code = main(
        ["report", "export", "--mentions", "--config", str(config), "--output", str(mentions_file)]
    )
    assert code == 0
    capsys.readouterr()
    assert main(["backtest", "--mentions", str(mentions_file)]) == 0
    _, err = capsys.readouterr()
    assert "skipped" not in err
    assert "41 mentions" in err

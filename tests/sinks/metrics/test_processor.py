"""The metrics sink's processor on in-memory records: what each record moves, label bounds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from earful.events import _Versioned, encode
from earful.sinks.metrics import (
    OTHER,
    BoundedLabel,
    MetricsProcessor,
    MetricsSinkSettings,
    PipelineMetrics,
    input_topics,
)
from tests.sinks.metrics_records import FakeRecord, reaction, scored, signal, window


def make(**overrides: Any) -> tuple[MetricsProcessor, CollectorRegistry]:
    settings = MetricsSinkSettings(**overrides)
    registry = CollectorRegistry()
    return MetricsProcessor(settings, PipelineMetrics(registry)), registry


def feed(processor: MetricsProcessor, topic: str, *records: _Versioned) -> None:
    for offset, record in enumerate(records):
        out = processor.process(FakeRecord(topic=topic, value=encode(record), offset=offset))
        assert list(out) == []


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_mentions_are_counted_by_subject_source_and_label() -> None:
    proc, reg = make()
    topic = proc.settings.topic_scored
    feed(proc, topic, scored(1), scored(2), scored(3, label="positive", compound=0.7))
    feed(proc, topic, scored(4, source="bluesky", label="neutral", compound=0.0))
    name = "earful_mentions_scored_total"
    assert value(reg, name, subject="acme", source="mastodon", label="negative") == 2
    assert value(reg, name, subject="acme", source="mastodon", label="positive") == 1
    assert value(reg, name, subject="acme", source="bluesky", label="neutral") == 1
    # The compound histogram puts -0.6 under -0.5 and 0.7 under 0.75.
    hist = "earful_sentiment_compound_bucket"
    assert value(reg, hist, subject="acme", le="-0.5") == 2
    assert value(reg, hist, subject="acme", le="0.75") == 4
    assert value(reg, "earful_sentiment_compound_count", subject="acme") == 4


def test_unlisted_subjects_fold_into_other() -> None:
    proc, reg = make(metrics_subjects=("acme",))
    feed(proc, proc.settings.topic_scored, scored(1), scored(2, subject="globex"))
    name = "earful_mentions_scored_total"
    assert value(reg, name, subject="acme", source="mastodon", label="negative") == 1
    assert value(reg, name, subject=OTHER, source="mastodon", label="negative") == 1
    assert value(reg, name, subject="globex", source="mastodon", label="negative") is None


def test_without_a_list_the_first_values_seen_are_admitted() -> None:
    label = BoundedLabel(limit=2)
    got = [label(v) for v in ["a", "b", "c", "a", "", None]]
    assert got == ["a", "b", OTHER, "a", OTHER, OTHER]
    assert label("x" * 300) == OTHER  # still bounded after truncation
    fixed = BoundedLabel(["paris", "lyon"], limit=1)
    assert [fixed("lyon"), fixed("nice"), fixed("paris")] == ["lyon", OTHER, "paris"]


def test_outage_reports_by_symptom_place_and_platform() -> None:
    proc, reg = make(metrics_places=("Paris",))
    feed(
        proc,
        proc.settings.topic_scored,
        scored(1, symptoms=("login", "payments"), places=("Paris",), platforms=("ios",)),
        scored(2, symptoms=("login",), places=("Springfield",)),
        scored(3),  # not an outage report
    )
    assert value(reg, "earful_outage_reports_total", subject="acme", source="mastodon") == 2
    sym = "earful_outage_report_symptoms_total"
    assert value(reg, sym, subject="acme", symptom="login") == 2
    assert value(reg, sym, subject="acme", symptom="payments") == 1
    place = "earful_outage_report_places_total"
    assert value(reg, place, subject="acme", place="Paris") == 1
    assert value(reg, place, subject="acme", place=OTHER) == 1
    plat = "earful_outage_report_platforms_total"
    assert value(reg, plat, subject="acme", platform="ios") == 1


def test_official_updates_and_connector_freshness_only_move_forward() -> None:
    proc, reg = make()
    topic = proc.settings.topic_scored
    feed(proc, topic, scored(100, official=True), scored(10, official=True))
    assert value(reg, "earful_official_updates_total", subject="acme", source="mastodon") == 2
    newest = scored(100).mention
    got = value(reg, "earful_official_update_timestamp_seconds", subject="acme")
    assert got == newest.created_at.timestamp()
    fresh = value(reg, "earful_source_last_ingested_timestamp_seconds", source="mastodon")
    assert fresh == newest.ingested_at.timestamp()


def test_latency_histograms() -> None:
    proc, reg = make()
    feed(proc, proc.settings.topic_scored, scored(1, ingest_delay_s=40.0, score_delay_s=0.2))
    assert value(reg, "earful_source_delay_seconds_bucket", source="mastodon", le="30.0") == 0
    assert value(reg, "earful_source_delay_seconds_bucket", source="mastodon", le="60.0") == 1
    assert value(reg, "earful_ingest_to_scored_seconds_bucket", le="0.1") == 0
    assert value(reg, "earful_ingest_to_scored_seconds_bucket", le="0.25") == 1
    assert value(reg, "earful_event_to_scored_seconds_bucket", le="30.0") == 0
    assert value(reg, "earful_event_to_scored_seconds_bucket", le="60.0") == 1


def test_window_gauges_show_the_latest_window() -> None:
    proc, reg = make()
    topic = proc.settings.topic_windows
    feed(proc, topic, window(0, mentions=10, negative=5), window(2, mentions=40, negative=30))
    feed(proc, topic, window(1, mentions=99, negative=0, late=3))  # older: counted late only
    feed(proc, topic, window(2, source="bluesky", mentions=8, negative=2))
    labels = {"subject": "acme", "source": "all"}
    assert value(reg, "earful_window_mentions", **labels) == 40
    assert value(reg, "earful_window_negative_ratio", **labels) == 0.75
    assert value(reg, "earful_window_unique_authors", **labels) == 39
    assert value(reg, "earful_window_outage_reports", **labels) == 2
    end = window(2).window_end.timestamp()
    assert value(reg, "earful_window_end_timestamp_seconds", **labels) == end
    assert value(reg, "earful_window_mentions", subject="acme", source="bluesky") == 8
    assert value(reg, "earful_window_late_records_total", subject="acme") == 3
    # What the volume detector expected: subject-level windows only, once a writer says it.
    assert value(reg, "earful_window_expected_mentions", subject="acme") is None
    feed(proc, topic, window(3, expected=12.5), window(3, source="rss", expected=99.0))
    assert value(reg, "earful_window_expected_mentions", subject="acme") == 12.5


def test_a_state_written_before_expected_existed_still_restores() -> None:
    proc, _ = make()
    feed(proc, proc.settings.topic_windows, window(3, expected=4.0))
    [out] = [o for o in proc.checkpoint_outputs() if b'"window"' in o.value]
    entry = json.loads(out.value)
    entry["window"] = entry["window"][:5]  # the five fields of an older sink
    restarted, reg2 = make()
    assert restarted.restore([json.dumps(entry).encode()]) == 1
    assert value(reg2, "earful_window_mentions", subject="acme", source="all") == 10
    assert value(reg2, "earful_window_expected_mentions", subject="acme") is None


def test_signal_lifecycle_moves_open_counts_and_observed_expected() -> None:
    proc, reg = make()
    topic = proc.settings.topic_signals
    per_detector = {"subject": "acme", "kind": "volume_spike", "detector": "volume/1"}
    open_key = {"subject": "acme", "kind": "volume_spike"}

    feed(proc, topic, signal("s1", "open", observed=120, expected=20))
    feed(proc, topic, signal("s1", "open"))  # redelivered: not a second opening
    assert value(reg, "earful_signals_total", **open_key, severity="warning", state="open") == 1
    assert value(reg, "earful_signals_open", **open_key, severity="warning") == 1
    assert value(reg, "earful_signal_observed", **per_detector) == 120
    assert value(reg, "earful_signal_expected", **per_detector) == 20
    assert value(reg, "earful_signal_anomaly_score", **per_detector) == 0.97

    feed(proc, topic, signal("s1", "update", severity="critical", observed=300, expected=25))
    assert value(reg, "earful_signals_open", **open_key, severity="warning") == 0
    assert value(reg, "earful_signals_open", **open_key, severity="critical") == 1
    assert value(reg, "earful_signal_observed", **per_detector) == 300

    feed(proc, topic, signal("s1", "resolved", severity="critical"))
    feed(proc, topic, signal("s1", "resolved", severity="critical"))  # redelivered
    resolved = {**open_key, "severity": "critical", "state": "resolved"}
    assert value(reg, "earful_signals_total", **resolved) == 1
    assert value(reg, "earful_signals_open", **open_key, severity="critical") == 0
    assert value(reg, "earful_signal_observed", **per_detector) is None
    assert value(reg, "earful_signal_expected", **per_detector) is None


def test_observed_stays_while_another_signal_of_the_detector_is_open() -> None:
    proc, reg = make()
    topic = proc.settings.topic_signals
    feed(proc, topic, signal("s1", "open"), signal("s2", "open", observed=50))
    feed(proc, topic, signal("s1", "resolved"))
    per_detector = {"subject": "acme", "kind": "volume_spike", "detector": "volume/1"}
    assert value(reg, "earful_signal_observed", **per_detector) == 50
    open_now = {"subject": "acme", "kind": "volume_spike", "severity": "warning"}
    assert value(reg, "earful_signals_open", **open_now) == 1


def test_dead_letters_are_counted_by_reason_and_worker() -> None:
    proc, reg = make()
    headers = [("earful.error.reason", b"not_json"), ("earful.worker", b"analyzer")]
    topic = proc.settings.topic_deadletter
    for offset in range(2):
        proc.process(FakeRecord(topic=topic, value=b"{", headers=headers, offset=offset))
    proc.process(FakeRecord(topic=proc.settings.topic_deadletter, value=b"x"))
    name = "earful_deadletter_records_total"
    assert value(reg, name, reason="not_json", worker="analyzer") == 2
    assert value(reg, name, reason="unknown", worker="unknown") == 1


@pytest.mark.parametrize("raw", [b"{not json", b'{"schema_version": 1}', None])
def test_an_unreadable_record_is_counted_not_raised(raw: bytes | None) -> None:
    proc, reg = make()
    for topic in input_topics(proc.settings)[:3]:
        assert list(proc.process(FakeRecord(topic=topic, value=raw))) == []
        rejected = [
            s
            for m in reg.collect()
            if m.name == "earful_sink_rejected_records"
            for s in m.samples
            if s.labels["topic"] == topic and s.value
        ]
        assert len(rejected) == 1 and rejected[0].value == 1


def test_records_of_other_topics_are_ignored() -> None:
    proc, reg = make()
    before = generate_latest(reg)
    assert list(proc.process(FakeRecord(topic="elsewhere", value=encode(scored(1))))) == []
    assert generate_latest(reg) == before


def test_no_series_carries_per_author_text_or_url_labels() -> None:
    proc, reg = make()
    feed(proc, proc.settings.topic_scored, *(scored(i, symptoms=("login",)) for i in range(20)))
    feed(proc, proc.settings.topic_windows, window(0))
    feed(proc, proc.settings.topic_signals, signal("s", "open"))
    names = {k for m in reg.collect() for s in m.samples for k in s.labels}
    assert names <= {
        "subject",
        "source",
        "label",
        "le",
        "symptom",
        "kind",
        "severity",
        "detector",
        "state",
        "topic",
        "reason",
        "outcome",
    }
    # 20 distinct authors and texts, yet one series per label combination.
    mentions = next(m for m in reg.collect() if m.name == "earful_mentions_scored")
    assert len(mentions.samples) == 1


def test_reactions_export_the_latest_update_per_span_and_audience() -> None:
    from tests.sinks.metrics_records import T0, reaction

    proc, reg = make()
    topic = proc.settings.topic_reactions
    assert topic in input_topics(proc.settings)
    name = "earful_update_reaction"
    labels = {"subject": "acme", "span_minutes": "15", "audience": "all"}
    feed(proc, topic, reaction(30, negative_before=0.6, negative_after=0.4))
    assert value(reg, name, **labels, period="before", measure="negative_share") == 0.6
    assert value(reg, name, **labels, period="after", measure="negative_share") == 0.4
    assert value(reg, name, **labels, period="expected", measure="per_minute") == 2.0
    assert value(reg, name, **labels, period="after", measure="question_share") == 0.2
    update_time = "earful_update_reaction_update_timestamp_seconds"
    first = T0.timestamp() + 30 * 60
    assert value(reg, update_time, subject="acme", span_minutes="15") == first

    # A later update replaces the values; a cold baseline leaves no expected series.
    feed(proc, topic, reaction(60, negative_before=0.5, negative_after=None, expected=False))
    assert value(reg, name, **labels, period="before", measure="negative_share") == 0.5
    assert value(reg, name, **labels, period="after", measure="negative_share") is None
    assert value(reg, name, **labels, period="expected", measure="per_minute") is None
    assert value(reg, update_time, subject="acme", span_minutes="15") == first + 30 * 60

    # An earlier update's reaction measured late (a longer span) moves no gauge back.
    feed(proc, topic, reaction(45, negative_before=0.9))
    assert value(reg, name, **labels, period="before", measure="negative_share") == 0.5
    assert value(reg, update_time, subject="acme", span_minutes="15") == first + 30 * 60
    counted = "earful_update_reactions_total"
    assert value(reg, counted, subject="acme", span_minutes="15", audience="all") == 3

    # Other spans and audiences are their own series.
    feed(proc, topic, reaction(60, span_minutes=30, audience="replies", negative_after=0.7))
    replies = {"subject": "acme", "span_minutes": "30", "audience": "replies"}
    assert value(reg, name, **replies, period="after", measure="negative_share") == 0.7
    assert value(reg, name, **labels, period="before", measure="negative_share") == 0.5


# -- zero series, and state that survives a restart ------------------------------------

RESTORED_GAUGES = (
    "earful_signals_open",
    "earful_signal_observed",
    "earful_signal_expected",
    "earful_signal_anomaly_score",
    "earful_official_update_timestamp_seconds",
    "earful_update_reaction",
    "earful_update_reaction_update_timestamp_seconds",
    "earful_window_mentions",
    "earful_window_unique_authors",
    "earful_window_negative_ratio",
    "earful_window_outage_reports",
    "earful_window_end_timestamp_seconds",
    "earful_window_expected_mentions",
    "earful_source_last_ingested_timestamp_seconds",
    "earful_latest_event_timestamp_seconds",
)


def gauges(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for m in registry.collect()
        for s in m.samples
        if s.name in RESTORED_GAUGES
    }


def latest_per_key(outputs: list[Any]) -> list[bytes]:
    latest: dict[bytes, bytes] = {}
    for out in outputs:
        latest.pop(out.key, None)
        latest[out.key] = out.value
    return list(latest.values())


def test_counters_of_known_label_values_exist_at_zero_before_any_record() -> None:
    proc, reg = make(metrics_subjects=("acme",), metrics_places=("Paris",))
    zero = {
        "earful_mentions_scored_total": {
            "subject": "acme",
            "source": "bluesky",
            "label": "negative",
        },
        "earful_official_updates_total": {"subject": "acme", "source": "statuspage"},
        "earful_outage_reports_total": {"subject": "acme", "source": "mastodon"},
        "earful_outage_report_places_total": {"subject": "acme", "place": "Paris"},
        "earful_window_late_records_total": {"subject": "acme"},
        "earful_signals_total": {
            "subject": "acme",
            "kind": "outage_burst",
            "severity": "critical",
            "state": "open",
        },
        "earful_signals_open": {"subject": "acme", "kind": "volume_spike", "severity": "warning"},
        "earful_sink_rejected_records_total": {
            "topic": proc.settings.topic_scored,
            "reason": "not_json",
        },
        "earful_consumer_lag_refreshes_total": {"outcome": "error"},
        "earful_sentiment_compound_count": {"subject": "acme"},
        "earful_source_delay_seconds_count": {"source": "rss"},
    }
    for name, labels in zero.items():
        assert value(reg, name, **labels) == 0, name
    # The first count moves an existing series from 0 to 1, which rate() can see.
    feed(proc, proc.settings.topic_scored, scored(1, source="statuspage", official=True))
    assert value(reg, "earful_official_updates_total", subject="acme", source="statuspage") == 1


def test_a_restarted_sink_shows_every_gauge_it_showed_before() -> None:
    proc, reg = make(metrics_subjects=("acme", "globex"))
    scored_topic = proc.settings.topic_scored
    feed(proc, scored_topic, scored(1), scored(50, source="rss", official=True))
    feed(proc, proc.settings.topic_windows, window(3, expected=7.5), window(4, source="bluesky"))
    feed(proc, proc.settings.topic_signals, signal("a", "open", severity="critical"))
    feed(proc, proc.settings.topic_signals, signal("b", "open", subject="globex"))
    feed(proc, proc.settings.topic_reactions, reaction(5), reaction(5, audience="replies"))
    outputs = proc.checkpoint_outputs()
    # Later batches: another window, a signal resolves, a newer official update.
    feed(proc, proc.settings.topic_windows, window(5, expected=9.0))
    feed(proc, proc.settings.topic_signals, signal("b", "resolved", subject="globex"))
    feed(proc, scored_topic, scored(90, official=True, source="statuspage"))
    outputs += proc.checkpoint_outputs()
    assert proc.checkpoint_outputs() == []  # nothing changed since
    assert {out.topic for out in outputs} == {proc.settings.state_topic}

    restarted, reg2 = make(metrics_subjects=("acme", "globex"))
    assert restarted.restore(latest_per_key(outputs)) > 0
    before = gauges(reg)
    assert before[("earful_window_expected_mentions", (("subject", "acme"),))] == 9.0
    assert gauges(reg2) == before
    # Counters restart at 0; the restored gauges carry no count.
    assert (
        value(
            reg2,
            "earful_signals_total",
            subject="acme",
            kind="volume_spike",
            severity="critical",
            state="open",
        )
        == 0
    )
    assert (
        value(
            reg2, "earful_signals_open", subject="globex", kind="volume_spike", severity="warning"
        )
        == 0
    )
    # And it goes on from there: the restored signal resolves, an older window is ignored.
    feed(restarted, proc.settings.topic_signals, signal("a", "resolved", severity="critical"))
    assert (
        value(reg2, "earful_signals_open", subject="acme", kind="volume_spike", severity="critical")
        == 0
    )
    assert (
        value(
            reg2, "earful_signal_observed", subject="acme", kind="volume_spike", detector="volume/1"
        )
        is None
    )
    feed(restarted, proc.settings.topic_windows, window(1, mentions=99))
    assert value(reg2, "earful_window_mentions", subject="acme", source="all") == 10


def test_restore_skips_what_it_cannot_read() -> None:
    proc, reg = make()
    feed(proc, proc.settings.topic_scored, scored(1))
    good = latest_per_key(proc.checkpoint_outputs())
    restarted, reg2 = make()
    assert restarted.restore([b"{not json", b'{"v": 99, "key": ["ingested", "x"]}', *good]) == 2
    assert gauges(reg2) == gauges(reg)


def test_a_mention_ahead_of_the_clock_is_counted_not_timed_as_zero() -> None:
    proc, reg = make()
    ahead = scored(1, ingest_delay_s=-3600.0, score_delay_s=-3500.0)  # a rebased replay
    feed(proc, proc.settings.topic_scored, ahead, scored(2))
    assert value(reg, "earful_event_time_ahead_records_total") == 1
    assert value(reg, "earful_event_to_scored_seconds_count") == 1
    assert value(reg, "earful_source_delay_seconds_count", source="mastodon") == 1
    assert value(reg, "earful_latest_event_timestamp_seconds") == (
        ahead.mention.created_at.timestamp() + 1
    )

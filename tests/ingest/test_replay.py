"""File replay: JSONL and CSV, dead letters with line numbers, time compression."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from earful.cli import main
from earful.console import InputError
from earful.errors import SchemaError
from earful.events import MAX_TEXT_CHARS, Mention
from earful.ingest.replay import csv_row_to_record, parse_line, parse_record, replay_file
from earful.kafkautil import read_to_end
from earful.settings import ReplaySettings
from earful.worker import make_consumer, make_producer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

CSV = """\
native_id,source,author,text,created_at,subjects,is_official,likes,metadata.instance,lang
1,mastodon,u_a,"Is acme down?",2026-11-25T10:00:00Z,acme,false,3,mastodon.social,en
2,mastodon,u_b,"acme pay, declined
twice",2026-11-25T10:01:00Z,acme;acme-pay,no,,fosstodon.org,
3,replay,u_c,no subjects here,2026-11-25T10:02:00Z,,false,,,
4,replay,u_d,"fine",2026-11-25T10:03:00Z,"[""acme""]",maybe,,,
5,replay,u_e,"ok again",2026-11-25T10:04:00Z,acme,TRUE,,,
"""


class FakeFuture:
    def get(self, timeout: float | None = None) -> None:
        return None


class FakeProducer:
    """Records what was sent; dead letters with their headers."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.dead_headers: list[dict[str, bytes]] = []

    def send(
        self,
        topic: str,
        *,
        value: bytes,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> FakeFuture:
        self.sent.append((topic, key, value))
        if topic == "dead":
            self.dead_headers.append(dict(headers or []))
        return FakeFuture()

    def flush(self) -> None:
        pass


def settings(**kw: Any) -> ReplaySettings:
    return ReplaySettings(topic_raw="raw", topic_deadletter="dead", **kw)


def test_csv_row_conversion() -> None:
    record = csv_row_to_record(
        {
            "native_id": " 7 ",
            "text": "  keep my spaces ",
            "subjects": "acme | acme-pay",
            "is_official": "Yes",
            "engagement.reposts": "2",
            "likes": "5",
            "metadata.subreddit": "sysadmin",
            "url": "",
            None: "extra cell",  # type: ignore[dict-item]
        }
    )
    assert record == {
        "native_id": "7",
        "text": "  keep my spaces ",
        "subjects": ["acme", "acme-pay"],
        "is_official": True,
        "engagement": {"reposts": "2", "likes": "5"},
        "metadata": {"subreddit": "sysadmin"},
    }


def test_parse_record_fills_defaults_and_keeps_parse_line_working() -> None:
    base = {"native_id": "9", "author": "u_x", "text": "acme?", "subjects": ["acme"]}
    mention = parse_record({**base, "created_at": "2026-11-25T10:00:00Z"}, ingested_at=NOW)
    assert mention.id == "replay:9" and mention.ingested_at == NOW
    line = json.dumps({**base, "source": "bluesky", "created_at": "2026-11-25T10:00:00+01:00"})
    shifted = parse_line(line.encode(), ingested_at=NOW, shift=timedelta(hours=1))
    assert shifted.id == "bluesky:9"
    assert shifted.created_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    with pytest.raises(SchemaError, match="subjects"):
        parse_record(
            {**base, "subjects": [], "created_at": "2026-11-25T10:00:00Z"}, ingested_at=NOW
        )


def test_csv_replay_produces_good_rows_and_deadletters_bad_ones_with_line_numbers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "incident.csv"
    path.write_text(CSV, encoding="utf-8")
    producer = FakeProducer()
    stats = replay_file(path, settings(), producer, clock=lambda: NOW)
    produced = [Mention.model_validate_json(v) for t, _, v in producer.sent if t == "raw"]
    assert [m.id for m in produced] == ["mastodon:1", "mastodon:2", "replay:5"]
    assert produced[0].engagement.likes == 3
    assert produced[0].metadata == {"instance": "mastodon.social"}
    assert produced[1].text == "acme pay, declined\ntwice"
    assert produced[1].subjects == ("acme", "acme-pay") and produced[1].lang is None
    assert produced[2].is_official
    assert stats.produced == 3 and stats.deadlettered == 2
    dead = producer.dead_headers
    # Row 3 starts on line 5 (row 2 spans two lines); row 4 on line 6.
    assert [d["earful.source.offset"] for d in dead] == [b"5", b"6"]
    assert all(d["earful.source.topic"] == b"file:incident.csv" for d in dead)


def test_replay_keeps_recorded_authors_and_subjects_and_cuts_an_overlong_text(
    tmp_path: Path,
) -> None:
    """Replay's admission: contract caps yes; tracking rules and pseudonymising no."""
    base = {
        "native_id": "1",
        "source": "bluesky",
        "author": "u_recorded",
        "created_at": "2026-11-25T10:00:00Z",
        "subjects": ["no-rule-defines-this"],
    }
    path = tmp_path / "long.jsonl"
    long_text = "acme is down " + "z" * MAX_TEXT_CHARS
    path.write_text(
        json.dumps({**base, "text": long_text})
        + "\n"
        + json.dumps({**base, "native_id": "2", "text": "short"})
        + "\n",
        encoding="utf-8",
    )
    producer = FakeProducer()
    stats = replay_file(path, settings(), producer, clock=lambda: NOW)
    assert stats.produced == 2 and stats.deadlettered == 0
    first, second = (Mention.model_validate_json(v) for _, _, v in producer.sent)
    assert first.text == long_text[:MAX_TEXT_CHARS] and first.metadata == {"truncated": True}
    assert second.metadata == {}
    assert {m.author for m in (first, second)} == {"u_recorded"}
    assert first.subjects == second.subjects == ("no-rule-defines-this",)


def test_speed_compresses_event_time(tmp_path: Path) -> None:
    path = tmp_path / "three.jsonl"
    lines = [
        {
            "native_id": str(i),
            "author": "u",
            "text": "acme",
            "subjects": ["acme"],
            "created_at": f"2026-11-25T10:{i:02d}:00Z",
        }
        for i in (0, 1, 3)
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    sleeps: list[float] = []
    stats = replay_file(path, settings(replay_speed=60.0), FakeProducer(), sleep=sleeps.append)
    # One minute of event time per second; the file's own time is spent between them.
    assert len(sleeps) == 2
    assert sleeps[0] == pytest.approx(1.0, abs=0.25)
    assert sleeps[1] == pytest.approx(3.0, abs=0.25)
    assert stats.produced == 3 and stats.skipped_blank == 1


@pytest.mark.kafka
def test_csv_replay_into_the_real_broker(
    tmp_path: Path, settings_factory: Callable[..., Any]
) -> None:
    replay_settings: ReplaySettings = settings_factory(ReplaySettings)
    path = tmp_path / "incident.csv"
    path.write_text(CSV, encoding="utf-8")
    producer = make_producer(replay_settings)
    try:
        stats = replay_file(path, replay_settings, producer, rebase=True)
    finally:
        producer.close()
    reader = make_consumer(replay_settings, group=None, topics=[])
    try:
        raw = list(read_to_end(reader, replay_settings.topic_raw))
        dead = list(read_to_end(reader, replay_settings.topic_deadletter))
    finally:
        reader.close()
    assert stats.produced == 3
    assert sorted(r.key for r in raw) == [b"mastodon:1", b"mastodon:2", b"replay:5"]
    assert len(dead) == 2
    reasons = sorted(dict(r.headers)["earful.error.reason"] for r in dead)
    assert reasons == [b"invalid", b"invalid"]


# -- the wrong kind of file is refused before anything is sent --------------------------


def _mention_line(n: int, minute: int = 0) -> str:
    return json.dumps(
        {
            "native_id": str(n),
            "author": "u",
            "text": "is acme down?",
            "subjects": ["acme"],
            "created_at": f"2026-11-25T10:{minute:02d}:00Z",
        }
    )


@pytest.mark.parametrize(
    ("name", "content", "hint"),
    [
        ("counts.csv", "timestamp,value\n2026-11-25T10:00:00Z,3\n" * 3, "earful backtest FILE.csv"),
        (
            "counts.jsonl",
            '{"timestamp": "2026-11-25T10:00:00Z", "value": 3}\n' * 30,
            "count series",
        ),
        (
            "export.jsonl",
            '{"topic": "t", "partition": 0, "offset": 1, "key": null, "value": {"id": "x"}}\n' * 30,
            "earful report --input FILE",
        ),
        (
            "scored.jsonl",
            '{"mention": {"id": "x"}, "sentiment": null}\n' * 30,
            "earful backtest --mentions FILE",
        ),
        ("notes.jsonl", "just some text\n" * 30, "each record needs native_id"),
    ],
)
def test_a_file_of_the_wrong_kind_is_refused_before_anything_is_sent(
    tmp_path: Path, name: str, content: str, hint: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    producer = FakeProducer()
    with pytest.raises(InputError, match=re.escape(hint)):
        replay_file(path, settings(), producer, clock=lambda: NOW)
    assert producer.sent == []


def test_a_file_whose_first_records_are_bad_but_not_all_is_replayed(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    bad = ["{not json", '{"text": "no id"}', "[1, 2]"]
    path.write_text("\n".join([*bad, _mention_line(1), _mention_line(2, 1)]) + "\n", "utf-8")
    producer = FakeProducer()
    stats = replay_file(path, settings(), producer, clock=lambda: NOW)
    assert stats.produced == 2 and stats.deadlettered == 3


def test_the_wrong_kind_of_file_is_one_line_from_the_command_line_without_kafka(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "counts.csv"
    path.write_text("timestamp,value\n" + "2026-11-25T10:00:00Z,3\n" * 10_080, encoding="utf-8")
    # Port 1: nothing listens, yet the file is refused first, in one line.
    assert main(["ingest", "replay", str(path), "--bootstrap", "127.0.0.1:1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"earful: data error: {path} is not a mentions CSV")


def test_progress_is_told_after_every_record(tmp_path: Path) -> None:
    path = tmp_path / "three.jsonl"
    path.write_text("\n".join(_mention_line(n, n) for n in range(3)) + "\n{bad\n", "utf-8")
    seen: list[tuple[int, int, int]] = []
    replay_file(
        path,
        settings(),
        FakeProducer(),
        clock=lambda: NOW,
        progress=lambda s: seen.append((s.lines, s.produced, s.deadlettered)),
    )
    assert seen[:4] == [(1, 1, 0), (2, 2, 0), (3, 3, 0), (4, 3, 1)]


@pytest.mark.kafka
def test_ctrl_c_during_a_paced_replay_says_how_much_was_sent(
    tmp_path: Path, settings_factory: Callable[..., Any]
) -> None:
    replay_settings: ReplaySettings = settings_factory(ReplaySettings)
    path = tmp_path / "slow.jsonl"
    path.write_text("\n".join(_mention_line(n, n) for n in range(60)) + "\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARFUL_")}
    env.update(
        EARFUL_PROGRESS="1",  # a progress line on stderr says when the replay has started
        EARFUL_TOPIC_RAW=replay_settings.topic_raw,
        EARFUL_TOPIC_DEADLETTER=replay_settings.topic_deadletter,
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "earful.cli",
            "ingest",
            "replay",
            str(path),
            "--speed",
            "30",
            "--bootstrap",
            replay_settings.kafka_bootstrap,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + 60
    while b"replay: 3" not in seen and time.monotonic() < deadline:
        seen += os.read(proc.stderr.fileno(), 4096)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    err = (seen + rest).decode()
    assert proc.returncode in (130, -signal.SIGINT), err
    assert "Traceback" not in err and err.count("\n") == 1
    last = err.rstrip("\n").split("\r")[-1]
    match = re.fullmatch(
        rf"earful: interrupted; (\d+) mentions of {re.escape(str(path))} sent to "
        rf"{re.escape(replay_settings.topic_raw)} \(0 to dead letters, after line (\d+)\)",
        last,
    )
    assert match is not None, last
    sent = int(match.group(1))
    assert 3 <= sent < 60
    reader = make_consumer(replay_settings, group=None, topics=[])
    try:
        assert len(list(read_to_end(reader, replay_settings.topic_raw))) == sent
    finally:
        reader.close()

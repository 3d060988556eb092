"""End-to-end benchmark of the first slice through a real broker.

* throughput: N mentions replayed as fast as possible into the raw topic while
  analyzer processes (transactional, the default; one, then two in one consumer
  group, the way Earful scales out) score them; measured from
  the first send until the last scored record is visible (read_committed);
* the bare ``SentimentIntensityAnalyzer().polarity_scores`` loop over the same
  texts in the same run, for scale;
* latency: mentions sent at a steady 2,000/s; for each, the time from its
  ``ingested_at`` until a read_committed consumer of the scored topic sees it.

Every text is made unique so the analyzer's repost cache never helps here.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from earful.events import Mention, encode
from earful.settings import AnalyzerSettings

__all__ = ["E2EResult", "run_e2e"]

ROOT = Path(__file__).resolve().parent.parent
GROUNDTRUTH = ROOT.parent / "shared" / "data" / "vader-groundtruth" / "tweets_GroundTruth.txt"
INCIDENT = ROOT / "examples" / "acme-incident.jsonl"


@dataclass
class E2EResult:
    mentions: int
    e2e_mentions_per_s: float
    e2e_one_analyzer_mentions_per_s: float
    analyzers: int
    bare_vader_texts_per_s: float
    latency_rate_per_s: float
    latency_samples: int
    p50_ingest_to_scored_s: float
    p99_ingest_to_scored_s: float


def load_texts() -> list[str]:
    texts: list[str] = []
    if INCIDENT.exists():
        for line in INCIDENT.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    if GROUNDTRUTH.exists():
        for line in GROUNDTRUTH.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3:
                texts.append(parts[2])
    if not texts:
        texts = ["is acme down? can't log in", "acme works great today"]
    return texts


def _mentions(texts: list[str], n: int, *, run: str) -> list[Mention]:
    t0 = datetime.now(UTC)
    out = []
    for i in range(n):
        out.append(
            Mention(
                id=f"replay:{run}-{i}",
                source="replay",
                native_id=f"{run}-{i}",
                author=f"u-{i % 5000}",
                text=f"{texts[i % len(texts)]} {i}",  # unique: no cache hits
                created_at=t0 + timedelta(milliseconds=i),
                ingested_at=t0,
                subjects=("acme",),
            )
        )
    return out


def bare_vader_rate(texts: list[str]) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    start = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return len(texts) / (time.perf_counter() - start)


class _RecordCounter:
    """Counts committed records on a topic (offsets also count transaction markers)."""

    def __init__(self, settings: AnalyzerSettings) -> None:
        from kafka import TopicPartition

        from earful.worker import make_consumer

        self.consumer = make_consumer(settings, group=None, topics=[])
        parts = self.consumer.partitions_for_topic(settings.topic_scored) or ()
        tps = [TopicPartition(settings.topic_scored, p) for p in parts]
        self.consumer.assign(tps)
        self.consumer.seek_to_beginning(*tps)
        self.count = 0

    def poll(self) -> int:
        for records in self.consumer.poll(timeout_ms=100).values():
            self.count += len(records)
        return self.count

    def close(self) -> None:
        self.consumer.close(autocommit=False)


def _start_analyzer(settings: AnalyzerSettings, instance: str = "bench") -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EARFUL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "EARFUL_TOPIC_RAW": settings.topic_raw,
        "EARFUL_TOPIC_SCORED": settings.topic_scored,
        "EARFUL_TOPIC_DEADLETTER": settings.topic_deadletter,
        "EARFUL_ANALYZER_GROUP": settings.analyzer_group,
    }
    cmd = [sys.executable, "-m", "earful.cli", "analyze", "--instance-id", instance]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _settings(bootstrap: str, tag: str) -> AnalyzerSettings:
    from earful.topics import create_topics

    run = f"bench-{tag}-{uuid.uuid4().hex[:6]}"
    settings = AnalyzerSettings(
        kafka_bootstrap=bootstrap,
        topic_raw=f"{run}.raw",
        topic_scored=f"{run}.scored",
        topic_deadletter=f"{run}.dlq",
        topic_windows=f"{run}.windows",
        topic_signals=f"{run}.signals",
        topic_alerts=f"{run}.alerts",
        analyzer_group=f"{run}.analyzer",
    )
    create_topics(settings)
    return settings


def _wait_for_group(settings: AnalyzerSettings, members: int = 1, timeout_s: float = 60) -> None:
    """Let the analyzer join and own its partitions before the clock starts."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                groups = admin.describe_groups([settings.analyzer_group])
            except KafkaError:  # coordinator still starting on a fresh broker
                groups = {}
            group = groups.get(settings.analyzer_group, {})
            if group.get("group_state") == "Stable" and len(group.get("members", ())) >= members:
                return
            time.sleep(0.2)
    finally:
        admin.close()
    raise TimeoutError("analyzer did not join its group")


def throughput(bootstrap: str, texts: list[str], n: int, analyzers: int = 1) -> float:
    from earful.worker import make_producer

    settings = _settings(bootstrap, "tp")
    mentions = _mentions(texts, n, run="tp")
    payloads = [(m.id.encode(), encode(m)) for m in mentions]
    workers = [_start_analyzer(settings, f"bench-{i}") for i in range(analyzers)]
    watcher = _RecordCounter(settings)
    try:
        _wait_for_group(settings, members=analyzers)
        producer = make_producer(settings)
        start = time.perf_counter()
        for key, value in payloads:
            producer.send(settings.topic_raw, key=key, value=value)
        producer.flush()
        producer.close(timeout=10)
        while watcher.poll() < n:
            if any(w.poll() is not None for w in workers):
                raise RuntimeError("an analyzer exited during the benchmark")
        elapsed = time.perf_counter() - start
    finally:
        watcher.close()
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=60)
    return n / elapsed


def latency(bootstrap: str, texts: list[str], rate: float, seconds: float) -> list[float]:
    from earful.events import ScoredMention, decode
    from earful.worker import make_consumer, make_producer

    settings = _settings(bootstrap, "lat")
    n = int(rate * seconds)
    mentions = _mentions(texts, n, run="lat")
    analyzer = _start_analyzer(settings)
    latencies: list[float] = []
    done = threading.Event()

    def watch() -> None:
        consumer = make_consumer(
            settings, group=f"{settings.analyzer_group}.watch", topics=[settings.topic_scored],
            auto_offset_reset="earliest",
        )  # fmt: skip
        try:
            while len(latencies) < n and not done.is_set():
                for records in consumer.poll(timeout_ms=200).values():
                    seen = datetime.now(UTC)
                    for r in records:
                        m = decode(ScoredMention, r.value).mention
                        latencies.append((seen - m.ingested_at).total_seconds())
        finally:
            consumer.close(autocommit=False)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        _wait_for_group(settings)
        watcher.start()
        time.sleep(2.0)  # let the watcher join too
        producer = make_producer(settings)
        start = time.perf_counter()
        for i, m in enumerate(mentions):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            stamped = m.model_copy(update={"ingested_at": datetime.now(UTC)})
            producer.send(settings.topic_raw, key=stamped.id.encode(), value=encode(stamped))
        producer.flush()
        producer.close(timeout=10)
        deadline = time.monotonic() + 60
        while len(latencies) < n and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        done.set()
        watcher.join(timeout=10)
        analyzer.send_signal(signal.SIGTERM)
        analyzer.wait(timeout=60)
    return latencies


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_e2e(
    n: int = 60_000, rate: float = 2000.0, seconds: float = 15.0, analyzers: int = 2
) -> E2EResult:
    from earful.localkafka import LocalKafka

    bootstrap = os.environ.get("EARFUL_BENCH_KAFKA_BOOTSTRAP")
    broker = None
    tmp = None
    if not bootstrap:
        tmp = tempfile.TemporaryDirectory(prefix="earful-bench-")
        broker = LocalKafka(
            port=_free_port(), controller_port=_free_port(), state_dir=Path(tmp.name)
        )
        bootstrap = broker.up()
    try:
        texts = load_texts()
        bare = bare_vader_rate([f"{texts[i % len(texts)]} {i}" for i in range(n)])
        tp_one = throughput(bootstrap, texts, n, analyzers=1)
        tp = throughput(bootstrap, texts, n, analyzers=analyzers)
        lat = latency(bootstrap, texts, rate, seconds)
    finally:
        if broker is not None:
            broker.down()
        if tmp is not None:
            tmp.cleanup()
    return E2EResult(
        mentions=n,
        e2e_mentions_per_s=round(tp, 1),
        e2e_one_analyzer_mentions_per_s=round(tp_one, 1),
        analyzers=analyzers,
        bare_vader_texts_per_s=round(bare, 1),
        latency_rate_per_s=rate,
        latency_samples=len(lat),
        p50_ingest_to_scored_s=round(statistics.median(lat), 4) if lat else float("nan"),
        p99_ingest_to_scored_s=round(_quantile(lat, 0.99), 4) if lat else float("nan"),
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    print(json.dumps(run_e2e().__dict__, indent=2))

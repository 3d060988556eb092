"""End-to-end benchmark of the scoring path through a real broker.

* throughput: N mentions replayed as fast as possible into the raw topic while
  analyzer processes (transactional, the default; one, then two in one consumer
  group, the way Earful scales out) score them; measured from
  the first send until the last scored record is visible (read_committed).
  The topics have 6 partitions, as in deploy/k8s (3 would give one of two
  analyzers twice the other's share). An untimed warm-up run of the same size
  goes first, so a freshly started broker's JVM has compiled its hot paths: its
  CPU per mention fell from about 50 us in the first run to about 30 us by the
  third (it was measured cold before); the target is sustained throughput;
* CPU time per mention of each process in the throughput runs (analyzers, the
  broker when the benchmark started it, the replay producer, the read_committed
  watcher), from /proc: robust where wall-clock rates are not, on a busy machine;
* the bare ``SentimentIntensityAnalyzer().polarity_scores`` loop over the same
  texts in the same run, for scale;
* latency: mentions sent at a steady 2,000/s; for each, the time from its
  ``ingested_at`` until a read_committed consumer of the scored topic sees it.

Every text is made unique so the analyzer's repost cache never helps here.
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from earful.events import Mention, encode
from earful.settings import AnalyzerSettings

__all__ = ["E2EResult", "ThroughputRun", "run_e2e", "run_throughput"]

ROOT = Path(__file__).resolve().parent.parent
GROUNDTRUTH = ROOT.parent / "shared" / "data" / "vader-groundtruth" / "tweets_GroundTruth.txt"
INCIDENT = ROOT / "examples" / "acme-incident.jsonl"


#: Partitions of the benchmark's topics: deploy/k8s/configmap.yaml's count; it
#: splits evenly over 1, 2, 3 or 6 analyzers.
PARTITIONS = 6


@dataclass
class E2EResult:
    mentions: int
    e2e_mentions_per_s: float
    e2e_one_analyzer_mentions_per_s: float
    analyzers: int
    partitions: int
    #: Mentions in the untimed warm-up run (with ``analyzers`` analyzers).
    warmup_mentions: int
    #: CPU microseconds per mention by process, in the run with ``analyzers``
    #: analyzers and in the one-analyzer run (see :class:`ThroughputRun`).
    cpu_us_per_mention: dict[str, float]
    cpu_us_per_mention_one_analyzer: dict[str, float]
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
        topic_partitions=PARTITIONS,
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


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc), None if unknown."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class ThroughputRun:
    mentions_per_s: float
    #: CPU microseconds per mention from the first send until the last scored
    #: record was seen: ``analyzers`` (all analyzer processes together),
    #: ``broker`` (when the benchmark started it), ``replay_producer`` (this
    #: process while sending), ``watcher`` (this process while waiting for the
    #: scored records), ``total``, and ``cores_busy`` (total CPU / elapsed).
    cpu_us_per_mention: dict[str, float]


def throughput(
    bootstrap: str, texts: list[str], n: int, analyzers: int = 1, broker_pid: int | None = None
) -> ThroughputRun:
    from earful.worker import make_producer

    settings = _settings(bootstrap, "tp")
    mentions = _mentions(texts, n, run="tp")
    payloads = [(m.id.encode(), encode(m)) for m in mentions]
    workers = [_start_analyzer(settings, f"bench-{i}") for i in range(analyzers)]
    watcher = _RecordCounter(settings)
    try:
        _wait_for_group(settings, members=analyzers)
        cpu0 = [_cpu_s(w.pid) for w in workers] + [_cpu_s(broker_pid)]
        own0 = time.process_time()
        producer = make_producer(settings)
        start = time.perf_counter()
        for key, value in payloads:
            producer.send(settings.topic_raw, key=key, value=value)
        producer.flush()
        producer.close(timeout=10)
        own1 = time.process_time()
        while watcher.poll() < n:
            if any(w.poll() is not None for w in workers):
                raise RuntimeError("an analyzer exited during the benchmark")
        elapsed = time.perf_counter() - start
        own2 = time.process_time()
        cpu1 = [_cpu_s(w.pid) for w in workers] + [_cpu_s(broker_pid)]
    finally:
        watcher.close()
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=60)
    used = [None if a is None or b is None else b - a for a, b in zip(cpu0, cpu1, strict=True)]
    cpu: dict[str, float] = {}
    if all(u is not None for u in used[:-1]):
        cpu["analyzers"] = sum(u for u in used[:-1] if u is not None)
    if used[-1] is not None:
        cpu["broker"] = used[-1]
    cpu["replay_producer"] = own1 - own0
    cpu["watcher"] = own2 - own1
    total = sum(cpu.values())
    per_mention = {k: round(v / n * 1e6, 1) for k, v in cpu.items()}
    per_mention["total"] = round(total / n * 1e6, 1)
    per_mention["cores_busy"] = round(total / elapsed, 2)
    return ThroughputRun(mentions_per_s=n / elapsed, cpu_us_per_mention=per_mention)


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
            settings,
            group=f"{settings.analyzer_group}.watch",
            topics=[settings.topic_scored],
            auto_offset_reset="earliest",
        )
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


@contextlib.contextmanager
def _broker() -> Iterator[tuple[str, int | None]]:
    """The broker to use: ``EARFUL_BENCH_KAFKA_BOOTSTRAP``, or a fresh local one (with its pid)."""
    from earful.localkafka import LocalKafka

    bootstrap = os.environ.get("EARFUL_BENCH_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap, None
        return
    with tempfile.TemporaryDirectory(prefix="earful-bench-") as tmp:
        broker = LocalKafka(port=_free_port(), controller_port=_free_port(), state_dir=Path(tmp))
        try:
            bootstrap = broker.up()
            yield bootstrap, broker.pid()
        finally:
            broker.down()


def run_e2e(
    n: int = 60_000, rate: float = 2000.0, seconds: float = 15.0, analyzers: int = 2
) -> E2EResult:
    with _broker() as (bootstrap, broker_pid):
        texts = load_texts()
        bare = bare_vader_rate([f"{texts[i % len(texts)]} {i}" for i in range(n)])
        throughput(bootstrap, texts, n, analyzers=analyzers)  # untimed warm-up
        tp_one = throughput(bootstrap, texts, n, analyzers=1, broker_pid=broker_pid)
        tp = throughput(bootstrap, texts, n, analyzers=analyzers, broker_pid=broker_pid)
        lat = latency(bootstrap, texts, rate, seconds)
    return E2EResult(
        mentions=n,
        e2e_mentions_per_s=round(tp.mentions_per_s, 1),
        e2e_one_analyzer_mentions_per_s=round(tp_one.mentions_per_s, 1),
        analyzers=analyzers,
        partitions=PARTITIONS,
        warmup_mentions=n,
        cpu_us_per_mention=tp.cpu_us_per_mention,
        cpu_us_per_mention_one_analyzer=tp_one.cpu_us_per_mention,
        bare_vader_texts_per_s=round(bare, 1),
        latency_rate_per_s=rate,
        latency_samples=len(lat),
        p50_ingest_to_scored_s=round(statistics.median(lat), 4) if lat else float("nan"),
        p99_ingest_to_scored_s=round(_quantile(lat, 0.99), 4) if lat else float("nan"),
    )


def run_throughput(
    n: int = 60_000, analyzers: tuple[int, ...] = (1, 2), repeat: int = 1
) -> list[dict[str, object]]:
    """Only the throughput part (after the same warm-up): one result per run."""
    out: list[dict[str, object]] = []
    with _broker() as (bootstrap, broker_pid):
        texts = load_texts()
        throughput(bootstrap, texts, n, analyzers=max(analyzers))  # untimed warm-up
        for _ in range(repeat):
            for count in analyzers:
                run = throughput(bootstrap, texts, n, analyzers=count, broker_pid=broker_pid)
                result = {
                    "analyzers": count,
                    "mentions": n,
                    "mentions_per_s": round(run.mentions_per_s, 1),
                    "cpu_us_per_mention": run.cpu_us_per_mention,
                }
                print(json.dumps(result), flush=True)
                out.append(result)
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--throughput-only", action="store_true", help="only the throughput runs, as JSON lines"
    )
    parser.add_argument("--mentions", type=int, default=60_000)
    parser.add_argument("--analyzers", default="1,2", help="with --throughput-only: e.g. 1,2")
    parser.add_argument("--repeat", type=int, default=1, help="with --throughput-only")
    args = parser.parse_args(argv)
    if args.throughput_only:
        counts = tuple(int(a) for a in args.analyzers.split(","))
        run_throughput(args.mentions, counts, args.repeat)
    else:
        print(json.dumps(run_e2e(args.mentions).__dict__, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

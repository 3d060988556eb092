"""Broker outages against a real broker: nothing lost, nothing repeated, no worker restarted.

Each test starts its own broker (the session's shared one must not be killed),
two ``earful analyze`` processes on six partitions with exactly-once on, and
a backlog of mentions. Mid-run the broker is killed with SIGKILL and started
again on the same data, for less and for longer than the producer's delivery
timeout (shortened to seconds by settings so the test runs quickly), or
frozen with SIGSTOP mid-transaction. Then every mention must be scored
exactly once (read_committed), both analyzers must still be the processes
that started, scoring must resume within 30 s of the broker's return, and
during the outage ``/livez`` must stay healthy while ``/readyz`` says why it
is not ready.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from earful.events import Mention, ScoredMention, decode, encode
from earful.kafkautil import read_to_end
from earful.localkafka import LocalKafka
from earful.settings import AnalyzerSettings
from earful.topics import create_topics
from earful.worker import make_consumer, make_producer
from tests.earful.test_pipeline_kafka import make_mention
from tests.ports import free_port

pytestmark = pytest.mark.kafka

TOTAL = 6000
RESUME_BOUND_S = 30.0
#: Short client timeouts, so an outage outlasts the producer's delivery timeout in seconds.
FAST_FAILURE = {
    "EARFUL_KAFKA_TIMEOUT_S": "4",
    "EARFUL_KAFKA_DELIVERY_TIMEOUT_S": "6",
    "EARFUL_KAFKA_RETRY_MAX_S": "1",
    # Small batches: the run lasts long enough for the outage to land mid-run.
    "EARFUL_BATCH_MAX_RECORDS": "10",
}
#: Records expire (delivery timeout) before the worker's own bound on the flush: the
#: batch fails through its send futures, the path that once committed past lost records.
EXPIRING_SENDS = {"EARFUL_KAFKA_DELIVERY_TIMEOUT_S": "3", "EARFUL_KAFKA_TIMEOUT_S": "8"}


@dataclass
class Analyzer:
    proc: subprocess.Popen[bytes]
    health_port: int
    log: Path


@dataclass
class HealthWatch:
    """Polls every analyzer's /livez and /readyz while the outage lasts."""

    ports: list[int]
    live_failures: list[str] = field(default_factory=list)
    not_ready: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for port in self.ports:
                try:
                    live = httpx.get(f"http://127.0.0.1:{port}/livez", timeout=2)
                    ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                except httpx.HTTPError as exc:
                    self.live_failures.append(f"{port}: {exc}")
                    continue
                if live.status_code != 200:
                    self.live_failures.append(f"{port}: {live.text}")
                if ready.status_code == 503:
                    self.not_ready.append(ready.json()["reason"])


def start_analyzers(
    settings: AnalyzerSettings, tmp_path: Path, env_overrides: dict[str, str], count: int = 2
) -> list[Analyzer]:
    analyzers = []
    for i in range(count):
        port = free_port()
        log = tmp_path / f"analyzer-{i}.log"
        env = {
            **os.environ,
            **FAST_FAILURE,
            **env_overrides,
            "EARFUL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "EARFUL_TOPIC_RAW": settings.topic_raw,
            "EARFUL_TOPIC_SCORED": settings.topic_scored,
            "EARFUL_TOPIC_DEADLETTER": settings.topic_deadletter,
            "EARFUL_ANALYZER_GROUP": settings.analyzer_group,
            "EARFUL_HEALTH_PORT": str(port),
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "earful.cli", "analyze", "--instance-id", f"a{i}"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        analyzers.append(Analyzer(proc, port, log))
    return analyzers


def committed(settings: AnalyzerSettings) -> int | None:
    """Input records the analyzers' group has committed; None while no broker answers."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap,
            bootstrap_timeout_ms=1000,
            request_timeout_ms=3000,
        )
    except KafkaError:
        return None
    try:
        groups = admin.list_group_offsets(settings.analyzer_group)
    except KafkaError:
        return None
    finally:
        admin.close()
    offsets = groups.get(settings.analyzer_group, {})
    return sum(int(o.offset) for o in offsets.values() if o.offset > 0)


def wait_for(settings: AnalyzerSettings, target: int, timeout_s: float) -> float:
    """Seconds until the group committed ``target`` records."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        done = committed(settings)
        if done is not None and done >= target:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{committed(settings)} of {target} committed after {timeout_s:.0f}s")


def produce_backlog(settings: AnalyzerSettings) -> list[Mention]:
    mentions = [make_mention(i) for i in range(TOTAL)]
    producer = make_producer(settings)
    try:
        futures = [
            producer.send(settings.topic_raw, key=m.id.encode(), value=encode(m)) for m in mentions
        ]
        producer.flush()
        for f in futures:
            f.get(timeout=30)
    finally:
        producer.close(timeout=10)
    return mentions


def scored_ids(settings: AnalyzerSettings) -> Counter[str]:
    consumer = make_consumer(settings, group=None, topics=[])
    try:
        return Counter(
            decode(ScoredMention, r.value).mention.id
            for r in read_to_end(consumer, settings.topic_scored, timeout_s=60)
        )
    finally:
        consumer.close(autocommit=False)


def outage(broker: LocalKafka, kind: str, seconds: float) -> None:
    if kind == "freeze":
        broker.freeze(True)
        time.sleep(seconds)
        broker.freeze(False)
        return
    broker.kill()
    time.sleep(seconds)
    broker.up(timeout_s=120)


# kafka-python 3.0.12 leaves the socket of a refused connection attempt to the garbage
# collector (kafka/net/inet.py); the library's, and harmless in a long-lived worker.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
# A stalled first run is reported as a warning in the summary, not raised as an error.
@pytest.mark.filterwarnings("default:the first run stalled:UserWarning")
# A stall and its second run can take up to about ten minutes.
@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("kind", "seconds", "env"),
    [("kill", 2.0, {}), ("kill", 10.0, EXPIRING_SENDS), ("freeze", 10.0, {})],
    ids=[
        "kill-shorter-than-delivery-timeout",
        "kill-longer-than-delivery-timeout",
        "frozen-mid-transaction",
    ],
)
def test_an_outage_loses_and_repeats_nothing_and_restarts_no_worker(
    private_broker: LocalKafka, tmp_path: Path, kind: str, seconds: float, env: dict[str, str]
) -> None:
    try:
        _outage_scenario(private_broker, tmp_path / "first", kind, seconds, env)
        return
    except _Stalled as stall:
        first = stall
    # After a kill -9 the restarted single-node broker can leave a transaction's offset
    # commit pending for ever (docs/reliability.md), and every reader of those partitions
    # waits for it. The scenario runs once more on a fresh broker: a second stall fails, and
    # a loss or a duplicate fails at once, whichever run it is in.
    warnings.warn(
        f"the first run stalled and was run again on a fresh broker: {first.summary}", stacklevel=1
    )
    private_broker.freeze(False)
    private_broker.down()
    second = LocalKafka(
        port=free_port(), controller_port=free_port(), state_dir=tmp_path / "second-kafka"
    )
    second.up(timeout_s=180)
    try:
        _outage_scenario(second, tmp_path / "second", kind, seconds, env)
    except _Stalled as again:
        raise AssertionError(
            f"stalled twice\n--- first run\n{first}\n--- second run\n{again}"
        ) from None
    finally:
        second.freeze(False)
        second.down()


class _Stalled(Exception):
    """Scoring did not resume, or did not finish, after the outage (with the analyzers' logs)."""

    def __init__(self, summary: str, logs: str) -> None:
        super().__init__(f"{summary}\n{logs}")
        self.summary = summary


def _outage_scenario(
    broker: LocalKafka, tmp_path: Path, kind: str, seconds: float, env: dict[str, str]
) -> None:
    tmp_path.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    settings = AnalyzerSettings(
        kafka_bootstrap=broker.bootstrap,
        topic_raw=f"outage-{token}-raw",
        topic_scored=f"outage-{token}-scored",
        topic_deadletter=f"outage-{token}-dead",
        analyzer_group=f"outage-{token}",
        topic_partitions=6,
    )
    create_topics(settings)
    mentions = produce_backlog(settings)
    analyzers = start_analyzers(settings, tmp_path, env)
    watch = HealthWatch([a.health_port for a in analyzers])
    watcher = threading.Thread(target=watch.run, daemon=True)
    try:
        wait_for(settings, TOTAL // 5, timeout_s=120)
        before = committed(settings) or 0
        assert before < TOTAL, "the outage must land mid-run"
        watcher.start()
        outage(broker, kind, seconds)
        # Resumed: more committed than before the outage, within the bound.
        try:
            resumed_after = wait_for(settings, before + 1, timeout_s=RESUME_BOUND_S)
            wait_for(settings, TOTAL, timeout_s=180)
        except AssertionError as exc:
            for a in analyzers:  # each analyzer prints its threads' stacks (faulthandler)
                if a.proc.poll() is None:
                    a.proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
            logs = "\n".join(f"--- {a.log.name}\n{a.log.read_text()[-12000:]}" for a in analyzers)
            _skip_if_the_broker_lost_a_completion(broker, f"{exc}")
            raise _Stalled(f"{exc}", logs) from None
        watch.stop.set()
        watcher.join(5)
        for a in analyzers:
            assert a.proc.poll() is None, f"an analyzer exited: {a.log.read_text()[-3000:]}"
        ids = scored_ids(settings)
        missing = {m.id for m in mentions} - set(ids)
        duplicates = sum(n - 1 for n in ids.values())
        print(
            f"{kind} {seconds:.0f}s: {before} committed before, resumed {resumed_after:.1f}s "
            f"after the broker was back; lost {len(missing)}, duplicated {duplicates}; "
            f"not-ready reasons {Counter(r.split(':')[0] for r in watch.not_ready)}"
        )
        assert not missing, f"{len(missing)} mentions lost"
        assert duplicates == 0, f"{duplicates} mentions scored twice"
        assert not watch.live_failures, watch.live_failures[:3]
        if env is EXPIRING_SENDS:
            # A long outage is seen by the workers and reported by /readyz.
            assert any(r.startswith("waiting for Kafka") for r in watch.not_ready), watch.not_ready
    finally:
        watch.stop.set()
        _stop_all(analyzers)
        gc.collect()  # the library's leaked sockets warn here, under this test's filters


#: What the single-node broker logs when it drops the completion of a transaction while
#: restarting (its coordinator resigned mid-way): the transaction's offset commit then
#: stays pending, and every consumer of those partitions waits for it for ever.
LOST_COMPLETION = "while trying to append to transaction log, skip writing to transaction log"


def _skip_if_the_broker_lost_a_completion(broker: LocalKafka, stalled: str) -> None:
    """A stall the broker caused is reported as such, not as Earful's (docs/reliability.md)."""
    server_log = broker.log_file
    text = server_log.read_text(errors="replace") if server_log.exists() else ""
    if LOST_COMPLETION in text:
        pytest.skip(
            "the restarted single-node broker lost a transaction's completion (server.log: "
            f"'{LOST_COMPLETION}'); its pending offsets block those partitions: {stalled}"
        )


def _stop_all(analyzers: list[Analyzer]) -> None:
    for a in analyzers:
        if a.proc.poll() is None:
            a.proc.send_signal(signal.SIGTERM)
    for a in analyzers:
        try:
            a.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            a.proc.kill()
            a.proc.wait(timeout=10)

"""``earful detect``: scored mentions in, WindowStats and Signals out, state kept in Kafka.

The scored topic is keyed by subject, so every subject lives on one partition
and one worker aggregates it. For each record the :class:`DetectProcessor`
adds it to its windows (:mod:`earful.analyze.windows`); each window that becomes final
goes to the windows topic, and each subject-level window also through the
subject's three detectors (:mod:`earful.analyze.detectors`), whose openings, updates
and resolutions go to the signals topic.

**State.** Open windows, baselines and open signals are written, per subject
touched in a batch, to a compacted changelog topic in the *same transaction*
as the batch's outputs and input offsets (:class:`DetectWorker`). Each state
record also carries the input offset it includes. On start and on every
partition assignment the worker reads the changelog back for the subjects of
its partitions (:class:`earful.state.ChangelogListener`), and skips input
records the restored state already holds, so a restart or a rebalance
neither forgets a week of baseline nor fires an open signal twice (and
at-least-once mode does not double-count either).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import Field

from earful.analyze.detectors import (
    VolumeSpikeDetector,
    WindowDetector,
    build_signal,
    default_detectors,
)
from earful.analyze.windows import ClosedWindow, WindowAggregator, WindowConfig
from earful.errors import RecordError
from earful.events import ScoredMention, Signal, decode, encode
from earful.settings import BaseWorkerSettings
from earful.state import ChangelogListener, ensure_compacted_topic, state_record
from earful.worker import ConsumedRecord, Output, Worker

__all__ = [
    "STATE_VERSION",
    "DetectProcessor",
    "DetectSettings",
    "DetectWorker",
    "SubjectDetectors",
    "build_detect_worker",
]

log = logging.getLogger(__name__)

STATE_VERSION = 1


class DetectSettings(BaseWorkerSettings):
    """``earful detect`` (env ``EARFUL_<FIELD>``)."""

    detect_group: str = "earful-detect"
    topic_detect_state: str | None = Field(
        default=None,
        description="Compacted changelog of detector state; default '<topic_signals>.state'.",
    )
    window_s: int = Field(default=60, ge=1, le=86_400, description="Window width in seconds.")
    watermark_delay_s: float = Field(default=10.0, ge=0.0)
    allowed_lateness_s: float = Field(default=60.0, ge=0.0)
    per_source_windows: bool = True

    @property
    def state_topic(self) -> str:
        return self.topic_detect_state or f"{self.topic_signals}.state"

    def window_config(self) -> WindowConfig:
        return WindowConfig(
            width=timedelta(seconds=self.window_s),
            watermark_delay=timedelta(seconds=self.watermark_delay_s),
            allowed_lateness=timedelta(seconds=self.allowed_lateness_s),
            per_source=self.per_source_windows,
        )


@dataclass
class SubjectDetectors:
    """The three detectors of one subject, fed its all-source windows."""

    detectors: list[WindowDetector] = field(default_factory=default_detectors)
    #: The volume detector's expected count for the last subject-level window.
    last_expected: float | None = None

    def on_window(self, window: ClosedWindow) -> list[Signal]:
        """The window's signals; ``last_expected`` is then the volume detector's expectation."""
        self.last_expected = None
        if window.stats.source is not None:
            return []
        signals = []
        for detector in self.detectors:
            assessment = detector.assess(window)
            if isinstance(detector, VolumeSpikeDetector):
                self.last_expected = assessment.expected
            signal = build_signal(detector, window, assessment)
            if signal is not None:
                signals.append(signal)
        return signals

    def snapshot(self) -> dict[str, Any]:
        return {d.kind: d.snapshot() for d in self.detectors}

    def restore(self, state: dict[str, Any]) -> None:
        for detector in self.detectors:
            if detector.kind in state:
                detector.restore(state[detector.kind])


class DetectProcessor:
    """Windows and detectors over the scored topic; see the module docstring."""

    def __init__(self, settings: DetectSettings) -> None:
        self.settings = settings
        self.aggregator = WindowAggregator(settings.window_config())
        self.subjects: dict[str, SubjectDetectors] = {}
        #: subject -> (input partition, last input offset included in its state)
        self.offsets: dict[str, tuple[int, int]] = {}
        self.dirty: set[str] = set()
        self.skipped = 0

    # -- Processor ----------------------------------------------------------------

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        scored = decode(ScoredMention, record.value)
        subject = scored.subject
        applied = self.offsets.get(subject)
        if applied is not None and applied[0] == record.partition and record.offset <= applied[1]:
            # Already part of the restored state (a redelivery after a restart).
            self.skipped += 1
            return []
        if record.key is not None and record.key != subject.encode("utf-8"):
            raise RecordError(
                f"record key {record.key!r} is not its subject {subject!r}", reason="bad_key"
            )
        self.offsets[subject] = (record.partition, record.offset)
        self.dirty.add(subject)
        # Each input partition keeps its own watermark (partitions interleave).
        return self.on_windows(self.aggregator.add(scored, domain=record.partition))

    def on_windows(self, windows: Sequence[ClosedWindow]) -> list[Output]:
        outputs: list[Output] = []
        for window in windows:
            subject = window.stats.subject
            key = subject.encode("utf-8")
            detectors = self.subjects.get(subject)
            if detectors is None:
                detectors = self.subjects[subject] = SubjectDetectors()
            signals = detectors.on_window(window)
            expected = detectors.last_expected
            stats = window.stats
            if expected is not None and math.isfinite(expected):
                # Dashboards draw the band the detector judges by, in the window's own units.
                stats = stats.model_copy(update={"expected_mentions": round(max(expected, 0.0), 3)})
            outputs.append(Output(self.settings.topic_windows, encode(stats), key))
            for signal in signals:
                outputs.append(Output(self.settings.topic_signals, encode(signal), key))
            self.dirty.add(subject)
        return outputs

    # -- state --------------------------------------------------------------------

    def checkpoint_outputs(self) -> list[Output]:
        """State records of every subject changed since the last call."""
        outputs = []
        for subject in sorted(self.dirty):
            if subject not in self.offsets:
                continue
            partition, offset = self.offsets[subject]
            detectors = self.subjects.get(subject)
            state = {
                "version": STATE_VERSION,
                "subject": subject,
                "partition": partition,
                "offset": offset,
                "windows": self.aggregator.snapshot_subject(subject),
                "detectors": detectors.snapshot() if detectors else {},
            }
            outputs.append(
                Output(self.settings.state_topic, state_record(state), subject.encode("utf-8"))
            )
        self.dirty.clear()
        return outputs

    def restore(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            log.warning("ignoring detector state of version %r", state.get("version"))
            return
        subject = str(state["subject"])
        self.aggregator.restore_subject(subject, state["windows"], domain=int(state["partition"]))
        detectors = SubjectDetectors()
        detectors.restore(state["detectors"])
        self.subjects[subject] = detectors
        self.offsets[subject] = (int(state["partition"]), int(state["offset"]))

    def discard_uncommitted(self) -> None:
        """The batch was abandoned: drop every subject; assignment restores the committed state."""
        self.forget_partitions({partition for partition, _ in self.offsets.values()})
        self.dirty.clear()

    def forget_partitions(self, partitions: set[int]) -> None:
        """Drop the subjects of partitions this worker no longer owns."""
        for subject, (partition, _) in list(self.offsets.items()):
            if partition in partitions:
                self.aggregator.forget_subject(subject)
                self.subjects.pop(subject, None)
                self.offsets.pop(subject, None)
                self.dirty.discard(subject)


class DetectWorker(Worker):
    """The standard worker loop; it adds the processor's state records
    (``checkpoint_outputs``) to each batch's transaction."""

    detect: DetectProcessor

    def __init__(self, *, processor: DetectProcessor, **kwargs: Any) -> None:
        super().__init__(processor=processor, **kwargs)
        self.detect = processor


def build_detect_worker(settings: DetectSettings, instance_id: str) -> DetectWorker:
    """The detect worker as ``earful detect`` runs it: state topic, listener, transactions."""
    from earful.worker import connect_group_member, make_consumer

    group = settings.detect_group
    processor = DetectProcessor(settings)
    transactional = settings.exactly_once

    topic_ready = False

    def connect() -> tuple[Any, Any]:
        nonlocal topic_ready
        if not topic_ready:
            ensure_compacted_topic(
                settings, settings.state_topic, partitions_like=settings.topic_scored
            )
            topic_ready = True
        listener = ChangelogListener(
            processor,
            changelog_topic=settings.state_topic,
            input_topic=settings.topic_scored,
            make_reader=lambda: make_consumer(settings, group=None, topics=[]),
            name="detect",
        )
        return connect_group_member(
            settings,
            group=group,
            instance_id=instance_id,
            transactional=transactional,
            topics=[settings.topic_scored],
            listener=listener,
        )

    return DetectWorker(
        name="detect",
        settings=settings,
        connect=connect,
        processor=processor,
        transactional=transactional,
    )

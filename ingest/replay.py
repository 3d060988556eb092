"""``earful ingest replay FILE``: a JSONL file of mentions to the raw topic.

Each line is a JSON object with the :class:`~earful.events.Mention` fields.
``schema_version``, ``id`` (from ``source`` and ``native_id``) and
``ingested_at`` are filled in when absent. With ``speed > 0`` the replay is
paced by event time, compressed by that factor; with ``rebase`` the event
times are shifted so the first record happens now (handy for live dashboards).

A line that is not valid UTF-8, not JSON or not a valid mention goes to the
dead-letter topic with its file and line number, and the replay goes on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError

from earful.errors import RecordError, SchemaError
from earful.events import (
    MAX_RECORD_BYTES,
    SCHEMA_VERSION,
    Mention,
    encode,
    make_mention_id,
    now_utc,
)
from earful.settings import ReplaySettings
from earful.worker import Clock, deadletter_output

__all__ = ["ReplayStats", "parse_line", "replay_file"]

log = logging.getLogger(__name__)


@dataclass
class ReplayStats:
    lines: int = 0
    produced: int = 0
    deadlettered: int = 0
    skipped_blank: int = 0


def parse_line(raw: bytes, *, ingested_at: datetime, shift: timedelta | None = None) -> Mention:
    """One replay line to a Mention, or :class:`SchemaError` with the reason."""
    if len(raw) > MAX_RECORD_BYTES:
        raise SchemaError(f"line is {len(raw)} bytes, over {MAX_RECORD_BYTES}", reason="too_large")
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SchemaError(f"line is not valid UTF-8: {exc.reason}", reason="not_utf8") from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(f"line is not JSON: {exc}", reason="not_json") from exc
    if not isinstance(obj, dict):
        raise SchemaError("line is not a JSON object", reason="not_object")
    version = obj.setdefault("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise SchemaError(f"schema_version {version!r} is not supported", reason="schema_version")
    obj.setdefault("source", "replay")
    if "id" not in obj and isinstance(obj.get("native_id"), str):
        obj["id"] = make_mention_id(str(obj["source"]), obj["native_id"])
    obj.setdefault("ingested_at", ingested_at.isoformat())
    try:
        mention = Mention.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<line>"
        raise SchemaError(f"invalid mention: {where}: {first['msg']}", reason="invalid") from exc
    if shift:
        mention = mention.model_copy(update={"created_at": mention.created_at + shift})
    return mention


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            yield lineno, line.rstrip(b"\r\n")


def _first_created_at(path: Path) -> datetime | None:
    for _, raw in _lines(path):
        try:
            return parse_line(raw, ingested_at=now_utc()).created_at
        except RecordError:
            continue
    return None


def replay_file(
    path: Path,
    settings: ReplaySettings,
    producer: Any,
    *,
    clock: Clock = now_utc,
    rebase: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[ReplayStats], None] | None = None,
) -> ReplayStats:
    """Produce every mention in ``path`` to the raw topic; return counts."""
    stats = ReplayStats()
    start_wall = time.monotonic()
    first = _first_created_at(path) if (rebase or settings.replay_speed > 0) else None
    shift = (clock() - first) if (rebase and first is not None) else None
    base_event = first + shift if (first is not None and shift is not None) else first
    pending: list[Any] = []
    for lineno, raw in _lines(path):
        stats.lines += 1
        if not raw.strip():
            stats.skipped_blank += 1
            continue
        try:
            mention = parse_line(raw, ingested_at=clock(), shift=shift)
        except RecordError as exc:
            origin = SimpleNamespace(
                topic=f"file:{path.name}", partition=0, offset=lineno, key=None, value=raw,
                headers=[],
            )  # fmt: skip
            dl = deadletter_output(
                origin, exc, topic=settings.topic_deadletter, worker="ingest-replay", clock=clock
            )
            log.warning("%s:%d: dead letter: %s", path, lineno, exc)
            pending.append(producer.send(dl.topic, value=dl.value, headers=list(dl.headers)))
            stats.deadlettered += 1
            continue
        if settings.replay_speed > 0 and base_event is not None:
            due = (mention.created_at - base_event).total_seconds() / settings.replay_speed
            wait = due - (time.monotonic() - start_wall)
            if wait > 0:
                producer.flush()  # what is due now goes out before we wait
                sleep(wait)
            mention = mention.model_copy(update={"ingested_at": clock()})
        pending.append(
            producer.send(settings.topic_raw, key=mention.id.encode("utf-8"), value=encode(mention))
        )
        stats.produced += 1
        if len(pending) >= 10_000:
            _settle(producer, pending)
            if progress is not None:
                progress(stats)
    _settle(producer, pending)
    if progress is not None:
        progress(stats)
    return stats


def _settle(producer: Any, pending: list[Any]) -> None:
    """Wait until the broker acknowledged everything sent so far; raise if it refused any."""
    producer.flush()
    for fut in pending:
        fut.get(timeout=30)
    pending.clear()

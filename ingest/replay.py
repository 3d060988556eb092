"""``earful ingest replay FILE``: a JSONL or CSV file of mentions to the raw topic.

JSONL: each line is a JSON object with the :class:`~earful.events.Mention`
fields. CSV (a ``.csv`` file, or ``fmt="csv"``): a header row names the
columns, which are the same fields; ``subjects`` holds names separated by
``;``, ``|`` or ``,`` (or a JSON list), ``is_official`` is true/false/1/0/yes/no,
engagement counts go in ``likes``, ``reposts``, ``replies`` and ``quotes``
(or ``engagement.likes``...), and ``metadata.<key>`` columns fill
``metadata``. Empty cells count as absent; unknown columns are ignored.

``schema_version``, ``source`` ("replay"), ``id`` (from ``source`` and
``native_id``) and ``ingested_at`` are filled in when absent. The records are
mentions admitted once already: replay applies the contract caps of the
admission step (a text over the limit is cut and flagged, not refused) and
skips, on purpose, the tracking rules, pseudonymising, dedup and flood flags
(:mod:`earful.ingest.admission` says why). With
``speed > 0`` the replay is paced by event time, compressed by that factor;
with ``rebase`` the event times are shifted so the first record happens now
(handy for live dashboards).

A line (or CSV row) that is not valid UTF-8, not JSON or not a valid mention
goes to the dead-letter topic with its file and line number, and the replay
goes on. A file that is not mentions at all (a count series, an export, a
scored-mentions file) is refused before anything is sent
(:func:`check_replay_file`): its first records are tried, and when none is a
mention the replay stops with one line instead of filling the dead-letter
topic.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

from earful.console import InputError
from earful.errors import RecordError, SchemaError
from earful.events import MAX_RECORD_BYTES, Mention, encode, now_utc
from earful.ingest.admission import admit_recorded
from earful.settings import ReplaySettings
from earful.worker import Clock, deadletter_output

__all__ = [
    "SNIFF_RECORDS",
    "ReplayFormat",
    "ReplayStats",
    "check_replay_file",
    "csv_row_to_record",
    "parse_line",
    "parse_record",
    "replay_file",
]

ReplayFormat = Literal["auto", "jsonl", "csv"]

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
    return parse_record(obj, ingested_at=ingested_at, shift=shift)


def parse_record(
    obj: dict[str, Any], *, ingested_at: datetime, shift: timedelta | None = None
) -> Mention:
    """A mapping of mention fields to a Mention (defaults filled in), or SchemaError.

    The record goes through the admission step for recorded mentions
    (:func:`earful.ingest.admission.admit_recorded`): contract caps, no tracking
    rules, no pseudonymising, no dedup (why: :mod:`earful.ingest.admission`).
    """
    mention = admit_recorded(obj, ingested_at=ingested_at)
    if shift:
        mention = mention.model_copy(update={"created_at": mention.created_at + shift})
    return mention


_LIST_SEPARATORS = re.compile(r"[;|,]")
_ENGAGEMENT = ("likes", "reposts", "replies", "quotes")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def csv_row_to_record(row: dict[str, str | None]) -> dict[str, Any]:
    """One CSV row (column -> cell) to the mapping :func:`parse_record` takes."""
    record: dict[str, Any] = {}
    engagement: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None or cell is None or not cell.strip():
            continue  # empty cell, or a cell beyond the header (csv puts those under None)
        name = column.strip()
        value = cell.strip() if name != "text" else cell
        if name == "subjects":
            if value.startswith("["):
                try:
                    record[name] = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise SchemaError(
                        f"subjects is not a JSON list: {exc}", reason="invalid"
                    ) from exc
            else:
                record[name] = [s.strip() for s in _LIST_SEPARATORS.split(value) if s.strip()]
        elif name == "is_official":
            lowered = value.lower()
            if lowered not in _TRUE | _FALSE:
                raise SchemaError(f"is_official {value!r} is not true or false", reason="invalid")
            record[name] = lowered in _TRUE
        elif name in _ENGAGEMENT or name.removeprefix("engagement.") in _ENGAGEMENT:
            engagement[name.removeprefix("engagement.")] = value
        elif name.startswith("metadata."):
            metadata[name.removeprefix("metadata.")] = value
        elif name == "schema_version":
            record[name] = int(value) if value.isdigit() else value
        else:
            record[name] = value
    if engagement:
        record["engagement"] = engagement
    if metadata:
        record["metadata"] = metadata
    return record


_Item = tuple[int, bytes, Callable[[datetime, timedelta | None], Mention]]


def _items(path: Path, fmt: ReplayFormat) -> Iterator[_Item]:
    """(line number, raw bytes for a dead letter, parser) for each record of the file."""
    if fmt == "csv" or (fmt == "auto" and path.suffix.lower() == ".csv"):
        yield from _csv_items(path)
        return
    for lineno, raw in _lines(path):
        yield lineno, raw, _json_parser(raw)


def _json_parser(raw: bytes) -> Callable[[datetime, timedelta | None], Mention]:
    return lambda ingested_at, shift: parse_line(raw, ingested_at=ingested_at, shift=shift)


def _csv_parser(row: dict[str, str | None]) -> Callable[[datetime, timedelta | None], Mention]:
    return lambda ingested_at, shift: parse_record(
        csv_row_to_record(row), ingested_at=ingested_at, shift=shift
    )


def _csv_items(path: Path) -> Iterator[_Item]:
    with path.open("rb") as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.DictReader(text)
        lineno = 1
        for row in reader:
            raw = json.dumps(row, ensure_ascii=False).encode("utf-8")
            if "\ufffd" in raw.decode("utf-8"):
                yield lineno + 1, raw, _not_utf8
            else:
                yield lineno + 1, raw, _csv_parser(row)
            lineno = reader.line_num


def _not_utf8(_ingested_at: datetime, _shift: timedelta | None) -> Mention:
    raise SchemaError("row is not valid UTF-8", reason="not_utf8")


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            yield lineno, line.rstrip(b"\r\n")


def _first_created_at(path: Path, fmt: ReplayFormat) -> datetime | None:
    for _, raw, parse in _items(path, fmt):
        if not raw.strip():
            continue
        try:
            return parse(now_utc(), None).created_at
        except RecordError:
            continue
    return None


#: Records tried before a replay starts; when none of them is a mention, the file is refused.
SNIFF_RECORDS = 20
_COUNT_COLUMNS = {"timestamp", "value", "time", "count", "date"}


def _wrong_kind_hint(sample: dict[str, Any] | None, columns: set[str]) -> str:
    """What the file probably is, and which command reads it."""
    keys = set(sample) if sample is not None else columns
    if keys and keys <= _COUNT_COLUMNS | {"kind"}:
        return "it looks like a count series: `earful backtest FILE.csv` reads those"
    if sample is not None and {"topic", "value"} <= keys:
        return "it looks like an `earful report export`: `earful report --input FILE` reads those"
    if sample is not None and "mention" in keys and "sentiment" in keys:
        return "it holds scored mentions: `earful backtest --mentions FILE` reads those"
    return "each record needs native_id, author, text and created_at (see examples/)"


def check_replay_file(path: Path, fmt: ReplayFormat = "auto") -> None:
    """Refuse, with :class:`~earful.console.InputError`, a file that holds no mentions.

    Tries the first :data:`SNIFF_RECORDS` non-blank records: if one of them is a
    mention the file is replayed (later bad records become dead letters as
    usual); if none is, nothing is sent. A CSV whose header lacks ``text`` or
    ``created_at`` is refused at once, since no row of it can be a mention.
    """
    is_csv = fmt == "csv" or (fmt == "auto" and path.suffix.lower() == ".csv")
    columns: set[str] = set()
    if is_csv:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            header = next(csv.reader(fh), [])
        columns = {c.strip().lower() for c in header}
        missing = [c for c in ("text", "created_at") if c not in columns]
        if missing:
            listed = ", ".join(sorted(columns)) or "empty"
            raise InputError(
                f"{path} is not a mentions CSV: its header ({listed})"
                f" has no {' or '.join(missing)} column; {_wrong_kind_hint(None, columns)}"
            )
    tried = 0
    first_error = ""
    sample: dict[str, Any] | None = None
    for lineno, raw, parse in _items(path, fmt):
        if not raw.strip():
            continue
        try:
            parse(now_utc(), None)
        except RecordError as exc:
            tried += 1
            if not first_error:
                first_error = f"line {lineno}: {exc}"
                with_json = _json_object(raw)
                sample = with_json if with_json is not None else sample
            if tried >= SNIFF_RECORDS:
                break
            continue
        return
    if tried:
        raise InputError(
            f"{path} does not hold mentions (none of its first {tried} records is one; "
            f"{first_error}); {_wrong_kind_hint(sample, columns)}"
        )


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def replay_file(
    path: Path,
    settings: ReplaySettings,
    producer: Any,
    *,
    clock: Clock = now_utc,
    rebase: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[ReplayStats], None] | None = None,
    fmt: ReplayFormat = "auto",
) -> ReplayStats:
    """Produce every mention in ``path`` (JSONL, or CSV by suffix or ``fmt``); return counts.

    ``progress`` is called after each record (it should be cheap, e.g.
    :meth:`earful.console.Progress.update`), and once at the end.
    """
    check_replay_file(path, fmt)
    stats = ReplayStats()
    start_wall = time.monotonic()
    first = _first_created_at(path, fmt) if (rebase or settings.replay_speed > 0) else None
    shift = (clock() - first) if (rebase and first is not None) else None
    base_event = first + shift if (first is not None and shift is not None) else first
    pending: list[Any] = []
    for lineno, raw, parse in _items(path, fmt):
        stats.lines += 1
        if not raw.strip():
            stats.skipped_blank += 1
            continue
        try:
            mention = parse(clock(), shift)
        except RecordError as exc:
            origin = SimpleNamespace(
                topic=f"file:{path.name}",
                partition=0,
                offset=lineno,
                key=None,
                value=raw,
                headers=[],
            )
            dl = deadletter_output(
                origin, exc, topic=settings.topic_deadletter, worker="ingest-replay", clock=clock
            )
            log.warning("%s:%d: dead letter: %s", path, lineno, exc)
            pending.append(producer.send(dl.topic, value=dl.value, headers=list(dl.headers)))
            stats.deadlettered += 1
            if progress is not None:
                progress(stats)
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

"""The report's fixture: the example incident scored in-process, plus hand-made signals.

Scoring the 4,170 lines takes under a second, so the export is built per test
session instead of checked in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from earful.events import (
    Evidence,
    SampleMention,
    ScoredMention,
    Signal,
    TermCount,
)
from tests.scored_records import score_example

__all__ = [
    "NOW",
    "SINCE",
    "UNTIL",
    "burst_signals",
    "example_scored",
    "silence_signals",
    "write_export",
]

SINCE: Final = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
UNTIL: Final = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOW: Final = datetime(2026, 11, 21, tzinfo=UTC)


def example_scored() -> list[ScoredMention]:
    """Every line of the example incident scored for each of its subjects, as the analyzer does."""
    return score_example(scored_at=NOW)


def _at(hh: int, mm: int, ss: float = 0) -> datetime:
    return datetime(2026, 11, 20, hh, mm, tzinfo=UTC) + timedelta(seconds=ss)


def _signal(**fields: Any) -> Signal:
    base: dict[str, Any] = {
        "subject": "acme",
        "severity": "warning",
        "observed": 12.0,
        "expected": 0.5,
        "score": 0.9,
    }
    return Signal.model_validate({**base, **fields})


def burst_signals(opened: datetime) -> list[Signal]:
    """An outage_burst episode: open, update, resolved (three records, one id)."""
    sid = f"acme:outage_burst:{opened:%Y%m%dT%H%M}"
    common = {"id": sid, "kind": "outage_burst", "detector": "test/1", "opened_at": opened}
    return [
        _signal(
            **common,
            state="open",
            updated_at=opened,
            window_start=opened - timedelta(minutes=1),
            window_end=opened,
        ),
        _signal(
            **common,
            state="update",
            severity="critical",
            observed=55.0,
            updated_at=_at(11, 10),
            window_start=_at(11, 9),
            window_end=_at(11, 10),
        ),
        _signal(
            **common,
            state="resolved",
            updated_at=_at(11, 45),
            resolved_at=_at(11, 45),
            window_start=_at(11, 44),
            window_end=_at(11, 45),
        ),
    ]


def silence_signals() -> list[Signal]:
    """A comms_silence episode for the example's 26-minute gap between updates."""
    gap_start = _at(10, 59, 1.034)
    evidence = Evidence(
        samples=(
            SampleMention(
                id="mastodon:1",
                source="mastodon",
                created_at=_at(11, 14),
                text="it's been 15 minutes since your last update @acmestatus",
            ),
        ),
        top_symptoms=(TermCount(term="login", count=40), TermCount(term="payments", count=31)),
    )
    common = {
        "id": "acme:comms_silence:20261120T105901Z",
        "kind": "comms_silence",
        "detector": "earful-silence/1",
        "opened_at": _at(11, 14),
        "window_start": gap_start,
        "expected": 15.0,
        "evidence": evidence,
    }
    return [
        _signal(
            **common, state="open", updated_at=_at(11, 14), window_end=_at(11, 14), observed=15.0
        ),
        _signal(
            **common,
            state="resolved",
            severity="warning",
            updated_at=_at(11, 25, 3),
            resolved_at=_at(11, 25, 3),
            window_end=_at(11, 25, 3),
            observed=26.03,
        ),
    ]


def write_export(path: Path, records: Iterable[Any], *, envelope_every: int = 2) -> Path:
    """Contract records as JSONL: every ``envelope_every``-th line wrapped as the export does."""
    with path.open("w", encoding="utf-8") as out:
        for n, record in enumerate(records):
            value = json.loads(record.model_dump_json())
            if envelope_every and n % envelope_every == 0:
                line = {
                    "topic": "some.topic",
                    "partition": 0,
                    "offset": n,
                    "key": None,
                    "value": value,
                }
            else:
                line = value
            out.write(json.dumps(line) + "\n")
    return path

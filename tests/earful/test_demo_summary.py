"""The demo's summary: which subjects it reports on, from the incident it replays."""

from __future__ import annotations

import json
from pathlib import Path

from earful.demo import DEMO_FILE
from earful.demo_summary import incident_subjects


def test_the_bundled_incident_names_acme_most_then_acme_pay() -> None:
    assert incident_subjects(DEMO_FILE) == ["acme", "acme-pay"]


def test_subjects_come_from_the_mentions_most_named_first(tmp_path: Path) -> None:
    path = tmp_path / "incident.jsonl"
    lines = [
        json.dumps({"text": "a", "subjects": ["globex"]}),
        "not json",
        json.dumps(["a", "list"]),
        json.dumps({"text": "b", "subjects": ["initech", "globex"]}),
        json.dumps({"text": "c", "subjects": None}),
        json.dumps({"text": "d", "subjects": ["initech", 7]}),
        json.dumps({"text": "e", "subjects": ["globex"]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert incident_subjects(path) == ["globex", "initech"]

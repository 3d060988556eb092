from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema

from earful.events import Mention, encode
from earful.schemas import render_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_published_schema_files_match_the_models() -> None:
    for name, text in render_schemas().items():
        path = SCHEMAS / name
        assert path.exists(), f"{name} missing: run `earful schemas write`"
        assert path.read_text(encoding="utf-8") == text, f"{name} stale: `earful schemas write`"


def test_an_encoded_mention_validates_against_its_published_schema() -> None:
    schema = json.loads((SCHEMAS / "mention.v1.json").read_text(encoding="utf-8"))
    m = Mention(
        id="reddit:t3_abc",
        source="reddit",
        native_id="t3_abc",
        author="u-9",
        text="payments failing",
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
        ingested_at=datetime(2026, 11, 20, tzinfo=UTC),
        subjects=("acme",),
    )
    jsonschema.validate(json.loads(encode(m)), schema)
    bad = json.loads(encode(m))
    bad["source"] = "fax"
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError as exc:
        assert "fax" in str(exc)
    else:
        raise AssertionError("schema accepted an unknown source")

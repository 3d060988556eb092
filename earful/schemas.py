"""JSON Schema files for downstream consumers, generated from :mod:`earful.events`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from earful.events import (
    SCHEMA_VERSION,
    Alert,
    Mention,
    OfficialUpdate,
    ScoredMention,
    Signal,
    UpdateReaction,
    WindowStats,
)

__all__ = ["CONTRACT", "render_schemas", "write_schemas"]

#: File stem -> model, in the order docs/events.md presents them.
CONTRACT: dict[str, type[BaseModel]] = {
    "mention": Mention,
    "scored-mention": ScoredMention,
    "window-stats": WindowStats,
    "signal": Signal,
    "alert": Alert,
    "official-update": OfficialUpdate,
    "update-reaction": UpdateReaction,
}


def render_schemas() -> dict[str, str]:
    """File name -> JSON text of each record's schema (what a consumer receives)."""
    out: dict[str, str] = {}
    for stem, model in CONTRACT.items():
        schema: dict[str, Any] = model.model_json_schema(mode="serialization")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://earful.dev/schemas/v{SCHEMA_VERSION}/{stem}.json",
            **schema,
        }
        out[f"{stem}.v{SCHEMA_VERSION}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written

"""Small hand-made records for the report's unit tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from earful.events import ScoredMention

__all__ = ["scored"]


def scored(
    native_id: str,
    at: datetime,
    text: str = "acme login is down",
    *,
    subject: str = "acme",
    label: str = "negative",
    official: bool = False,
    likes: int = 0,
    **mention: Any,
) -> ScoredMention:
    return ScoredMention.model_validate(
        {
            "subject": subject,
            "mention": {
                "id": f"mastodon:{native_id}",
                "source": "mastodon",
                "native_id": native_id,
                "author": f"u-{abs(hash(native_id)) % 16**12:012x}",
                "text": text,
                "created_at": at,
                "ingested_at": at,
                "subjects": [subject],
                "is_official": official,
                "engagement": {"likes": likes},
                **mention,
            },
            "sentiment": {
                "label": label,
                "compound": -0.6 if label == "negative" else 0.0,
                "vader": {"neg": 0.5, "neu": 0.5, "pos": 0.0, "compound": -0.6},
            },
            "outage": {"is_report": True, "confidence": 0.9, "symptoms": ["login"]},
            "scored_at": at,
            "model": "test",
        }
    )

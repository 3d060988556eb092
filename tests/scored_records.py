"""Scored mentions built the way the analyzer builds them, for tests that need real scores."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Final

from earful.analyze.scoring import Scorer
from earful.events import Mention, ScoredMention, make_mention_id

__all__ = ["EXAMPLE", "score_example", "scored_for_subjects"]

EXAMPLE: Final = Path(__file__).resolve().parents[1] / "examples" / "acme-incident.jsonl"


def scored_for_subjects(
    scorer: Scorer, mention: Mention, *, scored_at: datetime
) -> list[ScoredMention]:
    """One ScoredMention per distinct subject of ``mention``, as the analyzer writes them."""
    result = scorer.score(mention.text, mention.lang)
    return [
        ScoredMention(
            subject=subject,
            mention=mention,
            lang=result.lang,
            sentiment=result.sentiment,
            unscored_reason=result.unscored_reason,
            outage=result.outage,
            scored_at=scored_at,
            model=scorer.model,
        )
        for subject in dict.fromkeys(mention.subjects)
    ]


def score_example(*, scored_at: datetime, scorer: Scorer | None = None) -> list[ScoredMention]:
    """Every line of the bundled incident scored for each subject, in file order."""
    scorer = scorer or Scorer()
    out: list[ScoredMention] = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        mention = Mention.model_validate(
            {
                **row,
                "id": make_mention_id(row["source"], row["native_id"]),
                "ingested_at": row["created_at"],
            }
        )
        out += scored_for_subjects(scorer, mention, scored_at=scored_at)
    return out

"""Reactions to updates measured in one pass over a finished incident (the report's path)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from earful.analyze.conversation.config import ConversationConfig, ExpectedFn
from earful.analyze.conversation.tracker import ConversationTracker
from earful.events import (
    OfficialUpdate,
    ScoredMention,
    Signal,
    UpdateReaction,
)

# -- batch -------------------------------------------------------------------------


def _event_time(item: ScoredMention | Signal | OfficialUpdate) -> datetime:
    if isinstance(item, ScoredMention):
        return item.mention.created_at
    if isinstance(item, Signal):
        return item.updated_at
    return item.created_at


def measure_reactions(
    updates: Sequence[OfficialUpdate],
    mentions: Sequence[ScoredMention],
    *,
    spans_minutes: Sequence[int] = (15, 30, 60),
    expected_fn: ExpectedFn | None = None,
    now: datetime,
    until: datetime | None = None,
    config: ConversationConfig | None = None,
    signals: Sequence[Signal] = (),
) -> list[UpdateReaction]:
    """Reactions to ``updates`` measured over ``mentions`` (a batch, e.g. for a report).

    Runs the same :class:`ConversationTracker` the worker runs, over everything
    in event-time order, then measures every span. ``updates`` may also be
    present among ``mentions`` as official mentions; each counts once.
    ``expected_fn`` is the source of ``expected``; without it, the baseline is
    learned from ``mentions`` as the worker would. ``now`` stamps
    ``computed_at``; spans running past ``until`` are cut there. ``signals``
    are merged in event-time order, as the worker reads them, so the baseline
    pauses while an incident is open instead of learning the incident's level.
    """
    base = config or ConversationConfig()
    cfg = ConversationConfig(
        **{
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            "spans_minutes": tuple(spans_minutes),
        }
    )
    tracker = ConversationTracker(cfg, clock=lambda: now, expected_fn=expected_fn)
    items: list[ScoredMention | Signal] = list(mentions)
    known = {(m.mention.id, m.subject) for m in mentions if m.mention.is_official}
    items += [_as_scored(u, now) for u in updates if (u.id, u.subject) not in known]
    items += signals
    items.sort(key=_event_time)  # stable: a signal stays after the mentions of its time
    wanted = {(u.id, u.subject) for u in updates}
    reactions: list[UpdateReaction] = []
    for item in items:
        outputs = (
            tracker.add_signal(item) if isinstance(item, Signal) else tracker.add_mention(item)
        )
        reactions += [r for r in outputs if isinstance(r, UpdateReaction)]
    reactions += [r for r in tracker.flush(until) if isinstance(r, UpdateReaction)]
    return [r for r in reactions if (r.update_id, r.subject) in wanted]


def _as_scored(update: OfficialUpdate, now: datetime) -> ScoredMention:
    """An update record back as a scored official mention (the tracker's input)."""
    return ScoredMention.model_validate(
        {
            "subject": update.subject,
            "mention": {
                "id": update.id,
                "source": update.source,
                "native_id": update.id.split(":", 1)[-1] or update.id,
                "url": update.url,
                "author": update.author,
                "text": update.text,
                "created_at": update.created_at,
                "ingested_at": update.created_at,
                "subjects": [update.subject],
                "is_official": True,
                "kind": update.kind,
                "metadata": {"status": update.status},
            },
            "scored_at": now,
            "model": "official-update",
        }
    )

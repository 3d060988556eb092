"""Official mentions as update events."""

from __future__ import annotations

from earful.events import (
    OfficialUpdate,
    ScoredMention,
)

# -- official updates --------------------------------------------------------------


def official_update_from(scored: ScoredMention) -> OfficialUpdate | None:
    """The update event of an official mention; None for everything else.

    ``status``: the status-page state, from ``metadata["update_status"]`` (the
    Statuspage connector) or ``metadata["status"]`` (replayed files).
    """
    mention = scored.mention
    if not mention.is_official:
        return None
    status: str | None = None
    for key in ("update_status", "status"):
        value = mention.metadata.get(key)
        if isinstance(value, str) and value and value.lower() != "none":
            status = value.lower()[:64]
            break
    return OfficialUpdate(
        id=mention.id,
        subject=scored.subject,
        source=mention.source,
        kind=mention.kind,
        url=mention.url,
        author=mention.author_handle or mention.author,
        text=mention.text,
        created_at=mention.created_at,
        status=status,
    )

"""Analysis: scoring mentions, windows and detectors, and the organisation's side of the
conversation (official updates, reactions, silence)."""

__all__ = ["SETTINGS_MODULES"]

#: Modules whose settings classes read the shared config file (see earful.settings).
SETTINGS_MODULES = (
    "earful.analyze.detect_worker",
    "earful.analyze.conversation_worker",
)

"""Ingest workers: sources of mentions, producing to the raw topic."""

__all__ = ["SETTINGS_MODULES"]

#: Modules whose settings classes read the shared config file (see earful.settings).
SETTINGS_MODULES = ("earful.ingest.settings",)

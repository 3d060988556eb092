"""Ingest workers: sources of mentions, producing to the raw topic."""

__all__: list[str] = []

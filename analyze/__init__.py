"""Analysis workers: scoring mentions, and (later) windows and detectors."""

__all__: list[str] = []

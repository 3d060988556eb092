"""The organisation's side: the tone check of a drafted update (and its HTTP endpoint), and
the incident communications report."""

__all__: list[str] = []

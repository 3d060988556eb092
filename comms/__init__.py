"""The organisation's side: the tone check of a drafted update (and its HTTP endpoint), and
the incident communications report."""

__all__ = ["SETTINGS_MODULES"]

#: Modules whose settings classes read the shared config file (see earful.settings).
SETTINGS_MODULES = ("earful.comms.tone_http",)

"""How long a draft is on each network, and what a reviewable draft is.

Bluesky counts graphemes (300); Mastodon counts graphemes with every URL as 23
characters and a remote mention as its local part (500 by default); X counts
twitter-text's weighted characters (280: URLs 23, CJK and emoji 2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import regex

# X's own counting rules (twitter-text v3 port, passes the official conformance suite).
import twitter_text  # type: ignore[import-untyped]

__all__ = [
    "DEFAULT_NETWORKS",
    "GRAPHEME",
    "MAX_DRAFT_CHARS",
    "NETWORK_LIMITS",
    "NETWORK_NAMES",
    "DraftError",
    "count_length",
    "parse_networks",
    "validate_draft",
]

#: Longest draft reviewed; the CLI and the endpoint refuse longer ones.
MAX_DRAFT_CHARS = 10_000

# -- networks ------------------------------------------------------------------

#: Post limits: Bluesky 300 graphemes; Mastodon 500 (the default; instances
#: may set their own) with every URL counted as 23; X 280 weighted characters.
NETWORK_LIMITS: dict[str, int] = {"bluesky": 300, "mastodon": 500, "x": 280}
DEFAULT_NETWORKS: tuple[str, ...] = ("bluesky", "mastodon", "x")
NETWORK_NAMES = {"bluesky": "Bluesky", "mastodon": "Mastodon", "x": "X"}
#: Mastodon counts every URL as 23 characters and a remote mention as its local part.
MASTODON_URL_LENGTH = 23
_REMOTE_MENTION = re.compile(r"(?<![\w@])@(\w+)@[\w.-]+\w")
GRAPHEME = regex.compile(r"\X")


class DraftError(ValueError):
    """The draft cannot be reviewed (empty, too long); the message says why."""


def validate_draft(text: str, *, max_chars: int = MAX_DRAFT_CHARS) -> str:
    """The draft, stripped; raises :class:`DraftError` when empty or too long."""
    stripped = text.strip()
    if not stripped:
        raise DraftError("the draft is empty")
    if len(stripped) > max_chars:
        raise DraftError(f"the draft has {len(stripped)} characters; the limit is {max_chars}")
    return stripped


def parse_networks(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Networks from "bluesky,x" or a list; raises :class:`DraftError` for unknown names."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key in ("twitter", "x.com"):
            key = "x"
        if not key:
            continue
        if key not in NETWORK_LIMITS:
            known = ", ".join(NETWORK_LIMITS)
            raise DraftError(f"unknown network {name.strip()!r} (known: {known})")
        if key not in out:
            out.append(key)
    if not out:
        raise DraftError("no network given")
    return tuple(out)


def graphemes(text: str) -> int:
    return len(GRAPHEME.findall(text))


def count_length(text: str, network: str) -> int:
    """The draft's length as ``network`` counts it."""
    if network == "x":
        # twitter-text's v3 rules: URLs 23, CJK and emoji 2, most other characters 1.
        return int(twitter_text.parse_tweet(text).weightedLength)
    if network == "mastodon":
        # Mastodon's StatusLengthValidator: URLs (with a scheme) become 23
        # characters, remote mentions their local part; then graphemes.
        urls = twitter_text.extract_urls_with_indices(text, False)
        pieces: list[str] = []
        last = 0
        for url in sorted(urls, key=lambda u: int(u["indices"][0])):
            start, end = int(url["indices"][0]), int(url["indices"][1])
            pieces.append(text[last:start])
            pieces.append("x" * MASTODON_URL_LENGTH)
            last = end
        pieces.append(text[last:])
        return graphemes(_REMOTE_MENTION.sub(r"@\1", "".join(pieces)))
    if network == "bluesky":
        return graphemes(text)
    raise DraftError(f"unknown network {network!r}")

"""Author pseudonyms: a keyed hash of (source, handle), raw handles only when configured.

The pseudonym is ``u_`` and 24 hex digits (96 bits) of
HMAC-SHA256(key, "<source>:<normalised handle>"). The same person on the same
network always gets the same pseudonym while the key stays the same, so
unique-author counts and "one report per author" work; without the key the
handle cannot be recovered by hashing candidate handles, unlike a plain hash.
Handles are compared case-insensitively and without a leading ``@``.

Without a key Earful refuses to start (pseudonyms must survive restarts),
unless raw handles are configured.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from earful.errors import ConfigError
from earful.ingest.rules import normalise_handle
from earful.ingest.settings import IngestSettings

__all__ = ["Author", "Pseudonymiser", "pseudonymiser_from_settings"]

_PREFIX = "u_"
_HEX_DIGITS = 24


@dataclass(frozen=True, slots=True)
class Author:
    """What goes into ``Mention.author`` and ``Mention.author_handle``."""

    author: str
    handle: str | None


class Pseudonymiser:
    """Turns a source's author handle into the mention's author fields."""

    def __init__(self, key: bytes | None, *, raw_handles: bool = False) -> None:
        if key is None and not raw_handles:
            raise ConfigError(
                "no pseudonymisation key: set EARFUL_PSEUDONYM_KEY (or pseudonym_key_file), "
                "e.g. from python -c 'import secrets; print(secrets.token_hex(32))', "
                "or set raw_handles: true to keep raw handles"
            )
        self._key = key or b""
        self.raw_handles = raw_handles

    def pseudonym(self, source: str, handle: str) -> str:
        message = f"{source}:{normalise_handle(handle)}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return _PREFIX + digest[:_HEX_DIGITS]

    def author(self, source: str, handle: str) -> Author:
        clean = handle.strip()
        if self.raw_handles:
            return Author(author=clean[:256] or "unknown", handle=clean[:256] or None)
        return Author(author=self.pseudonym(source, clean or "unknown"), handle=None)


def pseudonymiser_from_settings(settings: IngestSettings) -> Pseudonymiser:
    return Pseudonymiser(settings.pseudonym_key_bytes(), raw_handles=settings.raw_handles)

"""Websocket plumbing for the streaming connectors (Jetstream, Mastodon streaming).

* :func:`connect`: open a connection with the handshake's failures mapped to
  the :mod:`earful.ingest.base` errors (429 -> RateLimited, 401/403 -> SourceError,
  the rest -> TransientSourceError).
* :func:`frame_batches`: text frames grouped into batches, so the runner
  writes one Kafka transaction per batch rather than per post, and an empty
  batch after a quiet second, so the runner notices a stop request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from earful.events import now_utc
from earful.ingest.base import RateLimited, SourceError, TransientSourceError
from earful.ingest.sources._common import DEFAULT_RETRY_AFTER_S
from earful.retry import parse_retry_after

__all__ = ["connect", "frame_batches"]

#: Largest frame accepted; Jetstream and Mastodon events are a few KiB.
MAX_FRAME_BYTES = 4 * 1024 * 1024


def connect(
    url: str,
    *,
    source: str,
    headers: Mapping[str, str] | None = None,
    open_timeout: float = 10.0,
    where: str | None = None,
) -> ClientConnection:
    """Open a websocket (use it in a ``with``); ``where`` names it in errors."""
    shown = where or url.split("?", 1)[0]
    try:
        return ws_connect(
            url,
            additional_headers=dict(headers or {}),
            open_timeout=open_timeout,
            max_size=MAX_FRAME_BYTES,
            compression=None,  # Jetstream has its own zstd option; keep frames plain
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        message = f"{source}: websocket {shown} refused with HTTP {status}"
        if status == 429:
            wait = parse_retry_after(exc.response.headers.get("Retry-After"), now_utc())
            retry_after = DEFAULT_RETRY_AFTER_S if wait is None else wait
            raise RateLimited(message, retry_after=retry_after) from exc
        if status in (401, 403):
            raise SourceError(f"{message}: token missing, revoked or lacking scope") from exc
        if status in (404, 410):
            raise SourceError(f"{message}: no such stream") from exc
        raise TransientSourceError(message) from exc
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        raise TransientSourceError(f"{source}: websocket {shown} failed: {exc}") from exc


def frame_batches(
    connection: ClientConnection,
    *,
    source: str,
    max_batch: int = 500,
    max_wait_s: float = 0.5,
    idle_s: float = 1.0,
) -> Iterator[list[str]]:
    """Yield batches of text frames until the connection drops (TransientSourceError).

    A batch ends when it holds ``max_batch`` frames or ``max_wait_s`` after its
    first frame; after ``idle_s`` without frames an empty batch is yielded.
    """
    while True:
        batch: list[str] = []
        deadline: float | None = None
        while len(batch) < max_batch:
            timeout = idle_s if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                frame = connection.recv(timeout=timeout)
            except TimeoutError:
                break
            except ConnectionClosed as exc:
                if batch:
                    yield batch  # what arrived before the drop is still good
                raise TransientSourceError(f"{source}: websocket closed: {exc}") from exc
            batch.append(frame if isinstance(frame, str) else frame.decode("utf-8", "replace"))
            if deadline is None:
                deadline = time.monotonic() + max_wait_s
        yield batch

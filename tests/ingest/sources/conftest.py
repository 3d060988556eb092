"""Fixtures every HTTP connector test uses: a local replay server and a client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.ingest.sources.replay_server import ReplayServer

__all__ = ["http", "server"]


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        yield srv


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client

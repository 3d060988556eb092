"""``earful check`` against a real health server on 127.0.0.1: its exit code is the verdict."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from earful.cli import main
from earful.health import HealthServer, HealthState, start_health_server


@pytest.fixture
def health() -> Iterator[tuple[HealthServer, HealthState]]:
    state = HealthState()
    server = start_health_server(state, "127.0.0.1", 0)
    try:
        yield server, state
    finally:
        server.shutdown()
        server.server_close()


def test_check_follows_readiness(
    health: tuple[HealthServer, HealthState],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, state = health
    monkeypatch.setenv("EARFUL_HEALTH_PORT", str(server.port))
    assert main(["check"]) == 1
    assert "HTTP 503" in capsys.readouterr().err
    state.beat(assigned=True)
    assert main(["check"]) == 0
    assert "/readyz: HTTP 200" in capsys.readouterr().out
    assert main(["check", "--live"]) == 0


def test_check_fails_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 (discard) on loopback: nothing listens there in a test machine.
    assert main(["check", "--url", "http://127.0.0.1:9/readyz", "--timeout", "1"]) == 1
    assert "connection refused" in capsys.readouterr().err


def test_check_gives_up_on_a_server_that_never_answers(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        assert main(["check", "--url", f"http://127.0.0.1:{port}/readyz", "--timeout", "0.5"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"http://127.0.0.1:{port}/readyz: no answer within 0.5s"
    )


def test_check_says_nothing_answers_and_refuses_a_url_without_a_scheme(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--url", "http://127.0.0.1:9/readyz", "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing answers" in err and "is the worker running?" in err
    assert main(["check", "--url", "127.0.0.1:8081/readyz"]) == 2
    assert capsys.readouterr().err == (
        "earful: configuration error: --url '127.0.0.1:8081/readyz': give a full http:// or "
        "https:// URL\n"
    )

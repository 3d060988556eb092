"""``earful check``: probe a worker's health endpoint and exit 0 (healthy) or 1.

Meant for container healthchecks (compose ``healthcheck.test``) and scripts::

    earful check                 # GET http://127.0.0.1:$EARFUL_HEALTH_PORT/readyz
    earful check --live          # /livez instead
    earful check --url http://127.0.0.1:9464/metrics
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from earful.errors import ConfigError

__all__ = ["check_url", "cmd_check", "register"]


def check_url(url: str, *, timeout_s: float) -> tuple[bool, str]:
    """GET ``url``; healthy on a 2xx. Returns (healthy, what happened).

    The standard library's HTTP client, not httpx: the healthcheck runs every few
    seconds in a fresh process, and importing httpx cost more than the rest of
    the command.
    """
    from http.client import HTTPConnection, HTTPException, HTTPSConnection
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        return False, f"{url}: {exc}"
    connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
    connection = connection_class(parts.hostname or "", port, timeout=timeout_s)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"User-Agent": "earful-check"})
        response = connection.getresponse()
        text = response.read(64 * 1024).decode("utf-8", "replace").strip()
    except ConnectionRefusedError:
        return False, f"{url}: nothing answers (connection refused); is the worker running?"
    except TimeoutError:
        return False, f"{url}: no answer within {timeout_s:g}s"
    except (OSError, HTTPException) as exc:
        return False, f"{url}: {type(exc).__name__}: {exc}"
    finally:
        connection.close()
    detail = text.splitlines()[0][:200] if text else ""
    healthy = 200 <= response.status < 300
    return healthy, f"{url}: HTTP {response.status} {detail}".rstrip()


def cmd_check(args: argparse.Namespace) -> int:
    url = args.url
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(f"--url {url!r}: give a full http:// or https:// URL")
    if url is None:
        from earful.health import HealthSettings
        from earful.runtime import settings_from_args

        settings = settings_from_args(HealthSettings, args)
        # A wildcard bind address is probed on loopback.
        wildcard = settings.health_host in ("0.0.0.0", "::", "")  # noqa: S104
        host = "127.0.0.1" if wildcard else settings.health_host
        path = "/livez" if args.live else "/readyz"
        url = f"http://{host}:{settings.health_port}{path}"
    healthy, message = check_url(url, timeout_s=args.timeout)
    print(message, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


def register(groups: dict[str, Any]) -> None:
    from earful.runtime import add_common_options

    p = groups["root"].add_parser(
        "check", help="probe a worker's /readyz (or /livez) for container healthchecks"
    )
    p.add_argument("--url", help="probe this URL instead of the configured health port")
    p.add_argument("--live", action="store_true", help="probe /livez instead of /readyz")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    add_common_options(p)
    p.set_defaults(func=cmd_check)

"""``earful tone``: review a drafted official update before it is posted.

    earful tone "We know some of you can't log in since 09:40 UTC. ..."
    earful tone --file draft.txt --networks bluesky,mastodon --json
    pbpaste | earful tone -
    earful tone --serve --port 8095        # the HTTP endpoint (comms/tone_http.py)

Exit codes: 0 reviewed; 1 reviewed and the verdict is at or past
``--fail-on`` (``problem`` by default: a draft that is not ready); 2 the
draft could not be reviewed (empty, too long, not UTF-8, unknown network).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from earful.comms.tone import (
    DEFAULT_NETWORKS,
    MAX_DRAFT_CHARS,
    NETWORK_LIMITS,
    DraftError,
    ToneReport,
    parse_networks,
    validate_draft,
)

__all__ = ["cmd_tone", "read_draft", "register"]

log = logging.getLogger("earful")

_FAIL_ON = {"problem": ("not_ready",), "warning": ("not_ready", "revise"), "never": ()}


def read_draft(args: argparse.Namespace) -> str:
    """The draft from the argument, ``--file`` or standard input (``-``)."""
    if args.file is not None and args.text is not None:
        raise DraftError("give the draft as an argument or with --file, not both")
    if args.file is not None:
        data = Path(args.file).read_bytes() if str(args.file) != "-" else sys.stdin.buffer.read()
    elif args.text is None or args.text == "-":
        data = sys.stdin.buffer.read()
    else:
        return validate_draft(str(args.text))
    if len(data) > MAX_DRAFT_CHARS * 4:
        raise DraftError(f"the draft has {len(data)} bytes; the limit is {MAX_DRAFT_CHARS} chars")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DraftError(f"the draft is not UTF-8 (byte {exc.start})") from None
    return validate_draft(text)


def _fails(report: ToneReport, fail_on: str) -> bool:
    return report.verdict in _FAIL_ON[fail_on]


def cmd_tone(args: argparse.Namespace) -> int:
    from earful.comms.tone import ToneChecker

    if args.serve:
        return _serve(args)
    try:
        networks = parse_networks(args.networks)
        draft = read_draft(args)
    except (DraftError, OSError) as exc:
        print(f"earful tone: {exc}", file=sys.stderr)
        return 2
    report = ToneChecker(mastodon_limit=args.mastodon_limit).review(draft, networks)
    print(report.to_json() if args.json else report.to_text())
    return 1 if _fails(report, args.fail_on) else 0


def _serve(args: argparse.Namespace) -> int:
    from earful.comms.tone import ToneChecker
    from earful.comms.tone_http import ToneService, ToneSettings, start_tone_server
    from earful.errors import ConfigError
    from earful.settings import load_settings

    try:
        settings = load_settings(
            ToneSettings, config=args.config, tone_port=args.port, tone_host=args.host
        )
    except ConfigError as exc:
        print(f"earful tone: {exc}", file=sys.stderr)
        return 2
    token = settings.tone_token.get_secret_value() if settings.tone_token else None
    service = ToneService(ToneChecker(mastodon_limit=args.mastodon_limit))
    server = start_tone_server(service, settings.tone_host, settings.tone_port, token)
    print(f"tone check on {server.url} (POST a draft)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.shutdown()
    server.server_close()
    return 0


def register(groups: dict[str, Any]) -> None:
    p = groups["root"].add_parser(
        "tone",
        help="review a drafted official update (acknowledgement, empathy, specifics, length)",
        description="Review a drafted official update before it is posted: acknowledgement "
        "of impact, empathy, what and where, a time for the next update, jargon, blame, tone, "
        "and each network's length limit. Rule-based; every finding names its rule.",
    )
    p.add_argument("text", nargs="?", help="the draft ('-' or nothing: standard input)")
    p.add_argument("--file", type=Path, help="read the draft from a file ('-': standard input)")
    p.add_argument(
        "--networks",
        default=",".join(DEFAULT_NETWORKS),
        help=f"networks to check the length for (default {','.join(DEFAULT_NETWORKS)})",
    )
    p.add_argument(
        "--mastodon-limit",
        type=int,
        default=NETWORK_LIMITS["mastodon"],
        help="your Mastodon instance's limit (default 500)",
    )
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument(
        "--fail-on",
        choices=sorted(_FAIL_ON),
        default="problem",
        help="exit 1 when the draft has a finding this bad (default: problem)",
    )
    p.add_argument("--serve", action="store_true", help="serve POST /v1/tone instead")
    p.add_argument("--port", type=int, help="port for --serve (EARFUL_TONE_PORT, default 8095)")
    p.add_argument("--host", help="bind address for --serve (default 127.0.0.1)")
    p.add_argument("--config", type=Path, help="config file (EARFUL_CONFIG)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_tone)

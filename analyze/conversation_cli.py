"""``earful conversation``: the official-updates, reaction and silence worker."""

from __future__ import annotations

import argparse
from typing import Any

from earful.runtime import (
    add_common_options,
    add_worker_options,
    run_built_worker,
    settings_from_args,
)

__all__ = ["cmd_conversation", "register"]


def register(groups: dict[str, Any]) -> None:
    p = groups["root"].add_parser(
        "conversation",
        help="publish official updates, the public's reaction to each, and silence signals",
    )
    add_common_options(p)
    add_worker_options(p)
    p.set_defaults(func=cmd_conversation)


def cmd_conversation(args: argparse.Namespace) -> int:
    from earful.analyze.conversation_worker import ConversationSettings, build_conversation_worker

    settings: ConversationSettings = settings_from_args(ConversationSettings, args)
    worker = build_conversation_worker(settings, args.instance_id)
    return run_built_worker(args, worker)

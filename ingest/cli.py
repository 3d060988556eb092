"""``earful ingest ...`` commands: one per connector, ``push``, and ``rules``.

* ``earful ingest <name>`` runs the connector module ``ingest/sources/<name>.py``
  (a new connector also needs its row in the command table of :mod:`earful.cli`):
  its ``build(config, http, search)`` gets ``connectors.<name>`` from the
  settings file, and the runner does the rest (:mod:`earful.ingest.runner`).
* ``earful ingest push`` serves the HTTP push endpoint (:mod:`earful.ingest.push`).
* ``earful ingest rules FILE [--text ...]`` checks a tracking file and shows
  what a text matches, without Kafka.

``earful ingest replay`` is defined in :mod:`earful.ingest.replay_cli`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import logging
import pkgutil
import threading
from pathlib import Path
from typing import Any

from earful.errors import ConfigError

__all__ = ["CONNECTOR_PACKAGE", "build_source", "connector_names", "register"]

log = logging.getLogger(__name__)

_RESERVED = {"push", "replay", "rules"}

#: Package whose modules are the connectors (tests point it at their own).
CONNECTOR_PACKAGE = "earful.ingest.sources"


def connector_names() -> list[str]:
    """Modules under ``ingest/sources/`` (without importing them)."""
    spec = importlib.util.find_spec(CONNECTOR_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(
        m.name
        for m in pkgutil.iter_modules(list(spec.submodule_search_locations))
        if not m.name.startswith("_") and not m.ispkg and m.name not in _RESERVED
    )


def build_source(name: str, config: dict[str, Any], http: Any, search: Any) -> Any:
    """Import ``earful.ingest.sources.<name>`` and call its ``build``."""
    if name not in connector_names():
        raise ConfigError(f"no connector named {name!r}; known: {', '.join(connector_names())}")
    module = importlib.import_module(f"{CONNECTOR_PACKAGE}.{name}")
    build = getattr(module, "build", None)
    if build is None:
        raise ConfigError(f"ingest/sources/{name}.py has no build(config, http, search)")
    if len(inspect.signature(build).parameters) >= 3:
        return build(config, http, search)
    return build(config, http)


def register(groups: dict[str, Any]) -> None:
    from earful.runtime import add_common_options

    ingest = groups["ingest"]
    for name in connector_names():
        p = ingest.add_parser(name, help=f"run the {name} connector into the raw topic")
        _add_tracking_option(p)
        add_common_options(p)
        p.add_argument("--max-pages", type=int, help="stop after this many pages (burst mode)")
        p.add_argument(
            "--idle-pages", type=int, help="stop after this many pages in a row without posts"
        )
        p.add_argument(
            "--at-least-once",
            action="store_true",
            help="produce, wait for acks, then the cursor (instead of one transaction)",
        )
        p.set_defaults(func=cmd_connector, connector=name)

    p = ingest.add_parser("push", help="serve the HTTP push endpoint for mentions")
    _add_tracking_option(p)
    p.add_argument("--host", help="address to listen on (EARFUL_PUSH_HOST)")
    p.add_argument("--port", type=int, help="port to listen on (EARFUL_PUSH_PORT)")
    add_common_options(p)
    p.set_defaults(func=cmd_push)

    p = ingest.add_parser("rules", help="check a tracking file; show what a text matches")
    p.add_argument("file", type=Path)
    p.add_argument("--text", action="append", default=[], help="a post to match (repeatable)")
    p.add_argument("--author", help="author handle of the --text posts")
    p.add_argument("--lang", help="language of the --text posts")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_rules)


def _add_tracking_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tracking", type=Path, help="tracking rules file (EARFUL_TRACKING_CONFIG)")


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    from earful.ingest.settings import IngestSettings
    from earful.runtime import settings_from_args

    return settings_from_args(IngestSettings, args, tracking_config=args.tracking, **extra)


def _rules(settings: Any) -> Any:
    from earful.ingest.rules import load_tracking

    if settings.tracking_config is None:
        raise ConfigError("no tracking rules: pass --tracking FILE or set EARFUL_TRACKING_CONFIG")
    return load_tracking(settings.tracking_config)


def _serve_metrics(settings: Any, registry: Any) -> None:
    """The runner's /metrics; the default port falls back to a free one when it is taken.

    Two ingest workers on one host would otherwise fight over 9465; a port set
    on purpose (config file, environment) must be free, or the worker stops
    with one line naming it.
    """
    import errno

    from prometheus_client import start_http_server

    port = settings.ingest_metrics_port
    if not port:
        return
    host = settings.ingest_metrics_host
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise ConfigError(f"metrics on {host}:{port}: {exc.strerror or exc}") from exc
        if "ingest_metrics_port" in settings.model_fields_set:
            raise ConfigError(
                f"ingest_metrics_port {port} on {host} is in use (another ingest worker?); "
                "set EARFUL_INGEST_METRICS_PORT to a free port, or 0 for none"
            ) from exc
        server, _ = start_http_server(0, addr=host, registry=registry)
        log.warning(
            "metrics port %d is in use (another ingest worker?); serving metrics on %d instead "
            "(set EARFUL_INGEST_METRICS_PORT to choose)",
            port,
            server.server_port,
        )
    log.info("metrics at http://%s:%d/metrics", host, server.server_port)


def cmd_connector(args: argparse.Namespace) -> int:
    import httpx
    from prometheus_client import CollectorRegistry

    from earful.ingest.checkpoint import ensure_checkpoint_topic
    from earful.ingest.privacy import pseudonymiser_from_settings
    from earful.ingest.runner import runner_from_settings, transactional_id
    from earful.kafkautil import close_producer
    from earful.worker import make_consumer, make_producer

    settings = _settings(args)
    rules = _rules(settings)
    privacy = pseudonymiser_from_settings(settings)
    http = httpx.Client(
        timeout=settings.http_timeout_s,
        headers={"User-Agent": settings.user_agent},
        follow_redirects=True,
    )
    try:
        source = build_source(
            args.connector, settings.connector_config(args.connector), http, rules.search_terms()
        )
        ensure_checkpoint_topic(settings)
        txn = transactional_id(settings, source.name) if settings.exactly_once else None
        producer = make_producer(settings, transactional_id=txn)
        registry = CollectorRegistry()
        reader = make_consumer(settings, group=None, topics=[])
        try:
            runner = runner_from_settings(
                source,
                settings,
                rules=rules,
                privacy=privacy,
                producer=producer,
                reader=reader,
                registry=registry,
                make_producer=lambda: make_producer(settings, transactional_id=txn),
            )
        finally:
            reader.close()
        runner.install_signal_handlers()
        _serve_metrics(settings, registry)
        try:
            stats = runner.run(max_pages=args.max_pages, idle_pages=args.idle_pages)
        finally:
            if runner.writer.producer is not None:
                close_producer(runner.writer.producer, timeout_s=10.0)
    finally:
        http.close()
    log.info(
        "%s stopped (%s): %d pages, fetched %d, produced %d, dropped %s, errors %s",
        source.name,
        stats.stopped_by,
        stats.pages,
        stats.fetched,
        stats.produced,
        stats.dropped,
        stats.errors,
    )
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    import signal

    from prometheus_client import CollectorRegistry

    from earful.console import require_kafka
    from earful.ingest.dedup import SeenIds, recent_ids
    from earful.ingest.metrics import IngestMetrics
    from earful.ingest.privacy import pseudonymiser_from_settings
    from earful.ingest.push import PushApp, make_push_server, producer_overrides
    from earful.worker import make_consumer, make_producer

    settings = _settings(args, push_host=args.host, push_port=args.port)
    rules = _rules(settings)
    privacy = pseudonymiser_from_settings(settings)
    if settings.push_token is None or not settings.push_token.get_secret_value():
        raise ConfigError("the push endpoint needs a token: set EARFUL_PUSH_TOKEN")
    require_kafka(settings.kafka_bootstrap)
    seen = SeenIds(settings.dedup_capacity)
    reader = make_consumer(settings, group=None, topics=[])
    try:
        seen.update(
            recent_ids(
                reader,
                settings.topic_raw,
                max_records=settings.dedup_restore_records,
                prefix="",
            )
        )
    finally:
        reader.close()
    producer = make_producer(settings, **producer_overrides(settings))
    registry = CollectorRegistry()
    app = PushApp(
        settings=settings,
        producer=producer,
        rules=rules,
        privacy=privacy,
        seen=seen,
        metrics=IngestMetrics(registry),
    )
    try:
        server = make_push_server(app, settings.push_host, settings.push_port)
    except OSError as exc:
        producer.close(timeout=1)
        raise ConfigError(
            f"cannot listen on {settings.push_host}:{settings.push_port}: "
            f"{exc.strerror or exc}; choose another with --port or EARFUL_PUSH_PORT"
        ) from exc
    _serve_metrics(settings, registry)

    def stop(signum: int, _frame: Any) -> None:
        log.info("push: %s received, finishing open requests", signal.Signals(signum).name)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    print(f"push endpoint at http://{settings.push_host}:{port}/v1/mentions", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        producer.close(timeout=10)
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from earful.ingest.rules import load_tracking

    rules = load_tracking(args.file)
    terms = rules.search_terms()
    print(
        f"{args.file}: {len(rules)} subject(s) ({', '.join(rules.names)}); "
        f"{len(terms.terms)} terms, {len(terms.hashtags)} hashtags, {len(terms.handles)} handles, "
        f"{len(terms.official_accounts)} official accounts"
    )
    for text in args.text:
        match = rules.match(text, author_handle=args.author, lang=args.lang)
        subjects = ", ".join(match.subjects) or "(nothing: dropped)"
        print(f"{text!r} -> {subjects}{'  [official]' if match.official else ''}")
    return 0

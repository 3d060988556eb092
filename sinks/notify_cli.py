"""Commands: ``earful sink notify``, ``earful sink signals`` and ``earful sink receiver``.

* ``sink notify``: the delivery worker (alerts topic -> Slack, PagerDuty,
  Teams, Alertmanager, signed webhooks, console), state in ``earful.deliveries``.
* ``sink signals``: the signal-to-alert worker (signals topic -> alerts topic).
* ``sink receiver``: a local webhook receiver on 127.0.0.1 that prints what
  arrives; point a ``webhook`` target at it to watch deliveries in the demo.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from typing import Any

__all__ = ["cmd_receiver", "cmd_sink_notify", "cmd_sink_signals", "register"]

log = logging.getLogger("earful")


def cmd_sink_notify(args: argparse.Namespace) -> int:
    import httpx
    from prometheus_client import REGISTRY

    from earful.console import wait_for_kafka
    from earful.runtime import run_worker, settings_from_args
    from earful.sinks.delivery import (
        AlertmanagerRefresher,
        DeliveryProcessor,
        DeliveryRetrier,
        DeliverySettings,
        DeliveryState,
        KafkaRecordWriter,
        NotifyMetrics,
        cooldown_seconds,
        ensure_deliveries_topic,
        load_delivery_state,
    )
    from earful.sinks.notify.base import silence_http_request_logs
    from earful.sinks.routing import Cooldown, build_targets
    from earful.state import state_reader
    from earful.worker import make_producer

    silence_http_request_logs()  # httpx would log every (secret) webhook URL at INFO
    settings = settings_from_args(DeliverySettings, args)
    # Restoring the delivery state reads Kafka before the worker's own start-up wait.
    wait_for_kafka(settings.kafka_bootstrap, wait_s=settings.kafka_startup_wait_s)
    client = httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0), follow_redirects=False)
    writer = KafkaRecordWriter(lambda: make_producer(settings), timeout_s=settings.kafka_timeout_s)
    try:
        targets = build_targets(
            settings.notify_targets,
            client=client,
            retry_budget_s=settings.notify_retry_budget_s,
            base_delay_s=settings.notify_base_delay_s,
            max_delay_s=settings.notify_max_delay_s,
        )
        ensure_deliveries_topic(settings)
        state = DeliveryState(Cooldown(cooldown_seconds(settings)))
        with state_reader(settings) as reader:
            loaded = load_delivery_state(settings, reader, state)
        metrics = NotifyMetrics(REGISTRY, targets)
        retrier = DeliveryRetrier(
            settings, targets=targets, state=state, write=writer, metrics=metrics
        )
        retrier.add(state.pending.values())  # retries a restart interrupted resume here
        log.info(
            "sink-notify: %d delivery record(s) loaded, %d alert(s) active, %d being retried; "
            "targets: %s",
            loaded,
            len(state.active),
            retrier.pending(),
            ", ".join(f"{n} ({t.kind})" for n, t in targets.items()),
        )
        processor = DeliveryProcessor(
            settings, targets=targets, state=state, retrier=retrier, metrics=metrics
        )
        refresher = AlertmanagerRefresher(state, targets, interval_s=settings.notify_refresh_s)
        tone = _start_tone(args)

        def start_background() -> None:
            refresher.start()
            retrier.start()

        try:
            return run_worker(
                args,
                name="sink-notify",
                settings=settings,
                group=settings.notify_group,
                topics=[settings.topic_alerts],
                processor=processor,
                produces=True,
                hook=processor,
                on_start=start_background,
            )
        finally:
            retrier.close()
            refresher.close()
            if tone is not None:
                tone.shutdown()
                tone.server_close()
    finally:
        writer.close()
        client.close()


def _start_tone(args: argparse.Namespace) -> Any:
    """The tone-check endpoint beside the alerts, when a port is set (EARFUL_TONE_PORT).

    Communications teams draft the next update while the alerts arrive; the
    endpoint lets their chat bot or status tool check a draft in the same place.
    """
    from earful.comms.tone import ToneChecker
    from earful.comms.tone_http import ToneService, ToneSettings, start_tone_server
    from earful.settings import load_settings

    settings = load_settings(ToneSettings, config=args.config, tone_port=args.tone_port)
    if "tone_port" not in settings.model_fields_set:
        return None
    token = settings.tone_token.get_secret_value() if settings.tone_token else None
    server = start_tone_server(
        ToneService(ToneChecker()), settings.tone_host, settings.tone_port, token
    )
    log.info("sink-notify: tone check on %s", server.url)
    return server


def cmd_sink_signals(args: argparse.Namespace) -> int:
    from earful.runtime import run_worker, settings_from_args
    from earful.sinks.signal_alerts import (
        SignalAlertProcessor,
        SignalAlertSettings,
        load_open_signals,
    )
    from earful.state import state_reader

    settings = settings_from_args(SignalAlertSettings, args)
    processor = SignalAlertProcessor(settings)

    def reload_open_signals() -> None:
        # On every (re)connect: after an abandoned batch the committed alerts are the truth.
        with state_reader(settings) as reader:
            processor.open = load_open_signals(settings, reader)
        if processor.open:
            log.info("sink-signals: resuming with %d open signal(s)", len(processor.open))

    return run_worker(
        args,
        name="sink-signals",
        settings=settings,
        group=settings.signal_alerts_group,
        topics=[settings.topic_signals],
        processor=processor,
        produces=True,
        on_connect=reload_open_signals,
    )


def cmd_receiver(args: argparse.Namespace) -> int:
    from earful.sinks.notify.receiver import LocalReceiver, ReceivedRequest

    seen: set[str] = set()
    lock = threading.Lock()

    def show(request: ReceivedRequest) -> None:
        key = request.idempotency_key
        with lock:
            repeat = key in seen
            seen.add(key)
        try:
            payload: Any = request.json()
        except ValueError:
            payload = {}
        data = payload.get("data", {}) if isinstance(payload, dict) else {}
        line = data.get("summary") or request.body[:200].decode("utf-8", "replace")
        kind = payload.get("type", request.path) if isinstance(payload, dict) else request.path
        sig = {True: "signature ok", False: "BAD SIGNATURE", None: "unsigned"}[request.signature_ok]
        flag = " (repeat, ignored)" if repeat else ""
        print(f"received {kind} [{sig}]{flag}: {line}", flush=True)

    receiver = LocalReceiver(port=args.port, secret=args.secret, on_request=show)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with receiver:
        print(f"listening on {receiver.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


def register(groups: dict[str, Any]) -> None:
    from earful.runtime import add_common_options, add_worker_options

    sink = groups["sink"]
    p = sink.add_parser(
        "notify", help="deliver alerts to Slack, PagerDuty, Teams, Alertmanager, webhooks"
    )
    add_common_options(p)
    add_worker_options(p)
    p.add_argument(
        "--tone-port", type=int, help="also serve the tone check on this port (EARFUL_TONE_PORT)"
    )
    p.set_defaults(func=cmd_sink_notify)

    p = sink.add_parser("signals", help="turn detector signals into alerts on the alerts topic")
    add_common_options(p)
    add_worker_options(p)
    p.set_defaults(func=cmd_sink_signals)

    p = sink.add_parser("receiver", help="a local webhook receiver that prints what arrives")
    p.add_argument("--port", type=int, default=8099, help="port on 127.0.0.1 (default 8099)")
    p.add_argument("--secret", help="whsec_... secret to verify webhook signatures with")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_receiver)

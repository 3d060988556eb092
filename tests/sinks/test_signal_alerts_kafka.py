"""The signal-to-alert worker's start-up read of the alerts topic, against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from earful.events import encode
from earful.sinks.signal_alerts import SignalAlertSettings, load_open_signals
from earful.state import state_reader
from tests.kafka_io import produce
from tests.sinks.notify.alerts import T0, make_alert

pytestmark = pytest.mark.kafka


def test_open_signals_of_every_kind_survive_a_restart(
    settings_factory: Callable[..., SignalAlertSettings],
) -> None:
    settings = settings_factory(SignalAlertSettings)
    alerts = [
        make_alert(dedup_key="a", kind="outage_burst", signal_id="acme:outage_burst:1"),
        make_alert(dedup_key="b", kind="comms_silence", signal_id="acme:comms_silence:1"),
        make_alert(dedup_key="c", kind="volume_spike", signal_id="acme:volume_spike:1"),
        make_alert(
            dedup_key="c",
            kind="volume_spike",
            signal_id="acme:volume_spike:1",
            status="resolved",
            ends_at=T0,
        ),
        make_alert(dedup_key="d", kind="negative_share"),  # the simple rule's: no signal
    ]
    # Keyed as the worker keys them: one key per signal episode.
    records = [(alert.dedup_key.encode(), encode(alert)) for alert in alerts]
    produce(settings, settings.topic_alerts, [*records, (b"e", b"{not json")])
    with state_reader(settings) as reader:
        open_signals = load_open_signals(settings, reader)
    # A silence still open when the worker restarts must get its resolve later.
    assert set(open_signals) == {"acme:outage_burst:1", "acme:comms_silence:1"}
    assert open_signals["acme:comms_silence:1"].kind == "comms_silence"

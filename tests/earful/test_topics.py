"""The pipeline's topics by role: one list, and what each role is created with."""

from __future__ import annotations

import pytest

from earful.settings import BaseWorkerSettings
from earful.topics import MAX_MESSAGE_BYTES, TOPIC_ROLES, topic_name, topic_specs


def test_every_role_is_a_settings_field_and_every_topic_field_a_role() -> None:
    fields = {f for f in BaseWorkerSettings.model_fields if f.startswith("topic_")}
    named = {f for f in fields if f not in ("topic_partitions", "topic_replication")}
    assert {f"topic_{r}" for r in TOPIC_ROLES} == named
    assert len(set(TOPIC_ROLES)) == len(TOPIC_ROLES)


def test_specs_follow_the_roles() -> None:
    settings = BaseWorkerSettings(topic_partitions=6, topic_raw="r", topic_alerts="a")
    specs = {s.role: s for s in topic_specs(settings)}
    assert list(specs) == list(TOPIC_ROLES)
    assert specs["raw"].name == "r" and specs["alerts"].name == "a"
    # Dead letters keep their order in one partition; the rest spread over the configured count.
    assert specs["deadletter"].partitions == 1
    assert {s.partitions for r, s in specs.items() if r != "deadletter"} == {6}
    # A poison record can still be read and kept: raw and dead letters take oversized records.
    for role in ("raw", "deadletter"):
        assert specs[role].config["max.message.bytes"] == str(MAX_MESSAGE_BYTES)
    assert specs["alerts"].config["cleanup.policy"] == "compact,delete"
    assert "cleanup.policy" not in specs["scored"].config


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown topic role 'rawz'"):
        topic_name(BaseWorkerSettings(), "rawz")

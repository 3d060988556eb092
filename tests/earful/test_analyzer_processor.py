"""The analyzer processor in-process: one output per distinct subject, as the contract says."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from analyze.scoring import Scorer
from analyze.worker import AnalyzerProcessor
from earful.events import Mention, ScoredMention, decode, encode
from earful.settings import AnalyzerSettings
from tests.scored_records import scored_for_subjects

SCORED_AT = datetime(2026, 11, 20, 10, 0, 5, 250_000, tzinfo=UTC)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(cache_size=0, gazetteer=None)


def _mention(text: str, subjects: tuple[str, ...], lang: str | None = None) -> Mention:
    return Mention(
        id="mastodon:1",
        source="mastodon",
        native_id="1",
        author="u-1",
        text=text,
        lang=lang,
        created_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        ingested_at=datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC),
        subjects=subjects,
    )


@pytest.mark.parametrize(
    ("text", "subjects", "lang"),
    [
        ("acme is down again, can't log in", ("acme", "acme-pay", "acme"), None),
        ("acme est en panne depuis une heure", ("acme",), None),
        ("", ("acme",), None),
        ("acme works fine", ("acme",), "en"),
    ],
)
def test_outputs_are_the_contract_records_byte_for_byte(
    scorer: Scorer, text: str, subjects: tuple[str, ...], lang: str | None
) -> None:
    settings = AnalyzerSettings(topic_scored="t.scored")
    processor = AnalyzerProcessor(settings, scorer, clock=lambda: SCORED_AT)
    mention = _mention(text, subjects, lang)
    outputs = list(processor.process(SimpleNamespace(value=encode(mention))))
    distinct = list(dict.fromkeys(subjects))
    assert [o.key for o in outputs] == [s.encode() for s in distinct]
    assert {o.topic for o in outputs} == {"t.scored"}
    assert all(not o.headers for o in outputs)
    wanted = scored_for_subjects(scorer, mention, scored_at=SCORED_AT)
    for expected, out in zip(wanted, outputs, strict=True):
        assert out.value == encode(expected)
        assert decode(ScoredMention, out.value) == expected

"""``earful analyze``: raw mentions in, one ScoredMention per matched subject out."""

from __future__ import annotations

from collections.abc import Iterable

from earful.analyze.scoring import Scorer
from earful.events import Mention, ScoredMention, decode, encode, now_utc
from earful.settings import AnalyzerSettings
from earful.worker import Clock, ConsumedRecord, Output

__all__ = ["AnalyzerProcessor"]

_validate_scored = ScoredMention.__pydantic_validator__.validate_python


class AnalyzerProcessor:
    """Decodes a Mention, scores its text once, and emits it for each subject."""

    def __init__(self, settings: AnalyzerSettings, scorer: Scorer, clock: Clock = now_utc) -> None:
        self.settings = settings
        self.scorer = scorer
        self.clock = clock
        self._topic = settings.topic_scored

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        mention = decode(Mention, record.value)
        result = self.scorer.score(mention.text, mention.lang)
        fields = {
            "mention": mention,
            "lang": result.lang,
            "sentiment": result.sentiment,
            "unscored_reason": result.unscored_reason,
            "outage": result.outage,
            "scored_at": self.clock(),
            "model": self.scorer.model,
        }
        outputs = []
        for subject in dict.fromkeys(mention.subjects):
            fields["subject"] = subject
            # The validator called on the fields directly: ScoredMention(**fields)
            # without the keyword round trip (same checks, same model).
            scored = _validate_scored(fields)
            outputs.append(Output(self._topic, encode(scored), subject.encode("utf-8")))
        return outputs

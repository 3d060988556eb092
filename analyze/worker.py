"""``earful analyze``: raw mentions in, one ScoredMention per matched subject out."""

from __future__ import annotations

from collections.abc import Iterable

from analyze.scoring import Scorer
from earful.events import Mention, ScoredMention, decode, encode, now_utc
from earful.settings import AnalyzerSettings
from earful.worker import Clock, ConsumedRecord, Output

__all__ = ["AnalyzerProcessor"]


class AnalyzerProcessor:
    """Decodes a Mention, scores its text once, and emits it for each subject."""

    def __init__(self, settings: AnalyzerSettings, scorer: Scorer, clock: Clock = now_utc) -> None:
        self.settings = settings
        self.scorer = scorer
        self.clock = clock

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        mention = decode(Mention, record.value)
        result = self.scorer.score(mention.text, mention.lang)
        scored_at = self.clock()
        for subject in dict.fromkeys(mention.subjects):
            scored = ScoredMention(
                subject=subject,
                mention=mention,
                lang=result.lang,
                sentiment=result.sentiment,
                unscored_reason=result.unscored_reason,
                outage=result.outage,
                scored_at=scored_at,
                model=self.scorer.model,
            )
            yield Output(
                topic=self.settings.topic_scored, key=subject.encode("utf-8"), value=encode(scored)
            )

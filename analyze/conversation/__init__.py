"""The organisation's side of the conversation: official updates, the public's reaction, silence.

Modules: :mod:`.questions` (does a mention ask for news), :mod:`.updates`
(official mentions as updates), :mod:`.silence` (the silence rule),
:mod:`.tracker` (the incremental tracker the worker runs), :mod:`.reactions`
(the same measures in one pass, for the report), :mod:`.config`.

Pure logic (no Kafka, the clock passed in). :class:`ConversationTracker` is fed
scored mentions and detector signals in any order close to event time and
returns the records to publish:

* an :class:`~earful.events.OfficialUpdate` for every official mention, once per
  ``(mention id, subject)``;
* :class:`~earful.events.UpdateReaction` records: for each update and each span
  (default 15, 30, 60 minutes), the conversation in the span *before* the update
  against the span *after* it, for three audiences (``all``, ``replies`` to the
  official accounts, ``others``), emitted once the event-time watermark has
  passed the end of the after span;
* ``comms_silence`` :class:`~earful.events.Signal` records (:class:`SilenceDetector`).

Definitions (also in ``docs/conversation.md``):

* **Spans.** ``before = [t - span, t)``, ``after = [t, t + span)`` where ``t`` is
  the update's ``created_at``. The after span is cut short at the next official
  update of the subject (``complete=False``), except an *echo*: an update less
  than ``echo_s`` (default 180 s) after the previous one is the same
  announcement on another channel and does not cut it.
* **Audiences.** Official mentions never count. ``replies``: mentions whose
  ``in_reply_to`` is an official mention of the subject this tracker has seen;
  ``others``: everything else; ``all``: both.
* **Stats.** mentions, unique authors, mentions per minute, negative share
  (label ``negative`` among mentions with a sentiment), outage reports per
  minute (``outage.is_report``, every such mention counts), question share
  (:func:`asks_for_information`).
* **Expected.** For audience ``all`` only: what the subject's learned baseline
  (:mod:`earful.analyze.baseline`, per-minute count of non-official mentions, outage
  reports and negative share, learning paused while an incident signal is open)
  predicted, *at the moment of the update*, for the after span. Null while the
  baseline has seen fewer than ``baseline_min_minutes`` minutes (cold), and for
  ``replies``/``others`` (the baseline does not split audiences). Its
  ``unique_authors`` is null (not modelled) and its ``question_share`` null.

An observed before/after change, not a proven cause: other things happen at
the same time.
"""

from __future__ import annotations

from earful.analyze.conversation.config import (
    AUDIENCES,
    ConversationConfig,
    ConversationOutput,
    ExpectedFn,
)
from earful.analyze.conversation.questions import asks_for_information, information_rule
from earful.analyze.conversation.reactions import measure_reactions
from earful.analyze.conversation.silence import SilenceDetector
from earful.analyze.conversation.tracker import ConversationTracker
from earful.analyze.conversation.updates import official_update_from

__all__ = [
    "AUDIENCES",
    "ConversationConfig",
    "ConversationOutput",
    "ConversationTracker",
    "ExpectedFn",
    "SilenceDetector",
    "asks_for_information",
    "information_rule",
    "measure_reactions",
    "official_update_from",
]

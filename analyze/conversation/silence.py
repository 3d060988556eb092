"""The silence rule: an incident is open, the public asks, and the organisation says nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from earful.analyze.conversation.config import (
    _MINUTE,
    SILENCE_DETECTOR,
    ConversationConfig,
    _dt,
    _Silence,
    _us,
)
from earful.events import (
    Evidence,
    Signal,
)

# -- the silence rule --------------------------------------------------------------


@dataclass
class SilenceDetector:
    """The silence rule for one subject; see the module docstring and docs/conversation.md.

    Opens a ``comms_silence`` signal when, at a minute tick of event time, an
    incident signal is open, the last official update (or, if none came since,
    the incident's start) is at least ``silence_after_minutes`` old, and the
    questions of the last window reach the floor without falling. It opens once
    per gap (the gap is named by its start), re-publishes every
    ``silence_update_minutes``, and resolves when an official update arrives or
    the last incident signal resolves; a dip in questions does not resolve it.
    """

    subject: str
    config: ConversationConfig
    #: Open incident signals: id -> start of their episode (microseconds).
    incidents: dict[str, int] = field(default_factory=dict)
    last_update: int | None = None
    open: _Silence | None = None
    #: The gap start a silence was already opened for (never twice per gap).
    spent_gap: int | None = None

    def counts_as_incident(self, signal: Signal) -> bool:
        if signal.kind == "comms_silence":
            return False
        kinds = self.config.silence_signal_kinds
        return not kinds or signal.kind in kinds

    def gap_start(self) -> int | None:
        if not self.incidents:
            return None
        incident_start = min(self.incidents.values())
        if self.last_update is None:
            return incident_start
        return max(self.last_update, incident_start)

    def on_signal(self, signal: Signal, evidence: Callable[[int, int], Evidence]) -> list[Signal]:
        if not self.counts_as_incident(signal):
            return []
        if signal.state == "resolved":
            self.incidents.pop(signal.id, None)
            if not self.incidents and self.open is not None:
                at = _us(signal.resolved_at or signal.updated_at)
                return [self._emit("resolved", max(at, self.open.opened_at), evidence)]
            return []
        self.incidents.setdefault(signal.id, _us(signal.window_start))
        return []

    def on_update(self, at: int, evidence: Callable[[int, int], Evidence]) -> list[Signal]:
        if self.last_update is None or at > self.last_update:
            self.last_update = at
        if self.open is None:
            return []
        return [self._emit("resolved", max(at, self.open.opened_at), evidence)]

    def on_tick(
        self,
        now: int,
        questions: Callable[[int, int], int],
        evidence: Callable[[int, int], Evidence],
    ) -> list[Signal]:
        cfg = self.config
        if self.open is not None:
            if now - self.open.last_emit >= cfg.silence_update_minutes * _MINUTE:
                return [self._emit("update", now, evidence)]
            return []
        gap_start = self.gap_start()
        if gap_start is None or gap_start == self.spent_gap:
            return []
        if now - gap_start < cfg.silence_after_minutes * _MINUTE:
            return []
        window = int(cfg.silence_question_window_minutes * _MINUTE)
        recent = questions(now - window, now)
        previous = questions(now - 2 * window, now - window)
        if recent < cfg.silence_min_questions or recent < previous:
            return []
        self.spent_gap = gap_start
        sid = f"{self.subject}:comms_silence:{_dt(gap_start).strftime('%Y%m%dT%H%M%SZ')}"
        self.open = _Silence(id=sid, gap_start=gap_start, opened_at=now, last_emit=now)
        return [self._emit("open", now, evidence)]

    def _emit(self, state: str, at: int, evidence: Callable[[int, int], Evidence]) -> Signal:
        silence = self.open
        assert silence is not None
        cfg = self.config
        minutes = (at - silence.gap_start) / _MINUTE
        severity = "critical" if minutes >= 2 * cfg.silence_after_minutes else "warning"
        if state == "resolved":
            severity = silence.severity  # the resolution closes what was announced
        silence.severity = severity
        silence.last_emit = at
        signal = Signal.model_validate(
            {
                "id": silence.id,
                "subject": self.subject,
                "kind": "comms_silence",
                "state": state,
                "severity": severity,
                "detector": SILENCE_DETECTOR,
                "opened_at": _dt(silence.opened_at),
                "updated_at": _dt(at),
                "resolved_at": _dt(at) if state == "resolved" else None,
                "window_start": _dt(silence.gap_start),
                "window_end": _dt(at),
                "observed": round(minutes, 2),
                "expected": cfg.silence_after_minutes,
                "score": min(1.0, minutes / (2 * cfg.silence_after_minutes)),
                "evidence": evidence(silence.gap_start, at),
            }
        )
        if state == "resolved":
            self.open = None
        return signal

    def snapshot(self) -> dict[str, Any]:
        s = self.open
        return {
            "incidents": self.incidents,
            "last_update": self.last_update,
            "spent_gap": self.spent_gap,
            "open": None
            if s is None
            else [s.id, s.gap_start, s.opened_at, s.last_emit, s.severity],
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.incidents = {str(k): int(v) for k, v in state["incidents"].items()}
        self.last_update = state["last_update"]
        self.spent_gap = state["spent_gap"]
        raw = state["open"]
        self.open = None if raw is None else _Silence(raw[0], raw[1], raw[2], raw[3], raw[4])

"""What a review says: findings with their evidence, length fits, and the report.

:class:`ToneReport` renders itself for a terminal (``to_text``) and for
machines (``to_dict``/``to_json``); its findings are ordered worst first
(:func:`report_order`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from earful.comms.tone.length import NETWORK_NAMES
from earful.comms.tone.phrases import RULES, SEVERITIES, Severity

__all__ = ["Finding", "NetworkFit", "PhraseMatch", "ToneReport", "ToneVerdict", "report_order"]


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    """A matched phrase and its character offsets in the draft."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    suggestion: str = ""
    evidence: tuple[PhraseMatch, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "suggestion": self.suggestion,
            "evidence": [{"text": e.text, "start": e.start, "end": e.end} for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class NetworkFit:
    """How long the draft is on one network, against its limit."""

    network: str
    limit: int
    length: int

    @property
    def fits(self) -> bool:
        return self.length <= self.limit

    @property
    def over_by(self) -> int:
        return max(0, self.length - self.limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "limit": self.limit,
            "length": self.length,
            "fits": self.fits,
            "over_by": self.over_by,
        }


PENALTY = {"ok": 0, "suggestion": 3, "warning": 10, "problem": 25}
ToneVerdict = Literal["ready", "revise", "not_ready"]


@dataclass(frozen=True, slots=True)
class ToneReport:
    """The review of one draft.

    ``score`` starts at 100 and loses 25 per problem, 10 per warning and 3 per
    suggestion (never below 0). ``verdict``: ``not_ready`` with any problem,
    ``revise`` with warnings, ``ready`` otherwise.
    """

    findings: tuple[Finding, ...]
    fits: tuple[NetworkFit, ...]
    characters: int
    resolution: bool
    lang: str | None
    sentiment: float | None
    symptoms: tuple[str, ...] = field(default=())
    platforms: tuple[str, ...] = field(default=())
    places: tuple[str, ...] = field(default=())

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def has_problems(self) -> bool:
        return self.count("problem") > 0

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule ids found, in report order (ids may repeat)."""
        return tuple(f.rule for f in self.findings)

    @property
    def score(self) -> int:
        return max(0, 100 - sum(PENALTY[f.severity] for f in self.findings))

    @property
    def verdict(self) -> ToneVerdict:
        if self.has_problems:
            return "not_ready"
        if self.count("warning"):
            return "revise"
        return "ready"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "score": self.score,
            "counts": {s: self.count(s) for s in SEVERITIES},
            "kind": "resolution" if self.resolution else "ongoing",
            "characters": self.characters,
            "lang": self.lang,
            "sentiment": self.sentiment,
            "symptoms": list(self.symptoms),
            "platforms": list(self.platforms),
            "places": list(self.places),
            "fits": {fit.network: fit.to_dict() for fit in self.fits},
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_text(self) -> str:
        """A short report for a terminal: verdict, fits, then findings, worst first."""
        verdict = {"ready": "READY", "revise": "REVISE", "not_ready": "NOT READY"}[self.verdict]
        counts = ", ".join(
            f"{self.count(s)} {s}{'s' if self.count(s) != 1 else ''}"
            for s in ("problem", "warning", "suggestion")
        )
        lines = [f"Tone check: {verdict} (score {self.score}/100): {counts}"]
        if self.fits:
            parts = []
            for fit in self.fits:
                state = "fits" if fit.fits else f"OVER by {fit.over_by}"
                parts.append(f"{NETWORK_NAMES[fit.network]} {fit.length}/{fit.limit} {state}")
            lines.append("Length: " + " | ".join(parts))
        for finding in self.findings:
            where = ""
            if finding.evidence:
                shown = [f'"{e.text}" at {e.start}' for e in finding.evidence[:3]]
                more = len(finding.evidence) - len(shown)
                where = " [" + "; ".join(shown) + (f"; +{more} more" if more > 0 else "") + "]"
            lines.append(
                f"{finding.severity.upper():<10} {finding.rule:<22} {finding.message}{where}"
            )
            if finding.suggestion:
                lines.append(f"{'':<10} {'':<22} -> {finding.suggestion}")
        return "\n".join(lines)


_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_RULE_RANK = {rule: i for i, rule in enumerate(RULES)}


def report_order(finding: Finding) -> tuple[int, int, int]:
    """Worst first; then in the order of :data:`RULES`; then by position."""
    start = finding.evidence[0].start if finding.evidence else -1
    return (-_SEVERITY_RANK[finding.severity], _RULE_RANK[finding.rule], start)

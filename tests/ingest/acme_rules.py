"""Tracking rules the runner and push tests share: Acme (and its status account), Acme Pay."""

from __future__ import annotations

from earful.ingest.rules import SubjectRule, TrackingConfig, TrackingRules

__all__ = ["RULES"]

RULES = TrackingRules(
    TrackingConfig(
        subjects=(
            SubjectRule(name="acme", terms=("acme",), official_accounts=("acmestatus",)),
            SubjectRule(name="acme-pay", terms=("acme pay",)),
        )
    )
)

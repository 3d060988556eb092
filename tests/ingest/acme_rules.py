"""Tracking rules the ingest tests share: Acme (its tag and status account), Acme Pay."""

from __future__ import annotations

from earful.ingest.rules import SubjectRule, TrackingConfig, TrackingRules

__all__ = ["RULES"]

RULES = TrackingRules(
    TrackingConfig(
        subjects=(
            SubjectRule(
                name="acme",
                terms=("acme",),
                hashtags=("acmedown",),
                official_accounts=("acmestatus",),
            ),
            SubjectRule(name="acme-pay", terms=("acme pay",)),
        )
    )
)

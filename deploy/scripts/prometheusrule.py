"""Print deploy/prometheus/rules/*.yml as one PrometheusRule (deploy/k8s/monitoring)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

RULES = Path(__file__).resolve().parents[1] / "prometheus" / "rules"
HEADER = """\
# The rules of deploy/prometheus/rules/*.yml (alerts.yml, then recording.yml),
# for the Prometheus operator: tests/deploy/test_k8s.py checks they are the same.
# Regenerate after editing the rule files:
#   python deploy/scripts/prometheusrule.py > deploy/k8s/monitoring/prometheusrule.yaml
"""


def prometheus_rule() -> str:
    groups = [
        g for p in sorted(RULES.glob("*.yml")) for g in yaml.safe_load(p.read_text())["groups"]
    ]
    doc = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "earful",
            "namespace": "earful",
            "labels": {"app.kubernetes.io/part-of": "earful"},
        },
        "spec": {"groups": groups},
    }
    return HEADER + yaml.safe_dump(doc, sort_keys=False, width=1000)


if __name__ == "__main__":
    sys.stdout.write(prometheus_rule())

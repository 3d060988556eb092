"""``earful report``: the incident communications report (Markdown, HTML, PNG charts).

:mod:`sinks.report.data` loads the records (Kafka topics or a JSONL export),
:mod:`sinks.report.summary` computes the numbers, :mod:`sinks.report.charts`
draws the PNGs and :mod:`sinks.report.render` writes the files.
"""

from sinks.report.data import ReportData, Selection, load_export, load_topics
from sinks.report.render import write_report
from sinks.report.summary import Report, build_report

__all__ = [
    "Report",
    "ReportData",
    "Selection",
    "build_report",
    "load_export",
    "load_topics",
    "write_report",
]

"""``earful report``: the incident communications report (Markdown, HTML, PNG charts).

:mod:`earful.sinks.report.data` loads the records (Kafka topics or a JSONL export),
:mod:`earful.sinks.report.summary` computes the numbers, :mod:`earful.sinks.report.charts`
draws the PNGs and :mod:`earful.sinks.report.render` writes the files.
"""

from earful.sinks.report.data import ReportData, Selection, load_export, load_topics
from earful.sinks.report.render import write_report
from earful.sinks.report.summary import Report, build_report

__all__ = [
    "Report",
    "ReportData",
    "Selection",
    "build_report",
    "load_export",
    "load_topics",
    "write_report",
]

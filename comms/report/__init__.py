"""``earful report``: the incident communications report (Markdown, HTML, PNG charts).

:mod:`earful.comms.report.data` loads the records (Kafka topics or a JSONL export),
:mod:`earful.comms.report.summary` computes the numbers, :mod:`earful.comms.report.charts`
draws the PNGs and :mod:`earful.comms.report.render` writes the files.
"""

from earful.comms.report.data import ReportData, Selection, load_export, load_topics
from earful.comms.report.render import write_report
from earful.comms.report.summary import Report, build_report

__all__ = [
    "Report",
    "ReportData",
    "Selection",
    "build_report",
    "load_export",
    "load_topics",
    "write_report",
]

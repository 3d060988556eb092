"""The report as Markdown and as self-contained HTML, from one list of blocks.

The content is laid out once (:func:`report_blocks`: headings, paragraphs,
tables, images) and each format renders the blocks. Everything that comes
from the data (post texts, update texts, terms) is plain text to the blocks:
the HTML renderer escapes it with :func:`html.escape`, the Markdown renderer
escapes what Markdown or embedded HTML would interpret.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from earful.comms.report.summary import TABLE_SPAN, Report, SignalEpisode
from earful.events import ReactionStats, TermCount, UpdateReaction

__all__ = [
    "FORMATS",
    "Block",
    "Heading",
    "Image",
    "Paragraph",
    "Table",
    "render_html",
    "render_markdown",
    "report_blocks",
    "write_report",
]

_EXCERPT: Final = 140
_MAX_PROBLEMS: Final = 20


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    note: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Image:
    path: Path
    alt: str


Block = Heading | Paragraph | Table | Image


# -- formatting --------------------------------------------------------------------------


def _time(value: datetime | None, report: Report) -> str:
    if value is None:
        return "–"
    same_day = value.date() == report.since.date() == report.until.date()
    return value.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S") + "Z"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _change(reaction: UpdateReaction | None, fmt: Callable[[float | None], str], name: str) -> str:
    if reaction is None:
        return "–"
    before: float | None = getattr(reaction.before, name)
    after: float | None = getattr(reaction.after, name)
    return f"{fmt(before)} → {fmt(after)}"


def _expected(stats: ReactionStats | None) -> str:
    if stats is None:
        return "–"
    return (
        f"neg {_pct(stats.negative_share)}, reports {_num(stats.outage_reports_per_minute)}/min, "
        f"{_num(stats.per_minute)}/min"
    )


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _terms(items: Sequence[TermCount]) -> str:
    return ", ".join(f"{t.term} ({t.count})" for t in items) or "–"


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} min"


# -- content -----------------------------------------------------------------------------


def _summary(report: Report) -> list[Block]:
    peak = (
        f"{_time(report.peak_minute, report)} ({report.peak_mentions} mentions)"
        if report.peak_minute
        else "–"
    )
    first = report.first_update
    first_text = "none after the onset in this period"
    if first is not None:
        status = f", {first.status}" if first.status else ""
        first_text = f"{_time(first.created_at, report)} ({first.source}{status})"
    gap = report.longest_update_gap
    gap_text = (
        f"{(gap[1] - gap[0]).total_seconds() / 60:.1f} min "
        f"({_time(gap[0], report)} to {_time(gap[1], report)})"
        if gap
        else "–"
    )
    rows = (
        ("Subject", report.subject),
        ("Period", f"{report.since.isoformat()} to {report.until.isoformat()}"),
        ("Public mentions", f"{report.mentions}"),
        ("Unique authors", f"{report.unique_authors}"),
        (
            "Negative",
            f"{report.negative} of {report.scored} scored ({_pct(report.negative_share)})",
        ),
        ("Outage reports", f"{report.outage_reports}"),
        ("Asking for information", f"{report.questions}"),
        ("Peak minute", peak),
        ("Onset", f"{_time(report.onset, report)} ({report.onset_basis})"),
        ("First official update after the onset", first_text),
        ("Time from onset to first official update", _minutes(report.minutes_to_first_update)),
        ("Official updates", f"{len(report.updates)}"),
        ("Longest time without an update (from the onset)", gap_text),
        ("Signals", f"{len(report.episodes)} ({len(report.silences)} comms_silence)"),
    )
    return [Heading(2, "Summary"), Table(("", ""), rows)]


def _signals(report: Report) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Signals")]
    if not report.episodes:
        return [*blocks, Paragraph("No detector signal in the period.")]
    rows = tuple(
        (
            e.kind,
            e.severity,
            _time(e.opened_at, report),
            _time(e.resolved_at, report) if e.resolved_at else "still open at the end",
            _duration(e, report),
            f"{e.peak_observed:g}",
            f"{e.expected:g}",
            e.id,
        )
        for e in report.episodes
    )
    headers = (
        "kind",
        "severity",
        "opened",
        "resolved",
        "duration",
        "peak observed",
        "expected",
        "id",
    )
    return [*blocks, Table(headers, rows)]


def _reactions(report: Report) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "Official updates and the measured reaction"),
        Paragraph(
            f"The public conversation in the {TABLE_SPAN} minutes before each official update "
            f"against the {TABLE_SPAN} minutes after it (all public mentions; an after span is "
            "cut short at the next update unless that one only repeats it on another channel "
            "within 3 minutes). This is an observed change, not a proven cause: a fix landing, "
            f"the time of day or a viral post move the numbers too. Reactions: "
            f"{report.reaction_source}. Expected: what the learned baseline predicted for the "
            "after span (null while it is cold).",
            note=True,
        ),
    ]
    if not report.updates:
        return [*blocks, Paragraph("No official update in the period.")]
    rows = []
    for n, row in enumerate(report.reaction_rows, start=1):
        u, r = row.update, row.all
        rows.append(
            (
                f"U{n}",
                _time(u.created_at, report),
                u.source + (f" ({u.status})" if u.status else ""),
                _excerpt(u.text),
                _change(r, _pct, "negative_share"),
                _change(r, _num, "outage_reports_per_minute"),
                _change(r, _pct, "question_share"),
                _change(r, _num, "per_minute"),
                _expected(r.expected if r else None),
                "–" if r is None else ("yes" if r.complete else "cut short"),
            )
        )
    headers = (
        "#",
        "time",
        "source",
        "excerpt",
        "negative share",
        "outage reports/min",
        "question share",
        "mentions/min",
        "expected after (baseline)",
        "full span",
    )
    blocks.append(Table(headers, tuple(rows)))
    audience_rows = tuple(
        (
            f"U{n}",
            _pct(row.replies.after.negative_share) if row.replies else "–",
            str(row.replies.after.mentions) if row.replies else "–",
            _pct(row.others.after.negative_share) if row.others else "–",
            str(row.others.after.mentions) if row.others else "–",
        )
        for n, row in enumerate(report.reaction_rows, start=1)
    )
    blocks += [
        Paragraph(
            "Replies to the official accounts apart from everyone else (after the update): "
            "people who answer the organisation tend to stay negative longer."
        ),
        Table(
            ("#", "replies: negative share", "replies", "others: negative share", "others"),
            audience_rows,
        ),
    ]
    return blocks


def _complaints(report: Report) -> list[Block]:
    rows = (
        ("Complaint terms (negative mentions)", _terms(report.top_terms)),
        ("Symptoms", _terms(report.top_symptoms)),
        ("Places", _terms(report.top_places)),
        ("Platforms", _terms(report.top_platforms)),
    )
    return [
        Heading(2, "What people complain about"),
        Paragraph(
            "Terms: how often each word occurs in negative mentions. Symptoms, places and "
            "platforms: how many distinct authors name each in an outage report."
        ),
        Table(("", "top"), rows),
    ]


def _samples(report: Report) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "Sample posts"),
        Paragraph(
            "The most engaged negative posts (likes + reposts + replies + quotes); reposts and "
            "repeated texts left out; authors pseudonymous."
        ),
    ]
    if not report.samples:
        return [*blocks, Paragraph("No negative post in the period.")]
    rows = tuple(
        (_time(s.created_at, report), s.source, s.author, str(s.engagement), _excerpt(s.text, 280))
        for s in report.samples
    )
    return [*blocks, Table(("time", "source", "author", "engagement", "text"), rows)]


def _duration(episode: SignalEpisode, report: Report) -> str:
    """Resolved: how long; open: at least until the end of the period."""
    minutes = episode.minutes_within(report.until)
    return f"{minutes:.1f} min" if not episode.is_open else f"at least {minutes:.1f} min"


def _silence_rows(report: Report, episode: SignalEpisode) -> tuple[str, ...]:
    evidence = episode.last.evidence
    return (
        _time(episode.window_start, report),
        _time(episode.opened_at, report),
        _time(episode.resolved_at, report) if episode.resolved_at else "still open at the end",
        _duration(episode, report),
        episode.severity,
        _terms(evidence.top_symptoms),
        " / ".join(_excerpt(s.text, 80) for s in evidence.samples[:3]) or "–",
    )


def _silences(report: Report) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "Silence gaps"),
        Paragraph(
            "comms_silence signals: an incident signal was open, people kept asking for news "
            "and no official update came for too long. The gap runs from the last update (or "
            "the incident's start) to the next update."
        ),
    ]
    if not report.silences:
        return [*blocks, Paragraph("No comms_silence signal in the period.")]
    rows = tuple(_silence_rows(report, e) for e in report.silences)
    headers = (
        "silent since",
        "signal opened",
        "ended",
        "gap",
        "severity",
        "top symptoms",
        "what people asked",
    )
    return [*blocks, Table(headers, rows)]


def _data(report: Report) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "Data"),
        Paragraph(
            f"{report.records_read} records read, {report.ignored} of other types ignored, "
            f"{len(report.problems)} unreadable. Generated {report.generated_at.isoformat()}."
        ),
    ]
    if report.problems:
        shown = tuple((str(p.where), p.reason) for p in report.problems[:_MAX_PROBLEMS])
        blocks.append(Table(("where", "problem"), shown))
        if len(report.problems) > _MAX_PROBLEMS:
            blocks.append(Paragraph(f"... and {len(report.problems) - _MAX_PROBLEMS} more."))
    return blocks


def report_blocks(report: Report, charts: dict[str, Path]) -> list[Block]:
    """The whole report, in order."""
    blocks: list[Block] = [
        Heading(1, f"Incident communications report: {report.subject}"),
        *_summary(report),
    ]
    if "timeline" in charts:
        blocks.append(
            Image(
                charts["timeline"],
                "Timeline: mentions, negative share and outage "
                "reports per minute, official updates and signals marked",
            )
        )
    blocks += _signals(report)
    blocks += _reactions(report)
    if "reactions" in charts:
        blocks.append(Image(charts["reactions"], "Before and after each official update"))
    blocks += _complaints(report)
    if "top" in charts:
        blocks.append(Image(charts["top"], "Top symptoms, places and platforms"))
    blocks += _samples(report)
    blocks += _silences(report)
    blocks += _data(report)
    return blocks


# -- Markdown ----------------------------------------------------------------------------

_MD_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|#])")


def _md(text: str) -> str:
    """Plain text made inert in Markdown: no markup, no HTML, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()).replace("&", "&amp;"))


def render_markdown(blocks: Sequence[Block], directory: Path) -> str:
    """Markdown with images linked relative to ``directory`` (where report.md goes)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {_md(block.text)}")
        elif isinstance(block, Paragraph):
            out.append(f"> {_md(block.text)}" if block.note else _md(block.text))
        elif isinstance(block, Table):
            out.append("| " + " | ".join(_md(h) for h in block.headers) + " |")
            out.append("|" + "---|" * len(block.headers))
            out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows]
        else:
            out.append(f"![{_md(block.alt)}]({block.path.relative_to(directory).as_posix()})")
        out.append("")
    return "\n".join(out)


# -- HTML --------------------------------------------------------------------------------

_CSS: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 72rem;
       margin: 2rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .55rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fbfcfd; }
img { max-width: 100%; height: auto; margin: .8rem 0; border: 1px solid #eaeef2; }
.note { background: #fff8c5; border-left: 4px solid #d4a72c; padding: .5rem .8rem; }
"""


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(blocks: Sequence[Block], title: str) -> str:
    """One self-contained HTML page: styles inline, images as data URIs, all text escaped."""
    e = html.escape
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{e(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            css = ' class="note"' if block.note else ""
            body.append(f"<p{css}>{e(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{e(h)}</th>" for h in block.headers)
            rows = "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows
            )
            thead = f"<thead><tr>{head}</tr></thead>" if any(block.headers) else ""
            body.append(f"<table>{thead}<tbody>{rows}</tbody></table>")
        else:
            body.append(f'<img src="{_data_uri(block.path)}" alt="{e(block.alt)}">')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# -- files -------------------------------------------------------------------------------

FORMATS: Final = ("md", "html")


def write_report(
    report: Report, directory: Path, formats: Sequence[str] = FORMATS
) -> dict[str, Path]:
    """Charts, ``report.md`` and ``report.html`` into ``directory``; returns name -> path."""
    from earful.comms.report.charts import draw_charts

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown report format(s): {', '.join(sorted(unknown))}")
    directory.mkdir(parents=True, exist_ok=True)
    written = draw_charts(report, directory)
    blocks = report_blocks(report, written)
    if "md" in formats:
        path = directory / "report.md"
        path.write_text(render_markdown(blocks, directory), encoding="utf-8")
        written["md"] = path
    if "html" in formats:
        path = directory / "report.html"
        title = f"Incident communications report: {report.subject}"
        path.write_text(render_html(blocks, title), encoding="utf-8")
        written["html"] = path
    return written

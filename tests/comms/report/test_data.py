"""Loading exports: record types by their fields, bad lines skipped and counted, filtering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from earful.cli import main
from earful.comms.report.data import EARLIEST, LATEST, Selection, classify, fit_period, load_export
from earful.comms.report.summary import build_report
from earful.events import OfficialUpdate, ReactionStats, UpdateReaction
from tests.comms.report.records import scored

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SELECTION = Selection("acme", T0, T0 + timedelta(hours=1))


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def _line(record: object) -> str:
    return record.model_dump_json()  # type: ignore[attr-defined, no-any-return]


def test_bad_lines_are_reported_with_their_line_number_skipped_and_counted(
    tmp_path: Path,
) -> None:
    good = scored("1", at(5))
    old = json.loads(_line(scored("2", at(6))))
    old["schema_version"] = 2
    raw_mention = json.loads(_line(good))["mention"]
    path = tmp_path / "export.jsonl"
    path.write_text(
        "\n".join(
            [
                _line(good),  # 1 ok
                "this is not json",  # 2
                "[1, 2]",  # 3
                json.dumps({"foo": 1}),  # 4 unknown type
                json.dumps(old),  # 5 unsupported version
                "",  # blank: neither read nor a problem
                json.dumps(raw_mention),  # 7 raw mention: ignored
                json.dumps({"topic": "x", "value": "text"}),  # 8 envelope without an object
                _line(scored("3", at(7))),  # 9 ok
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    data = load_export([path], SELECTION)
    assert [m.mention.native_id for m in data.mentions] == ["1", "3"]
    assert [p.where for p in data.problems] == [f"{path}:{n}" for n in (2, 3, 4, 5, 8)]
    assert "not JSON" in data.problems[0].reason
    assert "schema_version 2" in data.problems[3].reason
    assert data.ignored == 1
    assert data.records_read == 8


def test_the_cli_names_skipped_lines_and_still_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(_line(scored("1", at(5))) + "\n{broken\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        [
            "report",
            "--subject",
            "acme",
            "--since",
            "2026-11-20T10:00Z",
            "--until",
            "2026-11-20T11:00Z",
            "--input",
            str(path),
            "--output",
            str(out),
            "--format",
            "md",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert f"skipped {path}:2: not JSON" in captured.err
    assert "1 unreadable records skipped" in captured.out
    assert (out / "report.md").exists() and not (out / "report.html").exists()
    assert "1 unreadable" in (out / "report.md").read_text(encoding="utf-8")


def test_records_are_kept_for_the_subject_and_period_and_deduplicated(tmp_path: Path) -> None:
    records = [
        scored("in", at(10)),
        scored("in", at(10)),  # redelivered
        scored("other", at(10), subject="acme-pay"),
        scored("lookback", at(-30)),  # kept for the reaction's before span
        scored("too-early", at(-61)),
        scored("too-late", at(60)),
    ]
    path = tmp_path / "e.jsonl"
    path.write_text("".join(_line(r) + "\n" for r in records), encoding="utf-8")
    data = load_export([path], SELECTION)
    assert [m.mention.native_id for m in data.mentions] == ["lookback", "in"]
    assert [m.mention.native_id for m in data.period_mentions()] == ["in"]


def test_types_are_recognised_by_their_fields() -> None:
    update = OfficialUpdate(
        id="statuspage:1",
        subject="acme",
        source="statuspage",
        kind="status_update",
        author="acme",
        text="Investigating",
        created_at=at(1),
    )
    assert classify(json.loads(update.model_dump_json())) is OfficialUpdate
    assert classify(json.loads(_line(scored("1", at(1))))) is not None
    assert classify({"window_start": "x", "mentions": 3}) == "window stats"
    assert classify({"dedup_key": "k"}) == "alert"
    assert classify({"hello": "world"}) is None


def _stats(start: datetime, share: float) -> ReactionStats:
    return ReactionStats(
        span_start=start,
        span_end=start + timedelta(minutes=15),
        mentions=30,
        per_minute=2.0,
        negative_share=share,
        outage_reports_per_minute=1.0,
        question_share=0.1,
    )


def test_recorded_reactions_are_used_when_asked_for(tmp_path: Path) -> None:
    update = OfficialUpdate(
        id="mastodon:u1",
        subject="acme",
        source="mastodon",
        kind="post",
        author="acmestatus",
        text="On it",
        created_at=at(20),
    )
    older, newer = (
        UpdateReaction(
            update_id=update.id,
            subject="acme",
            update_at=at(20),
            span_minutes=15,
            audience="all",
            before=_stats(at(5), 0.8),
            after=_stats(at(20), share),
            complete=True,
            computed_at=at(40 + n),
        )
        for n, share in enumerate((0.5, 0.4))
    )
    path = tmp_path / "e.jsonl"
    lines = [_line(newer), _line(older), _line(update), _line(scored("1", at(21)))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_export([path], SELECTION)
    report = build_report(data, now=at(120), reaction_source="recorded")
    assert report.reactions == [newer]  # the latest computation of a reaction wins
    assert report.reaction_rows[0].all == newer
    computed = build_report(data, now=at(120), spans_minutes=(15,))
    assert computed.reaction_rows[0].all is not None
    assert computed.reaction_rows[0].all.after.mentions == 1


def test_an_open_period_is_fitted_to_the_subjects_records_in_whole_minutes(
    tmp_path: Path,
) -> None:
    records = [
        scored("first", at(12.5)),
        scored("last", at(47.25)),
        scored("other-subject", at(200), subject="acme-pay"),
    ]
    path = tmp_path / "e.jsonl"
    path.write_text("".join(_line(r) + "\n" for r in records), encoding="utf-8")
    fitted = fit_period(load_export([path], Selection("acme", EARLIEST, LATEST)))
    assert (fitted.selection.since, fitted.selection.until) == (at(12), at(48))
    assert [m.mention.native_id for m in fitted.period_mentions()] == ["first", "last"]
    half_open = fit_period(load_export([path], Selection("acme", at(30), LATEST)))
    assert (half_open.selection.since, half_open.selection.until) == (at(30), at(48))
    with pytest.raises(ValueError, match="no records of subject 'nobody'"):
        fit_period(load_export([path], Selection("nobody", EARLIEST, LATEST)))


def test_the_cli_reports_the_whole_span_when_since_and_until_are_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(
        _line(scored("1", at(5))) + "\n" + _line(scored("2", at(9))) + "\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    code = main(
        [
            "report",
            "--subject",
            "acme",
            "--input",
            str(path),
            "--output",
            str(out),
            "--format",
            "md",
        ]
    )
    assert code == 0
    assert "report on acme: 2 mentions" in capsys.readouterr().out
    assert (out / "report.md").exists()

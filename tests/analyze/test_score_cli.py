"""``earful score`` end to end: a real process on a file with good and bad lines."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from earful.analyze.score_cli import score_lines
from earful.analyze.scoring import Scorer

EARFUL = [sys.executable, "-m", "earful.cli"]


def run_score(args: list[str], stdin: bytes | None = None) -> tuple[list[dict[str, Any]], str]:
    proc = subprocess.run(
        [*EARFUL, "score", *args], input=stdin, capture_output=True, timeout=120, check=True
    )
    lines = proc.stdout.decode("utf-8").splitlines()
    return [json.loads(line) for line in lines], proc.stderr.decode("utf-8")


def test_plain_text_file_with_empty_long_and_invalid_utf8_lines(tmp_path: Path) -> None:
    path = tmp_path / "posts.txt"
    path.write_bytes(
        b"Is acme down?\n"
        b"\n"
        + ("acme " * 30_000).encode()
        + b"\n"
        + b"caf\xe9 is down\xff\n"
        + "acme est en panne à Paris\r\n".encode()
        + b"acme is back up, thanks for the quick fix!"  # no final newline
    )
    out, err = run_score([str(path)])
    assert [o["id"] for o in out] == [1, 2, 3, 4, 5, 6]
    first = out[0]
    assert first["lang"] == "en"
    assert first["sentiment"]["label"] == "negative"
    assert set(first["sentiment"]["vader"]) == {"neg", "neu", "pos", "compound"}
    assert first["outage"]["is_report"] is True
    assert set(first["outage"]) == {
        "is_report",
        "confidence",
        "symptoms",
        "platforms",
        "places",
        "error_codes",
    }
    assert out[1] == {"id": 2, "error": "empty line"}
    assert "over the 50,000 limit" in out[2]["error"]
    assert out[3]["error"].startswith("invalid UTF-8 at byte 3")
    assert out[4]["lang"] == "fr" and out[4]["sentiment"] is None
    assert "not scored" in out[4]["unscored_reason"]
    assert out[4]["outage"]["places"] == ["Paris"]
    assert out[5]["sentiment"]["label"] == "positive"
    assert "3 scored, 3 errors" in err


def test_jsonl_from_stdin_keeps_ids_and_reports_bad_objects() -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": "m-1", "text": "payments failing on iOS, error E-4012"}),
            json.dumps({"id": "m-2", "text": "Stromausfall in Berlin", "lang": "de"}),
            json.dumps({"id": "m-3"}),
            "[1, 2]",
            "{not json",
            json.dumps({"id": 7, "text": "   "}),
        ]
    ).encode()
    out, _ = run_score(["--jsonl"], stdin=stdin)
    assert [o["id"] for o in out] == ["m-1", "m-2", "m-3", 4, 5, 7]
    assert out[0]["outage"]["error_codes"] == ["E-4012"]
    assert out[0]["outage"]["platforms"] == ["ios"]
    assert out[0]["outage"]["symptoms"] == ["payments"]
    assert out[1]["lang"] == "de" and out[1]["outage"]["places"] == ["Berlin"]
    assert out[2]["error"] == "'text' must be a string"
    assert "expected an object" in out[3]["error"]
    assert out[4]["error"].startswith("not JSON")
    assert out[5] == {"id": 7, "error": "empty text"}


def test_a_very_long_line_is_skipped_without_losing_the_next(tmp_path: Path) -> None:
    scorer = Scorer(cache_size=0, gazetteer=None)
    stream = io.BytesIO(b"x" * 5_000 + b"\nacme outage\n")
    out = io.StringIO()
    run = score_lines(stream, out, scorer, max_chars=1_000)
    objs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (run.scored, run.errors) == (1, 1)
    assert "5,000 bytes" in objs[0]["error"]
    assert objs[1]["id"] == 2 and objs[1]["outage"]["is_report"] is True


@pytest.mark.parametrize("text", ["Is acme down?", "acme est en panne", "😡😡"])
def test_cli_and_worker_scorer_agree(text: str) -> None:
    out, _ = run_score([], stdin=text.encode())
    result = Scorer().score(text)
    assert out[0]["lang"] == result.lang
    expected = result.sentiment.model_dump(mode="json") if result.sentiment else None
    assert out[0]["sentiment"] == expected
    assert result.outage is not None
    assert out[0]["outage"] == result.outage.model_dump(mode="json")

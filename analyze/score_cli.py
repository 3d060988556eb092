"""``earful score``: score text lines (or JSONL objects) with the analyzer's scorer.

    earful score posts.txt                  # one post a line; id = line number
    earful score --jsonl mentions.jsonl     # {"id", "text", "lang"?} a line
    echo "is acme down?" | earful score

Each input line gives one JSON line out::

    {"id": 1, "lang": "en",
     "sentiment": {"label": "negative", "compound": -0.42,
                   "vader": {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}},
     "outage": {"is_report": true, "confidence": 0.86, "symptoms": [], "platforms": [],
                "places": [], "error_codes": []}}

``sentiment`` is null for languages VADER does not read, with
``unscored_reason`` saying why. A line that cannot be scored (empty, longer
than ``--max-chars``, invalid UTF-8, bad JSON) gives ``{"id", "error"}`` and
the rest are still scored. It is the same :class:`~earful.analyze.scoring.Scorer`
the analyzer worker runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from earful.analyze.scoring import Scorer, TextScore
from earful.console import wait_for_kafka
from earful.events import MAX_TEXT_CHARS
from earful.runtime import add_common_options, add_worker_options, run_worker, settings_from_args

__all__ = ["ScoreRun", "cmd_analyze", "register", "result_object", "score_lines"]

#: Bytes of JSON around a text in --jsonl mode, on top of the text's own.
_JSONL_OVERHEAD = 4_096
_READ_CHUNK = 1 << 16


@dataclass(slots=True)
class ScoreRun:
    scored: int = 0
    errors: int = 0


def result_object(line_id: Any, result: TextScore) -> dict[str, Any]:
    """The JSON object for one scored text."""
    out: dict[str, Any] = {"id": line_id, "lang": result.lang}
    if result.sentiment is not None:
        out["sentiment"] = result.sentiment.model_dump(mode="json")
    else:
        out["sentiment"] = None
        out["unscored_reason"] = result.unscored_reason
    out["outage"] = result.outage.model_dump(mode="json") if result.outage else None
    return out


def _bounded_lines(stream: IO[bytes], max_bytes: int) -> Iterator[bytes | int]:
    """Lines without their end; a line over ``max_bytes`` yields its size instead."""
    while True:
        line = stream.readline(max_bytes + 2)
        if not line:
            return
        if line.endswith(b"\n") or len(line) <= max_bytes:
            body = line.rstrip(b"\r\n")
            if len(body) <= max_bytes:
                yield body
                continue
        # Too long: skip the rest of the line without holding it in memory.
        size = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(_READ_CHUNK)
            if not line:
                break
            size += len(line)
        yield size - (len(line) - len(line.rstrip(b"\r\n")))


def _parse(raw: bytes, line_no: int, jsonl: bool, max_chars: int) -> tuple[Any, str, Any]:
    """(id, text, declared lang) of one line; raises ValueError with a clear reason."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid UTF-8 at byte {exc.start}: {exc.reason}") from exc
    if not decoded.strip():
        raise ValueError("empty line")
    if not jsonl:
        text, line_id, lang = decoded, line_no, None
    else:
        try:
            obj = json.loads(decoded)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise ValueError(f"JSON {type(obj).__name__}, expected an object with 'text'")
        line_id = obj.get("id", line_no)
        if isinstance(line_id, bool) or not isinstance(line_id, (str, int)):
            raise ValueError("'id' must be a string or an integer")
        text_value, lang_value = obj.get("text"), obj.get("lang")
        if not isinstance(text_value, str):
            raise _IdError(line_id, "'text' must be a string")
        if lang_value is not None and not isinstance(lang_value, str):
            raise _IdError(line_id, "'lang' must be a string")
        text, lang = text_value, lang_value
        if not text.strip():
            raise _IdError(line_id, "empty text")
    if len(text) > max_chars:
        raise _IdError(line_id, f"text is {len(text):,} characters, over the {max_chars:,} limit")
    return line_id, text, lang


class _IdError(ValueError):
    """A line error once the line's own id is known."""

    def __init__(self, line_id: Any, message: str) -> None:
        super().__init__(message)
        self.line_id = line_id


def score_lines(
    stream: IO[bytes],
    out: IO[str],
    scorer: Scorer,
    *,
    jsonl: bool = False,
    max_chars: int = MAX_TEXT_CHARS,
) -> ScoreRun:
    """Score every line of ``stream`` and write one JSON line each to ``out``."""
    run = ScoreRun()
    max_bytes = 4 * max_chars + (_JSONL_OVERHEAD if jsonl else 0)
    for line_no, raw in enumerate(_bounded_lines(stream, max_bytes), start=1):
        obj: dict[str, Any]
        if isinstance(raw, int):
            obj = {"id": line_no, "error": f"line is {raw:,} bytes, over the {max_bytes:,} limit"}
        else:
            try:
                line_id, text, lang = _parse(raw, line_no, jsonl, max_chars)
            except _IdError as exc:
                obj = {"id": exc.line_id, "error": str(exc)}
            except ValueError as exc:
                obj = {"id": line_no, "error": str(exc)}
            else:
                obj = result_object(line_id, scorer.score(text, lang))
        if "error" in obj:
            run.errors += 1
        else:
            run.scored += 1
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()
    return run


def cmd_score(args: argparse.Namespace) -> int:
    scorer = Scorer(cache_size=args.cache_size)
    out = open(  # noqa: SIM115  # stdout's descriptor, closed by the interpreter
        sys.stdout.fileno(), "w", encoding="utf-8", errors="replace", closefd=False
    )
    if args.file is None or str(args.file) == "-":
        run = score_lines(sys.stdin.buffer, out, scorer, jsonl=args.jsonl, max_chars=args.max_chars)
    else:
        with Path(args.file).open("rb") as stream:
            run = score_lines(stream, out, scorer, jsonl=args.jsonl, max_chars=args.max_chars)
    print(f"earful score: {run.scored} scored, {run.errors} errors", file=sys.stderr)
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from earful.analyze.score_worker import AnalyzerProcessor
    from earful.analyze.scoring import Scorer
    from earful.settings import AnalyzerSettings

    settings = settings_from_args(AnalyzerSettings, args)
    # Before the scorer's lexicons load: no broker is said in seconds, not after them.
    wait_for_kafka(settings.kafka_bootstrap, wait_s=settings.kafka_startup_wait_s)
    processor = AnalyzerProcessor(settings, Scorer(cache_size=settings.score_cache_size))
    return run_worker(
        args,
        name="analyzer",
        settings=settings,
        group=settings.analyzer_group,
        topics=[settings.topic_raw],
        processor=processor,
        produces=True,
    )


def register(groups: dict[str, Any]) -> None:
    p = groups["root"].add_parser("analyze", help="score raw mentions into the scored topic")
    add_common_options(p)
    add_worker_options(p)
    p.set_defaults(func=cmd_analyze)

    p = groups["root"].add_parser(
        "score", help="score text lines (or --jsonl objects) the way the analyzer does"
    )
    p.add_argument("file", nargs="?", type=Path, help="input file (default: standard input)")
    p.add_argument(
        "--jsonl", action="store_true", help='read {"id", "text", "lang"?} objects, one a line'
    )
    p.add_argument(
        "--max-chars",
        type=int,
        default=MAX_TEXT_CHARS,
        help=f"longest text scored; longer lines are errors (default {MAX_TEXT_CHARS:,})",
    )
    p.add_argument("--cache-size", type=int, default=50_000, help="texts remembered for reposts")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_score)

"""Tracking rules: which subjects (brands, products, services) a post talks about.

A tracking file (YAML, or TOML when the name ends in ``.toml``) lists subjects::

    subjects:
      - name: acme                       # label on every mention and metric
        terms: [acme, acme cloud]        # words or phrases, matched on word boundaries
        phrases: ["is acme down"]        # same as terms; a separate list for readability
        hashtags: [acme, acmedown]       # matches "#acmedown" in text and source tags
        handles: [acme, acme.bsky.social]  # matches "@acme" in text and replies to it
        official_accounts: [acmestatus]  # the organisation's own voice: is_official
        exclude: [acme anvil, wile e]    # a post with any of these is not about acme
        languages: [en, de]              # only posts in these (or undeclared) languages

Matching is case-insensitive and Unicode-normalised (NFKC, then casefold) on
both sides, with runs of white space folded to one space. A term matches only
as a whole word: the characters next to it must not be letters, digits or
``_`` -- except next to scripts written without spaces (Chinese, Japanese,
Thai...), where a term matches as a substring. So ``acme`` matches "Acme's
login", "#acme" and "ACME-pay", not "acmestatus". A handle also stops at
``.`` or ``@`` followed by more of a handle, so ``@acme`` does not match
"@acme.bsky.social". One post may match several subjects.

Posts by a subject's official account always match it (their text may not
name the brand) and are marked official; excludes and languages do not apply
to them. A reply to a tracked handle or official account matches too.

Every pattern of every subject sits in one Aho-Corasick automaton
(pyahocorasick, in C): a post is normalised once and scanned once whatever the
number of subjects; only the few hits get the word-boundary check in Python.

A bad file raises :class:`~earful.errors.ConfigError` naming the file, the
line and the reason, at start-up.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # C extension without type stubs
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from earful.errors import ConfigError
from earful.ingest.base import SearchTerms

__all__ = [
    "Match",
    "SubjectRule",
    "TrackingConfig",
    "TrackingRules",
    "load_tracking",
    "normalise",
    "normalise_handle",
    "parse_tracking",
]

_SPACE_RUN = re.compile(r"\s+")
_SUBJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$")
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")

# Scripts written without spaces between words: no word boundary can be seen
# there, so a term next to (or made of) these characters matches as a substring.
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FFF),  # CJK radicals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def _is_unspaced(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _UNSPACED_RANGES)


def _is_word_char(ch: str) -> bool:
    """A character that continues a word in a spaced script."""
    if ch.isascii():
        return ch.isalnum() or ch == "_"
    return (ch.isalnum() or unicodedata.category(ch).startswith("M")) and not _is_unspaced(ch)


def normalise(text: str) -> str:
    """Case-insensitive, compatibility-normalised form: NFKC, casefold, spaces folded."""
    if text.isascii():
        folded = text.lower()  # casefold and NFKC agree with lower() on ASCII
    else:
        # casefold can leave text that is no longer NFKC ("ǰ" -> "ǰ"); normalise again.
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return _SPACE_RUN.sub(" ", folded).strip()


def normalise_handle(handle: str) -> str:
    """A handle or account for comparison: normalised, without the leading ``@``."""
    return normalise(handle).lstrip("@")


# -- configuration --------------------------------------------------------------


class SubjectRule(BaseModel):
    """One tracked subject as written in the tracking file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    official_accounts: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SUBJECT_NAME.match(value):
            raise ValueError(
                "a subject name is 1-128 letters, digits, spaces, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        return value

    @field_validator("terms", "phrases", "exclude")
    @classmethod
    def _terms(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            norm = normalise(value)
            if not norm:
                raise ValueError(f"term {value!r} is empty after normalisation")
            if not any(ch.isalnum() for ch in norm):
                raise ValueError(f"term {value!r} has no letter or digit")
        return values

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            tag = normalise(value).lstrip("#")
            if not tag or not all(_is_word_char(ch) or _is_unspaced(ch) for ch in tag):
                raise ValueError(f"hashtag {value!r} must be one word (letters, digits, '_')")
        return values

    @field_validator("handles", "official_accounts")
    @classmethod
    def _handles(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            handle = normalise_handle(value)
            if not handle or " " in handle:
                raise ValueError(f"handle {value!r} must be one word without spaces")
        return values

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _LANG.match(value):
                raise ValueError(
                    f"language {value!r} is not a language tag such as 'en' or 'pt-BR'"
                )
        return values

    @model_validator(mode="after")
    def _can_match(self) -> SubjectRule:
        if not (
            self.terms or self.phrases or self.hashtags or self.handles or self.official_accounts
        ):
            raise ValueError(
                f"subject {self.name!r} has no terms, phrases, hashtags, handles "
                "or official accounts: it could never match"
            )
        return self


class TrackingConfig(BaseModel):
    """The whole tracking file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(default=1, ge=1, le=1)
    subjects: tuple[SubjectRule, ...]

    @field_validator("subjects")
    @classmethod
    def _subjects(cls, subjects: tuple[SubjectRule, ...]) -> tuple[SubjectRule, ...]:
        if not subjects:
            raise ValueError("list at least one subject")
        return subjects


def _first_duplicate(subjects: Sequence[SubjectRule]) -> int | None:
    """Index of the first subject whose name (case-insensitive) was used before."""
    seen: set[str] = set()
    for index, subject in enumerate(subjects):
        key = subject.name.casefold()
        if key in seen:
            return index
        seen.add(key)
    return None


# -- loading with line numbers ---------------------------------------------------

_Path = tuple[str | int, ...]


def _yaml_to_python(
    node: yaml.Node, path: _Path, lines: dict[_Path, int], loader: yaml.SafeLoader
) -> Any:
    """Plain Python data from a composed YAML node, noting each node's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _yaml_to_python(key_node, (*path, "<key>"), {}, loader)
            if not isinstance(key, str | int):
                raise ConfigError(f"line {key_node.start_mark.line + 1}: a key must be a word")
            if key in out:
                raise ConfigError(f"line {key_node.start_mark.line + 1}: key {key!r} is repeated")
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _yaml_to_python(value_node, (*path, key), lines, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _yaml_to_python(item, (*path, i), lines, loader) for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _toml_lines(text: str) -> dict[_Path, int]:
    """Lines of ``[[subjects]]`` tables and their keys (TOML parsers keep no positions)."""
    lines: dict[_Path, int] = {}
    index = -1
    in_subjects = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[[") and line.rstrip().endswith("]]"):
            in_subjects = line[2:-2].strip() == "subjects"
            if in_subjects:
                index += 1
                lines[("subjects", index)] = lineno
            continue
        if line.startswith("["):
            in_subjects = False
            continue
        key = line.split("=", 1)[0].strip() if "=" in line else ""
        if key and in_subjects:
            lines[("subjects", index, key)] = lineno
        elif key and index < 0:
            lines[(key,)] = lineno
    return lines


def _line_for(loc: Sequence[str | int], lines: Mapping[_Path, int]) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _describe(loc: Sequence[str | int], data: Any) -> str:
    """'subjects[1] (acme-pay).terms[0]' for an error location."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else str(item))
        node = _child(node, item)
        if isinstance(node, dict) and isinstance(node.get("name"), str):
            parts.append(f" ({node['name']})")
    return "".join(parts) or "<file>"


def _child(node: Any, item: str | int) -> Any:
    if isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
        return node[item]
    if isinstance(node, dict):
        return node.get(item)
    return None


def parse_tracking(
    text: str, *, filename: str = "<tracking>", toml: bool = False
) -> TrackingConfig:
    """Validate a tracking file's text; :class:`ConfigError` says where and why."""
    lines: dict[_Path, int] = {}
    try:
        if toml:
            data: Any = tomllib.loads(text)
            lines = _toml_lines(text)
        else:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            loader = yaml.SafeLoader("")
            data = _yaml_to_python(node, (), lines, loader) if node is not None else None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{filename}: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{filename}{where}: {problem}") from exc
    except ConfigError as exc:
        raise ConfigError(f"{filename} {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}: expected a mapping with a 'subjects' list")
    try:
        config = TrackingConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"]
            line = _line_for(loc, lines)
            where = f" line {line}" if line is not None else ""
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{filename}{where}: {_describe(loc, data)}: {message}")
        raise ConfigError("; ".join(problems)) from exc
    duplicate = _first_duplicate(config.subjects)
    if duplicate is not None:
        line = _line_for(("subjects", duplicate), lines)
        where = f" line {line}" if line is not None else ""
        name = config.subjects[duplicate].name
        raise ConfigError(f"{filename}{where}: subject {name!r} is defined twice")
    return config


def load_tracking(path: Path) -> TrackingRules:
    """Read, validate and compile a tracking file (``.toml`` or YAML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"tracking file {path} does not exist") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"tracking file {path} is not UTF-8: {exc.reason}") from exc
    config = parse_tracking(text, filename=str(path), toml=path.suffix.lower() == ".toml")
    return TrackingRules(config)


# -- matching ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """The subjects a post matched, and whether an official account of one posted it."""

    subjects: tuple[str, ...]
    official: bool = False
    official_account: str | None = None


NO_MATCH = Match(subjects=())


@dataclass(frozen=True, slots=True)
class _Pattern:
    length: int
    check_start: bool  # the pattern starts with a word character: a boundary is needed
    check_end: bool
    handle: bool  # "@name": also stops at '.' / '@' followed by more of a handle
    includes: tuple[int, ...]  # subject indexes this pattern includes
    excludes: tuple[int, ...]


class TrackingRules:
    """Compiled rules: ``match(...)`` gives the subjects of one post."""

    def __init__(self, config: TrackingConfig) -> None:
        duplicate = _first_duplicate(config.subjects)
        if duplicate is not None:
            raise ConfigError(f"subject {config.subjects[duplicate].name!r} is defined twice")
        self.config = config
        self.names: tuple[str, ...] = tuple(s.name for s in config.subjects)
        self._languages: tuple[frozenset[str], ...] = tuple(
            frozenset(lang.split("-")[0].lower() for lang in s.languages) for s in config.subjects
        )
        includes: dict[str, set[int]] = {}
        excludes: dict[str, set[int]] = {}
        handles: set[str] = set()
        self._tags: dict[str, set[int]] = {}
        self._reply_handles: dict[str, set[int]] = {}
        self._official: dict[str, tuple[set[int], str]] = {}
        for index, subject in enumerate(config.subjects):
            for term in (*subject.terms, *subject.phrases):
                includes.setdefault(normalise(term), set()).add(index)
            for term in subject.exclude:
                excludes.setdefault(normalise(term), set()).add(index)
            for tag in subject.hashtags:
                norm = normalise(tag).lstrip("#")
                includes.setdefault("#" + norm, set()).add(index)
                self._tags.setdefault(norm, set()).add(index)
            for handle in (*subject.handles, *subject.official_accounts):
                norm = normalise_handle(handle)
                includes.setdefault("@" + norm, set()).add(index)
                handles.add("@" + norm)
                self._reply_handles.setdefault(norm, set()).add(index)
            for account in subject.official_accounts:
                norm = normalise_handle(account)
                entry = self._official.setdefault(norm, (set(), account))
                entry[0].add(index)
        self._automaton = ahocorasick.Automaton()
        for pattern in set(includes) | set(excludes):
            self._automaton.add_word(
                pattern,
                _Pattern(
                    length=len(pattern),
                    # "#tag" and "@handle" must not follow a letter either ("a@acme").
                    check_start=_is_word_char(pattern[0]) or pattern[0] in "#@",
                    check_end=_is_word_char(pattern[-1]),
                    handle=pattern in handles,
                    includes=tuple(sorted(includes.get(pattern, ()))),
                    excludes=tuple(sorted(excludes.get(pattern, ()))),
                ),
            )
        self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.names)

    def search_terms(self) -> SearchTerms:
        """What connectors may ask the network for (see :class:`earful.ingest.base.SearchTerms`)."""

        def unique(values: Iterable[str]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(values))

        subjects = self.config.subjects
        langs = unique(lang for s in subjects for lang in s.languages)
        return SearchTerms(
            terms=unique(t for s in subjects for t in (*s.terms, *s.phrases)),
            hashtags=unique(h.lstrip("#") for s in subjects for h in s.hashtags),
            handles=unique(h.lstrip("@") for s in subjects for h in s.handles),
            official_accounts=unique(a.lstrip("@") for s in subjects for a in s.official_accounts),
            # Any subject without a language filter means every language is wanted.
            languages=langs if all(s.languages for s in subjects) else (),
        )

    def match_text(self, text: str, *, lang: str | None = None) -> tuple[str, ...]:
        """Subjects whose terms, hashtags or handles occur in ``text``."""
        included, excluded = self._scan(normalise(text))
        return self._finish(included - excluded, lang)

    def match(
        self,
        text: str,
        *,
        author_handle: str | None = None,
        lang: str | None = None,
        hashtags: Iterable[str] = (),
        reply_to_handle: str | None = None,
    ) -> Match:
        """The subjects a post is about, given its text and what the source tells."""
        included, excluded = self._scan(normalise(text))
        for tag in hashtags:
            included.update(self._tags.get(normalise(tag).lstrip("#"), ()))
        if reply_to_handle:
            included.update(self._reply_handles.get(normalise_handle(reply_to_handle), ()))
        subjects = set(self._finish(included - excluded, lang))
        official = self._official.get(normalise_handle(author_handle)) if author_handle else None
        if official is not None:
            subjects.update(self.names[i] for i in official[0])
        if not subjects:
            return NO_MATCH
        ordered = tuple(name for name in self.names if name in subjects)
        if official is None:
            return Match(subjects=ordered)
        return Match(subjects=ordered, official=True, official_account=official[1])

    def official_subjects(self, author_handle: str | None) -> tuple[tuple[str, ...], str | None]:
        """The subjects ``author_handle`` is an official account of, and the account's name
        as configured; ``((), None)`` when it is none."""
        official = self._official.get(normalise_handle(author_handle)) if author_handle else None
        if official is None:
            return (), None
        return tuple(self.names[i] for i in sorted(official[0])), official[1]

    def _scan(self, norm: str) -> tuple[set[int], set[int]]:
        included: set[int] = set()
        excluded: set[int] = set()
        size = len(norm)
        for end, pattern in self._automaton.iter(norm):
            start = end - pattern.length + 1
            if pattern.check_start and start > 0 and _is_word_char(norm[start - 1]):
                continue
            after = end + 1
            if after < size:
                if pattern.check_end and _is_word_char(norm[after]):
                    continue
                if (
                    pattern.handle
                    and norm[after] in ".@-"
                    and after + 1 < size
                    and _is_word_char(norm[after + 1])
                ):
                    continue
            included.update(pattern.includes)
            excluded.update(pattern.excludes)
        return included, excluded

    def _finish(self, hits: set[int], lang: str | None) -> tuple[str, ...]:
        if not hits:
            return ()
        primary = lang.replace("_", "-").split("-")[0].lower() if lang else None
        return tuple(
            self.names[i]
            for i in sorted(hits)
            if primary is None or not self._languages[i] or primary in self._languages[i]
        )

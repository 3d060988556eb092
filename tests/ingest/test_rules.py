"""Tracking rules: configuration errors with lines, matching semantics, property tests."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earful.errors import ConfigError
from earful.ingest.rules import (
    SubjectRule,
    TrackingConfig,
    TrackingRules,
    load_tracking,
    normalise,
    parse_tracking,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tracking.yaml"

YAML = """\
subjects:
  - name: acme
    terms: [acme, acme cloud]
    phrases: ["is acme down"]
    hashtags: [acmedown]
    handles: [acme, acme.bsky.social]
    official_accounts: [acmestatus]
    exclude: [acme anvil]
  - name: acme-pay
    terms: [acme pay, acmepay]
    languages: [en, pt-BR]
"""


@pytest.fixture(scope="module")
def rules() -> TrackingRules:
    return TrackingRules(parse_tracking(YAML))


def rules_of(*subjects: SubjectRule) -> TrackingRules:
    return TrackingRules(TrackingConfig(subjects=subjects))


# -- configuration ----------------------------------------------------------------


def test_example_tracking_file_loads_with_acme_and_acme_pay() -> None:
    rules = load_tracking(EXAMPLE)
    assert rules.names == ("acme", "acme-pay")
    assert rules.match("all systems operational", author_handle="acmestatus").official


def test_toml_file_gives_the_same_rules_as_yaml(tmp_path: Path) -> None:
    path = tmp_path / "tracking.toml"
    path.write_text(
        '[[subjects]]\nname = "acme"\nterms = ["acme"]\nofficial_accounts = ["acmestatus"]\n'
        '\n[[subjects]]\nname = "acme-pay"\nterms = ["acme pay"]\n',
        encoding="utf-8",
    )
    rules = load_tracking(path)
    assert rules.match_text("Acme Pay is down") == ("acme", "acme-pay")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("subjects:\n  - name: acme\n    terms: [acme]\n    colour: red\n", 4, "colour"),
        ("subjects:\n  - name: acme\n    terms: [acme, '!!']\n", 3, "no letter or digit"),
        ("subjects:\n  - name: acme\n    handles: ['two words']\n", 3, "without spaces"),
        ("subjects:\n  - name: acme\n    hashtags: ['#a b']\n", 3, "one word"),
        ("subjects:\n  - name: acme\n    languages: [english]\n", 3, "not a language tag"),
        ("subjects:\n  - name: acme\n    languages: [en]\n", 2, "could never match"),
        ("subjects:\n  - name: 'a/b'\n    terms: [x]\n", 2, "subject name"),
        ("subjects:\n  - name: x\n    terms: [x]\n  - name: X\n    terms: [y]\n", 4, "twice"),
        ("subjects:\n  - name: x\n    terms: [x\n", 4, "expected"),
        ("subjects:\n  - name: x\n    name: y\n", 3, "repeated"),
        ("subjects: []\n", 1, "at least one subject"),
    ],
)
def test_bad_yaml_names_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_tracking(text, filename="t.yaml")
    message = str(info.value)
    assert f"t.yaml line {line}" in message
    assert reason in message


def test_bad_toml_names_line_and_subject() -> None:
    text = '[[subjects]]\nname = "ok"\nterms = ["ok"]\n\n[[subjects]]\nname = "x"\nterms = [""]\n'
    with pytest.raises(ConfigError, match=r"t.toml line 7: subjects\[1\] \(x\)\.terms"):
        parse_tracking(text, filename="t.toml", toml=True)


def test_toml_syntax_error_has_line() -> None:
    with pytest.raises(ConfigError, match=r"line 2"):
        parse_tracking('[[subjects]]\nname = "x\n', filename="t.toml", toml=True)


def test_missing_and_non_mapping_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_tracking(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        parse_tracking("- just a list\n")


# -- matching ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is ACME down?", ("acme",)),
        ("acme's login page 500s", ("acme",)),
        ("ACME-pay declined my card", ("acme",)),  # "acme" is a whole word here
        ("Acme   Pay\nbroken", ("acme", "acme-pay")),  # white space folded
        ("Ａｃｍｅ Ｐａｙ broken", ("acme", "acme-pay")),  # fullwidth forms (NFKC)
        ("acmestatus says all good", ()),  # not a whole word
        ("the acme anvil fell", ()),  # excluded for acme
        ("#AcmeDown again", ("acme",)),
        ("#acmedowntime is a different tag", ()),
        ("@acme help", ("acme",)),
        ("acmeが落ちた", ("acme",)),  # next to Japanese, where words have no spaces
        ("nothing to see", ()),
    ],
)
def test_match_text(rules: TrackingRules, text: str, expected: tuple[str, ...]) -> None:
    assert rules.match_text(text) == expected


def test_handle_does_not_match_a_longer_handle() -> None:
    rules = rules_of(SubjectRule(name="acme", handles=("acme",)))
    assert rules.match_text("@acme is down") == ("acme",)
    assert rules.match_text("@acme.bsky.social is down") == ()
    assert rules.match_text("@acme@mastodon.social is down") == ()
    assert rules.match_text("mail bob@acme please") == ()
    assert rules.match_text("@acme.") == ("acme",)  # a full stop ends the sentence


def test_exclude_only_removes_its_own_subject() -> None:
    rules = rules_of(
        SubjectRule(name="a", terms=("delta",), exclude=("delta variant",)),
        SubjectRule(name="b", terms=("delta",)),
    )
    assert rules.match_text("the delta variant") == ("b",)
    assert rules.match_text("delta flights delayed") == ("a", "b")


def test_languages_filter_only_declared_languages(rules: TrackingRules) -> None:
    assert rules.match_text("acme pay down", lang="en-GB") == ("acme", "acme-pay")
    assert rules.match_text("acme pay caiu", lang="pt_BR") == ("acme", "acme-pay")
    assert rules.match_text("acme pay est en panne", lang="fr") == ("acme",)
    assert rules.match_text("acme pay ???", lang=None) == ("acme", "acme-pay")


def test_official_account_matches_without_terms_and_ignores_excludes(rules: TrackingRules) -> None:
    result = rules.match("We are investigating the acme anvil issue", author_handle="@AcmeStatus")
    assert result.subjects == ("acme",)
    assert result.official and result.official_account == "acmestatus"
    assert not rules.match("acme is down", author_handle="someone").official


def test_source_hashtags_and_replies_match(rules: TrackingRules) -> None:
    assert rules.match("so annoying", hashtags=("#AcmeDown",)).subjects == ("acme",)
    assert rules.match("still broken for me", reply_to_handle="acmestatus").subjects == ("acme",)
    assert rules.match("still broken", reply_to_handle="acme.bsky.social").subjects == ("acme",)
    assert rules.match("still broken", reply_to_handle="other").subjects == ()


def test_search_terms_collect_every_subject(rules: TrackingRules) -> None:
    terms = rules.search_terms()
    assert terms.terms == ("acme", "acme cloud", "is acme down", "acme pay", "acmepay")
    assert terms.hashtags == ("acmedown",)
    assert terms.official_accounts == ("acmestatus",)
    assert terms.languages == ()  # acme has no language filter: every language is wanted


# -- properties -------------------------------------------------------------------

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=2, max_size=8)
_separator = st.sampled_from([" ", "  ", "\n", ", ", ". ", "!", "?", " (", ") ", "'", '"', "-"])
_filler = st.lists(st.sampled_from(["the", "app", "is", "down", "x1", "ok", "ü", "é"]), max_size=5)


def _reference(subjects: list[tuple[list[str], list[str]]], text: str) -> tuple[int, ...]:
    """A plain-regex oracle for ASCII terms: include minus exclude, whole words.

    Word characters are Unicode-aware (``\\w``), as in the matcher: "00ü" holds
    no whole word "00".
    """
    folded = re.sub(r"\s+", " ", text.lower()).strip()

    def found(term: str) -> bool:
        pattern = r"(?<!\w)" + re.escape(term) + r"(?!\w)"
        return re.search(pattern, folded) is not None

    return tuple(
        i
        for i, (includes, excludes) in enumerate(subjects)
        if any(found(t) for t in includes) and not any(found(t) for t in excludes)
    )


@settings(max_examples=300, deadline=None)
@given(
    subjects=st.lists(
        st.tuples(
            st.lists(st.lists(_word, min_size=1, max_size=2).map(" ".join), min_size=1, max_size=3),
            st.lists(st.lists(_word, min_size=1, max_size=2).map(" ".join), max_size=2),
        ),
        min_size=1,
        max_size=6,
    ),
    pieces=st.lists(st.one_of(_word, _separator, _filler.map(" ".join)), max_size=12),
    picks=st.lists(st.integers(min_value=0, max_value=100), max_size=4),
)
def test_matcher_agrees_with_a_regex_oracle(
    subjects: list[tuple[list[str], list[str]]], pieces: list[str], picks: list[int]
) -> None:
    # Splice some configured terms into the text so matches are common, not rare.
    all_terms = [t for inc, exc in subjects for t in (*inc, *exc)]
    for pick in picks:
        pieces.insert(pick % (len(pieces) + 1), " " + all_terms[pick % len(all_terms)] + " ")
    text = "".join(pieces)
    rules = rules_of(
        *(
            SubjectRule(name=f"s{i}", terms=tuple(inc), exclude=tuple(exc))
            for i, (inc, exc) in enumerate(subjects)
        )
    )
    expected = tuple(f"s{i}" for i in _reference(subjects, text))
    assert rules.match_text(text) == expected


@settings(max_examples=200, deadline=None)
@given(term=_word, before=_word, after=_word)
def test_a_term_inside_a_longer_word_never_matches(term: str, before: str, after: str) -> None:
    rules = rules_of(SubjectRule(name="s", terms=(term,)))
    assert rules.match_text(f"{before}{term}{after}") == ()
    assert rules.match_text(f"{before} {term.upper()}, {after}") == ("s",)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80), term=_word)
def test_matching_is_invariant_under_nfkc_and_case(text: str, term: str) -> None:
    rules = rules_of(SubjectRule(name="s", terms=(term,)))
    body = f"{text} {term} {text}"
    expected = rules.match_text(body)
    assert rules.match_text(unicodedata.normalize("NFKC", body)) == expected
    assert rules.match_text(body.casefold()) == expected
    assert rules.match_text(f"{text} {term.upper()} {text}") == expected


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=120))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once

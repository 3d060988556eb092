"""Outage-report detection and its specifics, on realistic service-outage posts."""

from __future__ import annotations

import re

import pytest

from earful.analyze import outage as o
from earful.analyze.cues import default_scanner
from earful.analyze.gazetteer import default_gazetteer
from earful.analyze.outage import REPORT_THRESHOLD, analyze_outage, find_error_codes
from earful.events import OutageAnalysis


def outage(text: str) -> OutageAnalysis:
    return analyze_outage(text, default_scanner().scan(text), default_gazetteer())


# (post, symptoms expected, platforms expected, places expected, error codes expected)
REPORTS = [
    ("Is acme down?", (), (), (), ()),
    ("acme outage", (), (), (), ()),
    ("can't log in to acme", ("login",), (), (), ()),
    ("acme app keeps crashing on my iPhone", ("app_crash",), ("ios",), (), ()),
    ("acme payments failing since 9am, card declined twice", ("payments",), (), (), ()),
    (
        "acme website won't load in Firefox, 502 Bad Gateway",
        ("website",),
        ("web",),
        (),
        ("HTTP 502",),
    ),
    ("acme API returning HTTP 503 to all our webhooks", ("api",), (), (), ("HTTP 503",)),
    ("no signal in Manchester since this morning", ("connectivity",), (), ("Manchester",), ()),
    ("parcel never arrived, acme tracking not working", ("delivery",), (), (), ()),
    ("power cut across Leeds, no electricity since 6am", ("power",), (), ("Leeds",), ()),
    (
        "trains cancelled between Utrecht and Amsterdam",
        ("transit",),
        (),
        ("Utrecht", "Amsterdam"),
        (),
    ),
    (
        "acme desktop app on Windows 11 crashes with 0x80070005",
        ("app_crash",),
        ("desktop",),
        (),
        ("0x80070005",),
    ),
    ("cant sign in on android, error AUTH-401", ("login",), ("android",), (), ("AUTH-401",)),
    ("acme down in Reading, is it just me?", (), (), ("Reading",), ()),
    (
        "Getting ERR_CONNECTION_RESET on acme.com",
        ("connectivity",),
        (),
        (),
        ("ERR_CONNECTION_RESET",),
    ),
    ("acme storing in Rotterdam, kan niet inloggen", ("login",), (), ("Rotterdam",), ()),
    ("Stromausfall in München, kein Netz", ("power", "connectivity"), (), ("Munich",), ()),
    ("acme est en panne à Paris", (), (), ("Paris",), ()),
    ("acme no funciona en Madrid, no puedo entrar", ("login",), (), ("Madrid",), ()),
    ("acme está fora do ar em São Paulo", (), (), ("São Paulo",), ()),
]

NOT_REPORTS = [
    "I love the new acme app",
    "calm down, it's just a logo change",
    "no outage here, acme works fine",
    "acme isn't down for me",
    "acme is back up, thanks for the quick fix!",
    "Police helicopter crashes into packed Glasgow pub",
    "reading the acme docs on my phone, nice work on the new mobile site",
    "Write that down.",
    "Thanks for the help, acme support",
    "acme quarterly results are out",
]


@pytest.mark.parametrize(("text", "symptoms", "platforms", "places", "codes"), REPORTS)
def test_outage_reports_with_their_specifics(
    text: str,
    symptoms: tuple[str, ...],
    platforms: tuple[str, ...],
    places: tuple[str, ...],
    codes: tuple[str, ...],
) -> None:
    result = outage(text)
    assert result.is_report, result
    assert result.confidence >= REPORT_THRESHOLD
    assert set(symptoms) <= set(result.symptoms), result.symptoms
    assert set(platforms) <= set(result.platforms), result.platforms
    assert result.places == places
    assert result.error_codes == codes


@pytest.mark.parametrize("text", NOT_REPORTS)
def test_posts_that_are_not_outage_reports(text: str) -> None:
    result = outage(text)
    assert not result.is_report, result
    assert result.confidence < REPORT_THRESHOLD


def test_more_evidence_means_more_confidence() -> None:
    bare = outage("acme error").confidence
    stronger = outage("acme is down, error 503").confidence
    strongest = outage("acme is down, login not working on iOS, error 503").confidence
    assert bare < stronger < strongest


def test_no_specifics_without_evidence() -> None:
    # "app", "iPhone" and "London" are named, but nothing is reported broken.
    result = outage("Loving the acme app on my iPhone in London")
    assert (result.symptoms, result.platforms, result.places) == ((), (), ())


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("status code: 500 on every request", ("HTTP 500",)),
        ("got a 504 gateway timeout", ("HTTP 504",)),
        ("error 404 on the help page", ("HTTP 404",)),
        ("500 people were there", ()),
        ("iPhone 15 and Windows 11", ()),
        ("COVID-19 update", ()),
        ("error code 1234 when paying", ("1234",)),
        ("DNS_PROBE_FINISHED_NXDOMAIN again", ("DNS_PROBE_FINISHED_NXDOMAIN",)),
        ("MY_FAVOURITE_THING is here", ()),
        ("update failed 0x80070005", ("0x80070005",)),
    ],
)
def test_error_codes(text: str, codes: tuple[str, ...]) -> None:
    assert find_error_codes(text, with_failure=False) == codes


@pytest.mark.parametrize(
    "text",
    [
        "Nice work, acme",
        "Reading the release notes now",
        "Mobile app looks great",
        "Split the bill with acme pay",
        "US customers only",
    ],
)
def test_everyday_words_are_not_places(text: str) -> None:
    assert default_gazetteer().find(default_scanner().scan(text).normalised, text) == ()


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("outage in Nice", ("Nice",)),
        ("down in Mobile, AL", ("Mobile",)),
        ("no signal in the UK", ("United Kingdom",)),
        ("power cut in new york and texas", ("New York", "Texas")),
        ("outage across NYC", ("New York City",)),
        ("kein Netz in Bayern", ("Bavaria",)),
    ],
)
def test_places(text: str, places: tuple[str, ...]) -> None:
    assert default_gazetteer().find(default_scanner().scan(text).normalised, text) == places


def test_http_look_ahead_holds_every_case_of_the_first_letters() -> None:
    # The HTTP pattern's look-ahead is written out in both cases; it must hold every
    # character that the case-blind class would, or some codes would be missed.
    import re

    from earful.analyze import outage

    case_blind = {
        chr(code)
        for code in range(0x110000)
        if re.fullmatch(r"(?i:[hescgrt45])", chr(code)) is not None
    }
    assert set(outage._HTTP_FIRST) == case_blind
    assert find_error_codes("\u017ftatus 503 on login", True) == ("HTTP 503",)


def test_code_look_aheads_hold_every_case_of_the_first_letters() -> None:
    # "e" and "c", "e", "f" are the only letters the case-blind words start with; the
    # look-aheads are written out, so they must hold every character (?i:) would match.
    import re

    from earful.analyze import outage

    def case_blind(letters: str) -> set[str]:
        return {
            chr(code)
            for code in range(0x110000)
            if re.fullmatch(rf"(?i:[{letters}])", chr(code)) is not None
        }

    assert case_blind("e") == {"e", "E"}
    assert case_blind("cef") == set("CEFcef")
    assert outage._ERROR_CONTEXT.pattern.startswith("(?=[CEFcef])")
    assert find_error_codes("Error Code: ab-1234", False) == ("AB-1234",)


def test_the_code_prechecks_agree_with_their_patterns() -> None:
    texts = [
        "",
        "no digits here",
        "ERR_X",
        "error 7",
        "Error  Code 12",
        "ERROR\tcode",
        "eRrOr CoDe 9",
        "errorcode 5",
        "\u0130 error code",
        "\u212a code 404",
        "\u0663\u0664",
        "x_y",
    ]
    for text in texts:
        assert o._may_hold_code(text) == (re.search(r"[0-9_]", text) is not None), text
        assert ("error" in text.lower() and o._MAY_HOLD_AFTER_ERROR.search(text) is not None) == (
            o._MAY_HOLD_AFTER_ERROR.search(text) is not None
        ), text
    for letter in "ercod":
        pattern = re.compile(f"(?i:{letter})")
        assert {chr(c) for c in range(0x110000) if pattern.fullmatch(chr(c))} == {
            letter,
            letter.upper(),
        }


def test_the_underscore_check_agrees_with_its_pattern() -> None:
    texts = [
        "",
        "_",
        "__",
        "_A",
        "A_",
        "A_B",
        "a_B",
        "A_b",
        "A__B",
        "9_9",
        "@acme_help is down",
        "@ACME_HELP is down",
        "ERR_CONNECTION_RESET on every page",
        "x_y_Z_1",
        "\u00c9_\u00c9",
        "A_\u0661",
        "\uff21_\uff22",
        "trailing A_",
        "_leading B",
    ]
    found = 0
    for text in texts:
        expected = o._UNDERSCORED_CODE.search(text) is not None
        assert o._has_underscored_code(text) == expected, text
        found += expected
    assert found == 5


def test_every_code_with_an_underscore_passes_the_underscore_check() -> None:
    # find_error_codes skips _CODE when no underscore has a capital or a digit on
    # both sides (and no other pre-check holds): every match holding "_" needs one.
    texts = [
        "ERR_NAME_NOT_RESOLVED again",
        "DNS_PROBE_FINISHED_NXDOMAIN",
        "AUTH_401 on login",
        "Q_1234 error",
        "X_12 and Y-1234",
        "@acme_help E_500",
        "@acme_help is down",
        "snake_case_name",
        "_LEADING and TRAILING_",
        "A_\u0661\u0662\u0663",
    ]
    with_underscore = 0
    for text in texts:
        for match in o._CODE.finditer(text):
            if "_" in match.group():
                with_underscore += 1
                assert o._has_underscored_code(text), text
        if not o._has_underscored_code(text):
            assert all("_" not in m.group() for m in o._CODE.finditer(text)), text
    assert with_underscore >= 5

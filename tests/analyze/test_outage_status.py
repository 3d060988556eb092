"""Outage reports on how the public writes them: status, tense, other senses, service phrasings.

Every post here was written for this test (none is taken from a data set).
"""

from __future__ import annotations

import pytest

from earful.analyze.cues import default_scanner
from earful.analyze.outage import analyze_outage
from earful.events import OutageAnalysis


def outage(text: str) -> OutageAnalysis:
    return analyze_outage(text, default_scanner().scan(text), None)


# Service-specific ways of saying something does not work.
SERVICE_REPORTS = [
    "acme website throwing 503s since lunch",
    "emails from acme not arriving for the past two hours",
    "the acme transfer page just spins",
    "water supply cut off on our street",
    "acme keeps telling me it's over capacity",
    "the acme API is dead but the website works",
    "transfer stuck pending for 20 hours @acmebank",
    "@acmecable internet is not working again",
    "acme app won't load on my phone",
    "acme is so slow today, pages take forever to load",
    "my card keeps getting declined on acme checkout",
    "acme payment won't go through, tried three cards",
    "acme app keeps freezing after the update",
    "is acme down for anyone else?",
    "does anyone know if acme is down? cant get in",
    "trains cancelled this morning due to a signal failure",
    "got it fixed yesterday but now the app won't open again",
    "still not fixed, acme support",
    "@acmecable internet has been out since 6am",
    "400 members are experiencing an outage, crews are working to restore service",
    "Power outage impacts more than 1,700 customers in the north end",
    "The office email is down, thank god",
    "can't get on msn, anyone else?",
    "Whole neighborhood is dark, transformer blew",
    "the carrier dropped my call 4 times today",
    "the music app keeps pausing by itself",
    "whatsapp messages aren't sending",
    "my texts aren't going through",
    "anyone else in Tempe lose power just now?",
    "lights just went out in the whole building",
    "the transit app won't show any departures this morning",
]

# The same words in another sense, or the failure is planned, forecast, imagined or over.
NOT_REPORTS = [
    "I'm feeling down today",
    "I'm so down again, need a hug",
    "acme stock is down 3% today",
    "$ACME shares crashed after earnings",
    "the marathon route goes down Main Street",
    "come on down to our store this Saturday!",
    "acme broke the record for fastest delivery",
    "pre-planned power outage on Monday due to pole replacement",
    "scattered power outages possible overnight as the storm arrives",
    "acme will be down for maintenance tomorrow at 2pm",
    "SOLVED",
    "my internet was down yesterday, now I'm back on",
    "power is back, thank you crews",
    "imagine if the acme app crashed during the final",
    "prepare for power outages this weekend: charge your phones",
    "crash course in python tonight",
    "I'm broke until payday",
    "my phone is dead lol",
    "acme cancelled my order twice this week",
    "my parcel never arrived @acme",
    "Power has been restored to all customers in the Elm Street area. Thank you for your patience.",
    "UPDATE: the outage affecting downtown has been resolved",
    "Our website will be unavailable Sunday 2am-4am for scheduled upgrades",
    "Winter storm warning: outages likely across the county",
    "Tips for staying safe during a power outage",
    "If the internet went down for a week I would actually read books",
    "I hope the power doesn't go out during the game",
    "Bitcoin is down 12% this week",
    "The boss went down in two hits lol",
    "Fell asleep on the couch, totally crashed",
    "My car broke down on the highway again",
    "I dropped my phone and the screen is cracked",
    "A tree came down in our backyard during the storm",
    "Not working today, enjoying the sun",
    "There's a bug in my room and I can't sleep",
    "My account got suspended for no reason @acme",
    "Forgot my password again, resetting it now",
    "The driver cancelled my ride twice @acme",
    "Wow this game is lagging behind its competitors in features",
    "Traffic is so slow on the 405 today",
    "lol my brain stopped working after that exam",
    "My heart is broken after that ending",
    "back when the power went out every summer we played cards by candlelight",
    "the acme app crashed all the time last year",
    "this one time the office internet was down for a whole week",
    "the driver cancelled on me again",
    "I forgot my password and got locked out",
    "I ran out of data so no internet till Friday",
    "weekend internet detox, no wifi till Monday",
    "my code keeps throwing errors, I'm terrible at this",
    "the party crashed and burned at midnight",
]


@pytest.mark.parametrize("text", SERVICE_REPORTS)
def test_service_specific_reports(text: str) -> None:
    result = outage(text)
    assert result.is_report, f"{text!r}: {result.confidence}"


@pytest.mark.parametrize("text", NOT_REPORTS)
def test_other_senses_plans_forecasts_and_resolved_posts(text: str) -> None:
    result = outage(text)
    assert not result.is_report, f"{text!r}: {result.confidence}"


def test_a_forecast_ranks_below_the_same_failure_told_as_now() -> None:
    assert (
        outage("power outages possible tonight").confidence
        < outage("power outage on our street right now").confidence
    )


def test_a_resolved_post_is_not_a_report() -> None:
    assert not outage("acme was down this morning, working again now").is_report
    assert not outage("my internet was down earlier but it's back now").is_report


def test_asking_if_something_is_down_is_a_report_but_if_it_goes_down_is_not() -> None:
    assert outage("anyone know if acme is down?").is_report
    assert not outage("if acme goes down during the launch we lose sales").is_report


def test_a_weak_failure_word_is_not_enough_alone() -> None:
    assert not outage("@acme they failed to answer my question").is_report
    assert not outage("the error was mine, sorry").is_report


def test_symptoms_from_service_phrasings() -> None:
    assert "payments" in outage("transfer stuck pending for 20 hours").symptoms
    assert "website" in outage("acme keeps saying it's over capacity").symptoms
    assert outage("acme throwing 503s").error_codes == ("HTTP 503",)


def test_a_recovery_only_wished_for_is_no_recovery() -> None:
    assert outage("acme app crashes, I removed it until this is fixed").is_report
    assert not outage("acme app crashed but it is fixed now").is_report


@pytest.mark.parametrize(
    "text",
    [
        "@acmehelp still seeing the issue after the reset",
        "it keeps happening, the acme app logs me out every hour",
        "I removed the acme app until this is fixed",
    ],
)
def test_support_thread_replies_that_it_still_fails(text: str) -> None:
    assert outage(text).is_report

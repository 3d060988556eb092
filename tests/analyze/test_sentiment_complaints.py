"""Complaint-aware sentiment: complaints to a company read as negative, however politely put.

Every post here was written for this test (none is taken from a data set).
"""

from __future__ import annotations

import pytest

from earful.analyze.scoring import Scorer


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(cache_size=0, gazetteer=None)


COMPLAINTS = [
    "@acmeair please help, my flight was cancelled and I have been on hold for 2 hours",
    "thanks for nothing @acme",
    "@acme still waiting for my refund, 3 weeks now",
    "@acme I have been waiting on hold for 45 minutes. Please call me back",
    "@acmeair you lost my bag and nobody can tell me where it is",
    "@acme cancelled my subscription and still charged me",
    "@acmeair missed my connection because of your delay",
    "@acme 3rd time asking for a refund. please respond",
    "@acme hung up on me twice",
    "@acme how long does a refund take? it has been 6 weeks",
    "@acme can someone please help me, my order was cancelled and I was charged",
    "@acme thank you for ignoring my emails for a week",
    "@acmeair thanks for stranding me overnight",
    "@acmeair rebooked me on a flight in 2 days, how is that acceptable",
    "@acmeair so much for on-time arrivals",
    "@acme your phone line keeps hanging up on me",
    "@acmeair another delay? you can't be serious",
    "@acme I have been on the phone with you for 2 hours",
    "@acme transfer still pending after 4 days",
    "@acme called 4 times today",
    "@acme why was I charged for a carry on?",
    "@acmeair you let 20 people board before families with kids. really?",
    "@acme the technician never showed up",
    "@acme do you even read your DMs?",
    "@acmerail the 7:15 is late every morning this week",
    "@acmeair no vegetarian meal even though I requested one",
    "@acme I'd like to speak to someone who can actually help",
]

NOT_COMPLAINTS = [
    ("@acmeair how do I change my seat?", "neutral"),
    ("@acme can I bring my dog on board?", "neutral"),
    ("@acme thank you for the great service!", "positive"),
    ("@acme the crew on my flight were amazing", "positive"),
    ("@acme thanks for the quick reply, all sorted", "positive"),
    ("@acme thanks for helping me rebook so fast!", "positive"),
    ("@acmeair arrived 30 minutes early and the crew were lovely", "positive"),
    ("@acmeair which terminal do you use at JFK?", "neutral"),
]


@pytest.mark.parametrize("text", COMPLAINTS)
def test_complaints_are_negative(scorer: Scorer, text: str) -> None:
    sentiment = scorer.score(text).sentiment
    assert sentiment is not None
    assert sentiment.label == "negative", f"{text!r}: {sentiment.compound}"


@pytest.mark.parametrize(("text", "label"), NOT_COMPLAINTS)
def test_questions_and_praise_keep_their_label(scorer: Scorer, text: str, label: str) -> None:
    sentiment = scorer.score(text).sentiment
    assert sentiment is not None
    assert sentiment.label == label, f"{text!r}: {sentiment.compound}"


def test_politeness_counts_only_inside_a_complaint(scorer: Scorer) -> None:
    polite = scorer.score("please help me choose a seat, thanks!").sentiment
    complaint = scorer.score("please help, still waiting for my refund, thanks").sentiment
    assert polite is not None and complaint is not None
    # No complaint: VADER's compound is kept exactly.
    assert polite.compound == polite.vader.compound
    assert complaint.compound < 0 < complaint.vader.compound


def test_vaders_raw_scores_stay_in_the_record(scorer: Scorer) -> None:
    sentiment = scorer.score("thanks for nothing @acme").sentiment
    assert sentiment is not None
    assert sentiment.vader.compound > 0 > sentiment.compound


def test_other_senses_of_failure_words_carry_no_failure_valence(scorer: Scorer) -> None:
    # Plain VADER reads both as neutral; "is down" must not make them complaints.
    for text in ("acme stock is down 3% today", "the parade goes down Main Street"):
        sentiment = scorer.score(text).sentiment
        assert sentiment is not None
        assert sentiment.compound == sentiment.vader.compound, text


def test_a_recovery_only_wished_for_is_no_good_news(scorer: Scorer) -> None:
    waiting = scorer.score("I removed the acme app until this is fixed").sentiment
    assert waiting is not None
    assert waiting.label != "positive"


@pytest.mark.parametrize(
    "text",
    [
        "@acmeair can you help me change my flight?",
        "@acme could you please help me with my booking",
        "@acme how do I get a receipt? thanks",
        "@acme please follow me so I can DM you the details",
    ],
)
def test_polite_requests_are_neutral(scorer: Scorer, text: str) -> None:
    sentiment = scorer.score(text).sentiment
    assert sentiment is not None
    assert sentiment.vader.compound > 0.05
    assert sentiment.label == "neutral", f"{text!r}: {sentiment.compound}"


@pytest.mark.parametrize(
    "text",
    [
        "packing for several days in Italy",
        "I have tweeted 6000 times",
        "why is the sky blue?",
    ],
)
def test_durations_and_why_questions_count_only_when_put_to_an_account(
    scorer: Scorer, text: str
) -> None:
    # Not said to an account: a plan, a count, a curious question. VADER's compound is kept.
    sentiment = scorer.score(text).sentiment
    assert sentiment is not None
    assert sentiment.compound == sentiment.vader.compound, text
    addressed = scorer.score(f"@acme {text}").sentiment
    assert addressed is not None
    assert addressed.compound < sentiment.compound, text

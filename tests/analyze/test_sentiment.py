"""Earful's incident-aware sentiment on realistic posts, class by class."""

from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from earful.analyze.scoring import Scorer, label_for
from earful.analyze.sentiment import squash, unsquash


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(cache_size=0)


@pytest.fixture(scope="module")
def vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


# The examples: plain VADER 3.3.2 calls these neutral (or positive).
VADER_BLIND = [
    "Is acme down?",
    "acme outage",
    "can't log in to acme",
    "acme not working",
    "acme app keeps crashing",
    "acme is down 😂😂",
]

COMPLAINTS = [
    "still waiting for my refund from acme, 3 weeks now",
    "acme support put me on hold for an hour, no response, unacceptable",
    "acme charged me twice and nobody is answering",
    "cancelling my subscription, acme has been broken all week",
    "acme checkout keeps timing out, fix it",
    "@acme_help why is my order still not delivered??",
    "acme down again. every week. 😡",
]

OUTAGES = [
    "is acme down for anyone else?",
    "acme outage in London, nothing loads",
    "acme payments failing on iOS since 9am, error E-4012",
    "cant login to acme on android, keeps saying AUTH-401",
    "acme api returning 503 Service Unavailable for all our requests",
    "getting ERR_CONNECTION_RESET on the acme website in Chrome",
    "no signal in Manchester since the acme maintenance",
    "power cut across Leeds again, no electricity since 6am",
    "trains cancelled between Utrecht and Amsterdam, signal failure",
    "#AcmeDown",
]

PRAISE_AFTER_RECOVERY = [
    "acme is back up, thanks for the quick fix!",
    "Everything working again, great job acme team",
    "Power is back, thank you to the crews who worked all night",
    "acme back online 🎉 love you guys",
]

SARCASM = [
    "acme is down 😂😂",
    "acme is down lol",
    "great, acme is down again. love it",
    "oh great, acme app keeps crashing. well done",
    "thanks a lot acme, payments failing on payday 🙃",
]

NEGATION = [
    "no problems with acme today",
    "acme isn't down for me, works fine",
    "no outage here, acme is fast as ever",
]

QUESTIONS = [
    "is acme down?",
    "anyone else having issues with acme?",
    "is it just me or is the acme app not loading?",
]

NON_ENGLISH = [
    ("acme ist schon wieder down, kann mich nicht einloggen", "de"),
    ("acme est en panne depuis ce matin, impossible de me connecter", "fr"),
    ("acme no funciona, no puedo entrar desde hace una hora", "es"),
    ("storing bij acme, kan niet inloggen", "nl"),
    ("o acme está fora do ar de novo, não consigo entrar", "pt"),
]


@pytest.mark.parametrize("text", VADER_BLIND)
def test_vader_blind_spots_are_negative(
    scorer: Scorer, vader: SentimentIntensityAnalyzer, text: str
) -> None:
    plain = vader.polarity_scores(text)["compound"]
    result = scorer.score(text)
    assert result.sentiment is not None
    assert plain >= 0.0  # the blind spot is real with this VADER
    assert result.sentiment.label == "negative"
    # The raw VADER scores travel along, untouched.
    assert result.sentiment.vader.compound == plain


@pytest.mark.parametrize("text", COMPLAINTS + OUTAGES + SARCASM + QUESTIONS)
def test_complaints_outages_sarcasm_and_worried_questions_are_negative(
    scorer: Scorer, text: str
) -> None:
    result = scorer.score(text)
    assert result.lang == "en"
    assert result.sentiment is not None
    assert result.sentiment.label == "negative", result.sentiment


@pytest.mark.parametrize("text", PRAISE_AFTER_RECOVERY)
def test_praise_after_recovery_is_positive(scorer: Scorer, text: str) -> None:
    result = scorer.score(text)
    assert result.sentiment is not None
    assert result.sentiment.label == "positive", result.sentiment


@pytest.mark.parametrize("text", NEGATION)
def test_negated_failures_are_not_complaints(scorer: Scorer, text: str) -> None:
    result = scorer.score(text)
    assert result.sentiment is not None
    assert result.sentiment.label != "negative", result.sentiment


@pytest.mark.parametrize(("text", "lang"), NON_ENGLISH)
def test_non_english_posts_are_unscored_with_a_reason(scorer: Scorer, text: str, lang: str) -> None:
    result = scorer.score(text)
    assert result.lang == lang
    assert result.sentiment is None
    assert result.unscored_reason is not None and lang in result.unscored_reason


def test_posts_without_incident_cues_keep_vaders_compound(
    scorer: Scorer, vader: SentimentIntensityAnalyzer
) -> None:
    for text in ["I love my new phone!", "Worst. Movie. Ever.", "The meeting is at 3pm."]:
        result = scorer.score(text)
        assert result.sentiment is not None
        assert result.sentiment.compound == vader.polarity_scores(text)["compound"]


def test_laughing_at_a_failure_turns_vaders_positive_around(
    scorer: Scorer, vader: SentimentIntensityAnalyzer
) -> None:
    text = "acme is down 😂😂"
    assert vader.polarity_scores(text)["compound"] > 0.5
    result = scorer.score(text)
    assert result.sentiment is not None and result.sentiment.compound < -0.3


def test_laughing_without_a_failure_stays_positive(scorer: Scorer) -> None:
    result = scorer.score("the new acme ad is hilarious 😂😂")
    assert result.sentiment is not None and result.sentiment.label == "positive"


def test_unsquash_inverts_vaders_normalisation() -> None:
    for total in (-12.0, -3.1, -0.2, 0.0, 0.4, 2.5, 9.0):
        assert unsquash(squash(total)) == pytest.approx(total, rel=1e-6, abs=1e-9)


def test_labels_use_vaders_thresholds() -> None:
    assert [label_for(c) for c in (-0.05, -0.049, 0.0, 0.049, 0.05)] == [
        "negative",
        "neutral",
        "neutral",
        "neutral",
        "positive",
    ]


# Posts to accounts whose handle VADER reads as a word ("united" +1.8, "nice" +1.8,
# "amazon" +0.7), with no incident or complaint cue: Earful's compound is VADER's on
# the post without the handle.
HANDLE_NAMED = [
    "@united the flight was fine!!",
    "@united thank you, great crew today",
    "@Amazon my order looks lovely",
    "@nice to see you at the match, but the pitch was awful",
    "@UNITED the seats are GOOD",
    "so sad to hear that @united",
    "@united @amazon what a week!!! loved it",
    ".@united what a view from the window seat!!",
]


@pytest.mark.parametrize("text", HANDLE_NAMED)
def test_a_handle_is_a_name_not_a_word(
    scorer: Scorer, vader: SentimentIntensityAnalyzer, text: str
) -> None:
    without = " ".join(w for w in text.split() if "@" not in w)
    assert vader.polarity_scores(text)["compound"] != vader.polarity_scores(without)["compound"]
    result = scorer.score(text)
    assert result.sentiment is not None
    assert result.sentiment.compound == pytest.approx(
        vader.polarity_scores(without)["compound"], abs=2e-4
    )


def test_a_handle_that_is_a_word_does_not_make_a_complaint_positive(
    scorer: Scorer, vader: SentimentIntensityAnalyzer
) -> None:
    text = "@united my bag is lost"
    assert vader.polarity_scores(text)["compound"] > 0.05
    result = scorer.score(text)
    assert result.sentiment is not None and result.sentiment.label == "negative"
    # A handle that is no word, and a word that is no handle, change nothing.
    for plain in ("@acme the flight was fine", "we united the two teams"):
        result = scorer.score(plain)
        assert result.sentiment is not None
        assert result.sentiment.compound == vader.polarity_scores(plain)["compound"]

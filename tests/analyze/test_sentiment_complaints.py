"""Complaint-aware sentiment: complaints to a company read as negative, however politely put.

Every post here was written for this test (none is taken from a data set).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from earful.analyze.cues import default_scanner
from earful.analyze.scoring import Scorer
from earful.analyze.sentiment import (
    _CHECKS,
    _HELP_GIVEN,
    _HYPOTHETICAL_PRAISE,
    _NAMED_WAIT,
    _WAITED,
    _checks_to_run,
    _may_name_a_wait,
    _may_tell_help_given,
    _may_wish_praise,
    _tells_a_wait,
)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(cache_size=0, gazetteer=None)


def assert_label(scorer: Scorer, text: str, label: str) -> None:
    sentiment = scorer.score(text).sentiment
    assert sentiment is not None
    assert sentiment.label == label, f"{text!r}: {sentiment.compound}"


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
    assert_label(scorer, text, label)


def test_politeness_counts_only_inside_a_complaint(scorer: Scorer) -> None:
    polite = scorer.score("please say hi to your sister, thanks!").sentiment
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


# Each rule below: complaints it turns negative, and praise and plain questions
# that keep their label. Every post was written for this test.


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # A plea for help is a request: neutral alone, negative with a problem told.
        ("@acme please help, my flight got cancelled", "negative"),
        ("@acme need help, still no refund after a month", "negative"),
        ("@acme please help me pick a seat for my son", "neutral"),
        ("@acme need help booking a group trip", "neutral"),
    ],
)
def test_pleas_for_help(scorer: Scorer, text: str, label: str) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # A rhetorical question to a company is a challenge.
        ("@acme how hard is it to answer an email", "negative"),
        ("@acme why would you charge me twice", "negative"),
        ("@acme are you kidding me", "negative"),
        ("@acme what is wrong with your app today", "negative"),
        # Plain questions stay neutral.
        ("@acme how long is the flight to Lisbon?", "neutral"),
        ("@acme what time does boarding start?", "neutral"),
    ],
)
def test_rhetorical_questions(scorer: Scorer, text: str, label: str) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Praise in the same sentence as a complaint put to a company is sarcasm.
        ("@acme thanks for the delay", "negative"),
        ("@acme great job losing my luggage", "negative"),
        ("@acme well done, third cancelled train this week", "negative"),
        # Praise without a complaint, or in another sentence, is praise.
        ("@acme thanks for the quick reply", "positive"),
        ("@acme great job on the new app", "positive"),
        ("@acme great crew on my flight today, thanks", "positive"),
    ],
)
def test_sarcastic_praise_beside_a_complaint(scorer: Scorer, text: str, label: str) -> None:
    assert_label(scorer, text, label)


def test_praise_in_another_sentence_than_a_weak_complaint_word_stays_praise(
    scorer: Scorer,
) -> None:
    # "twice" is a complaint word only weakly; the praise here is sincere.
    sentiment = scorer.score("@sam I saw them live twice and both times were fantastic").sentiment
    assert sentiment is not None
    assert sentiment.label == "positive", sentiment.compound


@pytest.mark.parametrize(
    "text",
    [
        "@acme is wifi free on your flights?",
        "@acme do you sell snacks on board? I'd like to buy one",
        "@acme is it ok to bring a stroller on board?",
    ],
)
def test_a_question_to_an_account_is_a_request(scorer: Scorer, text: str) -> None:
    # "free", "like", "ok" name a service or hedge in a question: no praise.
    sentiment = scorer.score(text).sentiment
    assert sentiment is not None
    assert sentiment.vader.compound >= 0.05
    assert sentiment.label == "neutral", f"{text!r}: {sentiment.compound}"


@pytest.mark.parametrize(
    "text",
    [
        "@acme thank you so much for finding my bag",
        "@acme thanks for getting me on the earlier flight after the cancellation!",
        "@acme the agent sorted out my refund in minutes, thank you",
    ],
)
def test_thanks_for_help_given_stay_praise(scorer: Scorer, text: str) -> None:
    # The complaint words tell the problem that was solved.
    sentiment = scorer.score(text).sentiment
    assert sentiment is not None
    assert sentiment.label == "positive", f"{text!r}: {sentiment.compound}"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("@acme yet another delayed flight", "negative"),
        ("@acme you need to do better", "negative"),
        ("@acme I expected better from you", "negative"),
        ("@acme you promised a callback yesterday", "negative"),
        ("@acme the new seats are so much better", "positive"),
    ],
)
def test_repetition_demands_and_broken_promises(scorer: Scorer, text: str, label: str) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # An expectation broken, paying and being charged, goods arriving spoiled.
        ("@acme my seat was given away even though I checked in online", "negative"),
        ("@acme I was charged for a bag I never checked", "negative"),
        ("@acme I paid for wifi and it never connected", "negative"),
        ("@acme the parcel arrived soaked", "negative"),
        ("@acme first and last time I order from you", "negative"),
        # Not complaints.
        ("@acme even though it rained, the crew were great", "positive"),
        ("@acme is the charging cable included?", "neutral"),
    ],
)
def test_broken_expectations_charges_and_spoiled_goods(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    "text",
    [
        "@acme can't wait to fly with you again!",
        "cant wait for the weekend",
    ],
)
def test_eagerness_is_praise(scorer: Scorer, text: str) -> None:
    # VADER reads "can't wait" as neutral; with a complaint word ("again") it even turned negative.
    sentiment = scorer.score(text).sentiment
    assert sentiment is not None
    assert sentiment.label == "positive", f"{text!r}: {sentiment.compound}"


def test_a_post_to_an_account_opening_with_why_is_a_challenge(scorer: Scorer) -> None:
    # Without a question mark too; not said to an account it stays curiosity.
    challenge = scorer.score("@acme why is my flight delayed again").sentiment
    curious = scorer.score("why the sky is blue, explained").sentiment
    assert challenge is not None and curious is not None
    assert challenge.label == "negative", challenge.compound
    assert curious.compound == curious.vader.compound


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Customer-journey facts told with no feeling word are complaints.
        ("@acmeair we weren't rebooked", "negative"),
        ("@acmeair I didn't get a refund", "negative"),
        ("@acme my order never arrived", "negative"),
        ("@acmeair no one told us the gate had changed", "negative"),
        ("@acmeair there was no announcement about the gate change", "negative"),
        ("@acmebank you charged me twice for the same thing", "negative"),
        ("@acmetel my premium went up by 20%", "negative"),
        ("@acmeshop the vase arrived smashed", "negative"),
        ("@acmeair the connecting flight left without us", "negative"),
        ("@acmepost my parcel is 3 days late", "negative"),
        ("@acmetel the agent closed the chat on me halfway through", "negative"),
        # Praise and plain questions keep their label.
        ("@acmeair no problem at all, great crew", "positive"),
        ("@acmeair nobody does it better, thank you", "positive"),
        ("@acmeair didn't get a chance to thank the crew, they were great", "positive"),
        ("@acmetel thanks, the agent closed my ticket once it was fixed", "positive"),
        ("@acmebank is there a fee for international transfers?", "neutral"),
        ("@acmeair is there wifi on the flight to Oslo?", "neutral"),
    ],
)
def test_service_failures_told_as_facts(scorer: Scorer, text: str, label: str) -> None:
    assert_label(scorer, text, label)


def test_service_facts_count_only_when_put_to_an_account(scorer: Scorer) -> None:
    # A story not told to a company keeps VADER's compound.
    story = scorer.score("in the last scene the tour bus left without us").sentiment
    addressed = scorer.score("@acmetours the tour bus left without us").sentiment
    assert story is not None and addressed is not None
    assert story.compound == story.vader.compound
    assert addressed.label == "negative", addressed.compound


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Passed around, a trip broken off, a status that does not move, a plan broken.
        ("@acmetel your support bot just loops me back to the FAQ", "negative"),
        ("@acmetel I've been passed back and forth between three departments", "negative"),
        ("@acmeair our flight was diverted to Leeds", "negative"),
        ("@acmeair they left us at the gate", "negative"),
        ("@acmebank my application still says pending review", "negative"),
        ("@acmepost tracking says delivered but there's nothing here", "negative"),
        ("@acmepost my parcel was due on Monday", "negative"),
        # Praise keeps its label.
        ("@acmeair still the best airline out there", "positive"),
        ("@acmeshop the app says my order shipped, thanks!", "positive"),
        ("@acmetel the engineer was due at 9 and arrived at 8:55, brilliant", "positive"),
        ("@acmeair the captain told us to sit back and enjoy the view, lovely flight", "positive"),
    ],
)
def test_passed_around_diverted_stuck_statuses_and_broken_plans(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Poor state, too few staff, staff giving up, a customer leaving; no apostrophe too.
        ("@acmeair the food was cold and the seats are tiny", "negative"),
        ("@acmeshop only one till open on a saturday", "negative"),
        ("@acmepizza the driver couldnt find my house", "negative"),
        ("@acmetel the engineer just gave up", "negative"),
        ("@acmeair I won't be flying with you again", "negative"),
        ("@acmeair we werent rebooked", "negative"),
        # Praise of how a problem was handled, and praise near the same words.
        ("@acmeair you handled the storm delay really well, appreciate the updates", "positive"),
        ("@acmeair really appreciate how fast you rebooked me after the storm", "positive"),
        ("@acmeair the pilot's updates made the delay much easier, thank you", "positive"),
        ("@acmeair two agents and both were lovely", "positive"),
        ("@acmeair I won't be flying with anyone else, you're the best", "positive"),
        ("@acmeshop is there only one store open on sundays?", "neutral"),
    ],
)
def test_poor_state_short_staff_giving_up_and_leaving(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Weak positive words in a question to a company name what it asks about.
        ("@acmeair do you allow pets in the cabin on international routes?", "neutral"),
        ("@acmeair is it okay to bring a guitar on board?", "neutral"),
        ("@acmeair is it fine to check in at the airport?", "neutral"),
        # Praise words in a question keep their valence.
        ("@acmeair is the lounge any good?", "positive"),
        ("@acmeair loved the flight, is the same crew on my return?", "positive"),
    ],
)
def test_weak_positive_words_in_a_question_to_an_account_are_no_praise(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


def test_weak_positive_words_keep_their_valence_outside_a_question_to_an_account(
    scorer: Scorer,
) -> None:
    for text in ("do you allow pets in the cabin?", "@sam the new flat is okay"):
        sentiment = scorer.score(text).sentiment
        assert sentiment is not None
        assert sentiment.compound == sentiment.vader.compound > 0, text


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Time spent, silence, refusals, burdens, goods mishandled or not what was booked.
        ("@acmeair 45 minutes for bags at the carousel", "negative"),
        ("@acmeair I've sent 3 DMs and heard nothing", "negative"),
        ("@acmeair they gave away my seat", "negative"),
        ("@acmetel my internet is slower than dial up", "negative"),
        ("@acmetel your engineer came, looked, and said it's not his job", "negative"),
        ("@acmeshop my order was marked as delivered to someone else's address", "negative"),
        ("@acmeshop they sent me a used item", "negative"),
        ("@acmepost your driver threw my parcel over the fence", "negative"),
        ("@acmepost I had to collect my parcel from a depot 20 miles away", "negative"),
        ("@acmerail the train terminated early and we all had to get off", "negative"),
        ("@acmehotel we booked a sea view and got a car park view", "negative"),
        # Praise keeps its label.
        ("@acmeair booked economy and got upgraded, thank you!", "positive"),
        ("@acmeair 20 minutes to landing, can't wait to see Rome", "positive"),
        ("@acmeair it's not your fault, the crew were lovely", "positive"),
        ("@acmeair I had to tell you how great the crew were today", "positive"),
        ("@acmetel I ordered fibre and got it installed the next day, brilliant", "positive"),
    ],
)
def test_time_spent_silence_refusals_burdens_and_mishandled_goods(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Missing items, orders mixed up, prices put up, waits named by length, statuses stuck.
        ("@acmefood my order came without the drinks", "negative"),
        ("@acmefood I got someone else's order", "negative"),
        ("@acmestream you put the price up again", "negative"),
        ("@acmetel porting my number has taken 3 weeks", "negative"),
        ("@acmebank you sent my new card to my old address", "negative"),
        ("@acmeair the lounge turned us away", "negative"),
        ("@acmeshop the discount code didn't apply at checkout", "negative"),
        ("@acmeshop the tracking hasn't moved since Tuesday", "negative"),
        ("@acmeshop there's a 2 hour wait for the returns desk", "negative"),
        # Asked about, or praise.
        ("@acmeair is it a 2 hour wait for a transfer at Heathrow?", "neutral"),
        ("@acmeair the 2 hour flight was smooth and the crew were lovely", "positive"),
        ("@acmeair we're back up again after the storm, thanks for the updates", "positive"),
    ],
)
def test_missing_items_mixups_price_rises_named_waits_and_stuck_tracking(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Praise only wished for, thanks for the harm itself, a closing "not", urgency.
        ("@acmeair would be nice to get a reply to my email", "negative"),
        ("@acmeair it would be great if someone actually answered the phone", "negative"),
        ("@acmeair I'd love to know where my bag is", "negative"),
        ("@acmeair thank you for ruining our holiday", "negative"),
        ("@acmeair nice of you to cancel my flight by text at 2am", "negative"),
        ("@acmeair best service ever. NOT", "negative"),
        ("@acmeair please can someone call me back, it's urgent", "negative"),
        # Wishes, thanks and gladness that are praise.
        ("@acmeair it would be great to fly with you again next summer", "positive"),
        ("@acmeair I'd love to hear more about your new routes", "positive"),
        ("@acmeair thanks for making our honeymoon so special", "positive"),
        ("@acmeair so glad we booked with you, what a flight!", "positive"),
    ],
)
def test_wished_praise_sarcastic_thanks_and_a_closing_not(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Dismissals, escalation, a booking the company lost, waiting told by its start.
        ("@acmeair your customer service is a joke", "negative"),
        ("@acmeair your refund process is an absolute farce!", "negative"),
        ("@acmeair I want to speak to a supervisor", "negative"),
        ("@acmeair your app says my reservation doesn't exist", "negative"),
        ("@acmeair when is flight 221 expected to depart? we've been here since 6", "negative"),
        # Praise near the same words.
        ("@acmeair the manager at the Leeds desk was brilliant, thank you", "positive"),
        ("@acmeair I've been a member since 2010 and love you", "positive"),
        ("@acmeair the comedian on the in flight channel is a joke a minute, loved it", "positive"),
    ],
)
def test_dismissals_escalation_and_lost_bookings(scorer: Scorer, text: str, label: str) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # A negated plain verb in a post that names a service: a problem told as a fact.
        ("@acmebank the money I moved on Monday still hasn't reached my account", "negative"),
        ("@acmeshop my order didn't include the charger", "negative"),
        ("@acmeair the app won't let me pick a seat", "negative"),
        ("@acmetel the engineer couldn't connect the broadband", "negative"),
        # Negated feeling words are VADER's to score; the author's own mind is no problem.
        ("@acmeair never disappointed by your crew", "positive"),
        ("@acmeair I never knew you had flights to Oslo", "neutral"),
        ("@acmeshop my order came today, didn't expect it so soon", "neutral"),
        # No service named: a chat between friends.
        ("@sam I haven't watched it yet", "neutral"),
    ],
)
def test_a_negated_plain_verb_about_a_service_is_a_problem_told(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Counted ordeals, a reference quoted, being ignored.
        ("@acmepost week 3 of the tracking page saying in transit", "negative"),
        ("@acmemobile fourth call about my router", "negative"),
        ("@acmerail the 8:05 has been late five days in a row", "negative"),
        ("@acmeshop 9 emails and counting about my return", "negative"),
        ("@acmeshop order 774120, who can look at this", "negative"),
        ("@acmeair is anyone monitoring this inbox", "negative"),
        ("@acmebank can someone finally respond to me", "negative"),
        # Counts, numbers and requests that tell no problem.
        ("@acmeair is the lounge open on the second day of the show?", "neutral"),
        ("@acmeshop do you sell the 4000 series?", "neutral"),
        ("@acmebank can someone help me set up a savings account?", "neutral"),
        ("@acmeair second time flying with you and loved it", "positive"),
    ],
)
def test_counted_ordeals_references_and_being_ignored(
    scorer: Scorer, text: str, label: str
) -> None:
    assert_label(scorer, text, label)


def test_told_problems_count_only_when_put_to_an_account(scorer: Scorer) -> None:
    for text in ("my order didn't include the charger", "week 3 of the tracking page"):
        sentiment = scorer.score(text).sentiment
        assert sentiment is not None
        assert sentiment.compound == sentiment.vader.compound, text


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # An amount charged or paid, as written (the currency sign is in the post).
        ("@acmeair they charged me $60 to sit with my own kid", "negative"),
        ("@acmetel a £25 fee for a paper bill", "negative"),
        ("@acmeshop paid €40 for next day delivery", "negative"),
        # Money named without a charge, and money in praise.
        ("@acmeair flights to Rome from $99 this week", "neutral"),
        ("@acmeshop got a $20 voucher for my birthday, lovely surprise", "positive"),
    ],
)
def test_an_amount_charged(scorer: Scorer, text: str, label: str) -> None:
    assert_label(scorer, text, label)


def test_every_check_holds_one_of_its_substrings_where_it_matches() -> None:
    # The checks run only when one of their substrings is in the post (one
    # Aho-Corasick pass): a match without one would be a complaint missed.
    posts = Path(__file__).resolve().parents[2] / "bench" / "data" / "complaint_posts.tsv"
    with posts.open(encoding="utf-8") as fh:
        texts = [line.split("\t", 2)[2] for line in fh if line.strip() and line[0] != "#"]
    texts += [
        "@acme is anyone there",
        "@acme can someone finally call me back",
        "@acme not a word from you",
        "@acme day 5 of waiting",
        "@acme the 22nd call",
        "@acme 3 weeks and nothing",
        "@acme order 55102",
    ]
    scanner = default_scanner()
    matched = 0
    for text in texts:
        norm = scanner.scan(text).normalised
        for keys, pattern in _CHECKS:
            if pattern.search(norm) is not None:
                matched += 1
                assert any(key in norm for key in keys), (text, pattern.pattern[:40])
    assert matched > 100


def _written_posts() -> list[str]:
    posts = Path(__file__).resolve().parents[2] / "bench" / "data" / "complaint_posts.tsv"
    with posts.open(encoding="utf-8") as fh:
        texts = [line.split("\t", 2)[2] for line in fh if line.strip() and line[0] != "#"]
    return [
        *texts,
        "@acme waited for 3 hours at the desk",
        "@acme rang 5 times today",
        "@acme I rang you multiple times",
        "@acme 40 minutes and counting",
        "@acme  two hours on hold",
        "@acme it wasn't delivered and nobody told me, day 6 of this",
        "@acme charged me twice and the seat was broken",
        "@acme thanks for ruining my weekend, what a joke",
        "@acme would be nice to hear back. won't be flying with you again",
        "@acme the 3rd time i ask, no refund, order 55102",
    ]


def test_the_checks_mask_holds_exactly_the_checks_with_a_substring_in_the_post() -> None:
    # The bit mask of one Aho-Corasick pass: bit i set exactly when one of check i's
    # substrings is in the post (the checks that run, as testing each substring would).
    scanner = default_scanner()
    seen = 0
    for text in _written_posts():
        norm = scanner.scan(text).normalised
        mask = _checks_to_run(norm)
        expected = sum(
            1 << index for index, (keys, _) in enumerate(_CHECKS) if any(k in norm for k in keys)
        )
        assert mask == expected, text
        seen += bin(mask).count("1")
    assert seen > 500


def test_a_wait_is_told_by_its_parts_as_by_the_whole_expression() -> None:
    scanner = default_scanner()
    told = 0
    for text in _written_posts():
        norm = scanner.scan(text).normalised
        whole = _WAITED.search(norm) is not None
        assert _tells_a_wait(norm) == whole, text
        told += whole
    assert told > 20


def test_the_pre_checks_hold_wherever_their_expressions_match() -> None:
    scanner = default_scanner()
    texts = [
        *_written_posts(),
        "@acme thanks for finding my bag so fast",
        "@acme you handled the whole mess really well",
        "@acme you made the trip so much easier",
        "@acme the crew went above and beyond",
        "@acme how quickly you sorted it out, thank you",
        "@acme there's a 2 hour queue at security",
        "@acme a 40 min delay and no update",
        "@acme about an hour hold on the phone",
        "@acme it'd be great to get a reply",
        "@acme would be really helpful if someone answered",
        "@acme we would love to know where our cases are",
    ]
    help_given = named_wait = wished = 0
    for text in texts:
        norm = scanner.scan(text).normalised
        if _HELP_GIVEN.search(norm) is not None:
            help_given += 1
            assert _may_tell_help_given(norm), text
        if _NAMED_WAIT.search(norm) is not None:
            named_wait += 1
            assert _may_name_a_wait(norm), text
        if _HYPOTHETICAL_PRAISE.search(norm) is not None:
            wished += 1
            assert _may_wish_praise(norm), text
    assert help_given >= 5 and named_wait >= 3 and wished >= 3

"""Generate the bundled example incident: two hours of mentions of the fictional "Acme".

Acme is a made-up consumer fintech app (login, balances, "Acme Pay" card and
tap-to-pay). On Friday 2026-11-20 a configuration change in its
authentication service breaks logins at 10:45Z and, a few minutes later,
payment authorisation. Every post is written for this file from hand-written
fragments; none is copied from a real network, and every host is fictional
(``*.example``).

Run ``python examples/generate_incident.py`` to rewrite, byte for byte:

- ``examples/acme-incident.jsonl``: one Mention per line, sorted by
  ``created_at`` (``id``, ``ingested_at`` and ``schema_version`` are left for
  the replay to fill);
- ``examples/acme-incident.truth.json``: the ground truth (onset, phases,
  official updates, the silence gap, counts, and the intent of every line).

Only the standard library is used, plus :mod:`earful.events` to check that
every line is a valid Mention before anything is written. One seeded
:class:`random.Random` drives everything, so the output depends on nothing
else (no clock, no hash order, no environment).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from earful.events import Mention, make_mention_id

__all__ = ["SEED", "build_incident", "main", "write_outputs"]

SEED = 20261120
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
ONSET_MINUTE = 45.0
FIRST_PAYMENT_FAILURE_MINUTE = 48.0
#: Phases as (name, first minute, end minute) after START.
PHASES: tuple[tuple[str, float, float], ...] = (
    ("baseline", 0.0, 45.0),
    ("onset", 45.0, 55.0),
    ("outage", 55.0, 95.0),
    ("recovery", 95.0, 120.0),
)
#: Scales every incident rate: tuned so the file holds about 4,000 lines.
INCIDENT_SCALE = 0.8
JSONL_NAME = "acme-incident.jsonl"
TRUTH_NAME = "acme-incident.truth.json"
STATUS_HOST = "status.acme.example"

# ---------------------------------------------------------------------------
# Places and platforms (real places; the company and everything else is fictional)

HOMES: dict[str, tuple[str, ...]] = {
    "en": (
        "London",
        "Manchester",
        "Birmingham",
        "Leeds",
        "Glasgow",
        "Edinburgh",
        "Bristol",
        "Cardiff",
        "Dublin",
        "Cork",
        "New York",
        "Brooklyn",
        "Boston",
        "Chicago",
        "Austin",
        "Texas",
        "Houston",
        "Seattle",
        "San Francisco",
        "California",
        "Denver",
        "Toronto",
        "Vancouver",
        "Montreal",
        "Sydney",
        "Melbourne",
        "Brisbane",
        "Auckland",
        "Berlin",
        "Amsterdam",
        "Lisbon",
        "Madrid",
        "Paris",
        "Bavaria",
        "Ontario",
        "Scotland",
    ),
    "de": (
        "Berlin",
        "München",
        "Hamburg",
        "Köln",
        "Frankfurt",
        "Stuttgart",
        "Leipzig",
        "Bayern",
        "Wien",
        "Zürich",
        "Dresden",
    ),
    "fr": (
        "Paris",
        "Lyon",
        "Marseille",
        "Toulouse",
        "Bordeaux",
        "Lille",
        "Nantes",
        "Bruxelles",
        "Strasbourg",
    ),
    "es": ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Málaga", "Zaragoza", "Granada"),
    "nl": (
        "Amsterdam",
        "Rotterdam",
        "Utrecht",
        "Den Haag",
        "Eindhoven",
        "Groningen",
        "Antwerpen",
        "Gent",
    ),
}
PLATFORMS = ("iOS", "Android", "web", "desktop")
PLATFORM_PHRASES: dict[str, tuple[str, ...]] = {
    "iOS": (
        "on iOS",
        "on my iPhone",
        "in the iOS app",
        "on iPhone 15",
        "on my iPad",
        "on iOS 19",
        "on the iPhone app",
    ),
    "Android": (
        "on Android",
        "on my Pixel",
        "on Samsung",
        "in the Android app",
        "on my Galaxy",
        "on Android 16",
    ),
    "web": (
        "on the website",
        "on the web",
        "in the browser",
        "in Firefox",
        "in Chrome",
        "on acme.example in Safari",
        "on the web dashboard",
    ),
    "desktop": ("on the desktop app", "on the Mac app", "in the Windows app", "on my laptop"),
}
API_CONTEXTS = (
    "in prod",
    "from our servers in {p}",
    "from eu-west",
    "from us-east",
    "in staging and prod",
    "for all our merchants",
    "since 10:46 UTC",
)
PLACE_PHRASES_EN = ("here in {p}", "in {p}", "({p})", "- {p}", "over here in {p}", "in {p} too")

# ---------------------------------------------------------------------------
# English fragments

OPENERS = (
    "Is acme down?",
    "Anyone else?",
    "ugh.",
    "Welp.",
    "PSA:",
    "Uh oh.",
    "Hmm.",
    "Okay so",
    "Seriously?",
    "lol.",
    "Great.",
    "Help:",
    "Not again.",
    "Is it just me?",
    "wtf.",
    "Fun times.",
    "Heads up:",
    "Brilliant.",
    "Cool cool cool.",
    "So...",
    "Update from my end:",
    "Oof.",
)
ACME_NAMES = ("acme", "Acme", "Acme", "ACME", "@acme", "Acme", "acme")
CORES: dict[str, tuple[str, ...]] = {
    "login": (
        "can't log in to {a}",
        "{a} login is broken",
        "{a} keeps kicking me back to the login screen",
        "{a} says my password is wrong and it really isn't",
        "stuck on the {a} sign-in spinner",
        "the 2FA code from {a} arrives and then login just fails",
        "{a} logged me out and won't let me back in",
        "login to {a} fails every single time",
        "{a} won't accept my Face ID or my password",
        "can't get into my {a} account",
        "{a} login page just loops",
        "{a} sign in is dead",
        "{a} says 'session expired' the second I log in",
        "tried to log in to {a} five times now, no luck",
        "{a} won't let me log in at all",
        "can not sign in to {a}, reset my password, still nothing",
        "{a} is down, can't even log in",
        "locked out of {a}",
        "{a} shows 'something went wrong' right after login",
        "my {a} login is failing",
        "{a} fingerprint login broken and the password fallback too",
        "{a} keeps asking me to verify and then errors out",
    ),
    "pay": (
        "Acme Pay declined at checkout",
        "payment failed twice with Acme Pay",
        "Acme Pay card declined at the supermarket",
        "tried to pay for coffee with Acme Pay and it just spun",
        "Acme Pay transfer stuck on pending",
        "Acme Pay says insufficient funds, I definitely have money",
        "tap to pay with Acme not working at the till",
        "my Acme card got declined at the petrol station",
        "Acme Pay keeps failing at the self checkout",
        "paying rent through Acme Pay fails with an error",
        "Acme Pay declined on a 4 euro sandwich",
        "online checkout with Acme Pay fails every time",
        "Acme Pay payment failed, then got a 'pending' notification anyway",
        "acme pay is down, card declined twice",
        "can't send money with Acme Pay",
        "Acme card declined at the pharmacy, embarrassing",
        "Acme Pay won't authorise anything",
        "my Acme Pay subscription payment failed",
        "Acme Pay QR payment errors out",
        "splitting the bill with Acme Pay fails",
        "Acme Pay declined at the train ticket machine",
    ),
    "crash": (
        "{a} app crashes on launch",
        "{a} app opens and closes immediately",
        "{a} app is just a white screen",
        "{a} crashes as soon as I tap my balance",
        "the {a} app freezes on the splash screen",
        "{a} app keeps crashing after the login error",
        "reinstalled {a}, now it crashes instantly",
        "{a} app force closes every time",
    ),
    "web": (
        "acme.example shows a 503 page",
        "{a} website won't load",
        "{a} web dashboard just spins forever",
        "{a} website gives me a blank page",
        "the {a} web app is down",
        "{a} online banking page times out",
        "acme.example is throwing server errors",
    ),
    "api": (
        "{a} API returning 503s on /v2/payments",
        "our checkout integration with Acme Pay is timing out",
        "{a} webhooks stopped arriving",
        "{a} OAuth token endpoint returns 401 for valid credentials",
        "{a} API auth failing for every request",
        "Acme Pay API declining every test and live charge",
        "{a} sandbox and prod both failing auth",
        "{a} API latency through the roof, then 503",
    ),
}
CODES: dict[str, tuple[str, ...]] = {
    "login": (
        "AUTH-401",
        "E-4012",
        "AUTH-503",
        "error 503",
        "HTTP 502",
        "E-4012",
        "AUTH-401",
        "error code 1001",
        "ERR_SESSION_EXPIRED",
    ),
    "pay": ("PAY-2043", "E-4012", "error 503", "PAY-0051", "PAY-2043", "HTTP 500", "error code 51"),
    "crash": ("E-4012", "error 503", "AUTH-401"),
    "web": (
        "503 Service Unavailable",
        "HTTP 502",
        "error 503",
        "502 Bad Gateway",
        "504 Gateway Timeout",
    ),
    "api": (
        "HTTP 503",
        "401 Unauthorized",
        "error 503",
        "AUTH-401",
        "504 Gateway Timeout",
        "ERR_CONNECTION_RESET",
    ),
}
CODE_SENTENCES = (
    "Error {c}.",
    "Getting {c} every time.",
    "Says {c}.",
    "{c} whatever that means.",
    "Code {c}.",
    "Keeps showing {c}.",
    "{c} again and again.",
    "It just says {c}.",
    "Error: {c}",
    "({c})",
)
REMARKS: dict[str, tuple[str, ...]] = {
    "any": (
        "Tried reinstalling, no luck.",
        "Restarted my phone twice.",
        "Wifi and 5G, same thing.",
        "Support chat doesn't load either.",
        "Second time this month.",
        "My rent is due today.",
        "Friday of all days.",
        "It was fine an hour ago.",
        "Cleared the cache, nothing.",
        "Nothing on the status page.",
        "My partner's account too.",
        "Whole office is affected.",
        "Payday and I can't see my money.",
        "Can't check my balance either.",
        "Hope it's not a hack.",
        "This is really stressful.",
        "I have a flight in 3 hours.",
        "Need to pay my team today.",
        "Anyone know what's happening?",
        "Not impressed.",
        "Tried on two phones.",
        "Logged out everywhere.",
        "Updated the app, same.",
    ),
    "pay": (
        "Stuck at the checkout with a full cart.",
        "The cashier looked at me like a criminal.",
        "Had to leave my groceries behind.",
        "Paid cash like it's 1995.",
        "Borrowed money from a coworker for lunch.",
        "Queue behind me was not amused.",
        "Merchant says all Acme cards are failing today.",
        "Second card, same result.",
        "Got a push notification saying it went through. It didn't.",
        "Now I have two pending charges.",
        "Taxi driver waited while I tried three times.",
    ),
    "api": (
        "Our error rate went from 0.1% to 60%.",
        "Pager went off at 10:46.",
        "Failing over to our backup provider.",
        "Support ticket opened, no answer yet.",
        "Retries make it worse.",
        "Their status page is still green.",
    ),
}
EMOJI_NEG = ("😡", "🙃", "😤", "🤦", "💀", "😩", "😭", "🔥", "🤬", "😒", "😬", "🫠", "📉")
EMOJI_POS = ("🎉", "🙏", "😌", "👍", "✅", "😅", "💪", "🥳", "❤️", "☕")
TAGS_ANY = ("#acmedown", "#acme", "#outage", "#acmeoutage", "#acmedown", "#fintech")
TAGS_PAY = ("#acmepay", "#acmepaydown", "#payments")
QUESTIONS = (
    "any update?",
    "what's going on @acmestatus?",
    "how long will this take?",
    "@acmestatus is there an ETA?",
    "is acme pay affected too or just login?",
    "is this a hack? should I change my password?",
    "are my savings safe??",
    "is anyone at acme even awake?",
    "will you refund late fees caused by this?",
    "@acme what is happening?",
    "is acme down for everyone or just me?",
    "does anyone know if card payments work even if the app doesn't?",
    "should I cancel my transfer or wait?",
    "is it safe to retry a failed payment?",
    "any word from acme yet?",
    "is there an official statement somewhere?",
    "can someone from @acme say something please?",
    "is this a global outage?",
    "is it only the app or the cards too?",
    "do scheduled payments still go out today?",
    "is my salary going to arrive?",
    "where do I even report this?",
    "anyone got a number for acme support that actually answers?",
    "@acmestatus are you aware?",
    "is the website down too?",
)
QUESTIONS_BEFORE_ACK = (
    "status page says all systems operational but nothing works?",
    "why is the acme status page still green?",
    "@acmestatus are you aware login is down?",
    "is acme down? status page says everything is fine",
    "anyone from @acme looking at this?",
)
QUESTIONS_GAP = (
    "it's been {n} minutes since your last update @acmestatus",
    "'investigating' for {n} minutes now. any ETA?",
    "{n} minutes of silence from @acmestatus. anything?",
    "@acmestatus {n} minutes and still 'investigating'? what's the actual problem?",
    "no update in {n} minutes. how long will this take?",
    "@acme any update? it's been {n} min",
    "still nothing from acme after {n} minutes?",
)
SARCASM = (
    "great, {a} is down again 🙃",
    "love paying for an app that doesn't work 😂",
    "{a} really said 'no payments on a Friday' huh",
    "nothing like trying to pay rent and getting E-4012 🙃",
    "10/10 would get declined at the grocery store again",
    "cool cool cool, {a} is down on payday",
    "the {a} status page says 'investigating'. me too, buddy",
    "thanks {a} for forcing me to finally carry cash",
    "{a}: banking for the future. the future: not today apparently",
    "so glad I moved my salary to {a} last week 🙃",
    "my budget is finally balanced: {a} won't let me spend anything",
    "{a} pay more like {a} pray 🙏",
    "who needs money on a Friday anyway",
    "plot twist: {a} is a savings app now, you can't spend anything",
    "best {a} feature yet: the 'declined' animation",
    "love that the {a} app crashes faster than it loads 😂",
    "nice of {a} to help me stick to my no-spend November",
    "guess I'll pay for lunch with exposure",
)
ANGER = (
    "this is unacceptable, {a}. people need their money",
    "I'm done with {a}, moving my salary somewhere that works",
    "{a} is down and there's zero communication. awful",
    "absolutely useless, {a}. stuck at the petrol station with no way to pay",
    "how does a bank just stop working on a Friday?! {a}",
    "{a} you had one job",
    "worst possible day for {a} to break",
    "seriously {a}, fix this. I can't pay for anything",
    "if {a} can't keep logins working why would I trust them with my money",
    "furious. {a} declined my card three times in front of a client",
    "{a} support is a bot that says 'we're looking into it'. useless",
    "paying a monthly fee for an app that doesn't work. fantastic, {a}",
)
SAME_HERE = (
    "same here",
    "same in {p}",
    "+1, {pl} too",
    "yep, also getting {c}",
    "same.",
    "same for me {pl}",
    "can confirm, {p}",
    "me too",
    "same here, {c}",
    "+1",
    "same. can't pay either",
    "same here, can't log in",
    "yes, down for me too",
    "same in {p}, both login and payments",
    "happening to me as well",
    "exactly the same thing {pl}",
)
RECOVERED = (
    "back up, thanks acme",
    "login works again 🎉",
    "Acme Pay working again {pp}",
    "finally paid for my groceries",
    "ok acme is back, crisis over",
    "app is back for me {pl}",
    "logged in again, balance looks right, phew",
    "acme seems to be working again",
    "payments going through again {pp}",
    "we're back! acme login fine now",
    "thanks @acmestatus, working again",
    "just paid with Acme Pay, it worked 🙏",
    "all good now {pl}",
    "acme app loads again",
    "card works again, coffee acquired ☕",
    "phew, acme is back",
    "back to normal here {pp}",
    "acme fixed it, nice one",
)
RESIDUAL = (
    "still can't pay {pp}",
    "login works but Acme Pay still declined",
    "still getting {c} {pl}",
    "app loads but my balance shows 0??",
    "transfer from this morning still pending",
    "still can't log in {pp}",
    "@acmestatus it's not resolved for me, still broken {pp}",
    "Acme Pay still failing {pp}",
    "login fine, payments still failing {pl}",
)
REFUND = (
    "Acme Pay charged me twice during the outage, will I get refunded?",
    "who pays the late fee for my rent, @acme?",
    "got charged but the order was cancelled, how do I get a refund @acme?",
    "are declined payments refunded automatically?",
    "I see two pending charges from the outage. do they drop off on their own?",
    "@acme will you cover overdraft fees from today?",
    "how do I claim back the fees from the failed payments?",
    "the shop charged me twice because Acme Pay timed out. refund?",
)
POSTMORTEM = (
    "@acme please publish a post-mortem",
    "would love a proper postmortem on what happened today",
    "curious what broke at acme. hoping for a public RCA",
    "'configuration change' isn't an explanation. post-mortem please, @acme",
    "waiting for the acme incident report",
    "an hour without payments deserves a real write-up, acme",
    "@acmestatus will there be a post-incident review?",
)
HN_COMMENTS = (
    "We run checkout on Acme Pay; our error rate went from 0.1% to about {pct}% at 10:4{d} UTC.",
    "Their token endpoint returns 401 for valid client credentials. Looks like auth, not payments.",
    "It's always DNS. Except when it's a config push. It's usually a config push.",
    "This is why you keep a second payment provider warm.",
    "Status page still says all systems operational. Not great.",
    "Seeing {c} from eu-west and us-east. Global, not regional.",
    "Acme Pay authorisations fail because they go through the same auth service. Single point of "
    "failure.",
    "Webhooks stopped at 10:4{d}. Nothing queued on our side.",
    "Failover to our backup provider took {m} minutes. Worth every drill.",
    "Anyone know if idempotency keys are honoured on retry? Worried about double charges.",
    "Retrying with backoff only makes it worse. Their API returns {c} immediately.",
    "Friday morning deploys strike again.",
    "Our support queue is full of customers blaming us for Acme Pay declines.",
    "Login and payments failing from Berlin and London here. Sandbox too.",
    "The mobile app crashes on the 401 instead of showing an error. Classic.",
    "I'd bet on an expired signing key or a bad config rollout.",
    "Reminder that 'investigating' is not an update.",
    "Payments are recovering on our side as of a minute ago.",
)
HN_CHATTER = (
    "acme is still my favourite editor. Mouse chording grows on you.",
    "The ACME client renewed all our certs overnight, zero drama.",
    "Acme's engineering blog post on event sourcing was good: {u}",
    "We integrated the Acme Pay API last month. Docs are decent, sandbox is fast.",
    "Interesting that Acme built their own ledger instead of buying one.",
    "Anyone using Acme webhooks at scale? How do you handle ordering?",
    "Their API versioning is one of the saner ones in fintech.",
)
FEATURES = (
    "joint accounts",
    "Apple Pay",
    "Google Pay",
    "instant transfers to Spain",
    "virtual cards",
    "multiple currencies",
    "exporting to CSV",
    "round-ups",
    "shared spaces",
    "a business account",
    "recurring payments",
    "cashback",
    "a kids account",
    "sending money by QR code",
    "crypto",
    "direct debits from a savings space",
    "dark mode on the web",
)
ITEMS = (
    "coffee",
    "a bánh mì",
    "train tickets",
    "the bike repair",
    "groceries",
    "concert tickets",
    "a haircut",
    "my gym membership",
    "a croissant",
    "the plumber",
    "pizza",
    "the bus",
    "a secondhand sofa",
    "flowers",
    "cinema tickets",
    "the vet",
    "dumplings",
    "a new kettle",
)
NEWS_URLS = (
    "https://news.example/fintech/acme-series-d",
    "https://techpress.example/2026/11/acme-pay-expands",
    "https://blog.acme.example/engineering/ledger",
    "https://finance.example/acme-quarterly-users",
    "https://podcast.example/ep/142-acme-cto",
)
CHATTER: tuple[str, ...] = (
    "does {a} support {f} yet?",
    "how do I set up {f} in {a}?",
    "paid for {i} with Acme Pay, took two seconds",
    "Acme Pay at the farmers market this morning, so smooth",
    "switched to {a} last month, no regrets so far",
    "the {a} spending summary just roasted me for my {i} habit",
    "{a}'s {f} is genuinely great",
    "wish {a} had {f}",
    "{a} notifications are a bit much tbh",
    "is {a} worth it for travelling? heading to {p} next week",
    "Acme adds {f} in Europe: {u}",
    "Interview with Acme's CTO about moving to event streaming {u}",
    "Acme reportedly hiring 200 engineers in {p} {u}",
    "my budgeting strategy is to open the {a} app and sigh",
    "{a} told me I spent 40 euros on {i} this month. rude but fair",
    "the new {a} card design is kinda boring",
    "{a} vs my old bank: night and day",
    "Friday treat: {i}, paid with Acme Pay ☕",
    "anyone know if {a} charges for ATM withdrawals abroad?",
    "{a}'s FX rate was better than I expected in {p}",
    "finally set up {f} on {a}, nice",
    "tip: {a} lets you freeze your card in one tap",
    "got my {a} metal card today 💳",
    "my mum asked me what {a} is. explained it for 20 minutes",
    "{a} support answered in 3 minutes, impressed",
    "does Acme Pay work on the tube in London?",
    "the {a} savings pots make me feel like an adult",
    "refer-a-friend with {a}: we both got 10 euros, fine by me",
    "using {a} to split {i} with flatmates, works nicely",
    "{a} just added {f}, about time",
    "new job, new {a} salary space",
    "{a} app update this morning looks nice",
    "does {a} have an API for personal use? want to hook it into my spreadsheet",
    "Acme Pay for {i} again. I have a problem",
    "who designed the {a} onboarding? it's delightful",
    # Mild gripes: an ordinary day has a few complaints too.
    "{a} app crashed once this morning, fine after a restart",
    "got a declined payment at the bakery yesterday, worked on the second try",
    "{a} support took two days to answer me, not great",
    "the {a} web dashboard is slow today",
)
UNRELATED = (
    "the Acme hardware store on 5th street has the best paint selection",
    "Acme Theatre is showing the old noir double bill tonight",
    "my certbot replacement is an ACME client in 200 lines of Go",
    "acme thread screws are the unsung heroes of my vise",
    "opened acme to edit config files, very Plan 9 of me",
    "our band is called Acme Anvil, first gig Saturday",
    "bought an Acme brand kettle at the flea market, works perfectly",
    "ACME certificate renewal ran at 3am, love automation",
    "Acme Bakery's cinnamon rolls, unreal",
    "playing an Acme Corp parody level in that indie game, so funny",
)
JOKES = (
    "{a} is the only app on my phone that knows my true weaknesses (it's {i})",
    "my therapist asked about my week so I showed her my {a} spending summary",
    "'Acme Pay' sounds like a cartoon company and yet here we are using it for rent",
    "told my cat I'd budget better. opened {a}. closed {a}. cat unimpressed",
)
OFFICIAL_REPLIES = (
    "took you {n} minutes to admit it",
    "Investigating... my groceries are melting",
    "any ETA? people can't pay rent",
    "it's not 'some customers', it's everyone",
    "what about payments that went through twice?",
    "communication is awful. still broken {pp}",
    "is my money safe? yes or no",
    "please give an ETA, I can't pay for anything",
    "still down {pp}. 'investigating' isn't an update",
    "you could at least say what is broken",
    "{n} minutes. seriously?",
    "my card was declined three times, what do I do?",
    "useless update. what's the actual problem?",
    "people are stranded at tills and you post one sentence",
    "can't log in {pl}, can't pay, can't reach support",
)
OFFICIAL_REPLIES_IDENTIFIED = (
    "a config change broke payments for an hour? how?",
    "finally. how long until it's fixed?",
    "ok but will declined payments be retried?",
    "identified after {n} minutes. who tests these changes?",
    "still broken {pp}, when is the fix coming?",
)
#: Templates (from the lists above) whose text says the author is affected right now; with
#: every symptom report, "same here", copypasta, leftover complaint and repost of a report,
#: they make the truth file's "reports", the positives for an outage detector.
AFFECTED_TEMPLATES = frozenset(
    [
        "great, {a} is down again 🙃",
        "love paying for an app that doesn't work 😂",
        "nothing like trying to pay rent and getting E-4012 🙃",
        "10/10 would get declined at the grocery store again",
        "cool cool cool, {a} is down on payday",
        "my budget is finally balanced: {a} won't let me spend anything",
        "plot twist: {a} is a savings app now, you can't spend anything",
        "love that the {a} app crashes faster than it loads 😂",
        "{a} is down and there's zero communication. awful",
        "absolutely useless, {a}. stuck at the petrol station with no way to pay",
        "how does a bank just stop working on a Friday?! {a}",
        "worst possible day for {a} to break",
        "seriously {a}, fix this. I can't pay for anything",
        "furious. {a} declined my card three times in front of a client",
        "paying a monthly fee for an app that doesn't work. fantastic, {a}",
        "We run checkout on Acme Pay; our error rate went from 0.1% to about {pct}% at 10:4{d} "
        "UTC.",
        "Their token endpoint returns 401 for valid client credentials. Looks like auth, not "
        "payments.",
        "Seeing {c} from eu-west and us-east. Global, not regional.",
        "Webhooks stopped at 10:4{d}. Nothing queued on our side.",
        "Failover to our backup provider took {m} minutes. Worth every drill.",
        "Retrying with backoff only makes it worse. Their API returns {c} immediately.",
        "Our support queue is full of customers blaming us for Acme Pay declines.",
        "Login and payments failing from Berlin and London here. Sandbox too.",
        "The mobile app crashes on the 401 instead of showing an error. Classic.",
        "status page says all systems operational but nothing works?",
        "@acmestatus are you aware login is down?",
        "communication is awful. still broken {pp}",
        "please give an ETA, I can't pay for anything",
        "still down {pp}. 'investigating' isn't an update",
        "my card was declined three times, what do I do?",
        "can't log in {pl}, can't pay, can't reach support",
        "still broken {pp}, when is the fix coming?",
        "still can't pay {pp}",
        "resolved for you maybe, still declined here",
        "monitoring? it's still failing {pl}",
    ]
)
#: What people who reply to an official post add first: they are still affected.
REPLY_OPENERS = (
    "Still down.",
    "Still can't log in.",
    "Card declined again.",
    "Nothing works here.",
    "App still crashing.",
    "Payment failed again.",
    "Still broken.",
    "Still getting E-4012.",
    "Can't pay for anything.",
    "Login still fails.",
)
OFFICIAL_REPLIES_LATE = (
    "still can't pay {pp}",
    "who's covering the overdraft fees?",
    "resolved for you maybe, still declined here",
    "thanks, working again, but this was rough",
    "will there be a post-mortem?",
    "two pending charges still showing, what now?",
    "back for me, thanks for the update",
    "monitoring? it's still failing {pl}",
)

# ---------------------------------------------------------------------------
# Other languages (about 5% of posts)

LANG_FRAGMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "de": {
        "report": (
            "Kann mich bei Acme nicht einloggen",
            "Acme Pay an der Kasse abgelehnt",
            "Ist Acme down? Login geht nicht",
            "Die Acme App stürzt ständig ab",
            "Zahlung mit Acme Pay zweimal fehlgeschlagen",
            "Acme Login kaputt, Fehler 503",
            "Acme Karte beim Bäcker abgelehnt",
            "Acme geht gar nicht mehr, Fehler E-4012",
            "Überweisung mit Acme Pay hängt",
        ),
        "place": ("hier in {p}", "in {p} auch", "({p})"),
        "question": (
            "Gibt es schon ein Update?",
            "Wie lange dauert das noch?",
            "Weiß jemand, was bei Acme los ist?",
            "@acmestatus was ist los?",
        ),
        "recovered": (
            "Läuft wieder, danke Acme",
            "Zahlung mit Acme Pay geht wieder",
            "Acme Login klappt wieder 👍",
        ),
        "residual": ("Immer noch keine Zahlung möglich {pp}", "Acme Pay geht immer noch nicht"),
        "chatter": (
            "Acme Pay beim Bäcker, klappt super",
            "Kann man mit Acme eigentlich Daueraufträge einrichten?",
            "Die neue Acme Sparfunktion ist ganz nett",
            "Acme Karte heute angekommen",
            "Hat jemand Erfahrung mit Acme im Ausland?",
        ),
        "tags": ("#acmedown", "#acme", "#störung"),
    },
    "fr": {
        "report": (
            "Impossible de me connecter à Acme",
            "Paiement Acme Pay refusé à la caisse",
            "Acme est en panne ? Connexion impossible",
            "L'appli Acme plante au démarrage",
            "Acme Pay refuse tous mes paiements",
            "Acme en panne, erreur 503",
            "Carte Acme refusée au supermarché",
            "Virement Acme Pay bloqué",
        ),
        "place": ("ici à {p}", "à {p} aussi", "({p})"),
        "question": (
            "Des nouvelles ?",
            "Ça dure combien de temps ?",
            "Quelqu'un sait ce qui se passe chez Acme ?",
            "@acmestatus une mise à jour ?",
        ),
        "recovered": (
            "Ça remarche, merci Acme",
            "Acme Pay fonctionne de nouveau",
            "Connexion Acme rétablie 👍",
        ),
        "residual": ("Toujours impossible de payer {pp}", "Acme Pay toujours en panne"),
        "chatter": (
            "Payé mon café avec Acme Pay, rien à dire",
            "Quelqu'un sait si Acme gère les virements instantanés ?",
            "La nouvelle carte Acme est jolie",
            "Acme ou ma banque classique ? j'hésite",
        ),
        "tags": ("#acmedown", "#acme", "#panne"),
    },
    "es": {
        "report": (
            "No puedo iniciar sesión en Acme",
            "Acme Pay rechazado en la caja",
            "¿Acme está caído? No puedo entrar",
            "La app de Acme se cierra sola",
            "Pago con Acme Pay fallido dos veces",
            "Acme caído, error 503",
            "Tarjeta Acme rechazada en el súper",
            "Transferencia de Acme Pay atascada",
        ),
        "place": ("aquí en {p}", "en {p} igual", "({p})"),
        "question": (
            "¿Alguna novedad?",
            "¿Cuánto va a tardar esto?",
            "¿Alguien sabe qué pasa con Acme?",
            "@acmestatus ¿qué está pasando?",
        ),
        "recovered": (
            "Ya funciona, gracias Acme",
            "Acme Pay vuelve a funcionar",
            "Ya puedo entrar en Acme 👍",
        ),
        "residual": ("Sigo sin poder pagar {pp}", "Acme Pay sigue fallando"),
        "chatter": (
            "Pagué el café con Acme Pay, súper rápido",
            "¿Acme tiene cuentas compartidas?",
            "Me encanta el resumen de gastos de Acme",
            "¿Alguien usa Acme para viajar?",
        ),
        "tags": ("#acmecaido", "#acme", "#caida"),
    },
    "nl": {
        "report": (
            "Kan niet inloggen bij Acme",
            "Acme Pay geweigerd bij de kassa",
            "Ligt Acme eruit? Inloggen lukt niet",
            "Acme app crasht bij opstarten",
            "Betaling met Acme Pay twee keer mislukt",
            "Acme ligt eruit, foutmelding 503",
            "Acme pas geweigerd in de supermarkt",
        ),
        "place": ("hier in {p}", "in {p} ook", "({p})"),
        "question": (
            "Al een update?",
            "Hoe lang gaat dit nog duren?",
            "Weet iemand wat er met Acme aan de hand is?",
            "@acmestatus wat is er aan de hand?",
        ),
        "recovered": (
            "Werkt weer, bedankt Acme",
            "Acme Pay werkt weer",
            "Inloggen bij Acme lukt weer 👍",
        ),
        "residual": ("Nog steeds niet kunnen betalen {pp}", "Acme Pay doet het nog steeds niet"),
        "chatter": (
            "Met Acme Pay betaald op de markt, werkt prima",
            "Heeft Acme ook een gezamenlijke rekening?",
            "Nieuwe Acme pas binnen, mooi ding",
            "Acme gebruiken op vakantie, iemand ervaring?",
        ),
        "tags": ("#acmestoring", "#acme", "#storing"),
    },
}
OTHER_LANGS = ("de", "fr", "es", "nl")
#: Share of Mastodon/Bluesky posts written in another language, and the split between them.
OTHER_LANG_SHARE = 0.065
OTHER_LANG_WEIGHTS = (0.4, 0.25, 0.22, 0.13)

COPYPASTA = (
    "ACME IS DOWN. Can't log in, can't pay, no word from @acmestatus. "
    "Boost if you're affected #acmedown"
)

# ---------------------------------------------------------------------------
# Official updates: (minute after START, status, statuspage body, social post text)

OFFICIAL_SCRIPT: tuple[tuple[float, str, str, str], ...] = (
    (
        58.2,
        "investigating",
        "We are investigating reports that some customers cannot log in to the Acme app and "
        "website, and that Acme Pay card and online payments are being declined. We will provide "
        "an update as soon as we have more information.",
        "We're investigating reports that some customers can't log in to Acme or pay with Acme "
        "Pay. We'll share more as soon as we can. https://status.acme.example",
    ),
    (
        85.05,
        "identified",
        "The issue has been identified as a configuration change to our authentication service, "
        "which also blocked payment authorisations. We are rolling the change back. No customer "
        "data was exposed and balances are not affected.",
        "Update: we've identified the cause, a configuration change in our login service that "
        "also blocked payments. Rolling it back now. Your money and data are safe. "
        "https://status.acme.example",
    ),
    (
        94.15,
        "monitoring",
        "A fix has been deployed. Logins and Acme Pay payments are recovering. Some customers may "
        "need to restart the app. We are monitoring the results.",
        "A fix is out and logins and payments are recovering. If the app still shows an error, "
        "please restart it. We're monitoring closely. https://status.acme.example",
    ),
    (
        112.3,
        "resolved",
        "This incident has been resolved. Logins and Acme Pay payments have worked normally since "
        "11:41 UTC. Payments declined during the incident were not charged; duplicate pending "
        "authorisations will drop off within 3 business days. We will publish a post-incident "
        "review.",
        "Resolved: logins and payments have worked normally since 11:41 UTC. Declined payments "
        "were not charged; duplicate pending holds drop off within 3 business days. A full "
        "review will follow. We're sorry for the disruption.",
    ),
)
INCIDENT_NAME = "Login and payment failures"
#: Replies each official social post draws (Mastodon and Bluesky together).
OFFICIAL_REPLY_COUNTS = {"investigating": 46, "identified": 30, "monitoring": 22, "resolved": 28}

# ---------------------------------------------------------------------------
# Ids and time formats


def iso(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds and a Z, as the networks write it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def at_minute(minute: float) -> datetime:
    # Whole milliseconds, so the text form round-trips exactly.
    return START + timedelta(milliseconds=round(minute * 60_000))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _millis(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _base36(value: int) -> str:
    digits = ""
    while value:
        value, rest = divmod(value, 36)
        digits = _B36[rest] + digits
    return digits or "0"


def bluesky_tid(moment: datetime, clock_id: int) -> str:
    """An AT Protocol record key (TID): microseconds and a clock id, base32-sortable."""
    value = ((moment - _EPOCH) // timedelta(microseconds=1)) << 10 | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


# ---------------------------------------------------------------------------
# Authors


@dataclass(frozen=True)
class Author:
    id: str
    source: str
    lang: str
    home: str
    platform: str
    #: Mastodon instance, Bluesky DID, or preferred subreddit.
    home_base: str


MASTODON_INSTANCES = (
    "mastodon.example",
    "mastodon.example",
    "social.example.org",
    "fedi.example.net",
    "toot.example.com",
    "hachyderm.example",
    "mstdn.example.co.uk",
    "chaos.example.de",
    "piaille.example.fr",
    "mastodon.example.es",
    "mastodon.example.nl",
    "fosstodon.example",
)
LANG_INSTANCES = {
    "de": ("chaos.example.de", "mastodon.example", "social.example.org"),
    "fr": ("piaille.example.fr", "mastodon.example"),
    "es": ("mastodon.example.es", "mastodon.example"),
    "nl": ("mastodon.example.nl", "mastodon.example"),
}
SUBREDDITS = ("acme", "acme", "acme", "personalfinance", "fintech", "UKPersonalFinance")
LANG_SUBREDDITS = {"de": "de", "fr": "france", "es": "spain", "nl": "thenetherlands"}
#: Distinct people per (source, language) pool; posting frequency follows Zipf's law.
POOL_SIZES = {"mastodon": 230, "bluesky": 240, "reddit": 120, "hackernews": 70}
ZIPF_EXPONENT = 1.2
#: Zipf-Mandelbrot offset: flattens the head so the busiest people post dozens of times, not
#: hundreds.
ZIPF_OFFSET = 14.0


class AuthorPools:
    """Per-source, per-language pools of pseudonymous people with a long tail of activity."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()
        self._pools: dict[tuple[str, str], tuple[list[Author], list[float]]] = {}
        for source, size in POOL_SIZES.items():
            self._pools[(source, "en")] = self._make(source, "en", size)
            if source in ("mastodon", "bluesky", "reddit"):
                for lang, share in zip(OTHER_LANGS, OTHER_LANG_WEIGHTS, strict=True):
                    scale = 0.25 if source == "reddit" else 1.0
                    count = max(3, round(size * 0.12 * share / 0.25 * scale))
                    self._pools[(source, lang)] = self._make(source, lang, count)

    def new_id(self) -> str:
        while True:
            candidate = f"u-{self._rng.getrandbits(48):012x}"
            if candidate not in self._seen:
                self._seen.add(candidate)
                return candidate

    def _make(self, source: str, lang: str, size: int) -> tuple[list[Author], list[float]]:
        rng = self._rng
        people: list[Author] = []
        for _ in range(size):
            if source == "mastodon":
                base = rng.choice(LANG_INSTANCES.get(lang, MASTODON_INSTANCES))
            elif source == "bluesky":
                base = "did:plc:" + "".join(rng.choice(_B32) for _ in range(24))
            elif source == "reddit":
                base = LANG_SUBREDDITS.get(lang, rng.choice(SUBREDDITS))
            else:
                base = ""
            people.append(
                Author(
                    id=self.new_id(),
                    source=source,
                    lang=lang,
                    home=rng.choice(HOMES[lang]),
                    platform=rng.choices(PLATFORMS, weights=(46, 38, 12, 4))[0],
                    home_base=base,
                )
            )
        cumulative: list[float] = []
        total = 0.0
        for rank in range(1, size + 1):
            total += 1.0 / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT
            cumulative.append(total)
        return people, cumulative

    def pick(self, source: str, lang: str) -> Author:
        people, cumulative = self._pools[(source, lang)]
        return self._rng.choices(people, cum_weights=cumulative)[0]

    def official(self, source: str, base: str) -> Author:
        return Author(self.new_id(), source, "en", "", "web", base)


# ---------------------------------------------------------------------------
# Records


@dataclass
class Draft:
    """One mention before it is written, with what the generator meant by it."""

    source: str
    native_id: str
    url: str
    author: Author
    text: str
    lang: str | None
    written_lang: str
    created_at: datetime
    label: str
    kind: str = "post"
    is_official: bool = False
    in_reply_to: str | None = None
    metadata: dict[str, str | int | bool | None] = field(default_factory=dict)
    #: The text says the author is affected right now (a disruption report).
    affected: bool = False
    likes: int | None = 0
    reposts: int | None = 0
    replies: int | None = 0
    status: str | None = None

    @property
    def mention_id(self) -> str:
        return make_mention_id(self.source, self.native_id)

    def record(self) -> dict[str, Any]:
        """The JSON object of one line: every Mention field but id, ingested_at, schema_version."""
        return {
            "source": self.source,
            "native_id": self.native_id,
            "url": self.url,
            "author": self.author.id,
            "author_handle": None,
            "text": self.text,
            "lang": self.lang,
            "created_at": iso(self.created_at),
            "subjects": ["acme", "acme-pay"] if is_payment_text(self.text) else ["acme"],
            "is_official": self.is_official,
            "kind": self.kind,
            "in_reply_to": self.in_reply_to,
            "engagement": {
                "likes": self.likes,
                "reposts": self.reposts,
                "replies": self.replies,
                "quotes": None,
            },
            "metadata": self.metadata,
        }


_PAYMENT = re.compile(
    r"(?i)acme[ -]?pay|\bpay(?:ing|ment|ments|s)?\b|checkout|declin|\bcharge|refund|\bcard\b|"
    r"\btill\b|zahlung|karte|paiement|carte|pago|tarjeta|betal|\bpas\b|kassa|kasse|caja|caisse"
)


def is_payment_text(text: str) -> bool:
    """Payment-related posts also belong to the "acme-pay" subject."""
    return bool(_PAYMENT.search(text))


def _envelope(minute: float) -> float:
    """Incident intensity in [0, 1]: exponential onset, plateau, slow fade, fast recovery."""
    if minute < ONSET_MINUTE:
        return 0.0
    if minute < 53.5:
        return math.exp((minute - 53.5) / 2.0)
    if minute < 85.0:
        return 1.0 - 0.15 * (minute - 53.5) / 31.5
    if minute < 95.0:
        return 0.85 - 0.15 * (minute - 85.0) / 10.0
    return 0.7 * math.exp(-(minute - 95.0) / 4.5)


def _shifted(minute: float, delay: float, start: float = ONSET_MINUTE) -> float:
    return _envelope(minute - delay) if minute - delay >= start else 0.0


def _gap_boost(minute: float) -> float:
    """Questions pile up while the status page stays silent."""
    if 59.0 <= minute < 85.0:
        return 1.0 + 1.4 * (minute - 59.0) / 26.0
    return 1.0


def category_rates(minute: float) -> dict[str, float]:
    """Expected mentions per minute of each intent at this minute."""
    env = _envelope(minute)
    scale = INCIDENT_SCALE
    after_fix = max(0.0, minute - 95.0)
    rates = {
        "chatter": (7.8 + 1.4 * math.sin(minute / 6.0)) * (1.0 - 0.8 * env),
        "report_login": 26.0 * env * scale,
        "report_pay": 18.0 * _shifted(minute, 3.0) * scale,
        "report_crash": 4.0 * _shifted(minute, 1.0) * scale,
        "report_web": 3.0 * _shifted(minute, 1.0) * scale,
        "report_api": 4.0 * _shifted(minute, 2.0) * scale,
        "hn_discussion": 3.5 * _shifted(minute, 8.0, 53.0) * scale,
        "question": 7.0 * _shifted(minute, 1.0) * _gap_boost(minute) * scale,
        "sarcasm": 5.0 * _shifted(minute, 2.0) * scale,
        "anger": 4.0 * _shifted(minute, 2.0) * _gap_boost(minute) * scale,
        "same_here": 5.0 * _shifted(minute, 1.5) * scale,
        "repost": 7.0 * _shifted(minute, 2.5) * scale,
    }
    if minute >= 95.0:
        ramp = min(1.0, after_fix / 3.0)
        rates["recovered"] = 11.0 * ramp * math.exp(-max(0.0, after_fix - 3.0) / 9.0)
        rates["residual"] = 3.5 * math.exp(-after_fix / 9.0)
        rates["refund"] = 2.5 * math.exp(-max(0.0, after_fix - 2.0) / 14.0) * ramp
        rates["postmortem"] = 0.8 + (1.2 if minute >= 112.5 else 0.0)
    return rates


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, count, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


SOURCE_WEIGHTS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "chatter": (("mastodon", "bluesky", "reddit", "hackernews"), (38, 40, 15, 7)),
    "report": (("mastodon", "bluesky", "reddit", "hackernews"), (36, 42, 18, 4)),
    "report_api": (("hackernews", "reddit", "mastodon", "bluesky"), (45, 20, 25, 10)),
    "social": (("mastodon", "bluesky", "reddit"), (40, 45, 15)),
    "hn": (("hackernews",), (1,)),
    "fedi": (("mastodon", "bluesky"), (45, 55)),
}
CATEGORY_SOURCES = {
    "chatter": "chatter",
    "report_login": "report",
    "report_pay": "report",
    "report_crash": "report",
    "report_web": "report",
    "report_api": "report_api",
    "hn_discussion": "hn",
    "question": "social",
    "sarcasm": "social",
    "anger": "social",
    "same_here": "social",
    "repost": "fedi",
    "recovered": "social",
    "residual": "social",
    "refund": "social",
    "postmortem": "report",
}
LABELS = {
    "report_login": "report",
    "report_pay": "report",
    "report_crash": "report",
    "report_web": "report",
    "report_api": "report",
    "hn_discussion": "discussion",
}


@dataclass
class Thread:
    """A Reddit or Hacker News thread that comments attach to."""

    source: str
    root: Draft
    opens: float
    closes: float
    weight: float
    comments: list[Draft] = field(default_factory=list)


class IncidentBuilder:
    """Writes every mention of the scenario in event-time order."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.authors = AuthorPools(self.rng)
        self.drafts: list[Draft] = []
        self._used_ids: set[str] = set()
        self._threads: list[Thread] = []
        self._popular: dict[str, list[Draft]] = {"mastodon": [], "bluesky": []}
        self._reportable: dict[str, list[Draft]] = {"mastodon": [], "bluesky": []}
        self.official_posts: list[Draft] = []
        #: Set while a text is written, taken by the next draft: does it report a disruption?
        self._pending_affected = False
        self._status_incident = self._random_token(12)
        self._official_authors = {
            "mastodon": self.authors.official("mastodon", "mastodon.example"),
            "bluesky": self.authors.official(
                "bluesky", "did:plc:" + "".join(self.rng.choice(_B32) for _ in range(24))
            ),
            "statuspage": self.authors.official("statuspage", STATUS_HOST),
        }

    # -- ids ---------------------------------------------------------------

    def _random_token(self, length: int) -> str:
        return "".join(self.rng.choice(_B36) for _ in range(length))

    def _unique(self, make: Callable[[], str]) -> str:
        while True:
            candidate = make()
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def _mastodon_id(self, moment: datetime) -> str:
        return self._unique(lambda: str(_millis(moment) << 16 | self.rng.getrandbits(16)))

    def _bluesky_rkey(self, moment: datetime) -> str:
        return self._unique(lambda: bluesky_tid(moment, self.rng.getrandbits(10)))

    def _reddit_id(self, moment: datetime, prefix: str) -> str:
        seconds = (moment - START).total_seconds()
        base, rate = (int("1qk2a00", 36), 9) if prefix == "t3" else (int("nq14000", 36), 60)
        return self._unique(
            lambda: f"{prefix}_{_base36(base + int(seconds * rate) + self.rng.randrange(rate))}"
        )

    def _hn_id(self, moment: datetime) -> str:
        seconds = (moment - START).total_seconds()
        return self._unique(lambda: str(48_213_000 + int(seconds * 9) + self.rng.randrange(9)))

    # -- shared text pieces -------------------------------------------------

    def _casual(self, text: str) -> str:
        if not text:
            return text
        roll = self.rng.random()
        if roll < 0.35:
            return text[0].lower() + text[1:]
        if roll < 0.9:
            return text[0].upper() + text[1:]
        return text

    def _acme(self, author: Author | None = None) -> str:
        name = self.rng.choice(ACME_NAMES)
        if author is not None and author.source in ("reddit", "hackernews"):
            return name.lstrip("@")  # no @-handles on reddit or HN
        return name

    def _platform(self, author: Author) -> str:
        platform = author.platform if self.rng.random() < 0.8 else self.rng.choice(PLATFORMS)
        return self.rng.choice(PLATFORM_PHRASES[platform])

    def _place(self, author: Author) -> str:
        return self.rng.choice(PLACE_PHRASES_EN).format(p=author.home)

    def _tail(self, author: Author, payment: bool, mood: str) -> list[str]:
        """Hashtags, mentions and emoji, the way each network uses them."""
        rng = self.rng
        tail: list[str] = []
        if author.source in ("reddit", "hackernews"):
            if mood == "neg" and rng.random() < 0.08:
                tail.append(rng.choice(("🙃", "😤", "😩")))
            return tail
        if rng.random() < 0.42:
            emoji = EMOJI_NEG if mood == "neg" else EMOJI_POS
            tail.append("".join(rng.choice(emoji) for _ in range(rng.choice((1, 1, 1, 2, 3)))))
        if mood == "neg" and rng.random() < 0.38:
            tags = TAGS_PAY + TAGS_ANY if payment else TAGS_ANY
            tail.append(rng.choice(tags))
            if rng.random() < 0.2:
                tail.append(rng.choice(TAGS_ANY))
        if rng.random() < 0.2:
            tail.insert(
                0, rng.choice(("@acme", "@acmestatus", "cc @acmestatus", "@acme @acmestatus"))
            )
        return tail

    @staticmethod
    def _sentence(text: str) -> str:
        """End a sentence before another one follows it."""
        return text if text[-1:] in ".!?…:)" or not text[-1:].isalnum() else text + "."

    def _finish(self, parts: Sequence[str]) -> str:
        kept = [p for p in parts if p]
        # A sentence that runs into a capitalised one gets its full stop.
        for i in range(len(kept) - 1):
            if kept[i + 1][:1].isupper():
                kept[i] = self._sentence(kept[i])
        return " ".join(kept).replace("  ", " ").strip()

    # -- English texts -----------------------------------------------------

    def report_text(self, author: Author, topic: str) -> str:
        rng = self.rng
        self._affected()
        parts: list[str] = []
        if rng.random() < 0.3 and author.source != "hackernews":
            parts.append(rng.choice(OPENERS))
        sentence = rng.choice(CORES[topic]).format(a=self._acme(author))
        if topic == "api":
            if rng.random() < 0.5:
                sentence += " " + rng.choice(API_CONTEXTS).format(p=author.home)
        else:
            if rng.random() < 0.45:
                sentence += " " + self._platform(author)
            if rng.random() < 0.38:
                sentence += " " + self._place(author)
        sentence += rng.choice((".", "", "!", "!!", "...", ".", "?!"))
        parts.append(self._casual(sentence))
        if rng.random() < (0.45 if topic != "api" else 0.65):
            code = rng.choice(CODES[topic])
            template = rng.choice(CODE_SENTENCES)
            if code.lower().startswith(("error", "http")) and template.lower().startswith("error"):
                template = "Getting {c}."  # not "Error: error 503"
            parts.append(template.format(c=code))
        if rng.random() < 0.42:
            pool = REMARKS["any"] + REMARKS.get(topic, ()) * 2
            parts.append(rng.choice(pool))
        if rng.random() < 0.12:
            parts.append(rng.choice(("Anyone else?", "Is it just me?", "Any update?")))
        if rng.random() < 0.04:
            parts.append(f"https://img.example/{self._random_token(8)}.png")
        parts.extend(self._tail(author, topic == "pay", "neg"))
        return self._finish(parts)

    def question_text(self, author: Author, minute: float) -> str:
        rng = self.rng
        ack, identified = OFFICIAL_SCRIPT[0][0], OFFICIAL_SCRIPT[1][0]
        if minute < ack and rng.random() < 0.35:
            core = rng.choice(QUESTIONS_BEFORE_ACK)
        elif ack + 6 <= minute < identified and rng.random() < 0.4:
            core = rng.choice(QUESTIONS_GAP).format(n=int(minute - ack))
        else:
            core = rng.choice(QUESTIONS)
        self._affected(core)
        if author.source in ("reddit", "hackernews"):
            # Nobody @-mentions an account in a reddit comment.
            core = re.sub(r"(?:cc )?@acme(?:status)?\b[?,]?\s*", "", core).strip() or "any update?"
        parts = [self._casual(core)]
        if rng.random() < 0.3:
            self._affected()
            parts.insert(
                0,
                rng.choice(
                    (
                        "Can't log in.",
                        "Payment just failed.",
                        "App won't open.",
                        "Still down here.",
                        "Card declined again.",
                    )
                ),
            )
        if rng.random() < 0.2:
            place = self._place(author)
            parts.append(self._sentence(place[0].upper() + place[1:]))
        parts.extend(self._tail(author, False, "neg"))
        return self._finish(parts)

    def sarcasm_text(self, author: Author) -> str:
        template = self.rng.choice(SARCASM)
        self._affected(template)
        text = template.format(a=self._acme(author))
        return self._finish([self._casual(text), *self._tail(author, "pay" in text, "neg")])

    def anger_text(self, author: Author) -> str:
        template = self.rng.choice(ANGER)
        self._affected(template)
        parts = [self._casual(template.format(a=self._acme(author)))]
        if self.rng.random() < 0.3:
            parts[0] = self._sentence(parts[0])
            parts.append(self.rng.choice(REMARKS["any"] + REMARKS["pay"]))
        parts.extend(self._tail(author, False, "neg"))
        return self._finish(parts)

    def short_text(
        self, template: str, author: Author, topic: str = "login", minutes: int = 0
    ) -> str:
        return template.format(
            p=author.home,
            pl=self._platform(author),
            pp=self._place(author),
            c=self.rng.choice(CODES[topic]),
            n=minutes,
        )

    def chatter_text(self, author: Author) -> tuple[str, str]:
        rng = self.rng
        roll = rng.random()
        if author.source == "hackernews" and roll < 0.7:
            text = rng.choice(HN_CHATTER).format(u=rng.choice(NEWS_URLS))
            return text, "unrelated" if "editor" in text or "ACME" in text else "chatter"
        if roll < 0.08:
            return self._casual(rng.choice(UNRELATED)), "unrelated"
        template = rng.choice(JOKES) if roll < 0.14 else rng.choice(CHATTER)
        text = template.format(
            a=self._acme(author),
            f=rng.choice(FEATURES),
            i=rng.choice(ITEMS),
            p=rng.choice(HOMES["en"]),
            u=rng.choice(NEWS_URLS),
        )
        parts = [self._casual(text)]
        if author.source in ("mastodon", "bluesky") and rng.random() < 0.25:
            parts.append(rng.choice(EMOJI_POS))
        if author.source in ("mastodon", "bluesky") and rng.random() < 0.1:
            parts.append(rng.choice(("#acme", "#fintech", "#acmepay", "#money")))
        return self._finish(parts), "chatter"

    def hn_text(self) -> str:
        template = self.rng.choice(HN_COMMENTS)
        self._affected(template)
        return template.format(
            pct=self.rng.randrange(35, 90),
            d=self.rng.randrange(4, 8),
            c=self.rng.choice(CODES["api"]),
            m=self.rng.randrange(3, 12),
        )

    def other_lang_text(self, author: Author, category: str) -> str:
        rng = self.rng
        frags = LANG_FRAGMENTS[author.lang]
        key = {
            "recovered": "recovered",
            "residual": "residual",
            "question": "question",
            "chatter": "chatter",
        }.get(category, "report")
        if key in ("report", "residual"):
            self._affected()
        text = rng.choice(frags[key]).replace("{pp}", rng.choice(frags["place"]))
        parts = [text.format(p=author.home)]
        if key == "report" and rng.random() < 0.45:
            parts[0] += " " + rng.choice(frags["place"]).format(p=author.home)
        if key == "report" and rng.random() < 0.3:
            parts[0] = self._sentence(parts[0])
            parts.append(rng.choice(frags["question"]))
        if key in ("report", "residual", "question") and author.source != "reddit":
            if rng.random() < 0.45:
                parts.append(rng.choice(frags["tags"]))
            if rng.random() < 0.35:
                parts.append(rng.choice(EMOJI_NEG))
        elif key == "recovered" and rng.random() < 0.4:
            parts.append(rng.choice(EMOJI_POS))
        return self._finish(parts)

    # -- records -----------------------------------------------------------

    def _affected(self, template: str | None = None) -> None:
        """Mark the text being written as a disruption report (always, or by its template)."""
        if template is None or template in AFFECTED_TEMPLATES:
            self._pending_affected = True

    def _add(self, draft: Draft) -> Draft:
        draft.affected = draft.affected or self._pending_affected
        self._pending_affected = False
        self.drafts.append(draft)
        return draft

    def _engagement(self, draft: Draft, boost: float = 1.0) -> None:
        rng = self.rng
        likes = int((rng.paretovariate(1.3) - 1.0) * 2.2 * boost)
        if draft.source == "hackernews":
            # HN shows no likes or reposts for comments; stories carry points in "likes".
            draft.likes = likes * 6 if draft.metadata.get("type") == "story" else None
            draft.reposts = None
            draft.replies = 0
        elif draft.source == "reddit":
            draft.likes = max(1, likes + 1)  # reddit's score starts at 1
            draft.reposts = None
        else:
            draft.likes = likes
            draft.reposts = int(likes * rng.uniform(0.0, 0.45))

    def social_post(
        self,
        author: Author,
        moment: datetime,
        text: str,
        label: str,
        *,
        written_lang: str,
        kind: str = "post",
        parent: Draft | None = None,
    ) -> Draft:
        """A Mastodon status or Bluesky post (also replies and reposts)."""
        source = author.source
        metadata: dict[str, str | int | bool | None]
        if source == "mastodon":
            native = self._mastodon_id(moment)
            instance = author.home_base
            url = f"https://{instance}/@{author.id}/{native}"
            metadata = {"instance": instance, "visibility": "public"}
            if kind == "repost" and parent is not None:
                url = parent.url
                metadata["reblog_of"] = parent.mention_id
        else:
            did = author.home_base
            rkey = self._bluesky_rkey(moment)
            collection = "app.bsky.feed.repost" if kind == "repost" else "app.bsky.feed.post"
            native = f"at://{did}/{collection}/{rkey}"
            url = f"https://bsky.example/profile/{did}/post/{rkey}"
            metadata = {"did": did, "collection": collection}
            if kind == "repost" and parent is not None:
                url = parent.url
                metadata["subject"] = parent.native_id
        draft = Draft(
            source=source,
            native_id=native,
            url=url,
            author=author,
            text=text,
            # A few clients send no language tag.
            lang=None if self.rng.random() < 0.03 else written_lang,
            written_lang=written_lang,
            created_at=moment,
            label=label,
            kind=kind,
            in_reply_to=parent.mention_id if (parent is not None and kind == "reply") else None,
            metadata=metadata,
        )
        if kind == "repost":
            draft.likes, draft.reposts, draft.replies = 0, 0, 0
        else:
            self._engagement(draft)
        return self._add(draft)

    def thread_root(
        self, source: str, author: Author, minute: float, title: str, body: str, **extra: Any
    ) -> Draft:
        moment = at_minute(minute)
        if source == "reddit":
            native = self._reddit_id(moment, "t3")
            sub = extra.get("subreddit", "acme")
            slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:40]
            url = f"https://reddit.example/r/{sub}/comments/{native[3:]}/{slug}/"
            metadata: dict[str, str | int | bool | None] = {"subreddit": sub, "type": "link"}
            text = f"{title}\n\n{body}" if body else title
        else:
            native = self._hn_id(moment)
            url = f"https://news.example/item?id={native}"
            metadata = {"type": "story", "link": extra.get("link")}
            text = title
        draft = Draft(
            source=source,
            native_id=native,
            url=url,
            author=author,
            text=text,
            lang=None,  # reddit and HN declare no language
            written_lang=extra.get("written_lang", "en"),
            created_at=moment,
            label=extra.get("label", "report"),
            metadata=metadata,
        )
        self._engagement(draft, boost=extra.get("boost", 1.0))
        return self._add(draft)

    def comment(
        self,
        thread: Thread,
        author: Author,
        moment: datetime,
        text: str,
        label: str,
        written_lang: str = "en",
    ) -> Draft:
        rng = self.rng
        if thread.comments and rng.random() < 0.35:
            parent = rng.choice(thread.comments[-30:])
        else:
            parent = thread.root
        if thread.source == "reddit":
            native = self._reddit_id(moment, "t1")
            url = thread.root.url + native[3:] + "/"
            metadata: dict[str, str | int | bool | None] = {
                "subreddit": thread.root.metadata["subreddit"],
                "type": "comment",
                "link_id": thread.root.native_id,
            }
        else:
            native = self._hn_id(moment)
            url = f"https://news.example/item?id={native}"
            metadata = {"type": "comment", "story_id": int(thread.root.native_id)}
        draft = Draft(
            source=thread.source,
            native_id=native,
            url=url,
            author=author,
            text=text,
            lang=None,
            written_lang=written_lang,
            created_at=moment,
            label=label,
            kind="comment",
            in_reply_to=parent.mention_id,
            metadata=metadata,
        )
        self._engagement(draft)
        thread.comments.append(draft)
        return self._add(draft)

    # -- the scenario ------------------------------------------------------

    def build(self) -> list[Draft]:
        self._open_threads()
        self._first_reports()
        self._officials()
        for minute in range(int((END - START).total_seconds() // 60)):
            self._minute(minute)
        self._copypasta()
        self._replies_to_officials()
        self._settle_engagement()
        self.drafts.sort(key=lambda d: (d.created_at, d.source, d.native_id))
        return self.drafts

    def _open_threads(self) -> None:
        pick = self.authors.pick
        # Ordinary days have threads too.
        calm = (
            (
                6.3,
                "reddit",
                "Does Acme Pay work with Google Pay yet?",
                "Asking before I switch.",
                "acme",
            ),
            (
                14.8,
                "hackernews",
                "Show HN: I built a budgeting tool on top of the Acme API",
                "",
                None,
            ),
            (
                27.5,
                "reddit",
                "Acme savings spaces: how do you organise yours?",
                "I have rent, holidays and a 'fun' pot.",
                "acme",
            ),
        )
        for minute, source, title, body, sub in calm:
            author = pick(source, "en")
            root = self.thread_root(
                source,
                author,
                minute,
                title,
                body,
                subreddit=sub,
                label="chatter",
                link="https://budget.example" if source == "hackernews" else None,
            )
            self._threads.append(Thread(source, root, minute, minute + 40, 0.4))
        incident = (
            (
                49.6,
                "reddit",
                "Is Acme down? Can't log in",
                "Getting AUTH-401 on the app since about 10:45. Website also not working. Anyone "
                "else?",
                "acme",
                "en",
                3.0,
                8.0,
            ),
            (52.7, "hackernews", "Acme login and payments are down", "", None, "en", 2.5, 12.0),
            (
                53.4,
                "reddit",
                "Acme Pay declined everywhere?",
                "Card declined at two shops in a row. App won't open either.",
                "acme",
                "en",
                2.0,
                5.0,
            ),
            (
                56.8,
                "reddit",
                "Acme down?",
                "Kann mich seit 20 Minuten nicht einloggen, Zahlung mit Acme Pay geht auch nicht. "
                "Bei euch auch?",
                "de",
                "de",
                0.5,
                3.0,
            ),
            (
                60.2,
                "reddit",
                "Acme Pay outage - megathread",
                "Please keep all reports here. Official status page: https://status.acme.example",
                "personalfinance",
                "en",
                1.5,
                4.0,
            ),
        )
        for minute, source, title, body, sub, lang, weight, boost in incident:
            author = pick(source, "en" if lang == "en" else lang)
            self._affected()  # every incident thread opens with a report
            root = self.thread_root(
                source,
                author,
                minute,
                title,
                body,
                subreddit=sub,
                written_lang=lang,
                boost=boost,
                link=f"https://{STATUS_HOST}/" if source == "hackernews" else None,
            )
            self._threads.append(Thread(source, root, minute, 120.0, weight))

    def _first_reports(self) -> None:
        """The first scattered reports, so the onset is exactly 10:45."""
        scripted = (
            (45.05, "bluesky", "can't log in to acme? keeps saying AUTH-401"),
            (45.6, "mastodon", "Is acme down? App logged me out and login just fails. E-4012"),
            (46.3, "bluesky", "acme login spinning forever on iOS, anyone else?"),
        )
        for minute, source, text in scripted:
            author = self.authors.pick(source, "en")
            self._affected()
            draft = self.social_post(author, at_minute(minute), text, "report", written_lang="en")
            self._reportable[source].append(draft)

    def _officials(self) -> None:
        rng = self.rng
        for minute, status, body, social in OFFICIAL_SCRIPT:
            moment = at_minute(minute)
            update_id = self._unique(lambda: self._random_token(12))
            self._add(
                Draft(
                    source="statuspage",
                    native_id=update_id,
                    url=f"https://{STATUS_HOST}/incidents/{self._status_incident}",
                    author=self._official_authors["statuspage"],
                    text=f"{INCIDENT_NAME} - {status.capitalize()}: {body}",
                    lang=None,
                    written_lang="en",
                    created_at=moment,
                    label="official",
                    kind="status_update",
                    is_official=True,
                    metadata={
                        "page": STATUS_HOST,
                        "incident_id": self._status_incident,
                        "incident_name": INCIDENT_NAME,
                        "status": status,
                        "impact": "major" if status != "resolved" else "none",
                        "components": "Login, Acme Pay",
                    },
                    likes=None,
                    reposts=None,
                    replies=None,
                    status=status,
                )
            )
            for offset, source in (
                (rng.uniform(0.3, 0.6), "mastodon"),
                (rng.uniform(0.6, 1.0), "bluesky"),
            ):
                author = self._official_authors[source]
                post = self.social_post(
                    author, at_minute(minute + offset), social, "official", written_lang="en"
                )
                post.is_official = True
                post.status = status
                post.likes = rng.randrange(40, 260)
                post.reposts = rng.randrange(30, 180)
                self.official_posts.append(post)

    def _minute(self, minute: int) -> None:
        rng = self.rng
        slots: list[tuple[float, str]] = []
        for category, rate in category_rates(minute + 0.5).items():
            for _ in range(_poisson(rng, rate)):
                slots.append((minute + rng.random(), category))
        slots.sort()
        for offset, category in slots:
            self._one(offset, category)

    def _choose_source(self, category: str) -> str:
        names, weights = SOURCE_WEIGHTS[CATEGORY_SOURCES[category]]
        return self.rng.choices(names, weights=weights)[0]

    def _choose_lang(self, source: str, category: str) -> str:
        if source in ("mastodon", "bluesky") and category not in ("repost", "hn_discussion"):
            share = OTHER_LANG_SHARE
        elif source == "reddit" and category in ("report_login", "report_pay", "same_here"):
            share = 0.025
        else:
            return "en"
        if category in ("sarcasm", "anger", "refund", "postmortem", "report_api"):
            return "en"  # the other languages have no fragments for these; they stay rare
        if self.rng.random() >= share:
            return "en"
        return self.rng.choices(OTHER_LANGS, weights=OTHER_LANG_WEIGHTS)[0]

    def _active_thread(self, source: str, minute: float) -> Thread | None:
        open_threads = [
            t for t in self._threads if t.source == source and t.opens < minute < t.closes
        ]
        if not open_threads:
            return None
        return self.rng.choices(open_threads, weights=[t.weight for t in open_threads])[0]

    def _one(self, minute: float, category: str) -> None:
        rng = self.rng
        moment = at_minute(minute)
        source = self._choose_source(category)
        thread = None
        if source in ("reddit", "hackernews"):
            thread = self._active_thread(source, minute)
            if thread is None and source == "hackernews" and category != "chatter":
                source = "mastodon"  # before the HN story exists, people post elsewhere
            if thread is None and source == "reddit" and category not in ("chatter",):
                source = "bluesky"
        lang = self._choose_lang(source, category)
        if lang != "en" and source == "reddit":
            thread = next(
                (t for t in self._threads if t.root.metadata.get("subreddit") == "de"), None
            )
            if thread is None or thread.opens >= minute or lang != "de":
                lang = "en"
                thread = self._active_thread("reddit", minute)
        author = self.authors.pick(source, lang)
        if category == "repost":
            self._repost(author, moment)
            return
        text, label = self._text_for(author, category, minute, lang)
        if source in ("reddit", "hackernews"):
            standalone = 0.45 if category == "chatter" else 0.06
            if thread is None or (lang == "en" and rng.random() < standalone):
                # Calm hours: a standalone post, not every chat needs a thread.
                title = text if len(text) < 120 else text[:117] + "..."
                root = self.thread_root(
                    source,
                    author,
                    minute,
                    title,
                    "",
                    subreddit=author.home_base or "acme",
                    label=label,
                    link=None,
                )
                self._threads.append(Thread(source, root, minute, minute + 30, 0.3))
            else:
                self.comment(thread, author, moment, text, label, written_lang=lang)
            return
        parent = None
        kind = "post"
        earlier = [d for d in self._reportable[source][-40:] if d.created_at < moment]
        if category == "same_here" and earlier:
            parent = rng.choice(earlier)
            kind = "reply"
        draft = self.social_post(
            author, moment, text, label, written_lang=lang, kind=kind, parent=parent
        )
        if label == "report" and kind == "post":
            self._reportable[source].append(draft)
            if draft.likes is not None and draft.likes >= 8:
                self._popular[source].append(draft)

    def _text_for(self, author: Author, category: str, minute: float, lang: str) -> tuple[str, str]:
        """The text of one mention and its intent label."""
        rng = self.rng
        label = LABELS.get(category, category)
        if category == "chatter":
            if lang != "en":
                return self.other_lang_text(author, category), label
            return self.chatter_text(author)
        if lang != "en":
            return self.other_lang_text(author, category), label
        if author.source == "hackernews":
            if rng.random() < 0.7:
                return self.hn_text(), "discussion"
            return self.report_text(author, "api"), "report"
        if category.startswith("report_"):
            return self.report_text(author, category.removeprefix("report_")), label
        if category == "question":
            return self.question_text(author, minute), label
        if category == "sarcasm":
            return self.sarcasm_text(author), label
        if category == "anger":
            return self.anger_text(author), label
        if category == "same_here":
            self._affected()
            topic = rng.choice(("login", "pay"))
            text = self.short_text(rng.choice(SAME_HERE), author, topic)
            tail = self._tail(author, topic == "pay", "neg")
            return self._finish([self._casual(text), *tail]), label
        templates = {
            "recovered": RECOVERED,
            "residual": RESIDUAL,
            "refund": REFUND,
            "postmortem": POSTMORTEM,
        }[category]
        if category == "residual":
            self._affected()
        text = self._casual(self.short_text(rng.choice(templates), author, "pay"))
        mood = "pos" if category == "recovered" else "neg"
        tail = self._tail(author, False, mood) if category != "postmortem" else []
        return self._finish([text, *tail]), label

    def _repost(self, author: Author, moment: datetime) -> None:
        rng = self.rng
        source = author.source
        pool = [d for d in self._popular[source][-60:] if d.created_at < moment]
        if not pool:
            pool = [d for d in self._reportable[source][-20:] if d.created_at < moment]
        if not pool:
            return
        weights = [1.0 + (d.likes or 0) for d in pool]
        parent = rng.choices(pool, weights=weights)[0]
        repost = self.social_post(
            author,
            moment,
            parent.text,
            "repost",
            written_lang=parent.written_lang,
            kind="repost",
            parent=parent,
        )
        repost.affected = parent.affected

    def _copypasta(self) -> None:
        """A small flood of near-identical posts between 11:06 and 11:14."""
        rng = self.rng
        variants = ("", "!", "!!", " 😡", " 🙃", " #acmepay", " RT", " 💀", " ‼️")
        for _ in range(44):
            minute = rng.uniform(66.0, 74.0)
            source = rng.choice(("mastodon", "bluesky", "bluesky"))
            author = self.authors.pick(source, "en")
            text = COPYPASTA
            if rng.random() < 0.5:
                text = text.replace("DOWN.", rng.choice(("DOWN.", "DOWN!", "DOWN AGAIN.")))
            text += rng.choice(variants)
            if rng.random() < 0.3:
                text += f" ({author.home})"
            self._affected()
            draft = self.social_post(
                author, at_minute(minute), text, "copypasta", written_lang="en"
            )
            draft.likes = rng.randrange(0, 6)

    def _replies_to_officials(self) -> None:
        rng = self.rng
        for post in self.official_posts:
            status = post.status or ""
            count = OFFICIAL_REPLY_COUNTS[status] // 2 + rng.randrange(-2, 3)
            start = (post.created_at - START).total_seconds() / 60.0
            for _ in range(count):
                minute = min(119.9, start + 0.1 + rng.expovariate(1 / 5.0))
                templates: tuple[str, ...]
                if status == "investigating":
                    templates = OFFICIAL_REPLIES
                elif status == "identified":
                    templates = OFFICIAL_REPLIES_IDENTIFIED + OFFICIAL_REPLIES
                else:
                    templates = OFFICIAL_REPLIES_LATE
                author = self.authors.pick(post.source, "en")
                template = rng.choice(templates)
                self._affected(template)
                # "{n} minutes": how long people have been waiting, counted from the onset.
                waited = int(minute - ONSET_MINUTE)
                text = self.short_text(template, author, "pay", waited)
                opener_share = {"investigating": 0.75, "identified": 0.7, "monitoring": 0.5}
                if rng.random() < opener_share.get(status, 0.3):
                    self._affected()
                    text = f"{rng.choice(REPLY_OPENERS)} {text}"
                text = self._finish([self._casual(text), *self._tail(author, False, "neg")])
                self.social_post(
                    author,
                    at_minute(minute),
                    text,
                    "official_reply",
                    written_lang="en",
                    kind="reply",
                    parent=post,
                )

    def _settle_engagement(self) -> None:
        """Counts seen at fetch time include at least the replies and reposts in this file."""
        replies: Counter[str] = Counter()
        reposts: Counter[str] = Counter()
        by_id = {d.mention_id: d for d in self.drafts}
        for draft in self.drafts:
            if draft.in_reply_to:
                replies[draft.in_reply_to] += 1
            target = draft.metadata.get("reblog_of")
            if draft.kind == "repost":
                parent_id = (
                    str(target)
                    if target
                    else make_mention_id("bluesky", str(draft.metadata.get("subject")))
                )
                reposts[parent_id] += 1
        for mention_id, count in replies.items():
            parent = by_id[mention_id]
            parent.replies = (parent.replies or 0) + count
        for mention_id, count in reposts.items():
            parent = by_id[mention_id]
            parent.reposts = (parent.reposts or 0) + count
            parent.likes = (parent.likes or 0) + count * 2


# ---------------------------------------------------------------------------
# Truth and output


def phase_of(moment: datetime) -> str:
    minute = (moment - START).total_seconds() / 60.0
    for name, first, end in PHASES:
        if first <= minute < end:
            return name
    raise ValueError(f"{moment} is outside the scenario")


def _per_minute(drafts: Sequence[Draft], first: float, end: float) -> dict[str, float]:
    counts = Counter(int((d.created_at - START).total_seconds() // 60) for d in drafts)
    series = [counts.get(m, 0) for m in range(int(first), int(end))]
    return {
        "min": min(series),
        "median": statistics.median(series),
        "mean": round(statistics.fmean(series), 2),
        "max": max(series),
    }


def build_truth(drafts: Sequence[Draft]) -> dict[str, Any]:
    official = [d for d in drafts if d.is_official]
    updates = [d for d in official if d.source == "statuspage"]
    ack = official[0].created_at
    gap_start = max(d.created_at for d in official if d.status == "investigating")
    gap_end = min(d.created_at for d in official if d.status == "identified")
    phases = []
    for name, first, end in PHASES:
        inside = [d for d in drafts if phase_of(d.created_at) == name]
        labels = Counter(d.label for d in inside)
        phases.append(
            {
                "name": name,
                "start": iso(at_minute(first)),
                "end": iso(at_minute(end)),
                "mentions": len(inside),
                "per_minute": _per_minute(inside, first, end),
                "reports": sum(1 for d in inside if d.affected),
                "labels": dict(sorted(labels.items())),
                "official": sum(1 for d in inside if d.is_official),
                "acme_pay": sum(1 for d in inside if is_payment_text(d.text)),
                "unique_authors": len({d.author.id for d in inside}),
            }
        )
    per_minute = Counter(int((d.created_at - START).total_seconds() // 60) for d in drafts)
    peak_minute, peak_count = max(sorted(per_minute.items()), key=lambda kv: kv[1])
    copypasta = [d for d in drafts if d.label == "copypasta"]
    labels_ids: dict[str, list[str]] = {}
    for draft in drafts:
        labels_ids.setdefault(draft.label, []).append(draft.mention_id)
    return {
        "scenario": "Acme login and Acme Pay outage (fictional company, fictional posts)",
        "generator": "examples/generate_incident.py",
        "seed": SEED,
        "subjects": ["acme", "acme-pay"],
        "span": {"start": iso(START), "end": iso(END)},
        "onset": iso(at_minute(ONSET_MINUTE)),
        "first_report": iso(min(d.created_at for d in drafts if d.affected)),
        "first_payment_failure": iso(at_minute(FIRST_PAYMENT_FAILURE_MINUTE)),
        "acknowledged_at": iso(ack),
        "ack_delay_minutes": round((ack - at_minute(ONSET_MINUTE)).total_seconds() / 60, 2),
        "silence_gap": {
            "start": iso(gap_start),
            "end": iso(gap_end),
            "minutes": round((gap_end - gap_start).total_seconds() / 60, 2),
            "note": "No official update from any Acme account between these times.",
        },
        "fix_deployed_at": iso(min(d.created_at for d in updates if d.status == "monitoring")),
        "resolved_at": iso(min(d.created_at for d in updates if d.status == "resolved")),
        "phases": phases,
        "peak": {
            "minute_start": iso(START + timedelta(minutes=peak_minute)),
            "mentions": peak_count,
        },
        "official_updates": [
            {
                "id": d.mention_id,
                "source": d.source,
                "native_id": d.native_id,
                "kind": d.kind,
                "status": d.status,
                "created_at": iso(d.created_at),
                "url": d.url,
                "text": d.text,
            }
            for d in official
        ],
        "copypasta": {
            "template": COPYPASTA,
            "count": len(copypasta),
            "first": iso(copypasta[0].created_at),
            "last": iso(copypasta[-1].created_at),
        },
        "claims": {
            "baseline_max_per_minute": 20,
            "baseline_max_negative_share": 0.15,
            "outage_min_median_per_minute": 50,
            "outage_min_negative_share": 0.5,
            "onset_peak_within_minutes": 12,
            "official_replies_more_negative_than_others": True,
            "min_unique_text_share": 0.75,
        },
        "totals": {
            "lines": len(drafts),
            "authors": len({d.author.id for d in drafts}),
            "by_source": dict(sorted(Counter(d.source for d in drafts).items())),
            "by_kind": dict(sorted(Counter(d.kind for d in drafts).items())),
            "by_declared_lang": dict(sorted(Counter(d.lang or "none" for d in drafts).items())),
            "by_written_lang": dict(sorted(Counter(d.written_lang for d in drafts).items())),
            "by_label": dict(sorted(Counter(d.label for d in drafts).items())),
            "acme_pay": sum(1 for d in drafts if is_payment_text(d.text)),
            "unique_texts": len({d.text for d in drafts}),
        },
        "reports": {
            "meaning": "The text says its author (or their service) is affected right now: "
            "symptom reports, 'same here', the copypasta, leftover complaints, reposts of "
            "those, and sarcasm, anger, questions or replies that state a failure.",
            "count": sum(1 for d in drafts if d.affected),
            "ids": [d.mention_id for d in drafts if d.affected],
        },
        "labels": labels_ids,
    }


def _check_affected_templates() -> None:
    """Every template marked as a disruption report must exist (a typo would unmark it)."""
    groups = (
        SARCASM,
        ANGER,
        HN_COMMENTS,
        QUESTIONS_BEFORE_ACK,
        OFFICIAL_REPLIES,
        OFFICIAL_REPLIES_IDENTIFIED,
        OFFICIAL_REPLIES_LATE,
    )
    known = {template for group in groups for template in group}
    unknown = sorted(AFFECTED_TEMPLATES - known)
    if unknown:
        raise ValueError(f"AFFECTED_TEMPLATES names texts no list has: {unknown}")


def build_incident(seed: int = SEED) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every line's JSON object, in order, and the ground truth."""
    _check_affected_templates()
    drafts = IncidentBuilder(seed).build()
    records = [d.record() for d in drafts]
    for record in records:
        # Fail before writing anything if a line would not be a valid Mention.
        Mention.model_validate(
            {
                **record,
                "id": make_mention_id(record["source"], record["native_id"]),
                "ingested_at": record["created_at"],
            }
        )
    return records, build_truth(drafts)


def write_outputs(out_dir: Path, seed: int = SEED) -> tuple[Path, Path]:
    records, truth = build_incident(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    jsonl = out_dir / JSONL_NAME
    truth_path = out_dir / TRUTH_NAME
    lines = (json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
    jsonl.write_bytes("".join(lines).encode("utf-8"))
    truth_path.write_bytes((json.dumps(truth, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return jsonl, truth_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="where to write the JSONL and truth files (default: next to this script)",
    )
    args = parser.parse_args(argv)
    jsonl, truth = write_outputs(args.out_dir)
    print(f"wrote {jsonl} and {truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

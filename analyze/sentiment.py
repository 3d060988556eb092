"""Earful's incident-aware compound: VADER's sum of valences plus the incident cues.

VADER adds up word valences and squashes the sum into (-1, 1) with
``sum / sqrt(sum**2 + 15)``. Its compound can therefore be unsquashed back to
that sum, the incident cues added on VADER's own scale, and the total squashed
again: one VADER pass, and where a post has no incident cue the compound is
exactly VADER's. The rules on top:

- failure, complaint and recovery phrases add their valence (``lexicon/incident.tsv``);
  a failure phrase in another sense ("stock is down 3%") or a recovery only
  wished for ("until this is fixed") adds nothing;
- politeness inside a complaint or a request is not praise: with a failure,
  a complaint ("still waiting", "on hold for") or a request ("can you") and no
  recovery, "please", "help", "thanks"... lose the valence VADER gives them;
- a negated failure is mild good news ("no outage" is not a complaint), a
  negated recovery counts against ("not fixed");
- emoji VADER reads as neutral add theirs (😡, 🙄, 👎);
- laughing at a failure is mockery: with a failure, no recovery and a laugh
  (😂, "lol") or sarcastic praise ("great.", "love it", "well done"), VADER's
  positive part is dropped and a penalty added ("acme is down 😂😂" is negative);
- in a post put to an account (an @handle), how long the author waited or how
  often they tried is a complaint ("@acme on the phone for 2 hours", "called 4
  times"), and so is a why-question ("@acmeair why is my bag in Denver?"): a
  customer asking a company why is challenging it, not curious. Elsewhere
  "for several days" is as often a plan as a wait, so it counts for nothing;
- in a post put to an account, a customer-journey fact that is bad news
  whatever the tone is a complaint ("we weren't rebooked", "no announcement",
  "nobody told us", "charged me twice", "arrived smashed", "3 days late");
- in a post put to an account, a problem told by its form: a negated plain
  verb in a post naming a service ("my order didn't include the charger"; only
  if the post does not praise), an ordeal counted ("day 6 of", "the fourth
  call"), a reference quoted ("order 774120"), being ignored ("is anyone
  monitoring this"), an amount charged ("charged me $60");
- an @handle is a name, not a word: VADER reads "@united" as +1.8, so the
  handle's valence comes out of VADER's sum.
"""

from __future__ import annotations

import math
import re
import string
from functools import lru_cache, reduce
from operator import itemgetter, or_
from typing import NamedTuple

import ahocorasick  # type: ignore[import-not-found]  # C extension without type stubs
from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer

from earful.analyze.cues import Entry, TextCues
from earful.analyze.outage import is_other_sense, is_pending_recovery

__all__ = ["ALPHA", "MOCKERY_PENALTY", "NEGATED_FAILURE", "incident_compound", "squash", "unsquash"]

#: VADER's normalisation constant.
ALPHA = 15.0
#: Added (negative) when a post laughs at a failure.
MOCKERY_PENALTY = -0.8
#: How much a negator turns a positive phrase around (VADER's N_SCALAR).
NEGATION_SCALAR = -0.74
#: A negated failure is mild good news ("no outage here"); it also offsets
#: VADER's own valence for "no" (-1.2).
NEGATED_FAILURE = 1.5
_LIMIT = 0.9999
#: How long the author waited or went without ("for 2 hours", "been 3 weeks",
#: "still pending after 4 days"), and how often they had to try ("called 4
#: times"), on the normalised text (lower case, single spaces).
_AMOUNT = (
    r"(?:over |almost |nearly |about |more than )?"
    r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|a few"
    r"|a couple of|a couple|the past|the last|multiple)"
)
_UNIT = r"(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?)"
#: The three ways of telling it, each searched on its own (one expression with all
#: three, a look-behind and a "^" among them, is tried at every position of the post;
#: apart, the first is tried only at spaces, the second only where " times " is,
#: the third only at the start): a post tells a wait if any of them matches.
_WAITED_FOR = re.compile(
    rf" (?:for|been|after|took|takes|taking|taken|waited|waiting|wait) {_AMOUNT} "
    rf"(?:more )?{_UNIT} "
)
_TRIED_TIMES = re.compile(
    r"(?<= )(?:\d+|two|three|four|five|six|seven|eight|nine|ten|multiple) times "
)
#: A post that opens with a time spent: "45 minutes for bags at the carousel"
#: (matched at the start of the post only).
_OPENS_WITH_WAIT = re.compile(
    rf" {_AMOUNT} (?:more )?{_UNIT} "
    r"(?:for|on|waiting|now|later|and still|and counting|in a queue|in line) "
)
#: The three as one expression (the tests hold ``_tells_a_wait`` to it).
_WAITED = re.compile(f"{_WAITED_FOR.pattern}|{_TRIED_TIMES.pattern}|^{_OPENS_WITH_WAIT.pattern}")


def _tells_a_wait(norm: str) -> bool:
    """Whether ``_WAITED`` matches the post, by its three parts."""
    return (
        _WAITED_FOR.search(norm) is not None
        or (" times " in norm and _TRIED_TIMES.search(norm) is not None)
        or _OPENS_WITH_WAIT.match(norm) is not None
    )


#: A wait named by its length ("there's a 2 hour wait", "a 40 minute queue"); in a
#: question ("is it a 2 hour wait?") it is asked about, not complained of.
_NAMED_WAIT = re.compile(
    rf" {_AMOUNT} (?:minute|min|hour|hr|day|week|month)s? (?:wait|queue|delay|hold|line) "
)
#: Added for a duration of waiting (as a complaint phrase, about VADER's "delay").
WAITED_VALENCE = -1.0
#: A why-question put to an account: "@acme why ...?", "@acme how come ...?",
#: "@acme ... really?", "@acme is there a reason ...?".
_CHALLENGES = (" why ", " how come ", " really . ", " is there a reason ")
#: A post to an account that opens with "why" or "how come" challenges it even
#: without a question mark ("@acme why is my flight delayed again").
_OPENS_WHY = (" why ", " how come ")
#: Added for a why-question put to an account.
CHALLENGE_VALENCE = -1.0
#: "can't wait (to fly with you again)" is eagerness, which VADER reads as
#: neutral ("wait" has no valence, and nothing follows the negator to turn).
_EAGER = (" can't wait ", " cant wait ", " cannot wait ")
#: Added for eagerness: about VADER's "excited" (1.4).
EAGER_VALENCE = 1.5
#: A complaint phrase this strong or stronger (its valence here plus VADER's for
#: its words: "delay" is -0.5 here and -1.3 to VADER) turns praise in its
#: sentence into sarcasm; weaker ones ("twice", "every time", "waiting for")
#: are as often neutral words in a post of praise.
STRONG_COMPLAINT = -1.0
_STRENGTH: dict[str, float] = {}


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


#: VADER's lexicon, once loaded (``_vader_lexicon``): read from here on the hot paths,
#: which spares a call through the cache of ``_vader`` per post.
_LEXICON: dict[str, float] = {}


def _vader_lexicon() -> dict[str, float]:
    if not _LEXICON:
        _LEXICON.update(_vader().lexicon)
    return _LEXICON


def _strength(entry: Entry) -> float:
    """How negative a complaint phrase reads: its valence plus VADER's for its words."""
    strength = _STRENGTH.get(entry.phrase)
    if strength is None:
        lexicon = _vader_lexicon()
        strength = entry.valence + sum(lexicon.get(w, 0.0) for w in entry.phrase.split())
        _STRENGTH[entry.phrase] = strength
    return strength


#: Thanks for help given ("thanks for getting me on the earlier flight", "found
#: my bag"): the problem was solved, so the thanks are praise, as after a
#: recovery. Checked only in a post with a complaint, a failure or a request.
_HELP_GIVEN = re.compile(
    r" (?:for (?:getting|finding|helping|taking care|sorting)|found my|got me on|helped me"
    r"|took care of|above and beyond|made it right|sorted (?:me|it|out)"
    # Praise of how a problem was handled: "handled the delay really well".
    r"|handled (?:\w+ ){0,4}(?:well|brilliantly|perfectly|professionally|so well)"
    r"|how (?:fast|quickly|well) you|made (?:\w+ ){0,3}(?:much |so |a lot )?(?:easier|better"
    r"|bearable)) "
)


#: Customer-journey facts that are bad news whatever the tone, in a post put to
#: an account: a customer tells a company what went wrong, often with no
#: feeling word ("@acme my bag never arrived", "charged me twice", "nobody told
#: us anything"). Each class has the substrings every one of its matches holds,
#: tested before its expression (most posts have none).
_NUMBER = (
    r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|a few|a couple of)"
)
_NUMBER_WORDS = "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_ORDINAL_WORDS = "second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
_SERVICE_FACTS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    # Something that should have happened and did not.
    (
        ("n't ", "nt ", " not ", " never "),
        re.compile(
            r" (?:didn'?t|did not|never|haven'?t|have not|hasn'?t|has not|wasn'?t|was not|weren'?t"
            r"|were not|still not|not yet|isn'?t|is not|aren'?t|are not|still haven'?t"
            r"|still hasn'?t)"
            r"(?: yet| even| been| ever| actually| once)? (?:received?|got|gotten|get(?! a chance)"
            r"|apply|applied|arrived?|delivered|come|came|shown up|showed up|turned up|refunded"
            r"|credited|processed|rebooked|contacted|informed|notified|told|called back"
            r"|replied|responded|reimbursed|compensated|honou?red|sent|dispatched"
            r"|shipped|ready|back) "
        ),
    ),
    # Silence from the company: "heard nothing", "nothing back".
    (
        (" nothing ",),
        re.compile(r" (?:heard|had|got|received) nothing | nothing back "),
    ),
    # A service that is missing: no refund, no announcement, no heating, no ticket.
    (
        (" no ", " zero ", " without ", " not a single ", " not one "),
        re.compile(
            r" (?:no|zero|without any|without an?|not a single|not one) (?:refund|reply|response"
            r"|answer|update|updates|announcement|announcements|explanation|information|info"
            r"|apology|compensation|voucher|heating|heat|air con|aircon|wifi|wi fi|food|water"
            r"|drinks|ticket|receipt|confirmation|callback|call back|notice|warning|staff"
            r"|help|assistance|contact|follow up) "
        ),
    ),
    # Nobody did their part: told us, called back, came.
    (
        ("nobody", " no one ", " noone "),
        re.compile(
            r" (?:no one|nobody|noone) (?:has |had |ever |even |actually )?(?:told|tells|informed"
            r"|called|calls|came|comes|answered|answers|helped|explained|bothered|replied"
            r"|responded|contacted|knows|knew|showed up|picked up|gave|offered|apologi[sz]ed) "
        ),
    ),
    # Charged or billed wrongly or more.
    (
        (
            " charged ",
            " billed ",
            " fee",
            " charge",
            " bill ",
            " price",
            " premium ",
            " tariff ",
            " rent ",
            " subscription ",
            " rates ",
        ),
        re.compile(
            r" (?:charged|billed) (?:me |us )?(?:twice|double|two times|again|extra|more"
            r"|the wrong)"
            r"|(?:still|keep|keeps) (?:being |getting )?(?:charged|billed) "
            r"| (?:extra|hidden|surprise|unexpected|late|admin|cancellation|change) (?:fee|fees"
            r"|charge|charges) | \d+ (?:fee|charge) | (?:fee|charge) (?:i|we) never "
            r"| (?:bill|price|prices|premium|tariff) (?:went up|has gone up|have gone up"
            r"|increased|has increased|doubled|has doubled|jumped) "
            r"| (?:put|putting|puts|pushed|pushing) (?:the |my |our |your )?(?:price|prices|bill"
            r"|fees|rent|premium|subscription|rates|tariff) up "
            r"| (?:raised|hiked|increased) (?:the |my |our |your )?(?:price|prices|bill|fees"
            r"|premium|subscription|rates|tariff) "
        ),
    ),
    # Goods and luggage lost, broken or wrong; a stop or a connection gone without us.
    (
        (
            " lost ",
            " missing ",
            " damaged ",
            " broken ",
            " crushed ",
            " wrong ",
            " arrived ",
            " came ",
            " delivered ",
            " turned up ",
            " left without ",
            " stuck ",
            " sat ",
            " downgraded ",
            " my money",
            " our money",
        ),
        re.compile(
            r" (?:lost|missing|damaged|broken|crushed|wrong) (?:bag|bags|suitcase|luggage"
            r"|baggage|parcel|package|order|item|items|box|delivery|seat|size|colou?r|address"
            r"|product) | (?:arrived|came|delivered|turned up) (?:damaged|broken|crushed|in pieces"
            r"|smashed|opened|open|empty) | left without (?:us|me|my|our) "
            r"| (?:stuck|sat) (?:on|at|in) the (?:tarmac|runway|plane|aircraft|gate|train) "
            r"| downgraded | (?:took|kept|taken|keeping|kept) (?:my|our) money "
        ),
    ),
    # An agent ending the contact before the problem is solved.
    (
        (" closed ", " ended "),
        re.compile(
            r" (?:closed|ended) (?:the|my|our) (?:chat|conversation|ticket|case|complaint|call)"
            r" (?:on me|on us|without|halfway|half way|mid|before) "
            r"| closed (?:my|our) (?:account|accounts|card) "
        ),
    ),
    # Being passed around: sent back and forth, told to ask someone else.
    (
        (
            " loop",
            " send",
            " sent ",
            " transferred ",
            " passed ",
            " bounc",
            " redirected ",
            " forth ",
            " circles ",
            " told me to ",
            " told us to ",
            " asked me to ",
            " asked us to ",
        ),
        re.compile(
            r" (?:loops?|looped|looping|sends?|sent|sending|transferred|passed|bounced|bouncing"
            r"|redirected|keeps? sending) (?:me|us) (?:back|around|from|between|in circles"
            r"|round in circles) | back and forth | (?:going|went|go) (?:round |around )?in circles"
            r"| (?:told|asked) (?:me|us) to (?:call|ring|tweet|email|contact|dm|message|try) "
            r"(?:you|back|again|another|the|a different|someone) "
        ),
    ),
    # A trip broken off or left behind: diverted, oversold, left at the gate.
    (
        (" diverted ", " oversold ", " left "),
        re.compile(
            r" (?:diverted|oversold) | left (?:me |us )?(?:behind|stranded|at the (?:gate"
            r"|airport|station|platform|terminal)) "
        ),
    ),
    # A status that does not move, or says what did not happen: "still shows as
    # in review", "tracking says delivered".
    (
        (" still ", " says ", " said ", " shows ", " showed "),
        re.compile(
            r" still (?:says|shows|showing|saying|listed as|marked as|processing|in review"
            r"|under review|in progress|on its way|out for delivery|being (?:charged|billed)) "
            r"| (?:tracking|app|status|website|site|system) (?:says|said|shows|showed)"
            r" (?:it was |it's been |it has been |as |it )?"
            r"(?:delivered|dispatched|shipped|refunded|arrived) "
        ),
    ),
    # A plan told in the past to a company is a plan broken: "was due on
    # friday", "we were told the bus would wait".
    (
        (
            " due ",
            " meant to ",
            " expected ",
            " scheduled ",
            " booked for ",
            " supposed to ",
            " told ",
        ),
        re.compile(
            r" (?:was|were) (?:due|meant to|expected|scheduled|booked for|supposed to) "
            r"| (?:was|were|been|got) told "
        ),
    ),
    # Food and places in a poor state: "the food was cold", "carriage was packed".
    (
        (
            " food ",
            " meal",
            " coffee ",
            " tea ",
            " soup ",
            " pizza ",
            " burger ",
            " fries ",
            " breakfast ",
            " lunch ",
            " dinner ",
            " sandwich ",
            " seat",
            " room",
            " cabin ",
            " plane ",
            " train ",
            " carriage ",
            " coach ",
            " bus ",
            " toilet",
            " bathroom ",
            " shower ",
            " bed ",
            " sheets ",
        ),
        re.compile(
            r" (?:food|meal|meals|coffee|tea|soup|pizza|burger|fries|breakfast|lunch|dinner"
            r"|sandwich)"
            r" (?:was|is|were|are|arrived|came) (?:stone |completely |totally |still )?(?:cold"
            r"|stale|soggy|raw|undercooked|burnt|burned|lukewarm|inedible) "
            r"| (?:seat|seats|room|rooms|cabin|plane|train|carriage|coach|bus|toilet|toilets"
            r"|bathroom|shower|bed|sheets) (?:was|is|were|are) (?:so |very |really |way too |too )?"
            r"(?:cold|freezing|boiling|filthy|tiny|cramped|packed|overcrowded|rammed|wet"
            r"|leaking|stuffy|broken) "
        ),
    ),
    # Too few staff and long queues: "one cashier and a line out the door".
    (
        (
            " cashier",
            " till",
            " agent",
            " desk",
            " counter",
            " member of staff",
            " person ",
            " checkout",
            " out the door",
            " outside the door",
        ),
        re.compile(
            r" (?:only |just )?(?:one|1|two|2) (?:cashier|cashiers|till|tills|agent|agents|desk"
            r"|desks|counter|counters|member of staff|person|checkout|checkouts) (?:open|working"
            r"|serving|on duty) | (?:line|queue|lines|queues) (?:out|outside) the door "
        ),
    ),
    # Staff giving up on the customer: "the driver just left", "agents just shrug".
    (
        (" left ", " drove ", " walked ", " gave up ", " shrug", " find "),
        re.compile(
            r" (?:just|then|simply) (?:left|drove off|drove away|walked off|walked away|gave up"
            r"|shrug|shrugged|shrugs) | (?:could not|couldn'?t) find (?:my|our|the) (?:house"
            r"|address|flat|building|booking|reservation|bag|bags|parcel|order|record|payment) "
        ),
    ),
    # A customer leaving: "won't be flying with you again", "probably the last".
    (
        ("won't be", "wont be", "will not be", " elsewhere ", " the last "),
        re.compile(
            r" (?:won'?t|will not) be (?:flying|using|ordering|shopping|booking|staying|banking"
            r"|travelling|traveling|coming back|back|renewing)(?! with (?:anyone|anybody) else)"
            r" | my (?:business|money|custom)"
            r" elsewhere | (?:and|but) (?:probably|possibly|definitely|certainly|likely) the last "
        ),
    ),
    # Refusals and burdens put on the customer: "not his job", "had to collect it
    # from a depot", "closed my account without warning".
    (
        (
            " not his ",
            " not her ",
            " not their ",
            " not my ",
            " not our ",
            " not your ",
            " nothing ",
            " do anything",
            " had to ",
            " without ",
        ),
        re.compile(
            r" not (?:his|her|their|my|our|your) (?:job|problem|department|responsibility) "
            r"| nothing (?:they|he|she|we|you|anyone) (?:can|could) do "
            r"| (?:can'?t|couldn'?t|cannot|won'?t|wouldn'?t) do anything "
            r"| had to (?:collect|pick up|drive|travel|walk|pay|call|ring|chase|buy|wait|stand"
            r"|sleep|queue|go back|take a taxi|get a taxi|rebook|cancel|borrow) "
            r"| without (?:any |a |an |prior )?(?:warning|notice|explanation|reason|asking|telling"
            r"|consent|permission) "
        ),
    ),
    # Goods mishandled or not what was bought: "sent me a used item", "threw my
    # parcel over the fence", "delivered to someone else", "booked a sea view and
    # got a car park view", "gave away my seat", "slower than dial up".
    (
        (
            " sent ",
            " came ",
            " arrived ",
            " turned ",
            " refused ",
            " denied ",
            " address ",
            " moved ",
            " changed ",
            " budged ",
            " progressed ",
            " updated ",
            " delivered ",
            " received ",
            " got ",
            " gave ",
            " given ",
            " threw ",
            " thrown ",
            " dumped ",
            " left ",
            " slower than ",
            " terminated ",
            " short formed ",
        ),
        re.compile(
            r" (?:sent|delivered|received|got) (?:me |us )?(?:a |an )?(?:used|second hand|opened"
            r"|returned|fake|counterfeit|expired|defective|faulty|empty) "
            r"| (?:delivered|sent|given|went) to (?:(?:someone|somebody) else(?:'s)?"
            r"|another (?:address"
            r"|house|customer|person)) "
            r"| (?:left|threw|thrown|dumped|chucked|tossed) (?:my|our|the) (?:parcel|package|box"
            r"|delivery|order|shopping)(?: \w+){0,2} (?:in the rain|in a puddle|over the fence"
            r"|over the gate|in the bin|in a bin|in a bush|in the hedge|in the street"
            r"|on the pavement) "
            r"| (?:booked|ordered|paid for|asked for|requested) (?:a |an |the )?(?:\w+ ){0,4}"
            r"(?:and|but) (?:got|received|were given|was given|they gave|you gave)"
            r"(?! (?:upgraded|an upgrade|a free|extra|it|them|everything)) "
            r"| (?:gave|given|giving|sold) away (?:my|our) "
            r"| (?:came|arrived|delivered|turned up) without (?:the|my|our|any) "
            r"| (?:got|received|sent me|sent us|given) (?:someone|somebody) else'?s? "
            r"| to (?:my|our|an|the) (?:old|previous|former) address "
            r"| turned (?:me|us) away | (?:refused|denied) (?:me|us) (?:entry|boarding|access) "
            r"| (?:hasn'?t|has not|haven'?t|have not) (?:moved|changed|budged|progressed"
            r"|updated) (?:since|in|for) "
            r"| slower than | terminated (?:early|at|short) | short formed "
        ),
    ),
    # Escalation: a supervisor, a formal complaint, a lawyer, a regulator.
    (
        (
            " supervisor",
            " manager",
            " complaint ",
            " lawyer",
            " ombudsman",
            " chargeback",
            " small claims",
            " trading standards",
        ),
        re.compile(
            r" (?:speak|talk|speaking|talking) to (?:a|your|the|someone|somebody) ?(?:supervisor"
            r"|manager|senior) | (?:file|filing|make|making|lodge|lodging|raise|raising|put in"
            r"|submit|submitting) a (?:formal |official )?complaint | my (?:lawyer|solicitor"
            r"|attorney) | (?:ombudsman|chargeback|small claims|trading standards) "
        ),
    ),
    # A booking the company has lost: "no record of my booking", "says my
    # reservation doesn't exist"; waiting told by its start ("been here since 6").
    (
        (" record", " exist", " since "),
        re.compile(
            r" (?:no|any) record of | (?:doesn'?t|does not|didn'?t|did not) exist "
            r"| been (?:here|there|waiting|sat|sitting|stuck|standing|queuing|queueing|on hold"
            r"|on the phone) since "
        ),
    ),
    # Urgency told to a company: "it's urgent", "need this urgently".
    (
        (" urgent",),
        re.compile(r" (?:it's|it is|this is|its) (?:very |really |quite )?urgent | urgently "),
    ),
    # Late by a counted time: "four hours late", "3 days overdue".
    (
        (" late ", " overdue ", " behind "),
        re.compile(
            rf" {_NUMBER} (?:more )?(?:minutes?|mins?|hours?|hrs?|days?|weeks?) "
            r"(?:late|overdue|behind) "
        ),
    ),
    # An ordeal counted: "day 6 of", "the third time", "second day in a row",
    # "14 days and". Said to a company, a count of days, tries or times is a
    # count of how long a problem has lasted.
    (
        (
            " day ",
            " week ",
            " month ",
            " night ",
            " in a row ",
            "second ",
            "third ",
            "fourth ",
            "fifth ",
            "sixth ",
            "seventh ",
            "eighth ",
            "ninth ",
            "tenth ",
            *(f"{digit}{suffix} " for digit in "0123456789" for suffix in ("nd", "rd", "th")),
            " days ",
            " weeks ",
            " months ",
            " calls ",
            " emails ",
            " messages ",
            " attempts ",
            " tries ",
        ),
        re.compile(
            rf" (?:day|week|month|night) (?:\d+|{_NUMBER_WORDS}) of "
            rf"| (?:{_ORDINAL_WORDS}|\d+(?:nd|rd|th)) (?:time|attempt|call|email|message"
            r"|request|delay|complaint|chat) "
            r"| in a row "
            rf"| (?:\d+|{_NUMBER_WORDS}|several) (?:days|weeks|months|calls|emails|messages"
            r"|attempts|tries) (?:now|and|later|on|since|without) "
        ),
    ),
    # A reference quoted to a company is a case being pursued: "order 55102",
    # "booking code qx7tr2", "ref den48213" (a value holding a digit).
    (
        (
            " order ",
            " booking ",
            " ref ",
            " reference ",
            " case ",
            " ticket ",
            " claim ",
            " confirmation ",
            " file ",
            " tracking ",
            " complaint ",
            " reservation ",
            " parcel ",
            " invoice ",
            " policy ",
        ),
        re.compile(
            r" (?:order|booking|ref|reference|case|ticket|claim|confirmation|file|tracking"
            r"|complaint|reservation|parcel|invoice|policy) (?:number |no |num |code |ref |id "
            r"|reference )?(?:is )?[a-z]{0,4}\d[a-z0-9]{3,} "
        ),
    ),
    # Being ignored: "is anyone monitoring this", "can someone actually answer",
    # "respond to my email", "not a word from".
    (
        (
            " anyone ",
            " anybody ",
            " someone ",
            " somebody ",
            " answer ",
            " reply ",
            " respond ",
            " get back ",
            " call me back ",
            " call us back ",
            " pick up ",
            " acknowledge ",
            " word from ",
            " peep from ",
        ),
        re.compile(
            r" (?:is|are) (?:there )?(?:anyone|anybody|someone|somebody) (?:there|home|monitoring"
            r"|reading|listening|awake|alive|available|working) "
            r"| (?:actually|finally|ever|even|at least|bother to|bothered to) (?:answer|reply"
            r"|respond|get back|call (?:me|us) back|pick up|acknowledge) "
            r"| (?:answer|reply to|respond to|acknowledge) (?:my|our) (?:dm|dms|email|emails"
            r"|message|messages|calls?|complaint|letter) "
            r"| (?:no|not a|not one) (?:word|peep) from "
        ),
    ),
)
#: What a company provides, and the ways to reach it: a post to an account that
#: names one of these and negates a plain verb tells a problem with it.
_SERVICE_NOUNS = (
    "flight",
    "bag",
    "luggage",
    "suitcase",
    "baggage",
    "order",
    "refund",
    "booking",
    "reservation",
    "account",
    "card",
    "bill",
    "delivery",
    "parcel",
    "package",
    "payment",
    "transfer",
    "ticket",
    "seat",
    "room",
    "subscription",
    "contract",
    "plan",
    "signal",
    "service",
    "app",
    "website",
    "site",
    "agent",
    "staff",
    "driver",
    "crew",
    "gate",
    "call",
    "chat",
    "email",
    "dm",
    "message",
    "phone",
    "money",
    "claim",
    "case",
    "complaint",
    "replacement",
    "engineer",
    "technician",
    "train",
    "bus",
    "plane",
    "wifi",
    "internet",
    "broadband",
    "connection",
    "boarding",
    "meal",
    "food",
    "item",
    "product",
    "part",
    "repair",
    "installation",
    "appointment",
    "credit",
    "deposit",
    "receipt",
    "invoice",
)
_SERVICE_OBJECTS = frozenset(
    [*_SERVICE_NOUNS, *(f"{noun}s" for noun in _SERVICE_NOUNS), "deliveries", "buses"]
)
#: A negator before a plain verb or state: "hasn't reached my landlord", "didn't
#: order", "won't let me", "can't rebook". A word VADER gives a valence after the
#: negator ("never disappointed", "not happy") is VADER's to score.
_NEGATED_PLAIN = re.compile(
    r" (?:hasn'?t|haven'?t|hadn'?t|has not|have not|had not|didn'?t|did not|never|wasn'?t"
    r"|weren'?t|was not|were not|isn'?t|is not|aren'?t|are not|won'?t|will not|can'?t"
    r"|cannot|couldn'?t|could not|doesn'?t|does not|don'?t|do not|still not|not yet)"
    r" (?:(?:even|ever|yet|really|actually|once|been|be|always|still|even been) )?([a-z']+) "
)
#: Negated words that are no problem told: "can't wait", "can't thank you enough",
#: "don't hesitate", "don't worry", the author's own mind ("I never knew you flew
#: there"); and words that are no verb or state, as in a
#: tag question ("isn't it?") or before a place ("can't be on twitter").
_NO_PROBLEM = frozenset(
    {"wait", "thank", "hesitate", "worry", "mind", "forget", "know", "knew", "think"}
    | {"thought", "realise", "realised", "realize", "realized", "mean", "meant", "expect"}
    | {"it", "they", "you", "we", "i", "he", "she", "that", "this", "there", "a", "an", "the"}
    | {"on", "in", "at", "for", "with", "to", "of", "from", "about", "as", "like", "so", "too"}
)


def _negated_expectation(norm: str) -> bool:
    """Whether a post negates a plain verb and names a service: a problem told as a fact."""
    if _SERVICE_OBJECTS.isdisjoint(norm.split()):
        return False
    lexicon = _vader_lexicon()
    return any(
        match.group(1) not in _NO_PROBLEM and match.group(1) not in lexicon
        for match in _NEGATED_PLAIN.finditer(norm)
    )


#: An amount of money charged or paid, on the post as written (normalising drops
#: the currency sign): "charged me $75", "paid £40 for", "a €30 fee", "$75 for a
#: carry on". Said to a company, money named with a charge is a dispute over it.
_AMOUNT_CHARGED = re.compile(
    r"(?i:paid|pay|charged?|fee|cost|costs|owe|billed)\W+(?:\w+\W+){0,3}[$£€]\s?\d"
    r"|[$£€]\s?\d[\d.,]*k?\s+(?i:fee|charge|for (?:a|the|my|our|checked|carry|bags?|seats?"
    r"|wifi|change))"
)
#: VADER's threshold for a positive compound.
POSITIVE = 0.05
#: Added once for a customer-journey fact (a complaint phrase of its own, as
#: "never received" and "no refund" are in the lexicon).
SERVICE_FACT_VALENCE = -1.2


#: Praise only wished for is no praise: "would be nice to get a reply", "it would
#: be great if someone answered", "I'd love to know where my bag is".
_HYPOTHETICAL_PRAISE = re.compile(
    r"(?:would|'d) be (?:so |really )?(?:nice|great|good|lovely|helpful|wonderful|amazing"
    r"|awesome|brilliant) (?:if|to (?:get|have|hear|receive|know|speak|talk|be told)) "
    r"| (?:i'd|i would|we'd|we would) (?:love|like) to (?:know|hear|understand) (?:where|why"
    r"|when|how|what|who) "
)


def _may_wish_praise(norm: str) -> bool:
    # Every match of _HYPOTHETICAL_PRAISE holds one of these ("would be" and "'d be"
    # both end in "d be "): its first alternative has no first character to look for,
    # so the expression is tried at every position of the post.
    return "d be " in norm or " love to " in norm or " like to " in norm


#: Thanks and praise for the harm itself are sarcasm: "thank you for ruining our
#: holiday", "nice of you to cancel my flight by text".
_SARCASTIC_THANKS = re.compile(
    r" (?:thanks|thank you|thx|cheers) (?:so much |a lot |again )?for (?:ruining|wrecking"
    r"|losing|ignoring|cancell?ing|delaying|stranding|wasting|overcharging|charging me"
    r"|leaving (?:me|us)|making (?:me|us) wait|keeping (?:me|us) waiting) "
    r"| (?:nice|good|kind|great|lovely|sweet) of you to (?:cancel|delay|lose|ignore|charge"
    r"|leave|strand|change|move|bump|hang up|cut) "
)
#: A dismissal of the service ("your customer service is a joke"): VADER reads
#: "joke" as positive.
_DISMISSAL = re.compile(
    r" (?:is|are|was|were|it's|that's|its|thats) (?:an? |such an? |a complete |a total "
    r"|an absolute |a bloody |a fucking )?(?:joke|farce|shambles|circus|clown show) \. "
)


def _fact_keys() -> ahocorasick.Automaton:
    """Every check's substrings in one automaton: key -> the checks holding it (a bit
    mask: bit ``i`` for ``_CHECKS[i]``)."""
    classes: dict[str, set[int]] = {}
    for index, (keys, _) in enumerate(_CHECKS):
        for key in keys:
            classes.setdefault(key, set()).add(index)
    automaton = ahocorasick.Automaton()
    for key, indices in classes.items():
        automaton.add_word(key, sum(1 << index for index in indices))
    automaton.make_automaton()
    return automaton


#: The customer-journey facts, then the three checks below them, with the
#: substrings that every match of each holds.
_CHECKS = (
    *_SERVICE_FACTS,
    ((" thank", " thx ", " cheers ", " of you to "), _SARCASTIC_THANKS),
    ((" be ", " love to ", " like to "), _HYPOTHETICAL_PRAISE),
    ((" joke ", " farce ", " shambles ", " circus ", " clown show "), _DISMISSAL),
    (("n't ", "nt ", " not ", " never ", " cannot "), _NEGATED_PLAIN),
)
_FACTS = len(_SERVICE_FACTS)
_SARCASTIC_CHECK, _HYPOTHETICAL_CHECK, _DISMISSAL_CHECK = _FACTS, _FACTS + 1, _FACTS + 2
_NEGATED_CHECK = _FACTS + 3
#: One C pass finds which checks' substrings a post holds (testing each of some 70
#: substrings in turn cost ten times the expressions it spared); only those
#: checks' expressions run. The same answers: a check runs exactly when one of its
#: substrings is in the post, as before.
_FACT_KEYS = _fact_keys()
_FACT_PATTERNS = tuple(pattern for _, pattern in _CHECKS)
_SECOND = itemgetter(1)
#: The bits of the customer-journey facts in a mask of checks.
_FACTS_MASK = (1 << _FACTS) - 1


def _checks_to_run(norm: str) -> int:
    """The checks whose substrings the post holds: bit ``i`` set for ``_CHECKS[i]``.

    Bit masks, or-ed in C, cost less than the union of a set per substring found."""
    candidates: int = reduce(or_, map(_SECOND, _FACT_KEYS.iter(norm)), 0)
    return candidates


def _tells_a_service_fact(norm: str, candidates: int | None = None) -> bool:
    if candidates is None:
        candidates = _checks_to_run(norm)
    facts = candidates & _FACTS_MASK
    while facts:
        # The lowest check left: each runs once, in the order of _CHECKS.
        lowest = facts & -facts
        if _FACT_PATTERNS[lowest.bit_length() - 1].search(norm) is not None:
            return True
        facts ^= lowest
    return False


#: VADER's valence below which a positive word is no praise by itself ("allow"
#: 0.9, "okay" 0.9, "fine" 0.8, "want" 0.3; "sure" 1.3, "good" 1.9 are).
WEAK_PRAISE = 1.0


def _only_weak_praise(norm: str) -> bool:
    """Whether no word of the post is praise by itself (VADER valence >= WEAK_PRAISE)."""
    lexicon = _vader_lexicon()
    return all(lexicon.get(word, 0.0) < WEAK_PRAISE for word in norm.split())


#: VADER strips these from a token's ends before looking it up ("@united," -> "united").
_PUNCTUATION = string.punctuation
#: What follows an "@" up to a space.
_AFTER_AT = re.compile(r"@(\S+)")
#: VADER's emphasis per "!" (at most four) and per "?" (two or three; 0.96 for more).
_EXCLAMATION = 0.292
_QUESTION = 0.18


#: Whether each handle seen (the text after an "@" up to a space) is a lexicon word
#: once VADER strips its punctuation: posts to a company name the same few accounts.
#: Bounded: cleared when full.
_HANDLE_WORDS: dict[str, bool] = {}
_HANDLE_WORDS_MAX = 4_096


def _may_name_a_word(text: str) -> bool:
    """Whether a handle in the post may be a word VADER reads (``_handle_names_valence``
    is the exact test): the text after an "@" up to a space, its punctuation
    stripped as VADER strips it, is in VADER's lexicon ("@united!!", "@nice_")."""
    # A loop, not any() over a generator: most posts have one or two handles, and
    # the generator's set-up costs more than the loop.
    for token in _AFTER_AT.findall(text):
        word = _HANDLE_WORDS.get(token)
        if word is None:
            word = token.strip(_PUNCTUATION).lower() in (_LEXICON or _vader_lexicon())
            if len(_HANDLE_WORDS) >= _HANDLE_WORDS_MAX:
                _HANDLE_WORDS.clear()
            _HANDLE_WORDS[token] = word
        if word:
            return True
    return False


def _handle_names_valence(text: str) -> float:
    """What VADER added for @handles that are lexicon words: "@united" is +1.8 to it.

    A handle names an account; it says nothing about the author's feeling. VADER
    strips the "@" and reads "united", "amazon", "nice" as words, so every post to
    an account with such a name leans positive by its name alone. Returns the
    handles' part of VADER's sum, each weighed by VADER's own rules for a word
    (ALL CAPS, boosters and negators before it, "but").
    """
    lexicon = _vader_lexicon()
    tokens = text.split()
    words = [
        token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped for token in tokens
    ]
    lowers = [word.lower() for word in words]
    caps = sum(map(str.isupper, words))
    context = _VaderWords(words, 0 < len(words) - caps < len(words))
    but_at = lowers.index("but") if "but" in lowers else -1
    vader = _vader()
    total = 0.0
    for i, token in enumerate(tokens):
        word = words[i]
        if word is token or "@" not in token[: len(token) - len(token.lstrip(_PUNCTUATION))]:
            # Not a handle: no "@" among the punctuation VADER stripped before the word.
            continue
        if lowers[i] not in lexicon or lowers[i] in BOOSTER_DICT:
            continue
        valence: float = vader.sentiment_valence(0, context, word, i, [])[0]
        if but_at >= 0:
            valence *= 0.5 if i < but_at else 1.5 if i > but_at else 1.0
        total += valence
    return total


class _VaderWords(NamedTuple):
    """What VADER's ``sentiment_valence`` reads of a post (its ``SentiText``)."""

    words_and_emoticons: list[str]
    is_cap_diff: bool


def _without_handle_names(vader_compound: float, named: float, text: str) -> float:
    """VADER's compound with the handles' valence ``named`` taken out of its sum.

    VADER adds its punctuation emphasis to the sum in the sum's direction, so it
    is taken off, the handles' valence removed, and put back in the new sum's
    direction.
    """
    emphasis = min(text.count("!"), 4) * _EXCLAMATION
    questions = text.count("?")
    if questions > 1:
        emphasis += questions * _QUESTION if questions <= 3 else 0.96
    total = unsquash(vader_compound)
    if total > 0:
        total -= emphasis
    elif total < 0:
        total += emphasis
    total -= named
    # VADER's compound is rounded to 4 decimals, so the sum unsquashed from it is
    # known only to within this; a sum no larger than that is no sum at all (the
    # handle was the post's only lexicon word).
    c = min(abs(vader_compound), _LIMIT)
    if abs(total) <= 5e-5 * math.sqrt(ALPHA) / (1.0 - c * c) ** 1.5:
        total = 0.0
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    # Rounded as VADER rounds its compound; + 0.0 turns a -0.0 into 0.0.
    return round(squash(total), 4) + 0.0


def squash(total: float) -> float:
    return max(-1.0, min(1.0, total / math.sqrt(total * total + ALPHA)))


def unsquash(compound: float) -> float:
    c = max(-_LIMIT, min(_LIMIT, compound))
    return c * math.sqrt(ALPHA / (1.0 - c * c))


def _may_name_a_wait(norm: str) -> bool:
    # Every match of _NAMED_WAIT ends with one of these words between spaces: five
    # substring searches cost a tenth of the expression, tried at every space.
    return (
        " wait " in norm
        or " queue " in norm
        or " delay " in norm
        or " hold " in norm
        or " line " in norm
    )


def _may_tell_help_given(norm: str) -> bool:
    # Every match of _HELP_GIVEN holds one of these (its alternatives' first words,
    # " made " for both of its "made" forms): the substring searches cost about a
    # fifth of the expression, which tries each alternative at every space.
    return (
        " made " in norm
        or " how " in norm
        or " found my" in norm
        or " helped me" in norm
        or " sorted " in norm
        or " handled " in norm
        or " got me on" in norm
        or " took care of" in norm
        or " above and beyond" in norm
        or (
            " for " in norm
            and (
                " for getting" in norm
                or " for finding" in norm
                or " for helping" in norm
                or " for taking care" in norm
                or " for sorting" in norm
            )
        )
    )


def _may_tell_a_wait(norm: str) -> bool:
    # Every match of _WAITED holds one of these: a few substring searches are a
    # quarter of the pattern's cost and settle most posts.
    return (
        " min" in norm
        or " hour" in norm
        or " hr" in norm
        or " day" in norm
        or " week" in norm
        or " month" in norm
        or " times " in norm
    )


def _sentence_of(norm: str, at: int) -> int:
    return norm.count(" . ", 0, at)


def _sarcasm_beside(norm: str, tags: tuple[Entry, ...], complaint_starts: list[int]) -> bool:
    """Whether sarcastic praise shares a sentence with a complaint phrase.

    "thanks for the 4 hour delay" and "great job, another missed connection"
    praise the complaint itself; praise in another sentence ("love those
    socks. I don't care what they say") is praise.
    """
    sentences: set[int] | None = None
    for entry in tags:
        if entry.kind != "sarcasm":
            continue
        if sentences is None:
            sentences = {_sentence_of(norm, start) for start in complaint_starts}
        key = f" {entry.phrase} "
        at = norm.find(key)
        while at >= 0:
            if _sentence_of(norm, at) in sentences:
                return True
            at = norm.find(key, at + 1)
    return False


def incident_compound(vader_compound: float, cues: TextCues, text: str = "") -> float:
    """Earful's compound for a post whose plain VADER compound is ``vader_compound``.

    ``text`` is the post as written: durations of waiting and why-questions
    count as complaints only in a post put to an account (an @handle in it).
    """
    scored = cues.scored
    tags = cues.tags
    to_account = "@" in text
    if to_account and _may_name_a_word(text):
        # "@united my bag is lost": the account's name is no praise.
        named = _handle_names_valence(text)
        if named:
            vader_compound = _without_handle_names(vader_compound, named, text)
    added = cues.emoji_valence
    norm = cues.normalised
    if " wait " in norm and any(e in norm for e in _EAGER):
        added += EAGER_VALENCE
    if not scored and not tags and not to_account:
        # No cue at all (most general posts): VADER's compound, and the emoji's valence.
        if added == 0.0:
            return vader_compound
        return round(squash(unsquash(vader_compound) + added), 4) + 0.0
    failure = complaint = recovery = False
    complaint_starts: list[int] = []
    complaint_added = 0.0
    service_fact = sarcastic = wished = inferred = False
    if to_account:
        # Said to an account: how long one waited, and why-questions, are complaints.
        if _may_tell_a_wait(norm) and (
            _tells_a_wait(norm)
            or ("?" not in text and _may_name_a_wait(norm) and _NAMED_WAIT.search(norm) is not None)
        ):
            added += WAITED_VALENCE
            complaint = True
        if ("?" in text and any(c in norm for c in _CHALLENGES)) or norm.startswith(_OPENS_WHY):
            added += CHALLENGE_VALENCE
            complaint = True
        checks = _checks_to_run(norm)
        if checks and _tells_a_service_fact(norm, checks):
            added += SERVICE_FACT_VALENCE
            complaint = True
            complaint_added += SERVICE_FACT_VALENCE
            service_fact = True
        elif ("$" in text or "£" in text or "€" in text) and _AMOUNT_CHARGED.search(text):
            added += SERVICE_FACT_VALENCE
            complaint = service_fact = True
            complaint_added += SERVICE_FACT_VALENCE
        elif checks >> _NEGATED_CHECK & 1 and _negated_expectation(norm):
            # A problem inferred from the form of the post: its politeness is no
            # praise, but it counts only if the post does not praise (below).
            inferred = service_fact = complaint = True
        if checks >> _SARCASTIC_CHECK & 1 and _SARCASTIC_THANKS.search(norm):
            sarcastic = complaint = True
        elif (
            checks >> _HYPOTHETICAL_CHECK & 1
            and _may_wish_praise(norm)
            and _HYPOTHETICAL_PRAISE.search(norm)
        ):
            wished = complaint = True
            added += SERVICE_FACT_VALENCE
        if checks >> _DISMISSAL_CHECK & 1 and _DISMISSAL.search(norm):
            sarcastic = complaint = True
        if norm.endswith((" . not . ", " . not . . ")):
            # "glad my complaint is taken seriously. not.": the last word takes it back.
            sarcastic = True
    for cue in scored:
        entry = cue.entry
        valence = entry.valence
        kind = entry.kind
        if kind == "sense":
            # Another sense of a failure word: its own valence, never negated.
            added += valence
            continue
        if cue.negated:
            if service_fact and kind == "complaint":
                # "we weren't rebooked", "didn't get a refund": the negator belongs
                # to the service not given, which the fact already counts.
                continue
            added += NEGATION_SCALAR * valence if valence > 0 else NEGATED_FAILURE
            continue
        if kind == "failure":
            if is_other_sense(norm, cue.start, entry.phrase):
                # "stock is down 3%", "he's not working": not a failure, no valence.
                continue
            failure = True
        elif kind == "recovery" and is_pending_recovery(norm, cue.start):
            # "until this is fixed" is no good news.
            continue
        added += valence
        if kind == "complaint":
            complaint = True
            complaint_added += valence
            if _strength(entry) <= STRONG_COMPLAINT:
                complaint_starts.append(cue.start)
        elif kind == "recovery":
            recovery = True
    # One pass over the tags: requests, politeness, laughs and sarcasm.
    request = to_account and "?" in text
    polite: list[float] = []
    polite_added = 0.0
    mocking = bool(cues.laugh_emoji)
    for tag in tags:
        kind = tag.kind
        if kind == "polite":
            polite.append(tag.valence)
        elif kind == "request":
            # "can you", "how do i", "please help": a request.
            request = True
        elif kind == "laugh" or kind == "sarcasm":
            mocking = True
    if (failure or complaint or request) and not recovery:
        # Thanks for a problem solved are praise, as after a recovery; the
        # complaint phrases tell the problem that was solved ("for finding my bag").
        recovery = _may_tell_help_given(norm) and _HELP_GIVEN.search(norm) is not None
        if recovery:
            added -= complaint_added
        else:
            # Politeness inside a complaint or a request is not praise: "please help,
            # still waiting" and "can you help me change my flight?" lose VADER's
            # valence for "please", "help" and "thanks".
            polite_added = sum(polite)
            added += polite_added
    base = None
    if not recovery and (
        sarcastic
        or (failure and mocking)
        or (to_account and complaint_starts and _sarcasm_beside(norm, tags, complaint_starts))
    ):
        base = min(unsquash(vader_compound), 0.0)
        added += MOCKERY_PENALTY
    elif wished and not recovery:
        # Praise only wished for: VADER's positive part goes, the wish counts.
        base = min(unsquash(vader_compound), 0.0)
    if (
        base is None
        and not recovery
        and vader_compound >= 0.05
        and to_account
        and "?" in text
        and _only_weak_praise(norm)
    ):
        # "@acme do you allow pets in the cabin?": the weak positive words of a
        # question put to a company name what it asks about; they are not praise.
        # VADER's whole positive sum goes, so the politeness offsets go too.
        base = 0.0
        added -= polite_added
    if base is None:
        if added == 0.0 and not inferred:
            return vader_compound
        base = unsquash(vader_compound)
    if inferred and not recovery and squash(base + added) < POSITIVE:
        # A problem told with no praise: a post to an account that is not positive
        # and names a service it did not get is a complaint. Praise keeps its label
        # ("didn't get a chance to thank the crew, they were great").
        added += SERVICE_FACT_VALENCE
    # + 0.0 turns a -0.0 into 0.0.
    return round(squash(base + added), 4) + 0.0

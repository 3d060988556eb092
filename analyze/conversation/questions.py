"""Does a mention ask the organisation for information or an update?

Named rules, so a match explains itself.
"""

from __future__ import annotations

import re
from typing import Final

# -- question detection ------------------------------------------------------------

#: Rules for "the mention asks for information or an update". Each is a name and
#: a pattern, so a match can be explained. Deliberately NOT included: questions
#: that only ask whether the service is down or for whom ("is acme down?",
#: "anyone else?", "is it just me?", "is the website down too?"). Those confirm
#: an outage (the scorer counts them as reports); they do not ask the
#: organisation for news. A bare question mark is not enough either ("can I
#: set up a standing order in acme?" is chatter).
_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    (
        "asks_update",
        (
            r"\b(?:any|an|some|new|the latest)\s+"
            r"(?:update|updates|news|word|info|information|statement)\b",
            r"\bupdates?\s*\?",
        ),
    ),
    ("asks_eta", (r"\beta\b",)),
    (
        "asks_what_happens",
        (
            r"\bwhat(?:'s|s| is| the hell is| on earth is)\s+(?:going on|happening|up with)\b",
            r"\bwhat happened\b",
        ),
    ),
    (
        "asks_cause",
        (
            r"\bwhat(?:'s| is| was)\s+(?:the\s+)?(?:actual\s+)?(?:problem|issue|cause|wrong)\b",
            r"\b(?:say|tell us|explain) what(?:'s| is)? (?:broken|wrong|happening)\b",
        ),
    ),
    (
        "asks_when_fixed",
        (
            r"\bwhen\s+(?:will|is|does|do|can|are|should|'s)\b[^.!?]{0,60}?"
            r"\b(?:back|fix|fixed|working|work|resolved|restored|up again|sorted|over|coming)\b",
        ),
    ),
    ("asks_how_long", (r"\bhow long\s+(?:will|until|till|is|does|do|before|must|should|are)\b",)),
    (
        "asks_anyone_know",
        (
            r"\b(?:any ?one|any ?body|some ?one|somebody)\s+"
            r"(?:know|knows|heard|got (?:any|a) (?:info|number|update))\b",
        ),
    ),
    ("asks_status", (r"\bstatus\s*\?", r"\bstatus update\b")),
    (
        "asks_aware",
        (
            r"\bare you (?:aware|looking|on it|working on)\b",
            r"\b(?:anyone|anybody|someone) (?:from|at) @?\w+ (?:looking|aware|awake|there|say)\b",
        ),
    ),
    ("asks_statement", (r"\b(?:say|post) something\b", r"\bofficial (?:statement|word|update)\b")),
    (
        "silence_complaint",
        (
            r"\b(?:since|from) (?:your|the|their) last update\b",
            r"\b(?:minutes|mins?|hours?) of silence\b",
            r"\bstill nothing from\b",
            r"\b(?:no|zero) (?:update|updates|word|news|communication|info)\b",
        ),
    ),
    (
        "asks_guidance",
        (
            r"\bwhat (?:do|should|can) (?:i|we) do\b",
            r"\bshould (?:i|we) (?:cancel|wait|retry|try|change|worry)\b",
            r"\bis it safe to\b",
        ),
    ),
    (
        "asks_safety",
        (
            r"\b(?:is|are) (?:my|our) "
            r"(?:money|savings|funds|account|data|salary|payments?|deposits?)"
            r" (?:safe|ok|okay|secure)\b",
        ),
    ),
    # German, French, Spanish, Dutch: the same requests in their most common forms.
    (
        "asks_update",
        (
            r"\b(?:gibt es|schon) (?:schon |ein |neue |)(?:update|infos?|neuigkeiten)\b",
            r"\bdes nouvelles\b",
            r"\bmise à jour\s*\?",
            r"\balguna (?:novedad|actualizaci[oó]n|noticia)\b",
            r"\b(?:al )?een update\s*\?",
        ),
    ),
    (
        "asks_how_long",
        (
            r"\bwie lange\b",
            r"\bcombien de temps\b",
            r"\bcu[aá]nto (?:va a tardar|tiempo|falta)\b",
            r"\bhoe lang\b",
        ),
    ),
    (
        "asks_what_happens",
        (
            r"\bwas ist (?:da |hier )?los\b",
            r"\b(?:ce qui|qu'est-ce qui|que) se passe\b",
            r"\bqu[eé] (?:pasa|est[aá] pasando|ocurre)\b",
            r"\bwat is er (?:aan de hand|mis)\b",
        ),
    ),
    (
        "asks_anyone_know",
        (
            r"\bwei(?:ß|ss) jemand\b",
            r"\bquelqu'un sait\b",
            r"\balguien sabe\b",
            r"\bweet iemand\b",
        ),
    ),
)
_COMPILED: Final = tuple(
    (name, re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE))
    for name, patterns in _RULES
)
_APOSTROPHES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def information_rule(text: str) -> str | None:
    """The name of the first rule saying ``text`` asks for information, or None."""
    if not text:
        return None
    normalised = text.translate(_APOSTROPHES)
    for name, pattern in _COMPILED:
        if pattern.search(normalised):
            return name
    return None


def asks_for_information(text: str) -> bool:
    """Does the mention ask for information or an update ("any update?", "ETA?")?"""
    return information_rule(text) is not None

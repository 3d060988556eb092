"""Complaint terms: the words people use, counted the one way Earful counts them.

A term is a lower-cased word of at least three characters that starts with a
letter (a leading ``#`` or ``$`` kept: hashtags and cashtags are terms of their
own). Stop words, links and the subject's own name are not terms. The windows
(``top_terms`` of each window), the incident report (complaint terms of the
negative mentions) and ``earful demo`` all count terms with this module.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

__all__ = ["STOPWORDS", "TERM_RE", "complaint_terms", "drop_non_terms"]

# Possessive quantifiers: the same matches as r"[#$]?[a-z][a-z0-9'_-]{2,}" (a '#' or '$'
# is never a letter, and nothing follows the tail), with less backtracking.
#: A term in lower-cased text.
TERM_RE = re.compile(r"[#$]?+[a-z][a-z0-9'_-]{2,}+")
STOPWORDS = frozenset(
    """
    the and for are but not you all any can had her was one our out has his how its may new now
    old see two way who did get got let put say she too use that this with have from they will
    your what when were been than them then there their just like about would could should into
    over only also more some very much here after before because while where which being does
    doing done dont don't cant can't im i'm it's its thats that's you're youre via amp http https
    rt what's why yes lol gonna wanna really still even ever again today right know think
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def drop_non_terms(terms: Counter[str], subject: str) -> None:
    """Remove stop words, links and the subject's own name from counted words, in place."""
    for word in [w for w in terms if w in STOPWORDS or w.startswith("http")]:
        del terms[word]
    terms.pop(subject.lower(), None)


def complaint_terms(texts: Iterable[str], subject: str) -> Counter[str]:
    """Every occurrence of a term in ``texts``, counted (see the module docstring)."""
    terms: Counter[str] = Counter()
    for text in texts:
        terms.update(TERM_RE.findall(text.lower()))
    drop_non_terms(terms, subject)
    return terms

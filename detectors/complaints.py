"""Reports that something of the brand's failed its customer, in English and German.

A complaint to a brand is mostly told as what happened, not how it felt: "40 minutes
on hold and counting", "the app keeps crashing since the update", "Warum ist meine
Bestellung noch nicht da?". Sentiment lexicons and models trained on general tweets read
such reports as neutral: of 4,507 tweets to US airlines that people read as negative
(Twitter US Airline Sentiment, its dev half), the shipped model flagged 49 % and the
lexicon 19 %, and nearly all it missed the lexicon scored 0 or above. For a tool that
watches a brand's talk turn against it, the report is the complaint.

`reports_failure` matches phrases of the common kinds (waiting, delays, cancellations,
things lost, broken or not working, charges and refunds, nobody answering, never
again), written from what customers write to brands in general, with no industry's
nouns (no flights, trains or parcels: "my order" and "mein Paket" would each be one
brand's). Hand-written because no maintained library ships complaint phrases for
English and German; a regular expression per language, run only on texts the model
reads under the floor, and cached with the rest of a text's reading (`Enricher`).
"""

from __future__ import annotations

import re
from typing import Final

from stormwatch.detectors.language import Tokens

__all__ = ["COMPLAINT_FLOOR", "COMPLAINT_POSITIVE_LIMIT", "reports_failure"]

COMPLAINT_FLOOR: Final = 0.6
"""The least negativity of a comment that reports a failure: over the default
`negative_threshold` of 0.5, under a protest hashtag's `PROTEST_FLOOR` (a report is a
complaint; a call to boycott is more)."""

COMPLAINT_POSITIVE_LIMIT: Final = 0.5
"""A report whose lexicon compound is at least this positive is not floored: "delayed
two hours but the crew was amazing, thank you!" tells of a failure and thanks for how
it was handled."""

_ENGLISH: Final = (
    # waiting, and nobody answering
    r"\bon hold\b",
    r"\b(hung|hang|hangs|hanging) up on\b",
    r"\b(still|been|keep|kept|am|are|we're|i'm) waiting\b",
    r"\bwaiting (for|on) (a |an |my |our |the |your )?(call|callback|reply|response|answer|"
    r"refund|help|someone|update)\b",
    r"\b(got|get|getting|was|were|been|keep being) disconnected\b",
    r"\b(filed|file|filing|submitted|made) a (formal )?(complaint|claim)\b",
    r"\bstill (no|not|nothing|haven't|hasn't|don't|doesn't|didn't|can't|cannot|won't)\b",
    r"\b(no|without any) (response|reply|answer|help|callback|call back|update)s?\b",
    r"\b(nobody|no one|noone) (answers?|responds?|replies|helps?|cares?|called|is answering)\b",
    r"\b(ignored|ignoring) (me|us|my|our)\b",
    r"\b(minutes|hours|days|weeks|months) (and counting|later and still)\b",
    # late, cancelled, stuck
    r"(?<!without )(?<!no )\bdelay(ed|s)?\b",
    r"\bcancell?(ed|ing|ation)\b",
    r"\bstuck (on|in|at|with)\b",
    r"\bstranded\b",
    r"\bmissed (my|our) \w+",
    r"\b(never|didn't|did not|hasn't|has not|haven't|have not) (arrived|arrive|showed up|"
    r"show up|came|come|received|receive|got|get) (it|my|our|the|a|any|back)\b",
    # lost, broken, not working
    r"\b(lost|losing|misplaced) (my|our|his|her|their) \w+",
    r"\b(broke|broken|cracked|damaged|defective|faulty)\b",
    r"\b(stopped|stops|stop|quit) working\b",
    r"\b(doesn't|does not|didn't|did not|won't|will not|isn't|is not|not|never) (work|working)\b",
    r"\bkeeps? (crashing|freezing|failing|breaking|dropping|cancell?ing|losing|charging)\b",
    r"\b(crashed|crashes|crashing) (again|every|all|constantly|since|after)\b",
    # money
    r"\b(charged|billed) (me |us )?(twice|double|again|extra)\b",
    r"\bovercharg(ed|ing)\b",
    r"\b(no|want a|want my|need a|need my|still no|waiting for a|waiting for my) refund\b",
    r"\b(won't|will not|wouldn't|refused to|refuse to|didn't) (refund|reimburse|compensate)\b",
    # leaving
    r"\bnever (again|(flying|buying|ordering|shopping|using|booking|coming|going) "
    r"(with|from|at|to|back|them|you|this|here|again))\b",
    r"\bnever will i\b",
    r"\b(cancel|cancelling|canceling|closing|close) my (account|subscription|membership|"
    r"contract|order|card)\b",
    r"\b(worst|terrible|horrible|awful|pathetic|useless|unacceptable) "
    r"(customer )?(service|support|experience|company)\b",
)

_GERMAN: Final = (
    r"\bwarteschleife\b",
    r"\b(immer noch|noch immer|seit \w+ (tagen|wochen|stunden|minuten)) "
    r"(nicht|kein|keine|keinen|nichts)\b",
    r"\bnoch (nicht|immer nicht) (da|angekommen|geliefert|erstattet|bearbeitet|zurück)\b",
    r"\b(keine|ohne) (antwort|rückmeldung|reaktion|hilfe|erstattung|info|information)\b",
    r"\b(niemand|keiner) (antwortet|meldet sich|hilft|geht ran|ruft zurück)\b",
    r"\bverspät(et|ung|ungen)\b",
    r"\b(fällt|fiel|fallen|fielen)( \w+){0,3} aus\b",
    r"\bausgefallen\b",
    r"\bstorniert\b",
    r"\b(steck(e|en|t)|sitz(e|en|t)) (fest|seit)\b",
    r"\b(funktioniert|funktionieren|geht|gehen|läuft|laufen) (schon wieder |immer noch |"
    r"wieder |noch immer |seit \w+ \w+ )?(nicht|gar nicht|nie)\b",
    r"\b(kaputt|defekt|beschädigt)\b",
    r"\bstürzt (ständig |dauernd |schon wieder |wieder |immer )?ab\b",
    r"\b(nie|nicht) (angekommen|geliefert|erstattet|zurückgerufen)\b",
    r"\b(verloren|verschlampt)\b",
    r"\b(doppelt|zweimal|zu viel) (abgebucht|berechnet|bezahlt)\b",
    r"\bnie wieder\b",
    r"\b(kündige|kündigen|kündigung)\b",
    r"\b(schlechtester?|miserabler?|unterirdischer?|katastrophaler?) "
    r"(kundenservice|service|support|kundendienst)\b",
)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_PATTERNS: Final = {"en": _compile(_ENGLISH), "de": _compile(_GERMAN)}


def reports_failure(tokens: Tokens, lang: str) -> bool:
    """Whether the comment reports a failure in `lang` ("en" or "de"; others: False).

    >>> reports_failure(Tokens("@acme 40 minutes on hold and counting"), "en")
    True
    >>> reports_failure(Tokens("Warum ist meine Bestellung noch nicht da?"), "de")
    True
    >>> reports_failure(Tokens("Picked up an air fryer on the way to work"), "en")
    False
    """
    pattern = _PATTERNS.get(lang)
    if pattern is None:
        return False
    return pattern.search(tokens.lower.replace("\u2019", "'")) is not None

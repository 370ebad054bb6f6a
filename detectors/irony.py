"""Praise said with a wink: the marks of irony on a report that something failed.

"love that for us. down AGAIN 🙃" and "servers down for hours, great" report a failure
(`complaints`) in words a lexicon reads as praise, so the report was not floored: a
report whose lexicon compound is clearly positive is taken as thanks for how a failure
was handled ("delayed two hours but the crew was amazing, thank you!";
`COMPLAINT_POSITIVE_LIMIT`). Irony has marks of its own: an upside-down or eye-rolling
face, a clown, "/s", "love that for us", "just great", or a lone word of praise closing
the report. With one of them the praise is not taken at its word (independent held-out
streams, 2026-12-07: sarcastic storms read 21 % negative and opened nothing).
Hand-written like `complaints`: no maintained library reads irony in English and German.

The other form is thanks or eager waiting whose object is a harm (`welcomes_harm`):
"Thanks for ruining my vacation", "can't wait for the next outage", "Danke für die
vierte Verspätung diese Woche", "freu mich schon aufs nächste Desaster". Sarcasm is a
positive word on a negative situation (Riloff et al. 2013, "Sarcasm as contrast between
a positive sentiment and negative situation"): the lexicons add the two and the thanks
win, so "Thanks so much for ruining my vacation" read 0.24 (the airline set's dev half,
2026-12-08).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from stormwatch.detectors.language import Tokens

__all__ = ["ironic", "welcomes_harm"]

IRONY_EMOJI: Final = ("🙃", "🙄", "🤡", "😒")
_IRONIC_PHRASE: Final = re.compile(
    r"(^|\s)/s\b"
    r"|\blove (that|this) for (us|me)\b"
    r"|\b(just|oh|how|so|wow,?|einfach|wie|na|ganz) (great|perfect|wonderful|fantastic|lovely|"
    r"brilliant|super|toll|klasse|prima)\b"
    # a lone word of praise closing what came before: "down for hours, great"
    r"|[^.!?\s][,.!]+\s*(great|perfect|wonderful|fantastic|lovely|brilliant|amazing|nice|"
    r"awesome|super|toll|klasse|prima|danke)[.!]*\s*$"
    # ... or opening it, with nothing but the report after it: "Super, schon wieder 20
    # Minuten Verspätung. Danke Bahn" (not "Perfect! Delayed 2 hours but the crew was
    # amazing")
    r"|^(@\w+\s+)*(great|perfect|wonderful|fantastic|lovely|brilliant|amazing|awesome|super|toll|"
    r"klasse|prima|wunderbar|herrlich)[,.!]+\s(?!.*\b(but|aber|though|jedoch|trotzdem)\b)"
    # praise for the work beside the failure's repetition: "great job leaking my data
    # again", "gut gemacht, schon wieder ausgefallen" (not "... everything works again")
    r"|\b((great|nice|good|amazing|awesome|brilliant|fantastic) (job|work)|well done)\b"
    r"[^.!?]*(?<!works )(?<!working )(?<!running )(?<!online )(?<!up )\bagain\b"
    r"|\b(gut|super|toll|klasse|prima) gemacht\b[^.!?]*(?<!läuft )(?<!alles )(?<!geht )"
    r"(?<!funktioniert )\b(wieder|schon wieder|mal wieder)\b"
    # no one thanks a brand for paying more for less
    r"|\bmore for less\b|\bmehr (zahlen |bezahlen )?für weniger\b"
)


def ironic(tokens: Tokens) -> bool:
    """Whether the comment carries a mark of irony.

    >>> ironic(Tokens("servers down for hours, great"))
    True
    >>> ironic(Tokens("love that for us. down AGAIN 🙃"))
    True
    >>> ironic(Tokens("delayed two hours but the crew was amazing, thank you!"))
    False
    >>> ironic(Tokens("Great service, thanks"))
    False
    >>> ironic(Tokens("Great, down again"))
    True
    >>> ironic(Tokens("Great job leaking my data again 👏"))
    True
    >>> ironic(Tokens("Great job on the new app!"))
    False
    """
    text = tokens.text
    if any(emoji in text for emoji in IRONY_EMOJI):
        return True
    return _IRONIC_PHRASE.search(tokens.lower) is not None


# Thanks or eager waiting and, right after it, what it is for: the object is what follows
# up to the end of its clause. Praise frames were tried on the validation halves and left
# out: "great job ..." flagged only praise ("great job today from your team with a challenging
# weather delay"), and "I love how ..." only Reddit talk its raters read as amusement.
_FRAME_WORDS: Final = frozenset(
    "thanks thank thx appreciate wait forward danke dank dankeschön freu freue".split()
)
_THANKS_FOR: Final = {
    "en": re.compile(
        r"\b(thanks|thank you|thx)( so much| a lot| again| very much)? (for|4) "
        r"|\bappreciate (you|u) "
        # ... or looks forward to it: "can't wait for the next outage" (not "can't wait to
        # kill it at the gym": a thing waited for, not a deed)
        r"|\b(can't|cant|cannot) wait for "
        r"|\blooking forward to "
    ),
    "de": re.compile(
        r"\b(danke|dankeschön|vielen dank|besten dank|herzlichen dank)( auch| nochmal| schön)? "
        r"(für|fürs) "
        r"|\b(danke|vielen dank),? dass "
        r"|\b(ich )?freu(e)? mich (schon )?(so )?(auf|aufs) "
    ),
}
# Words of what was done for someone, or of news passed on: thanks for them are thanks
# ("thanks for the refund of the change fee", "thank you for the hard work in this
# weather", "Danke für den Hinweis zur Störung").
_RESOLVED: Final = frozenset(
    """refund refunded refunding help helping helped work working hard fix fixed fixing
    sorted sorting resolved resolving replaced replacing support supporting patience
    understanding quick fast rebooking rebooked
    warning heads hilfe erstattung geduld schnelle schnell
    info information update updates alert alerts notice tip tips reminder news coverage
    covering letting hinweis warnung tipp bescheid""".split()
)
_NEGATED: Final = frozenset("never not no nie nicht kein keine".split())
_DOING_GREAT: Final = re.compile(r"\b(crushing|killing|nailing|smashing|rocking) it\b")
_CLAUSE_END: Final = re.compile(
    r"[.!?;:]|, | (but|when|despite|after|though|aber|als|wenn|obwohl|trotz) | - | – |\s#|$"
)


def welcomes_harm(tokens: Tokens, lang: str, compound: Callable[[Tokens], float] | None) -> bool:
    """Whether the comment welcomes a harm: thanks or eager waiting (`_THANKS_FOR`) whose
    object reads negative to the language's lexicon (`compound`, its compound score)
    and names nothing done to help (`_RESOLVED`).

    >>> from stormwatch.detectors.negativity_english import VaderScorer
    >>> compound = VaderScorer().compound_tokens
    >>> welcomes_harm(Tokens("@acme Thanks so much for ruining my trip."), "en", compound)
    True
    >>> welcomes_harm(Tokens("Thanks for the help with my delayed flight!"), "en", compound)
    False
    >>> welcomes_harm(Tokens("thanks for the article, guess they're just as bad"), "en", compound)
    False
    """
    pattern = _THANKS_FOR.get(lang)
    if pattern is None or compound is None or _FRAME_WORDS.isdisjoint(tokens.words):
        return False
    text = tokens.lower
    for frame in pattern.finditer(text):
        rest = text[frame.end() :]
        end = _CLAUSE_END.search(rest)
        obj = Tokens(rest[: end.start()] if end is not None else rest)
        if (
            obj.words
            and _RESOLVED.isdisjoint(obj.words)
            and _NEGATED.isdisjoint(obj.words)  # "thanks for never giving up on us"
            and _DOING_GREAT.search(obj.lower) is None  # "thanks for crushing it"
            and compound(obj) <= -0.05
        ):
            return True
    return False

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
"""

from __future__ import annotations

import re
from typing import Final

from stormwatch.detectors.language import Tokens

__all__ = ["ironic"]

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

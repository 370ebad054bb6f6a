"""Smiles and frowns typed as characters or emoji, for the German reading.

The German model reads many tweets that end in a smile as negative: "geht doch...;)))"
and "Steht aber auf der Todo-Liste ! :-)" read over 0.5. Of the German validation
tweets (SB-10k, PotTS) and Deutsche Bahn texts (GermEval 2017's dev split) it flagged
that hold a smile and no frown, irony or negative words, people read 2 of 31 as
negative. A smile beside an ordinary sentence is a wink
at what it says, not a complaint; with a frown, negative words or a mark of irony it is
left to the other rules. Typed emoticons have no maintained parser for both languages
(the emoji lexicons know emoji only), so they are matched here.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["frowns", "smiles"]

_SMILE: Final = re.compile(
    r"(?<![\w/])[:;=]-?\)+|(?<![\w/])[:;]-?D+\b|(?<![\w/]):-?P\b|\b[xX][dD]+\b|\^\^"
    r"|\^_\^|\(:|<3(?!\d)|[😉😀😃😄😁😊😍😘❤♥]"
)
_FROWN: Final = re.compile(r"(?<!\w)[:;]-?\(+|(?<![\w/]):-?/(?!/)|-\.-|[😢😭😡😠😞😔😩😒🙄👎🤬]")


def smiles(text: str) -> bool:
    """Whether the text holds a smile.

    >>> smiles("geht doch...;)))"), smiles("siehe https://x.de/a:b"), smiles("x :D")
    (True, False, True)
    """
    return _SMILE.search(text) is not None


def frowns(text: str) -> bool:
    """Whether the text holds a frown.

    >>> frowns("schon wieder :("), frowns("https://example.org"), frowns("na super 🙄")
    (True, False, True)
    """
    return _FROWN.search(text) is not None

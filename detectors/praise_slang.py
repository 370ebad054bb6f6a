"""Praise in English slang: "that camera is insane", "the demo was sick", "you killed it".

Sentiment lexicons and models read these words in their dictionary sense: VADER has
"insane", "sick", "killed" and the fire emoji's name as strongly negative, and the
shipped model read "that camera is insane" 0.95, "sick design" 0.97 and "you killed
it!" 0.99. A launch's or a viral post's talk is full of them, so a launch read as
three times more negative than it was (independent case streams, 2026-12-07).

`slang_praise_removed` finds the slang word where it is praise by its grammar: said of
something ("<it> is/was/looks insane"), before a product word ("sick design"), as an
intensifier ("stupid good") or in an idiom ("killed it", "nailed it"); not of a price,
a fee or a wait ("that price is insane"), and not under a negation. It returns the text
without those words (and the fire emoji beside them), which the scorer then reads
instead: whatever else the comment says still counts, and a report of a failure is
still floored after it ("the app is sick, crashes every time"). Hand-written like
`complaints`: no maintained library reads slang for sentiment.
"""

from __future__ import annotations

import re
from typing import Final

from stormwatch.detectors.language import Tokens

__all__ = ["slang_praise_removed"]

# Slang that is praise whatever it is said of, and slang that is also outrage ("this
# is insane", "this is crazy") and so praise only of a product word.
_PRAISE: Final = r"(sick|fire|lit|dope|killer)"
_EITHER: Final = r"(insane|unreal|nuts|bonkers|wild|crazy|savage)"
_VERB: Final = r"(is|was|looks|looked|sounds|sounded|'s|are|were)"
_ADVERB: Final = r"((so|absolutely|literally|just|lowkey|highkey|honestly|actually|kinda|pretty) )?"
_PRODUCT_WORDS: Final = (
    r"(design|camera|phone|shot|shots|photo|photos|pic|pics|drop|colou?rs?|colorway|look|"
    r"fit|sound|demo|trailer|feature|features|update|collab|edit|video|track|beat|song|ad|"
    r"commercial|merch|car|ride|game|graphics|screen|display|battery|life|flavou?r|taste|"
    r"burger|pizza|menu|drink|launch|show|performance|skills|moves|vibe|vibes|one|these|"
    r"those|thing|things|product|lineup|model|version|watch|shoes|sneakers|jacket)"
)
_END: Final = r"(?=\s*($|[.!,;:?)\U0001f300-\U0001faff\u2600-\u27bf]))"

_PATTERNS: Final = (
    # said of something: "this is fire 🔥", "looks sick!", "that camera is insane"
    re.compile(
        rf"(^|(?<![\w'])(this|that|it|these|those|which|{_PRODUCT_WORDS}) ){_VERB} {_ADVERB}"
        rf"(?P<slang>{_PRAISE}){_END}"
    ),
    re.compile(
        rf"(?<![\w']){_PRODUCT_WORDS} {_VERB} {_ADVERB}(?P<slang>{_PRAISE}|{_EITHER}){_END}"
    ),
    re.compile(rf"^(?P<slang>(looks|sounds) {_ADVERB}{_PRAISE}){_END}"),
    # before a product word: "sick design", "insane camera", "killer feature"
    re.compile(rf"(?<![\w'])(?P<slang>{_PRAISE}|{_EITHER}|insanely) {_PRODUCT_WORDS}\b"),
    # as an intensifier: "stupid good", "crazy fast", "insanely smooth"
    re.compile(
        r"(?<![\w'])(?P<slang>insane|insanely|sick|crazy|stupid|ridiculously|unreal|wild)"
        r" (good|fast|nice|smooth|clean|fun|beautiful|pretty|comfy|cheap|tasty|delicious|"
        r"quick|cute|funny|well)\b"
    ),
    # idioms: "you killed it", "nailed it", "smashed it"
    re.compile(
        r"(?<![\w'])(?P<slang>(killed|killing|slayed|slaying|nailed|nailing|smashed|smashing|"
        r"crushed|crushing|rocked|rocking) it)(?!\w)"
    ),
)
_NEGATED: Final = re.compile(r"\b(not|no|never|isn't|wasn't|aren't|weren't|ain't)\b")
_ANCHORS: Final = frozenset(
    "insane insanely sick fire lit unreal nuts bonkers wild crazy savage killer dope looks sounds "
    "stupid ridiculous ridiculously killed killing slayed slaying nailed nailing smashed "
    "smashing crushed crushing rocked rocking".split()
)
_FIRE: Final = "\U0001f525"


def slang_praise_removed(tokens: Tokens) -> str | None:
    """The comment without the slang words it praises with, or None when it has none.

    >>> slang_praise_removed(Tokens("That camera is insane 🔥🔥"))
    'That camera is'
    >>> slang_praise_removed(Tokens("that price is insane")) is None
    True
    >>> slang_praise_removed(Tokens("the update is not sick at all")) is None
    True
    """
    if _ANCHORS.isdisjoint(tokens.words):
        return None
    lower = tokens.lower
    spans = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(lower):
            start = match.start("slang")
            # Not under a negation in the three words before it.
            before = lower[max(0, start - 40) : start].split()[-3:]
            if _NEGATED.search(" ".join(before)):
                continue
            spans.append((start, match.end("slang")))
    if not spans:
        return None
    text = tokens.text  # same length as `lower`: spans line up
    kept, at = [], 0
    for start, end in sorted(spans):
        if start >= at:
            kept.append(text[at:start])
            at = end
    kept.append(text[at:])
    return " ".join("".join(kept).replace(_FIRE, " ").split())

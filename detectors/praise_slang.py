"""Praise in English slang: "that camera is insane", "the demo was sick", "you killed it".

Sentiment lexicons and models read these words in their dictionary sense: VADER has
"insane", "sick", "killed" and the fire emoji's name as strongly negative, and the
shipped model read "that camera is insane" 0.95, "sick design" 0.97 and "you killed
it!" 0.99. A launch's or a viral post's talk is full of them, so a launch read as
half again more negative than it was (independent case streams, 2026-12-07).

`slang_praise_removed` finds the slang word where its grammar makes it praise: said of a
product word ("that camera is insane"), of "this"/"that" only for words that are never
outrage ("this is fire", not "this is insane" or "this ad is sick"), before a product
word ("sick design"), as an intensifier ("stupid good"), in an idiom said to someone
("you killed it", "nailed it") or as laughter ("I'm dead 😂"). Never in a comment that
names a price, a fee, a wait or the service ("the price of this phone is insane"), and
never under a negation. It
returns the text without those words (and the fire emoji right after them); the scorer
reads that instead only when nothing else in it is negative (`MultilingualScorer`).
Hand-written like `complaints`: no maintained library reads slang for sentiment.
"""

from __future__ import annotations

import re
from typing import Final

from stormwatch.detectors.language import Tokens

__all__ = ["hype_removed", "slang_praise_removed"]

# Slang that is praise whatever it is said of, and slang that is also outrage or disgust
# ("this is insane", "this ad is sick") and so praise only of a product word.
_PRAISE: Final = r"(fire|lit|dope)"
_EITHER: Final = r"(insane|sick|unreal|nuts|bonkers|wild|crazy|savage|killer)"
_VERB: Final = r"( is| was| looks| looked| sounds| sounded| are| were|'s)"
_ADVERB: Final = r"((so|absolutely|literally|just|lowkey|highkey|honestly|actually|kinda|pretty) )?"
# Things a launch or a post shows off; not what people complain of in them (an update, an
# ad, a price, the battery), which stay read as they read.
_PRODUCT_WORDS: Final = (
    r"(design|camera|cam|shot|shots|photo|photos|pic|pics|colou?rs?|colorway|look|fit|sound|"
    r"demo|trailer|collab|edit|track|beat|song|car|ride|graphics|screen|display|flavou?r|"
    r"taste|burger|pizza|drink|show|performance|skills|moves|vibe|vibes|watch|shoes|"
    r"sneakers|jacket|outfit|phone|lineup)"
)
# A comment that names one of these is about what it costs or how it is served.
# ("wait" as a noun: "the wait ..."; "wait, ..." opening a comment is a word of surprise.)
_COMPLAINED_OF: Final = re.compile(
    r"\b(price|prices|priced|pricing|cost|costs|fee|fees|shipping|waiting|waited|queue|"
    r"delay|delays|delayed|bill|charge|charged|charges|tax|markup|interest|service|support|"
    r"refund|money)\b|(?<!^)(?<!^ok )(?<!^so )(?<!^um )(?<!^yo )(?<!^oh )\bwait\b"
)
# The end of what is said: the comment's, a sentence's, an emoji, or the hashtags,
# mentions and links after it.
_END: Final = r"(?=\s*($|[.!,;:?)#@\U0001f300-\U0001faff\u2600-\u27bf]|https?:))"

# Whatever is said to be something, but where or what something is ("there was fire!").
_SUBJECT: Final = rf"(?<![\w'])(?!(there|here|what|which|who){_VERB})[^\W\d_]+{_VERB} "
# Fire emoji right after a word, ending what is said.
_FIRE_ENDING: Final = r"(?=\s*\U0001f525[\s\U0001f525]*($|[.!,;:?#@]|https?:))"

# (pattern, whether its slang is also outrage and so needs a sign of praise beside it)
_PATTERNS: Final = (
    # said of something: "this is fire 🔥", "that camera is insane". Fire, lit and dope
    # are praise of anything said to be them ("the new presale is fire"; what burns is
    # "on fire").
    (re.compile(rf"{_SUBJECT}{_ADVERB}(?P<slang>{_PRAISE}){_END}"), False),
    (
        re.compile(rf"(?<![\w']){_PRODUCT_WORDS}{_VERB} {_ADVERB}(?P<slang>{_EITHER}){_END}"),
        True,
    ),
    # ... and the words that are also outrage, of anything, with fire emoji right after:
    # "that goal was sick 🔥" (without them: "this ad is sick")
    (re.compile(rf"{_SUBJECT}{_ADVERB}(?P<slang>{_EITHER}){_FIRE_ENDING}"), False),
    (re.compile(rf"^(?P<slang>(looks|sounds) {_ADVERB}{_PRAISE}){_END}"), False),
    (re.compile(rf"^(?P<slang>(looks|sounds) {_ADVERB}{_EITHER}){_END}"), True),
    # before a product word: "fire design", "insane camera"
    (re.compile(rf"(?<![\w'])(?P<slang>fire|dope) {_PRODUCT_WORDS}\b"), False),
    (re.compile(rf"(?<![\w'])(?P<slang>{_EITHER}|insanely) {_PRODUCT_WORDS}\b"), True),
    # as an intensifier: "stupid good", "crazy fast", "insanely smooth"
    (
        re.compile(
            r"(?<![\w'])(?P<slang>insane|insanely|sick|crazy|stupid|stupidly|ridiculously|unreal|"
            r"wild)"
            r" (good|nice|smooth|fun|beautiful|pretty|comfy|tasty|delicious|cute|funny)\b"
        ),
        False,
    ),
    # idioms said to someone, or alone, or said with an intensifier: "you killed it",
    # "nailed it!", "Nintendo absolutely killed it today"; not "until they killed it"
    # (a product discontinued) nor "the update killed it"
    (
        re.compile(
            r"(\b(you|u|ya|y'all|you guys|you all) (really |totally |absolutely |just )?"
            r"|\b(totally|absolutely|literally|honestly) |^)"
            r"(?P<slang>(killed|slayed|nailed|smashed|crushed|rocked) it)"
            r"(?! (by|alright|all right|off|with|for (me|us|everyone|everybody)\b))(?!\w)"
        ),
        False,
    ),
    # amusement: "I'm dead 😂", "im crying lmao", "dead 💀💀" (laughing, not mourning)
    (
        re.compile(
            r"(^|(?<![\w']))(?P<slang>(i'm|im|i am) (so |literally |actually |lowkey )?"
            r"(dead|dying|deceased|weak|crying|screaming)|^(dead|deceased|dying))"
            r"(?=[\s.!]*(\U0001f602|\U0001f923|\U0001f480|lol|lmao|lmfao|haha))"
        ),
        False,
    ),
    # an idiom of praise: "they ate and left no crumbs"
    (re.compile(r"(?<![\w'])(?P<slang>(ate|ate it|ate that),? and left no crumbs)"), False),
    # ... and more of them: "this slaps", "you guys are on fire", "you're killing it" (a
    # place on fire is no person: "your warehouse is on fire")
    (
        re.compile(
            r"(?<![\w'])(?P<slang>(this|that|it)( (literally|really|actually|lowkey|so))? slaps"
            r"|(you|you guys|y'all|u|ya)( are|'re| r)( (so|really|literally|absolutely|just))? "
            r"(on fire|killing it))(?![\w'])"
        ),
        False,
    ),
)
# Hype: the words of outrage and grief that excitement and a roast's banter use ("This
# is sick!!! ❤️", "I'M SCREAMING 💀💀", "he's dead 😂", "choose violence today 😂",
# "bro got absolutely obliterated 💀", "my wife is obsessed with the Baconator"),
# anywhere in a comment that also laughs or loves: an emoji of laughter, love or fire,
# "lol", "lmao", "iconic". On independent case streams (2026-12-07) each read 0.7-1.0,
# and a Super Bowl night and a brand's roast banter opened critical incidents on every
# seed. The laughter is the sign of praise beside: what is left must only not read
# negative, and a comment naming a price, a refund or the service is left as it reads
# ("you destroyed my order 😂 where is my refund"). What it costs: mockery that laughs
# ("this ad is insane 😂 who approved this") reads as its rest reads.
# Not before what it intensifies when that is a complaint: "crazy slow", "sick of".
_NOT_BEFORE_COMPLAINT: Final = (
    r"(?![\w'])(?! (of|slow|expensive|overpriced|bad|long|late|buggy|broken|laggy|loud|rude|"
    r"annoying|stupid|ugly|greedy|dangerous)\b)"
)
_HYPE: Final = re.compile(
    r"(?<![\w'])(?P<slang>sick|insane|insanely|crazy|brutal|savage|wild|unreal|nuts|dead|"
    r"dying|deceased|died|crying|cried|screaming|screamin|shaking|shook|violence|obsessed|"
    r"(losing|lost) (my|our|their|his|her) minds?|holy (shit|crap|fuck)|wtf|omfg|"
    r"killing (it|me)|kills me|killed it|obliterated|murdered|destroyed|roasted|violated)"
    + _NOT_BEFORE_COMPLAINT
)
_JOY: Final = re.compile(
    "[\U0001f602\U0001f923\U0001f606\U0001f639\U0001f480\u2620\u2764\u2665\U0001f495"
    "\U0001f496\U0001f497\U0001f60d\U0001f970\U0001f929\U0001f63b\U0001f525\u2728"
    "\U0001f64c\U0001f44f\U0001f4af\U0001f973\U0001f389\U0001f410\U0001f92f]"
    r"|\b(lol|lmao|lmfao|rofl|ha(ha)+|iconic|legend|legendary|goat|masterpiece|obsessed)\b"
)
# Crying and thumbs up are signs of excitement too ("I'M SCREAMING 😭", "This is sick!!!
# 👍", in both independent generators' hype), but also of grief and of sarcasm ("my dog
# died 😭", "order arrived destroyed 👍"): beside them only the hype words that are no
# report of harm, and "dead", "deceased" or "dying" only said of oneself.
_JOY_WEAK: Final = re.compile("[\U0001f62d\U0001f979\U0001f44d]")
_HYPE_WEAK: Final = re.compile(
    r"(?<![\w'])(?P<slang>sick|insane|crazy|brutal|savage|wild|unreal|nuts|"
    r"screaming|screamin|shaking|shook|obsessed|(losing|lost) (my|our|their|his|her) minds?|"
    r"holy (shit|crap|fuck)|wtf|omfg|killing it|killed it|obliterated|roasted|"
    r"(i'm|im|i am) (so |literally |actually |lowkey )?(dead|deceased|dying))"
    + _NOT_BEFORE_COMPLAINT
)
# The same in German, beside the same laughter and love: "Digga brutaler Drop 💀",
# "krass 😂", "ich sterbe 😂😂", "haha lächerlich wie gut das ist".
_HYPE_GERMAN: Final = re.compile(
    r"(?<![\w'])(?P<slang>brutal(e|er|es|en|em)?|krass(e|er|es|en|em)?|krank(e|er|es|en)?|"
    r"geisteskrank|verrückt|irre|wahnsinn|wahnsinnig|lächerlich|ich (sterbe|schrei|schreie|"
    r"heule|flenne|kann nicht mehr)|tot|digga)(?![\w'])"
)
_NEGATED_GERMAN: Final = re.compile(r"\b(nicht|kein|keine|keinen|nie|niemals)\b")
# ... what it costs or how it is served ("die Preise sind krank lol").
_COMPLAINED_OF_GERMAN: Final = re.compile(
    r"\b(preis|preise|kosten|gebühr|gebühren|versand|lieferung|wartezeit|warteschleife|"
    r"service|kundenservice|support|erstattung|geld|rechnung|abzocke)\b"
)
_ANCHORS_GERMAN: Final = frozenset(
    "brutal brutale brutaler brutales brutalen brutalem krass krasse krasser krasses krassen "
    "krassem krank kranke kranker krankes kranken geisteskrank verrückt irre wahnsinn "
    "wahnsinnig lächerlich sterbe schrei schreie heule flenne mehr tot digga".split()
)
_NEGATED: Final = re.compile(r"\b(not|no|never|isn't|wasn't|aren't|weren't|ain't)\b")
_ANCHORS: Final = frozenset(
    "insane insanely sick fire lit unreal nuts bonkers wild crazy savage killer dope "
    "stupid ridiculously killed slayed nailed smashed crushed rocked looks sounds dead "
    "dying deceased weak crying screaming crumbs brutal died cried screamin shaking shook "
    "violence obsessed losing lost holy wtf omfg killing kills killed obliterated murdered "
    "stupidly slaps "
    "destroyed roasted violated burn".split()
)
_FIRE_AFTER: Final = re.compile("^[\\s\U0001f525]*")


def hype_removed(tokens: Tokens) -> str | None:
    """The German comment without its words of excitement, when it also laughs or loves
    (as `_HYPE` in English, whose remainder must only not read negative); None when it
    has none.

    >>> hype_removed(Tokens("Digga brutaler Drop 💀"))
    'Drop 💀'
    >>> hype_removed(Tokens("brutaler Service, nie wieder")) is None
    True
    """
    if _ANCHORS_GERMAN.isdisjoint(tokens.words):
        return None
    lower, text = tokens.lower, tokens.text
    if len(lower) != len(text) or _JOY.search(lower) is None:
        return None
    if _NEGATED_GERMAN.search(lower) is not None or _COMPLAINED_OF_GERMAN.search(lower):
        return None
    spans = [(m.start("slang"), m.end("slang")) for m in _HYPE_GERMAN.finditer(lower)]
    if not spans:
        return None
    kept, at = [], 0
    for start, end in spans:
        kept.append(text[at:start])
        at = end
    kept.append(text[at:])
    return " ".join(" ".join(kept).split())


def slang_praise_removed(tokens: Tokens) -> tuple[str, bool] | None:
    """The comment without the slang words it praises with, and whether one of them is
    also outrage ("insane", "crazy", "sick": praise only with a sign of it beside, see
    `MultilingualScorer`); None when it has none.

    >>> slang_praise_removed(Tokens("That camera is insane 🔥🔥"))
    ('That camera is', False)
    >>> slang_praise_removed(Tokens("that camera is insane"))
    ('that camera is', True)
    >>> slang_praise_removed(Tokens("the price of this camera is insane")) is None
    True
    >>> slang_praise_removed(Tokens("the update is not fire at all")) is None
    True
    >>> slang_praise_removed(Tokens("I'm crying, this is savage 😂"))
    ("I'm , this is 😂", False)
    """
    if _ANCHORS.isdisjoint(tokens.words):
        return None
    lower, text = tokens.lower, tokens.text
    if len(lower) != len(text) or _COMPLAINED_OF.search(lower):
        # (A character whose lowercase is longer, "İ", would shift every span.)
        return None
    spans = []
    patterns = _PATTERNS
    weak = False
    if _JOY.search(lower) is not None:
        patterns = (*_PATTERNS, (_HYPE, False))
    elif _JOY_WEAK.search(lower) is not None:
        patterns = (*_PATTERNS, (_HYPE_WEAK, False))
        weak = True
    for pattern, ambiguous in patterns:
        for match in pattern.finditer(lower):
            start = match.start("slang")
            # Not under a negation in the three words before it.
            if _NEGATED.search(" ".join(lower[max(0, start - 40) : start].split()[-3:])):
                continue
            end = match.end("slang")
            fire = _FIRE_AFTER.match(lower[end:]).end()
            # Fire emoji right after it are its praise ("insane 🔥").
            spans.append(
                (start, end + fire, ambiguous and "\U0001f525" not in lower[end : end + fire])
            )
    if weak and spans:
        # The crying is the excitement's, not left to read as grief ("I'M SCREAMING 😭").
        spans.extend((m.start(), m.end(), False) for m in _JOY_WEAK.finditer(lower))
    if not spans:
        return None
    kept, at, ambiguous = [], 0, False
    for start, end, unsure in sorted(spans):
        if start >= at:
            kept.append(text[at:start])
            at = end
            ambiguous = ambiguous or unsure
    kept.append(text[at:])
    return " ".join(" ".join(kept).split()), ambiguous

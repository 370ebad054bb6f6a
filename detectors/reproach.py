"""A reproach addressed to someone: "Shame on you!", "Schämt euch!".

A campaign's template is written to persuade, so its other words are polite and even
positive: "Liebes X, zahlt euren Beschäftigten endlich faire Löhne! Rekordgewinne,
Hungerlöhne. Schämt euch!" read 0.08, its English twin 0.28, while "Schämt euch!" alone
read 0.59 (independent held-out streams, 2026-12-07: two German campaigns of about
1,900 accounts each opened nothing). Like a protest hashtag, the reproach is the
writer's own verdict on the whole comment (`MultilingualScorer` floors it at
`PROTEST_FLOOR`). Only a reproach said to someone else: not "shame on me", not
"Schämt euch nicht", not "ich schäme mich fremd". And rebukes in set phrases
("thanks for nothing", "read the room", "Danke für nichts"). Hand-written like `complaints`: no
maintained library reads these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from stormwatch.detectors.complaints import index_phrases
from stormwatch.detectors.language import Tokens

__all__ = ["closing_verdict", "derides", "outraged", "reproaches"]

_REPROACH: Final = re.compile(
    r"\bshame on (?!(me|myself|us|ourselves)\b)\w+"
    r"|\b(you|u|y'all|you guys|you all) (should|ought to) be ashamed\b"
    r"|\bhave you no shame\b"
    r"|\bschämt euch\b(?! (nicht|doch nicht)\b)"
    r"|\bschämen sie sich\b(?! (nicht|doch nicht)\b)"
    r"|\bschäm(e)? dich\b(?! (nicht|doch nicht)\b)"
    r"|\b(ihr solltet euch|sie sollten sich|du solltest dich) (\w+ ){0,2}?schämen\b"
)


# Rebukes people write to a brand in set phrases, whose words read neutral or even
# polite to a lexicon and a tweet-trained model: "thanks for nothing" read 0.05, "read
# the room" 0.20, "this is the last straw" 0.30, "explain yourselves" 0.25 (independent
# held-out streams, 2026-12-07: an outrage template with "thanks for nothing" read
# 0.001). Only the idioms, said to someone: not "thanks, nothing else needed", not
# "we can do better". Each with the word every one of its phrases holds: a phrase is
# searched for only in a comment holding its word (all of them as one expression cost
# 22 us a search).
_REBUKE_PHRASES: Final = (
    (
        "nothing",
        r"\bthank(s| you)( so much| very much)? for (absolutely |literally )?nothing\b",
    ),
    ("nichts", r"\b(danke|vielen dank|danke schön|dankeschön) für (gar |rein gar )?nichts\b"),
    ("room", r"\bread the room\b"),
    ("straw", r"\bthe last straw\b"),
    ("explain", r"\bexplain yoursel(f|ves)\b"),
    ("job", r"\byou had (one|1) job\b"),
    ("dare", r"\bhow dare (you|u)\b"),
    (
        "better",
        r"(^|[.!?,]\s*|\b(you|u|y'all|you guys)\s+(need to|have to|must|should|gotta)\s+"
        r"|\bcan (you|u|y'all) )do better\b(?!\s+(than|with|at|in|on|when|if)\b)",
    ),
    ("überlaufen", r"\bfass zum überlaufen\b"),
    ("setzen", r"\bsetzen,? (sechs|6)\b"),
    (
        "wagen",
        r"\bwie (könnt ihr|können sie|kannst du) (es )?(euch |sich |dich )?(es )?wagen\b",
    ),
    ("erklärt", r"\berklärt euch\b(?!\s+(bereit|einverstanden)\b)"),
    # an apology demanded: "apologise. now.", "entschuldigt euch!" (not "apologise for the
    # delay", a brand's own reply, nor "entschuldigt euch nicht")
    (
        "apologise apologize",
        r"(^|[.!?,:;]\s*|@\w+\s+|\bplease\s+)apologi[sz]e(\s*([.!]|$)|\s+(now|immediately|"
        r"publicly|already|to (us|them|your|the|customers|everyone)\b))",
    ),
    ("apology", r"\b(deserve|deserves) (\w+ )?an apology\b"),
    # a boycott called for, a warning to others (heldout9's tuning seeds 1-8:
    # "boykottiert X bis die das klären" read 0.32, "Sagt es weiter: finger weg von X" 0.39)
    (
        "boycott",
        r"(^|[.!?,:;]\s*|@\w+\s+)(let's |lets |please |everyone |time to |we should |we must )?"
        r"boycott\b(?! (is|was|would|will|of|the idea)\b)",
    ),
    (
        "boykottiert boykottieren boykottiere",
        r"(^|[.!?,:;]\s*|@\w+\s+)boykottiert\b|\bboykottieren wir\b|\bich boykottiere\b"
        r"|\blasst uns (\w+ ){1,4}boykottieren\b",
    ),
    ("finger", r"\bfinger weg von\b"),
    # answers demanded of the brand ("verdient" reads as praise to the lexicon, so no
    # guard of a positive reading can tell): not the brand's own "Kunden haben eine
    # Erklärung verdient, deshalb hier unser FAQ"
    (
        "verdient",
        r"\b(kunden|die leute|nutzer|fahrgäste|familien|alle) (haben|hätten) (\w+ )?(antworten|"
        r"eine erklärung|die wahrheit|transparenz|ehrlichkeit) verdient\b"
        r"(?![^.!?]*\b(deshalb|darum|daher|hier)\b)",
    ),
    ("entschuldigt", r"\bentschuldigt euch\b(?!( \w+)? nicht\b)"),
    (
        "richtig",
        r"\bmacht (das|es|euren job|eure arbeit)( doch)?( mal)? endlich( mal)? richtig\b"
        r"(?!\s+(gut|toll|super|schön|geil|stark|lecker|klasse|cool|spaß)\b)",
    ),
)


# Derision of someone or something, in set phrases whose words read neutral or even
# positive: what is derided is named in the comment, and may be a referee as well as
# the brand (`derides`).
_DERISION_PHRASES: Final = (
    # "your support is a joke" read 0.01, "euer Versand ist ein Witz" 0.13
    # ("joke" and "Witz" are positive words to both lexicons). Not "it's (just) a
    # joke", "that was a joke", "I know this is a joke", "a joke about", "nur ein
    # Witz", "not a joke".
    (
        "joke laughingstock disgrace embarrassment",
        r"(?<!know )(?<!hope )(?<!wish )(?<!guess )(?<!how )(?<!if )(?<!sure )"
        r"\b(?!(it|its|it's)\b)\w+('s|'re| is| are)( (such|literally|honestly|truly|"
        r"really|seriously|absolutely|a|an|absolute|total|complete|utter|fucking|bloody|"
        r"big|sick|bad|cruel|actual|the|biggest|greatest)){1,4} joke\b"
        r"(?!\s*,?\s*(about|between|right|to me)\b)"
        r"|\bwhat an? (absolute |total |complete )?joke\b"
        # "Joke of an airline", "the biggest joke of an operation"
        r"|\b(joke|laughingstock|disgrace|embarrassment) of an? (airline|company|business|"
        r"operation|service|brand|bank|store|shop|carrier|app|team|club)\b",
    ),
    (
        "witz",
        r"\b(ist|sind|war|waren)( (echt|doch|einfach|ja|wirklich|absolut|komplett|"
        r"nur noch))* (ein|der reinste|ein schlechter|ein einziger) witz\b"
        r"|\bwas für ein witz\b",
    ),
    # "nobody at support knows what they're doing" read 0.05
    (
        "doing do",
        r"\b(nobody|no one|noone|no-one)( \w+){0,3}? (knows|has a clue|has any idea) what "
        r"(they're|they are|theyre|he's|she's|they|you're|you are) (doing|do)\b",
    ),
    (
        "weiß",
        r"\b(keiner|niemand)( \w+){0,3}? weiß,? was (er|sie|ihr|man) (da |hier )?"
        r"(tut|tun|macht|machen)\b|\bweiß (da |hier |bei euch )?(keiner|niemand),? "
        r"was (er|sie|ihr|man) (da |hier )?(tut|tun|macht|machen)\b",
    ),
    ("schnauze", r"\bschnauze (\w+ )?voll\b"),
    # "euer social-media-team gehört gefeuert" read 0.26
    (
        "fired",
        r"\b(should|needs? to|deserves? to|ought to|must|has to|have to) (all )?(be|get) "
        r"fired\b",
    ),
    (
        "gefeuert",
        r"\b(gehört|gehören|sollte|sollten|müsste|müssten|muss|müssen) (\w+ ){0,2}?"
        r"gefeuert\b",
    ),
    # A rip-off called so: "Wow. the DLC is a total ripoff" read 0.20, "der Hoodie
    # ist reine Abzocke!" 0.19 ("wow", "ehrlich" and "rein" read as praise).
    (
        "scam rip rip-off ripoff",
        r"\b(is|are|'s|'re|was|were|what|such)( (a|an|total|complete|absolute|utter|"
        r"fucking|pure|huge|massive|such)){0,3} (scam|rip-? ?off)\b",
    ),
    # Praise marked as untrue: "bester Kundenservice der Welt, sagte niemand 👍"
    # read 0.08 (independent held-out streams, 2026-12-07). Only at the end of what
    # is said: not "they said no one is available".
    (
        "said",
        r"[,.!…–—-]\s*said (no ?one|nobody|no-one)( ever)?(?=\s*($|[.!?,👍🙄😒🙃🤡😂]))",
    ),
    (
        "niemand keiner",
        r"[,.!…–—-]\s*(sagte|sagt|meinte|meint) (niemand|keiner)( jemals| je| nie)?"
        r"(?=\s*($|[.!?,👍🙄😒🙃🤡😂]))",
    ),
    ("abzocke abzocker abzocken", r"(?<!keine )(?<!kein )\babzock(e|er|en)\b"),
    # verdicts of a botched job, and "na toll": "Ein Armutszeugnis für die Bahn", "Super,
    # Bahn, gaaaanz toll" (GermEval 2017's dev split: read under 0.5)
    ("armutszeugnis murks realsatire", r"\b(armutszeugnis|murks|realsatire)\b"),
    (
        "toll super klasse prima danke",
        r"\bna,? (toll|super|klasse|prima|danke)\b|\bga{2,}nz (toll|super|klasse|prima)\b",
    ),
    ("zuverlässig", r"\bzuverlässig unzuverlässig\b"),
    ("abgezockt", r"\babgezockt\b"),
    # outrage at a post in a set phrase: "who thought this was a good idea", "out of
    # touch with normal people". Not "the audacity of this cake to be this cute", "who
    # approved this? give them a raise", "I've been out of touch for a while": as often
    # said in fun.
    (
        "thought",
        r"\bwho thought (this|that) (was|is|would be) (a good idea|ok|okay|acceptable|fine|"
        r"appropriate)\b",
    ),
    ("touch", r"\b(is|are|so|completely|totally|utterly|how|hopelessly) out of touch\b"),
)


# Outrage at a post or at how people were treated, and answers demanded, in phrases that
# are also said in praise or as a plain statement ("What were you thinking, this is
# genius!", "Our fans deserve better seats, so glad you're expanding"): a reproach only
# where the comment does not read as clearly positive (`outraged`; heldout9's tuning
# seeds 1-8, 2026-12-08: "customers deserve answers" read 0.40, "what were you thinking
# with this post" 0.26, "so geht man nicht mit Mitarbeitern um" under 0.5).
_OUTRAGE_PHRASES: Final = (
    ("thinking", r"\bwhat (were|was) (you|u|they|y'all|you guys|the \w+) thinking\b"),
    (
        "take",
        r"\btake (this|it|that)( post| ad| tweet| video)? down\s*(now|immediately|asap|and "
        r"apologi[sz]e|$|[.!])",
    ),
    ("deaf tone-deaf", r"\b(so|is|are|this|that|how|completely|utterly|absolutely) tone[- ]deaf\b"),
    (
        "gedacht",
        r"\bwas (habt ihr|hat (sich )?\w+) (euch |sich )?(da |dabei )?(bloß |nur )?gedacht\b",
    ),
    (
        "löschen entfernen",
        r"\b(sofort|umgehend|bitte sofort) (löschen|entfernen)\b(?!,? (wenn|sobald|nachdem)\b)",
    ),
    (
        "deserve deserves",
        r"\b(customers|we|people|users|passengers|fans|families) (all )?deserve (answers|an "
        r"explanation|the truth|transparency|honesty|better\s*($|[.!]))"
        r"(?![^.!?]*\b(that's why|which is why|so we|so here)\b)",
    ),
    # ("ok." stays "ok." in the tokens, as VADER keeps a word of two letters whole)
    (
        "ok okay acceptable ok. ok! ok? ok, ok...",
        r"\b(is|are|was|were|that's|thats|this is|it's|its) (just |simply |absolutely |so |"
        r"really |totally )?not (ok|okay|acceptable)\b(?! (to|if|when)\b)",
    ),
    # (looked up by "geht" and "behandelt": "um" at a sentence's end is "um." to the
    # tokens, and was missed)
    (
        "geht behandelt",
        r"\bso geht man (doch )?nicht mit (\w+ ){0,2}(mitarbeitern|mitarbeitenden|kunden|"
        r"kundinnen|menschen|leuten|angestellten|fahrgästen|personal|fans|nutzern) um\b"
        r"|\bso behandelt man (doch )?(keine|nicht) (\w+ ){0,2}(mitarbeiter|mitarbeitende|kunden|"
        r"kundinnen|menschen|leute|angestellte|fahrgäste|das personal|fans|nutzer)\b",
    ),
    (
        "apology entschuldigung",
        r"\b(is|was|that's|thats) (not|no) (an |a real |a proper )?apology\b"
        r"|\b(ist|war) keine (echte )?entschuldigung\b",
    ),
    (
        "boss ceo chef management",
        r"\bneeds? (a )?new (boss|ceo|management|leadership)\s*(now|today|asap|$|[.!,])"
        r"|\bbraucht (einen neuen chef|ein neues management|eine neue führung)\b",
    ),
    (
        "soll",
        r"\bwas soll (das|der mist|der scheiß|der quatsch|dieser \w+|diese \w+)( denn| bitte)?"
        r"\s*($|[?!])",
    ),
)


# Both looked up by the comment's words, not searched for as substrings: nearly every
# comment is asked (all that read under the floor), and a substring search per phrase
# cost more than the rest of the reading's rules.
_REBUKES: Final = index_phrases(_REBUKE_PHRASES)
_REBUKE_WORDS: Final = frozenset(_REBUKES)
_DERISION: Final = index_phrases(_DERISION_PHRASES)
_DERISION_WORDS: Final = frozenset(_DERISION)
_OUTRAGE: Final = index_phrases(_OUTRAGE_PHRASES)
_OUTRAGE_WORDS: Final = frozenset(_OUTRAGE)


def reproaches(tokens: Tokens) -> bool:
    """Whether the comment reproaches someone, in English or German: "Shame on you",
    "Schämt euch", or a rebuke in a set phrase ("thanks for nothing", "read the room").
    (`Tokens.lower` has the typographic apostrophe as "'" already.)

    >>> reproaches(Tokens("Rekordgewinne, Hungerlöhne. Schämt euch! #FaireLöhne"))
    True
    >>> reproaches(Tokens("shame on me for waiting so long"))
    False
    >>> reproaches(Tokens("Schämt euch nicht, das war super"))
    False
    >>> reproaches(Tokens("3rd outage this week, thanks for nothing"))
    True
    >>> reproaches(Tokens("thanks, nothing else needed"))
    False
    """
    lower = tokens.lower
    if ("shame" in lower or "schäm" in lower) and _REPROACH.search(lower) is not None:
        return True  # ("ashamed" holds "shame")
    return _says(tokens, _REBUKES, _REBUKE_WORDS)


def derides(tokens: Tokens) -> bool:
    """Whether the comment derides someone or something in a set phrase, in English or
    German: "your support is a joke", "euer Versand ist ein Witz", "nobody there knows
    what they're doing", "die Schnauze voll", "should be fired", "a total ripoff",
    "reine Abzocke". Unlike a reproach, aimed at whatever it names: "VAR is a joke" is
    anger at a referee (`officiating`).

    >>> derides(Tokens("@acme your support is a joke"))
    True
    >>> derides(Tokens("relax, it's just a joke"))
    False
    >>> derides(Tokens("Ich hab die Schnauze voll von der App"))
    True
    """
    return _says(tokens, _DERISION, _DERISION_WORDS)


def outraged(tokens: Tokens) -> bool:
    """Whether the comment holds a phrase of outrage or a demand that is also said in
    praise (`_OUTRAGE_PHRASES`): the caller reads it as a reproach only where the comment
    does not read as clearly positive.

    >>> outraged(Tokens("what were you thinking with this post"))
    True
    >>> outraged(Tokens("take it down a notch, guys"))
    False
    """
    return _says(tokens, _OUTRAGE, _OUTRAGE_WORDS)


# Words glued by punctuation ("is Ripoff,Quick ticket fee"): their parts are words too.
_GLUED: Final = re.compile(r"\w[,.;:!?/]\w")
_GLUE: Final = re.compile(r"[^\w'-]+")


def _says(
    tokens: Tokens, index: dict[str, tuple[re.Pattern[str], ...]], words: frozenset[str]
) -> bool:
    """Whether the comment holds one of `index`'s phrases (searched for only where it
    holds the phrase's word)."""
    found = words.intersection(tokens.words)
    lower = tokens.lower
    if not found:
        if _GLUED.search(lower) is None:
            return False
        found = words.intersection(_GLUE.split(lower))
    for word in found:
        for pattern in index[word]:
            if pattern.search(lower) is not None:
                return True
    return False


# A closing verdict: the comment's last sentence, of one or two words, strongly negative
# by itself. Its sentences end at ".", "!", "?" or a line break before more text.
_SENTENCE_END: Final = re.compile(r"[.!?]+\s+|\n+")
_VERDICT_MOST_WORDS: Final = 2
_TAIL: Final = 48
VERDICT_COMPOUND: Final = -0.5
"""The lexicon compound a closing verdict reads at most by itself: "Disgusting" -0.53,
"WTF" -0.59, "Lousy" -0.42 (not one)."""


def closing_verdict(text: str, compound: Callable[[str], float]) -> bool:
    """Whether the comment ends in a verdict of its own: "Record bonus for the board,
    layoffs for the workers. Disgusting." read 0.38, its last word alone 0.98. Outrage
    often tells what happened and then judges it in a word, and the telling reads
    neutral or even positive ("bonus"). `compound`: the language's lexicon compound.
    Of the tweets and Reddit comments people labelled (airline tweets, GoEmotions,
    VADER's tweets, SB-10k; 2026-12-07) the rule turned 37 negative ones and 7 others
    negative that the scorer had read under 0.5.

    >>> from stormwatch.detectors.negativity_english import VaderScorer
    >>> closing_verdict("Layoffs before Christmas. Disgusting.", VaderScorer().compound)
    True
    >>> closing_verdict("Disgusting.", VaderScorer().compound)  # one sentence: no verdict
    False
    >>> closing_verdict("Flight was late. Crew was great.", VaderScorer().compound)
    False
    """
    # Only the end is looked at: a verdict of one or two words fits in its last
    # `_TAIL` characters, and most comments are one sentence (scored for each comment).
    body = text.rstrip(" .!?\t\r\n")
    tail = body[-_TAIL:]
    if "." not in tail and "!" not in tail and "?" not in tail and "\n" not in tail:
        return False  # one sentence, or a last one too long to be a verdict
    parts = _SENTENCE_END.split(tail)
    if len(parts) < 2 or (len(parts) == 2 and not parts[0].strip() and len(body) <= _TAIL):
        return False
    last = parts[-1].strip(" \t")
    if not last or len(last.split()) > _VERDICT_MOST_WORDS:
        return False
    return compound(last) <= VERDICT_COMPOUND

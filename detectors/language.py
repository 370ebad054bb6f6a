"""Tokenisation and EN/DE language identification for short social-media comments.

Both live here because the enrichment hot path tokenises a comment once and hands the
same tokens to the language detector, the negativity scorers and the topic tagger.

Language identification counts very common words (function words plus a few words
typical of comments) of English, German and, as one "other" class, French, Spanish,
Italian, Portuguese and Dutch, with umlauts/ß and other accents as weak hints. It costs
a couple of microseconds and loads no model; it is right often enough to pick a
sentiment lexicon, which is all the pipeline needs it for.

>>> detect_language("Ich werde nie wieder bei euch kaufen")
'de'
>>> detect_language("I will never buy from you again")
'en'
>>> detect_language("Je ne vais plus jamais acheter chez vous") is None
True
"""

from __future__ import annotations

import re
import string
from itertools import repeat
from typing import Final

__all__ = [
    "OTHER",
    "Tokens",
    "classify_tokens",
    "detect_language",
    "detect_language_tokens",
    "is_protest_hashtag",
    "tokenize",
]

OTHER: Final = "other"
"""What `classify_tokens` returns for text recognised as neither English nor German."""

_PUNCTUATION: Final = string.punctuation


# Lowercased raw token -> VADER-stripped token. Stripping costs more than the rest of
# tokenising, and a comment stream repeats the same tokens ("again!", "service,"), so
# each distinct token is stripped once; the cache is emptied when it reaches its limit.
_STRIPPED: dict[str, str] = {}
_STRIPPED_LIMIT: Final = 50_000  # a few MB at most


# Protest hashtags glue a crisis word to a brand or a cause: #BoycottNestle, #BoykottBahn,
# #BahnSkandal, #StopCensorship, #EpicFail, #ShameOnAcme. Whole ("boycottnestle") no lexicon
# and no model knows them; read as the word they are built on, both do. A templated
# campaign's copies read as negative only as often as its template did: at real volume
# (Amazon review snippets rated -1 or worse) half of them, and none for "avoid apex dvd
# players - even if they're free! #boycottKO". Only these words, at the start or the
# end of a hashtag with at least two more letters, and only words that end no other
# word ("lies" and "kills" would read #families and #softskills): a stem is read, not
# guessed.
#
# The same for a verdict glued to what it judges, as customers tag their complaints
# (the airline set's dev half, 2026-12-08: #WorstAirlineEver, #BadCustomerService,
# #NotCool, #USAirwaysSucks, #YoureTheWorst, every one on a tweet people read as
# negative; 25 such tweets read under 0.5): "worst", "sucks", and a few whole phrases
# read as the word they mean. Not "bad" or "poor" alone (#badass, #poorthings).
HASHTAG_PREFIXES: Final = {"boycott": "boycott", "boykott": "boykott", "shameon": "shame"}
# ... and phrases, whole or at the start: #NotCool, #BadCustomerService, #WorstAirlineEver
# (not #WorstCaseScenario nor #WorstKeptSecret).
HASHTAG_PHRASES: Final = {
    "badservice": "bad", "badcustomer": "bad", "poorservice": "bad",
    "poorcustomerservice": "bad", "terribleservice": "bad", "nocustomerservice": "bad",
    "nothappy": "unhappy", "notcool": "unhappy", "notimpressed": "unimpressed",
    "worstairline": "worst", "worstservice": "worst", "worstcustomer": "worst",
    "worstcompany": "worst", "worstexperience": "worst", "worstflight": "worst",
    "worstbank": "worst", "worstapp": "worst", "worstbrand": "worst",
}  # fmt: skip
HASHTAG_SUFFIXES: Final = (
    "boycott", "boykott", "censorship", "zensur", "scandal", "skandal", "fail", "shame",
    "sucks", "worst", "ripoff",
)  # fmt: skip


# "#CancelBalenciaga", "#CancelNetflix": a call to boycott the brand named after it.
# Not a cancellation's news (#cancelled, #cancellation, #canceling) nor the debate
# about calls like it (#cancelculture).
_CANCEL: Final = "cancel"
_NOT_A_CALL: Final = frozenset(
    ("led", "ed", "lation", "lations", "ation", "ations", "ling", "ing", "s")
)  # what follows "cancel" in its own forms (not "#CancelSpotify", "#CancelEdeka")


def _hashtag_stem(word: str) -> str | None:
    """The crisis word a hashtag's lowercased body is built on, if any."""
    for prefix, stem in HASHTAG_PREFIXES.items():
        if word.startswith(prefix) and len(word) >= len(prefix) + 2:
            return stem
    for phrase, stem in HASHTAG_PHRASES.items():
        if word.startswith(phrase):
            return stem
    if (
        word.startswith(_CANCEL)
        and len(word) >= len(_CANCEL) + 2
        and word[len(_CANCEL) :] not in _NOT_A_CALL
        and not word[len(_CANCEL) :].startswith("culture")
    ):
        return "boycott"
    for suffix in HASHTAG_SUFFIXES:
        if word.endswith(suffix) and len(word) >= len(suffix) + 2:
            return suffix
    return None


# The stems that make a hashtag a call against someone (`is_protest_hashtag`). Not
# "fail": it also ends slogans (#neverfail, #cantfail), where it is still read as the
# word, but is no protest. Alone, only a boycott is a call: #scandal is also a TV show.
_PROTEST_WORDS: Final = frozenset(
    ("boycott", "boykott", "shame", "censorship", "zensur", "scandal", "skandal")
)
_PROTEST_ALONE: Final = frozenset(("boycott", "boykott"))


def is_protest_hashtag(part: str) -> bool:
    """Whether a lowercased whitespace piece is a protest hashtag: ``#boycott``,
    ``#boycottnestle``, ``#bahnskandal!`` (`Tokens.protest`)."""
    if part[0] != "#":
        return False
    body = part.strip(_PUNCTUATION)
    return body in _PROTEST_ALONE or _hashtag_stem(body) in _PROTEST_WORDS


# "kaputt!!1", "why?!?1": the ones typed for "!" in mock emphasis are punctuation too
# ("toll gemacht... wieder alles kaputt!!1" read 0.12, 0.60 without the "1").
_MOCK_BANG: Final = re.compile(r"(?<=[!?])[!?1]*1[!?1]*$")


def _strip(part: str) -> str:
    stripped = part.strip(_PUNCTUATION)
    if stripped.endswith("1") and ("!1" in part or "?1" in part):
        stripped = _MOCK_BANG.sub("", part).strip(_PUNCTUATION)
    word = stripped if len(stripped) > 2 else part
    if part[0] == "#":
        word = _hashtag_stem(stripped) or word
    elif part[0] == "@" and stripped:
        # A mention stays a mention: stripped to its handle, "@united" was the word
        # "united", which both lexicons and the model read as praise (of tweets to
        # airlines people read as negative, "@united the new seats just plain suck" 0.43
        # against 0.95 without the mention).
        word = "@" + stripped
    if len(_STRIPPED) >= _STRIPPED_LIMIT:
        _STRIPPED.clear()
    _STRIPPED[part] = word
    return word


class Tokens:
    """A comment split once for every consumer of the hot path.

    `words` follows VADER's tokeniser exactly (whitespace split, surrounding punctuation
    stripped unless that leaves two characters or fewer, so ``:)`` and ``ok!`` survive)
    but on the lowercased text, because every lexicon lookup is case-insensitive, and
    a protest hashtag is the crisis word it is built on (``#BoycottNestle``: "boycott";
    `HASHTAG_PREFIXES`, `HASHTAG_SUFFIXES`), still one word in its place. Only
    ALL-CAPS emphasis needs the original case, and scorers get it from `text`, whose
    whitespace split lines up with `words` position by position. `protest` says whether
    a piece is a protest hashtag (`is_protest_hashtag`), which scorers read as a call
    against the brand whatever the words around it say.
    """

    __slots__ = ("text", "lower", "words", "protest")

    def __init__(self, text: str) -> None:
        lower = text.lower()
        if not lower.isascii():
            # Phones type the typographic apostrophe; treating it as "'" keeps "don’t"
            # a negation. Same length and no whitespace, so positions stay aligned.
            lower = lower.replace("\u2019", "'")
        self.text = text
        self.lower = lower
        parts = lower.split()
        words = list(map(_STRIPPED.get, parts))
        if not all(words):  # a token seen for the first time (tokens are never "")
            for i, part in enumerate(parts):
                if words[i] is None:
                    words[i] = _strip(part)
        self.words = words
        self.protest = "#" in lower and any(map(is_protest_hashtag, parts))

    def __repr__(self) -> str:
        return f"Tokens({self.text!r})"


def tokenize(text: str) -> Tokens:
    """Split `text` once for language detection, scoring and tagging."""
    return Tokens(text)


# Word lists. A word goes to one class only; words common in two of the classes
# (en "was"/de "was", en "will"/de "will", de "es"/es "es", en "no"/es "no", "in", "so",
# "an", "man", "war", "also", "am", "a", "me", "come", "des", "mal", "da", "son", ...)
# are left out because they cannot tell the classes apart.
_ENGLISH = """
the and is are were be been being to of on at for with this that these those it its it's
i i'm i've i'll i'd you your you're yours you've we our we're we've they their they're
them he she his her him my not don't dont doesn't doesnt didn't didnt can't cant won't
wont isn't isnt aren't wasn't weren't haven't hasn't have has had would should could can
just very really what why how when where who which there here from by about again never
ever any some more most if or but because than then too only out up get got do does did
us off over after before still even much many every anyone everyone nobody nothing
something anything please thanks thank guys lol omg wtf yet into ours let let's going
gonna want need make made buy bought bad good great love hate terrible awful horrible
worst disappointed boycott scam people customer customers company money back now today
one same other shame disgusting ridiculous joke stop anymore you'll
well done
""".split()

_GERMAN = """
der die das den dem des ein eine einen einem einer eines und ist sind bin bist waren
wird werden wurde wurden hat haben hatte hatten habe hab habt seid nicht nichts kein
keine keinen keinem keiner keines nie niemals ich du er sie wir ihr euch uns mir mich
dich dir ihm ihn ihnen sich mein meine meinen meinem dein deine euer eure euren eurem
unser unsere unseren ihre ihren ihrem mit von vom zum zur bei beim nach aus auf für
über unter durch gegen ohne seit bis um im ins zu auch noch schon nur sehr mehr wie
aber oder wenn dass daß weil denn doch jetzt hier dort immer wieder warum wieso
weshalb wer wo dann ja nein gibt geht macht alle alles viel viele diese dieser dieses
diesen diesem selbst gar ganz etwas bitte danke leider endlich eigentlich einfach echt
wirklich kann können könnt muss müssen soll sollte sollten sollen wollen wollt möchte
darf kaufen gekauft kauft kunden kunde schlecht gut schade geil scheiße scheisse
unverschämt frechheit boykott skandal hallo lieber grüße gruß sowas nen halt oft genau
heute gestern morgen woche wochen jahr jahre geld zeit produkt produkte firma laden
mitarbeiter nochmal erst bzw usw wäre wären würde würden hätte hätten
niemand jemand warte wartet sei ab dafür dabei damit davon darum
dazu daran darauf vielen dank
""".split()

_OTHER = """
le la les un une et est je tu il elle nous vous ils elles ce cette ces c'est pas ne
qui que quoi mais ou où avec pour dans sur par au aux très moins j'ai n'est
suis sont été avoir être fait tout tous rien jamais toujours merci bonjour votre vos
notre nos leur leurs mon ma mes ta sa ses lui y en de à déjà encore aussi bien
vraiment chez acheter produit qu'il qu'on d'un d'une l'on
el los las una unos unas está están por para con sin pero muy más mi mis su sus
lo se ya nunca siempre nada todo todos esta este esto eso ese esa hay ser estar tiene
tengo hace cuando donde gracias hola porque también del al uno otra otro vez
gli della delle dello che non sono è di questo questa molto più anche perché
grazie ciao mai sempre niente tutto io mio mia suo nel nella alla
o os uma não é e dos em com muito mas eu você obrigado obrigada
isso isto esse essa tudo
het een niet ik jij wij zij hij van op te zijn voor maar ook nog wel dat dit
wat zo geen heel bij naar uit om dan wordt heeft hebben mijn jullie onze
nooit altijd niets bedankt
""".split()

# Votes are packed into one integer, 20 bits per class, so that a single C-level
# `sum(map(...))` counts all three classes at once (three `list.count` cost twice as
# much). Comments longer than _MAX_PACKED words are counted class by class instead.
_EN: Final = 1
_DE: Final = 1 << 20
_XX: Final = 1 << 40
_FIELD: Final = (1 << 20) - 1
_MAX_PACKED: Final = _FIELD


def _build_votes() -> dict[str, int]:
    votes: dict[str, int] = {}
    for words, vote in ((_ENGLISH, _EN), (_GERMAN, _DE), (_OTHER, _XX)):
        for word in words:
            if votes.setdefault(word, vote) != vote:
                raise AssertionError(f"{word!r} is listed for two languages")
    # The tokeniser keeps punctuation on tokens of two characters or fewer ("zu,",
    # "ja!"), so the short words are listed with it too; cheaper than a second strip.
    for word, vote in list(votes.items()):
        if len(word) <= 2:
            for mark in ",.!?;:)":
                votes.setdefault(word + mark, vote)
    return votes


_VOTES: Final = _build_votes()
# Letters that German does not use but its neighbours do; "é" is left out because
# English and German both borrow it ("Café", "café").
_FOREIGN_LETTERS: Final = frozenset("àâçèêëîïôûùñáíóúãõåøæşğı¿¡")


_GERMAN_ENDINGS: Final = (
    *("ung", "ungen", "heit", "keit", "schaft", "lich", "liche", "lichen", "isch", "ische"),
    *("ig", "ige", "igen", "iger", "iges", "chen", "los", "lose"),
)
_ENGLISH_ENDINGS: Final = ("ing", "ings", "ness", "ful", "ous", "ly", "ies", "ed")
_OTHER_ENDINGS: Final = ("ción", "zione", "dad", "mente", "eux", "aux", "ité", "ão")


def classify_tokens(tokens: Tokens) -> str | None:
    """Return "en", "de", `OTHER` (another language recognised) or None (no evidence).

    One hit decides a short comment; in longer ones the majority wins and a tie is None.
    """
    words = tokens.words
    if len(words) <= _MAX_PACKED:
        votes = sum(map(_VOTES.get, words, repeat(0)))
        en, de, xx = votes & _FIELD, (votes >> 20) & _FIELD, votes >> 40
    else:
        votes_each = list(map(_VOTES.get, words))
        en, de, xx = votes_each.count(_EN), votes_each.count(_DE), votes_each.count(_XX)
    lower = tokens.lower
    top = max(en, de, xx)
    # The letter hints move a count by at most 1, so a lead of 2 words stands anyway.
    if not lower.isascii() and top - (en + de + xx - top - min(en, de, xx)) < 2:
        # ß only in German. Umlauts also occur in Turkish, Swedish, Finnish, so they
        # only tip a close call and never decide on their own.
        if "ß" in lower:
            de += 1
        elif "ä" in lower or "ö" in lower or "ü" in lower:
            de += 0.5
        if not _FOREIGN_LETTERS.isdisjoint(lower):
            xx += 1
    if en < 1 and de < 1 and xx < 1:
        # No common word at all ("Amazing story, beautiful!", "Dreckiges Geschäft"):
        # fall back on word endings, half a vote each.
        for word in tokens.words:
            if word[0] == "@":
                continue  # a mention is a handle, in no language
            if word.endswith(_GERMAN_ENDINGS) or word.startswith("sch"):
                de += 0.5
            elif word.endswith(_ENGLISH_ENDINGS):
                en += 0.5
            elif word.endswith(_OTHER_ENDINGS):
                xx += 0.5
    if en > de:
        if en > xx and en >= 1:
            return "en"
    elif de > en:
        if de > xx and de >= 1:
            return "de"
    if xx >= 1 and xx >= en and xx >= de:
        return OTHER
    return None


def detect_language_tokens(tokens: Tokens) -> str | None:
    """Like `detect_language`, on already tokenised text."""
    lang = classify_tokens(tokens)
    return None if lang is OTHER else lang


def detect_language(text: str) -> str | None:
    """Return "en", "de" or None (another language, or too little evidence)."""
    return detect_language_tokens(Tokens(text))

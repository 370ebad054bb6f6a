"""How negative a comment is, in [0, 1], cheap enough to run on every comment.

One small interface, `NegativityScorer`, with two backends per language, chosen by
configuration (`build_scorer`): the rule-based lexicon scorers, and `ModelScorer`, the
trained model of `negativity_model` read over the lexicon. Both fit the hot path's
budget of microseconds per comment.

- `VaderScorer`: English. A re-implementation of VADER's rules over VADER's own lexicon
  (read at run time from the installed `vaderSentiment` package), several times
  faster than `SentimentIntensityAnalyzer.polarity_scores` and agreeing with it.
- `GermanScorer`: German. Klenner et al.'s polarity lexicon (from textblob-de, Apache 2.0,
  shipped as ``data/de_polarity_lexicon.tsv``), expanded to inflected forms, with German
  negation, intensifiers and a few social-media crisis words, scored with the same
  VADER-style arithmetic.
- `ModelScorer`: a language's trained model with that language's lexicon as features;
  its calibrated probability is mapped so the measured threshold sits at 0.5.
- `MultilingualScorer`: picks one scorer per language.

A lexicon scorer's negativity is ``max(0, -compound)`` of a VADER-style compound score in
[-1, 1], so positive and neutral text scores 0.

>>> scorer = MultilingualScorer()
>>> scorer.score("die Qualität ist super", "de")
0.0
>>> round(scorer.score("Ich werde nie wieder bei euch kaufen, Boykott!", "de"), 3)
0.807
>>> round(scorer.score("The customer service is terrible!", "en"), 4)
0.5255
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from itertools import compress
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

from stormwatch.detectors.exceptions import DetectorError
from stormwatch.detectors.language import Tokens, classify_tokens
from stormwatch.detectors.negativity_model import (
    HashedScorer,
    LanguageModel,
    ModelFile,
    default_model_path,
    load_model,
)

__all__ = [
    "BACKENDS",
    "GermanScorer",
    "ModelReading",
    "ModelScorer",
    "MultilingualScorer",
    "NegativityScorer",
    "TokenNegativityScorer",
    "VaderScorer",
    "build_scorer",
    "lexicon_scorers",
]


class NegativityScorer(Protocol):
    """Anything that rates how negative a comment is."""

    def score(self, text: str, lang: str | None) -> float:
        """Return negativity in [0, 1]; 0 = not negative. `lang` is ISO 639-1 or None."""
        ...


@runtime_checkable
class TokenNegativityScorer(NegativityScorer, Protocol):
    """A scorer that can reuse the hot path's tokens instead of splitting again."""

    def score_tokens(self, tokens: Tokens, lang: str | None) -> float:
        """Same as `score`, on `tokens` made from the same text."""
        ...


_ALPHA: Final = 15.0  # VADER's normalisation constant: compound = s / sqrt(s² + alpha)
_EXCLAMATION_GAIN: Final = 0.292  # per "!", at most four (VADER)
_QUESTION_GAIN: Final = 0.18  # per "?" when there are two or three (VADER)
_QUESTION_CAP: Final = 0.96  # four or more "?" (VADER)


def _punctuation_emphasis(text: str) -> float:
    exclamations = text.count("!")
    emphasis = (exclamations if exclamations < 4 else 4) * _EXCLAMATION_GAIN
    questions = text.count("?")
    if questions > 3:
        emphasis += _QUESTION_CAP
    elif questions > 1:
        emphasis += questions * _QUESTION_GAIN
    return emphasis


def _normalise(total: float, text: str) -> float:
    """VADER's compound: add punctuation emphasis away from zero, squash into [-1, 1]."""
    if total == 0.0:
        return 0.0
    emphasis = _punctuation_emphasis(text)
    total = total + emphasis if total > 0 else total - emphasis
    compound = total / math.sqrt(total * total + _ALPHA)
    return -1.0 if compound < -1.0 else 1.0 if compound > 1.0 else compound


# Every emoji VADER names is © or ® or above U+2000. A one-range character class is fast
# in `re`, unlike a class of the 1,200 emoji themselves (~50 µs a comment), so this
# cheap test guards the exact per-character check.
_MAYBE_EMOJI: Final = re.compile("[\u00a9\u00ae\u2000-\U0010ffff]")


def _caps_differential(raw: list[str]) -> bool:
    """True when some but not all tokens are ALL CAPS: only then is caps emphasis."""
    caps = sum(map(str.isupper, raw))
    return 0 < len(raw) - caps < len(raw)


# --------------------------------------------------------------------------- English


@dataclass(frozen=True, slots=True)
class _VaderTables:
    lexicon: dict[str, float]
    boosters: dict[str, float]  # VADER's BOOSTER_DICT, multiword keys included
    negations: frozenset[str]
    special_cases: dict[str, float]
    special_firsts: frozenset[str]  # first words of those phrases
    special_seconds: frozenset[str]  # second words of those phrases
    caps_increment: float
    negation_scalar: float
    emoji_names: dict[str, str]
    emoji_valence: dict[str, float]  # summed lexicon valence of an emoji's name


@functools.cache
def _vader_tables() -> _VaderTables:
    """Read VADER's lexicon and rule word lists from the installed package, once."""
    try:
        from vaderSentiment import vaderSentiment as vader
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise DetectorError("the English scorer needs the vaderSentiment package") from exc
    package = resources.files("vaderSentiment")
    lexicon: dict[str, float] = {}
    for line in (package / "vader_lexicon.txt").read_text(encoding="utf-8").splitlines():
        fields = line.strip().split("\t")
        if len(fields) >= 2:
            lexicon[fields[0]] = float(fields[1])
    emoji_names: dict[str, str] = {}
    for line in (package / "emoji_utf8_lexicon.txt").read_text(encoding="utf-8").splitlines():
        fields = line.strip().split("\t")
        # VADER replaces emoji one code point at a time, so sequences never match.
        if len(fields) >= 2 and len(fields[0]) == 1:
            emoji_names[fields[0]] = fields[1]
    emoji_valence = {}
    for emoji, name in emoji_names.items():
        valence = sum(lexicon.get(word, 0.0) for word in name.lower().split())
        if valence:
            emoji_valence[emoji] = valence
    boosters = dict(vader.BOOSTER_DICT)
    special_cases = dict(vader.SPECIAL_CASES)
    phrases = [phrase.split() for phrase in (*special_cases, *boosters) if " " in phrase]
    return _VaderTables(
        lexicon=lexicon,
        boosters=boosters,
        negations=frozenset(vader.NEGATE),
        special_cases=special_cases,
        special_firsts=frozenset(phrase[0] for phrase in phrases),
        special_seconds=frozenset(phrase[1] for phrase in phrases),
        caps_increment=vader.C_INCR,
        negation_scalar=vader.N_SCALAR,
        emoji_names=emoji_names,
        emoji_valence=emoji_valence,
    )


class _CompoundScorer:
    """Negativity as the negative part of a VADER-style compound score in [-1, 1]; the
    language argument is ignored (each subclass reads one language)."""

    def compound_tokens(self, tokens: Tokens) -> float:
        raise NotImplementedError

    def compound(self, text: str) -> float:
        """The compound score in [-1, 1], unrounded."""
        return self.compound_tokens(Tokens(text))

    def score(self, text: str, lang: str | None = None) -> float:
        return self.score_tokens(Tokens(text), lang)

    def score_tokens(self, tokens: Tokens, lang: str | None = None) -> float:
        compound = self.compound_tokens(tokens)
        return -compound if compound < 0.0 else 0.0


class VaderScorer(_CompoundScorer):
    """English negativity from VADER's lexicon and rules, without VADER's overheads.

    Follows `SentimentIntensityAnalyzer` rule for rule (boosters and dampeners with
    distance decay, negation up to three tokens back, "no", "least", "never so",
    "without doubt", special idioms, "but" re-weighting, ALL-CAPS and punctuation
    emphasis, emoji names, alpha = 15). Two deliberate differences: "’" counts as an
    apostrophe (so "don’t" negates), and the "but" re-weighting is by position where
    VADER's looks values up with `list.index` and sometimes re-weights the wrong one.
    The language argument is ignored: this scorer always reads English.
    """

    def __init__(self, extra_lexicon: Mapping[str, float] | None = None) -> None:
        tables = _vader_tables()
        self._tables = tables
        self._lexicon = tables.lexicon
        if extra_lexicon:
            self._lexicon = {**tables.lexicon, **extra_lexicon}
        self._boosters = tables.boosters
        self._negations = tables.negations
        self._special_firsts = tables.special_firsts
        self._special_seconds = tables.special_seconds
        self._emoji_names = tables.emoji_names
        self._caps_increment = tables.caps_increment
        self._negation_scalar = tables.negation_scalar
        # Words that make a rule beyond a plain lexicon lookup fire for the word after.
        self._modifiers = frozenset(
            {*tables.boosters, *tables.negations, "no", "never", "without", "so", "this", "least"}
        )

    def compound_tokens(self, tokens: Tokens) -> float:
        text = tokens.text
        if not text.isascii() and _MAYBE_EMOJI.search(text) is not None:
            named = self._name_emoji(text)
            if named != text:
                text = named
                tokens = Tokens(text)
        words = tokens.words
        valences = list(map(self._lexicon.get, words))
        n = len(words)
        if not any(valences):  # no lexicon word (no entry is 0.0)
            return 0.0
        modifiers = self._modifiers
        # An idiom needs its first and second word somewhere in the comment; any
        # "n't" contraction is a negation. Either sends every word through the rules.
        idioms = not self._special_firsts.isdisjoint(words) and not (
            self._special_seconds.isdisjoint(words)
        )
        always = idioms or "n't" in tokens.lower
        but = words.index("but") if "but" in words else -1
        raw = text.split()
        caps_differ: bool | None = None
        caps_increment = self._caps_increment
        total = 0.0
        for i in compress(range(n), valences):
            word = words[i]
            if word in self._boosters:
                continue  # modifiers carry no sentiment of their own
            valence = valences[i]
            if word == "kind" or word == "no":
                if i + 1 < n and (words[i + 1] == "of" if word == "kind" else valences[i + 1]):
                    if word == "kind":
                        continue  # "kind of" is a dampener, not kindness
                    valence = 0.0  # "no" negates the next word rather than scoring itself
            if raw[i].isupper():
                if caps_differ is None:
                    caps_differ = _caps_differential(raw)
                if caps_differ:
                    valence += caps_increment if valence > 0 else -caps_increment
            if (
                always
                or (i > 0 and words[i - 1] in modifiers)
                or (i > 1 and words[i - 2] in modifiers)
                or (i > 2 and words[i - 3] in modifiers)
            ):
                valence = self._apply_rules(valence, i, words, valences, raw, idioms)
            if but >= 0:
                valence *= 0.5 if i < but else 1.5
            total += valence
        return _normalise(total, text)

    def _apply_rules(
        self,
        valence: float,
        i: int,
        words: list[str],
        valences: list[float | None],
        raw: list[str],
        idioms: bool,
    ) -> float:
        """VADER's rules on the three words before token i ("not", "very", "no", ...)."""
        boosters = self._boosters
        negations = self._negations
        n_scalar = self._negation_scalar
        w1 = words[i - 1] if i > 0 else ""
        w2 = words[i - 2] if i > 1 else ""
        w3 = words[i - 3] if i > 2 else ""
        if w1 == "no" or w2 == "no" or (w3 == "no" and w1 in ("or", "nor")):
            valence = valences[i] * n_scalar  # type: ignore[operator]
            if raw[i].isupper() and _caps_differential(raw):
                valence += self._caps_increment if valence > 0 else -self._caps_increment
        # VADER looks back through words outside its lexicon only.
        if i > 0 and valences[i - 1] is None:
            scalar = boosters.get(w1)
            if scalar is not None:
                valence += self._booster(scalar, raw[i - 1], valence, raw)
            if w1 in negations or "n't" in w1:
                valence *= n_scalar
        if i > 1 and valences[i - 2] is None:
            scalar = boosters.get(w2)
            if scalar is not None:
                valence += self._booster(scalar, raw[i - 2], valence, raw) * 0.95
            if w2 == "never" and w1 in ("so", "this"):
                valence *= 1.25
            elif w2 == "without" and w1 == "doubt":
                pass
            elif w2 in negations or "n't" in w2:
                valence *= n_scalar
        if i > 2 and valences[i - 3] is None:
            scalar = boosters.get(w3)
            if scalar is not None:
                valence += self._booster(scalar, raw[i - 3], valence, raw) * 0.9
            if (w3 == "never" and w2 in ("so", "this")) or w1 in ("so", "this"):
                valence *= 1.25
            elif w3 == "without" and (w2 == "doubt" or w1 == "doubt"):
                pass
            elif w3 in negations or "n't" in w3:
                valence *= n_scalar
            if idioms:
                valence = self._special_idioms(valence, words, i)
        if w1 == "least" and (i == 1 or w2 not in ("at", "very")):
            valence *= n_scalar
        return valence

    def _booster(self, scalar: float, raw_word: str, valence: float, raw: list[str]) -> float:
        """A booster's push, away from zero in the direction of `valence`."""
        if valence < 0:
            scalar = -scalar
        if raw_word.isupper() and _caps_differential(raw):
            scalar += self._caps_increment if valence > 0 else -self._caps_increment
        return scalar

    def _special_idioms(self, valence: float, words: list[str], i: int) -> float:
        """VADER's idiom check ("the shit", "kiss of death", "kind of", ...)."""
        special = self._tables.special_cases
        w3, w2, w1, w0 = words[i - 3], words[i - 2], words[i - 1], words[i]
        one_zero = f"{w1} {w0}"
        two_one_zero = f"{w2} {one_zero}"
        two_one = f"{w2} {w1}"
        three_two_one = f"{w3} {two_one}"
        three_two = f"{w3} {w2}"
        for sequence in (one_zero, two_one_zero, two_one, three_two_one, three_two):
            if sequence in special:
                valence = special[sequence]
                break
        n = len(words)
        if n - 1 > i:
            zero_one = f"{w0} {words[i + 1]}"
            if zero_one in special:
                valence = special[zero_one]
            if n - 1 > i + 1:
                zero_one_two = f"{zero_one} {words[i + 2]}"
                if zero_one_two in special:
                    valence = special[zero_one_two]
        for ngram in (three_two_one, three_two, two_one):
            if ngram in self._boosters:
                valence += self._boosters[ngram]
        return valence

    def _name_emoji(self, text: str) -> str:
        """Replace emoji by their names, as VADER does before tokenising.

        VADER puts a space before a name unless one is there already and none after;
        a space too many before a name changes no token, so one is always added.
        """
        names = self._emoji_names
        return _MAYBE_EMOJI.sub(lambda m: " " + names[m[0]] if m[0] in names else m[0], text)


# --------------------------------------------------------------------------- German

_GERMAN_SCALE: Final = 2.5
"""The German lexicon rates -1..1; VADER's strong words sit around ±2..3. Scaling by 2.5
puts "schlecht" (-1.0) near VADER's "bad" (-2.5), so both languages share alpha = 15."""

# Function words and modifiers the lexicon rates but that carry little sentiment in
# comments ("kaufen" is -0.7 there, "bitte" +1.0 via "bitten"); 0 removes the entry
# and its inflected forms. Crisis words it lacks or under-rates are added.
_GERMAN_OVERRIDES: Final[Mapping[str, float]] = {
    "kaufen": 0.0,
    "einfach": 0.0,
    "recht": 0.0,
    "hoch": 0.0,
    "billig": 0.0,
    "echt": 0.0,
    "wirklich": 0.0,
    "absolut": 0.0,
    "nichts": 0.0,
    "bitten": 0.0,
    "lieb": 0.0,
    "sorgen": 0.0,
    "wüten": 0.0,
    "preisen": 0.0,  # "preise" is far more often the plural of Preis
    "erhöhen": 0.0,  # prices are what comments see raised
    "erhöht": 0.0,
    "bezahlen": 0.0,
    "ernsthaft": 0.0,  # "Ernsthaft, ..." is an exasperated "seriously"
    "entschuldigen": 0.0,  # in complaints mostly a demand: "Entschuldigt euch!"
    "entschuldigung": 0.0,
    "qualität": 0.0,  # an aspect, not a judgement: "enttäuschende Qualität"
    "dauern": 0.0,  # "Wie lange dauert der Versand?": the lexicon's "dauern" is "to pity"
    "blau": 0.0,  # colours of products ("in Blau"), not "drunk" or "gloomy"
    "grau": 0.0,
    "preiserhöhung": -0.7,
    "überteuert": -1.0,
    "beschädigt": -0.7,
    "storniert": -0.5,
    "ignoriert": -0.7,
    "egal": -0.5,
    "gehackt": -0.7,
    "geleakt": -0.7,
    "leid": -0.3,
    "danke": 0.5,
    "lecker": 1.0,
    "top": 0.7,
    "gefällt": 0.7,
    "funktioniert": 0.5,
    "boykott": -1.0,
    "boykottieren": -1.0,
    "skandal": -1.0,
    "zensur": -1.0,
    "zensieren": -1.0,
    "lügner": -1.0,
    "gelogen": -1.0,  # strong verbs: only regular inflections are derived
    "belogen": -1.0,
    "betrogen": -1.0,
    "gestohlen": -1.0,
    "beschissen": -1.0,
    "lügenpresse": -1.0,
    "abzocke": -1.0,
    "abzocker": -1.0,
    "abzocken": -1.0,
    "abgezockt": -1.0,
    "katastrophe": -1.0,
    "scheiße": -1.0,
    "scheisse": -1.0,
    "scheiß": -1.0,
    "kacke": -1.0,
    "mist": -0.7,
    "müll": -0.7,
    "dreck": -1.0,
    "schrott": -1.0,
    "betrüger": -1.0,
    "verarsche": -1.0,
    "verarschen": -1.0,
    "verarscht": -1.0,
    "kaputt": -0.7,
    "defekt": -0.7,
    "unfassbar": -0.7,
    "unmöglich": -0.7,
    "versagt": -1.0,
    "versager": -1.0,
    "rassist": -1.0,
    "rassismus": -1.0,
    "sexistisch": -1.0,
    "sexismus": -1.0,
    "diskriminierung": -1.0,
    "diskriminierend": -1.0,
    "ausbeuter": -1.0,
    "unterirdisch": -1.0,
    "kotzen": -1.0,
    "wucher": -1.0,
    "halsabschneider": -1.0,
    "saftladen": -1.0,
    "drecksladen": -1.0,
    "shitstorm": -1.0,
    "fail": -0.7,
    "fake": -0.7,
}

# Emoji whose English names carry no VADER valence ("pouting face") or the wrong one
# ("broken heart" is +1.1), on VADER's scale. The German scorer uses them on top of
# the names; the English scorer stays with VADER's behaviour.
_EMOJI_SUPPLEMENT: Final[Mapping[str, float]] = {
    "😡": -2.5,
    "🤬": -3.0,
    "😤": -2.0,
    "👎": -2.0,
    "🙄": -1.5,
    "🤮": -2.5,
    "🤢": -2.0,
    "💩": -2.0,
    "😒": -1.5,
    "💔": -2.0,
    "🤡": -1.5,
    "👍": 1.5,
    "👏": 1.5,
}

_GERMAN_NEGATIONS: Final = frozenset(
    "nicht kein keine keinen keinem keiner keines nie niemals nichts nix ohne weder "
    "niemand nirgends net nein".split()
)
_B_INCR: Final = 0.293  # VADER's B_INCR booster step, so German and English agree
_GERMAN_BOOSTERS: Final[Mapping[str, float]] = {
    **dict.fromkeys(
        "sehr extrem total totale totaler absolut völlig vollkommen komplett echt wirklich "
        "so zu ganz besonders äußerst höchst unglaublich unheimlich mega ziemlich super "
        "richtig krass maximal zutiefst derart dermaßen ultra verdammt furchtbar "
        "überhaupt gar voll".split(),
        _B_INCR,
    ),
    **dict.fromkeys(
        "etwas kaum wenig bisschen eher halbwegs einigermaßen relativ teilweise fast "
        "leicht".split(),
        -_B_INCR,
    ),
}
_GERMAN_MODIFIERS: Final[Mapping[str, float]] = {
    **_GERMAN_BOOSTERS,
    **dict.fromkeys(_GERMAN_NEGATIONS, 0.0),
}
_GERMAN_CONTRASTS: Final = frozenset({"aber", "jedoch", "allerdings"})
# Phrases that are negative although no word in them is: "nie wieder" is the boycott
# formula. Their "nie" must then not also negate the next sentiment word.
_GERMAN_PHRASES: Final[Mapping[str, tuple[tuple[tuple[str, ...], float], ...]]] = {
    "nie": ((("wieder",), -1.0), (("mehr",), -0.7)),
    "niemals": ((("wieder",), -1.0),),
    "geht": ((("gar", "nicht"), -1.0),),
    "zum": ((("kotzen",), -1.0),),
    "unter": ((("aller", "sau"), -1.0),),
    "finger": ((("weg",), -1.0),),
}
_CLAUSE_WORDS: Final = frozenset("und aber oder weil denn sondern dass obwohl wenn doch".split())
_CLAUSE_END: Final = frozenset(".,;:!?")

_ADJECTIVE_ENDINGS: Final = ("e", "en", "er", "es", "em")
_INSEPARABLE: Final = ("be", "ge", "er", "ver", "zer", "ent", "emp", "miss", "über", "unter")
_SEPARABLE: Final = ("ab", "an", "auf", "aus", "ein", "mit", "nach", "vor", "weg", "zu", "los")


def _inflections(form: str, pos: str) -> Iterator[str]:
    """Regular inflected forms: the lexicon lists lemmas, comments use inflections.

    `pos` is the lexicon's tag (JJ, VB, NN); "" means unknown: noun and adjective forms.
    """
    if pos in ("JJ", ""):
        if form.endswith("e"):
            comparative = form + "r"
            yield from (form + ending for ending in ("n", "r", "s", "m"))
        elif form.endswith(("euer", "auer")):  # teuer -> teure, teurer
            stem = form[:-2] + "r"
            comparative = stem + "er"
            yield from (stem + ending for ending in _ADJECTIVE_ENDINGS)
        else:
            comparative = form + "er"
            yield from (form + ending for ending in _ADJECTIVE_ENDINGS)
        yield from (comparative + ending for ending in ("", *_ADJECTIVE_ENDINGS))
        superlative = form + ("est" if form.endswith(("t", "d", "s", "ß", "z", "x")) else "st")
        yield from (superlative + ending for ending in _ADJECTIVE_ENDINGS)
    elif pos == "VB":
        if form.endswith("en"):
            stem = form[:-2]
        elif form.endswith(("ln", "rn")):
            stem = form[:-1]
        else:
            return
        yield from (stem + ending for ending in ("e", "st", "t", "et", "te", "ten", "tet", "end"))
        if form.startswith(_INSEPARABLE) or stem.endswith("ier"):
            participle = stem + "t"
        else:
            prefix = next((p for p in _SEPARABLE if form.startswith(p) and len(form) > 6), "")
            participle = prefix + "ge" + stem[len(prefix) :] + "t"
        yield participle
        yield from (participle + ending for ending in _ADJECTIVE_ENDINGS)
    if pos in ("NN", ""):
        if form.endswith("e"):
            yield form + "n"
        elif form.endswith(("ung", "heit", "keit", "schaft", "ion", "tät", "ik", "ei")):
            yield form + "en"
        else:
            yield from (form + ending for ending in ("e", "en", "es", "s"))


def _german_lexicon_entries() -> Iterator[tuple[str, str, float]]:
    """(form, part of speech, polarity) from the lexicon shipped in ``data/`` (Klenner et
    al.'s German Polarity Lexicon as converted by textblob-de, Apache 2.0: see the
    file's header)."""
    text = (resources.files("stormwatch.detectors") / "data" / "de_polarity_lexicon.tsv").read_text(
        encoding="utf-8"
    )
    for line in text.splitlines():
        if line and not line.startswith("#"):
            form, pos, polarity = line.split("\t")
            yield form, pos, float(polarity)


@functools.cache
def _german_lexicon() -> dict[str, float]:
    """Lowercased lemma and inflection -> valence on VADER's scale, built once."""
    lemmas: dict[str, tuple[float, str]] = {}
    for form, pos, polarity in _german_lexicon_entries():
        form = form.lower()
        # Adverbs (RB) are the lexicon's intensifiers; ours are in _GERMAN_BOOSTERS.
        if not form or pos == "RB" or polarity == 0.0:
            continue
        known = lemmas.get(form)
        if known is None or abs(polarity) > abs(known[0]):
            lemmas[form] = (polarity, pos)
    for form, polarity in _GERMAN_OVERRIDES.items():
        if polarity == 0.0:
            lemmas.pop(form, None)
        elif form in lemmas:
            lemmas[form] = (polarity, lemmas[form][1])
        else:  # the lexicon's own rule for verbs; anything else may be noun or adjective
            lemmas[form] = (polarity, "VB" if form.endswith("en") and len(form) > 5 else "")
    lexicon = {form: polarity * _GERMAN_SCALE for form, (polarity, _) in lemmas.items()}
    removed = {form for form, polarity in _GERMAN_OVERRIDES.items() if polarity == 0.0}
    for form, (polarity, pos) in lemmas.items():
        for inflected in _inflections(form, pos):
            # Listed forms win over derived ones; the first derivation wins a tie.
            if inflected not in removed:
                lexicon.setdefault(inflected, polarity * _GERMAN_SCALE)
    for word in (*_GERMAN_NEGATIONS, *_GERMAN_CONTRASTS):
        lexicon.pop(word, None)
    return lexicon


class GermanScorer(_CompoundScorer):
    """German negativity: Klenner et al.'s polarity lexicon with VADER-style rules.

    Negation flips and shrinks (x -0.74) a sentiment word when a negator stands up to
    three tokens before it ("nicht gut") or ends its clause after it ("gefällt mir
    nicht"). Intensifiers and dampeners shift it by VADER's step; a word that is both
    in the lexicon and an intensifier ("super", "richtig") intensifies when a sentiment
    word follows and scores itself otherwise. "aber" re-weights like "but", and emoji
    count with the valence of their English names (plus a few VADER misses: 😡 🤬 👎).
    """

    def __init__(self) -> None:
        self._lexicon = _german_lexicon()
        self._emoji_valence = {**_vader_tables().emoji_valence, **_EMOJI_SUPPLEMENT}
        self._caps_increment = _vader_tables().caps_increment
        self._negation_scalar = _vader_tables().negation_scalar

    def compound_tokens(self, tokens: Tokens) -> float:
        words = tokens.words
        text = tokens.text
        valences = list(map(self._lexicon.get, words))
        n = len(words)
        total = 0.0
        if not text.isascii():
            emoji_valence = self._emoji_valence
            for char in _MAYBE_EMOJI.findall(text):
                total += emoji_valence.get(char, 0.0)
        phrases = not _GERMAN_PHRASES.keys().isdisjoint(words)
        if not phrases and not any(valences):
            return _normalise(total, text)
        contrast = -1
        if not _GERMAN_CONTRASTS.isdisjoint(words):
            contrast = next(i for i, word in enumerate(words) if word in _GERMAN_CONTRASTS)
        if phrases:
            total += self._phrases(words, contrast)
        modified = not _GERMAN_MODIFIERS.keys().isdisjoint(words)
        if modified:
            # Padded so that the modifiers 1-3 words before token i are modifiers[i + 2],
            # [i + 1], [i] and 1-3 words after are [i + 4], [i + 5], [i + 6]. A negation
            # is 0.0, an intensifier or dampener its step, anything else None.
            modifiers = [None, None, None, *map(_GERMAN_MODIFIERS.get, words), None, None, None]
            has_negation = not _GERMAN_NEGATIONS.isdisjoint(words)
            # Negation stops at punctuation, so it needs the tokens before stripping.
            parts = tokens.lower.split() if has_negation else words
        raw = text.split()
        caps_differ: bool | None = None
        for i in compress(range(n), valences):
            valence = valences[i]
            if modified and modifiers[i + 3] and i + 1 < n and valences[i + 1] is not None:
                continue  # "super teuer": an intensifier here, not praise
            if raw[i].isupper():
                if caps_differ is None:
                    caps_differ = _caps_differential(raw)
                if caps_differ:
                    valence += self._caps_increment if valence > 0 else -self._caps_increment
            if modified:
                negated = False
                if not (
                    modifiers[i + 2] is None and modifiers[i + 1] is None and modifiers[i] is None
                ):
                    valence, negated = self._modify(valence, i, words, modifiers, parts)
                if (
                    has_negation
                    and not negated
                    and (
                        modifiers[i + 4] == 0.0
                        or modifiers[i + 5] == 0.0
                        or modifiers[i + 6] == 0.0
                    )
                    and self._negated_after(i, words, valences, parts)
                ):
                    valence *= self._negation_scalar
            if contrast >= 0:
                valence *= 0.5 if i < contrast else 1.5
            total += valence
        return _normalise(total, text)

    def _modify(
        self,
        valence: float,
        i: int,
        words: list[str],
        modifiers: list[float | None],
        parts: list[str],
    ) -> tuple[float, bool]:
        """Apply negations and intensifiers up to three words before token i."""
        negated = False
        for distance in (1, 2, 3):
            step = modifiers[i + 3 - distance]
            if step is None:
                continue
            if step:
                if valence < 0:
                    step = -step
                valence += step * (1.0, 0.95, 0.9)[distance - 1]
                continue
            j = i - distance
            if words[j] == "nie" and words[j + 1] in ("wieder", "mehr"):
                continue  # the boycott formula, scored as a phrase
            if any(part[-1] in _CLAUSE_END for part in parts[j:i]):
                continue  # "keine Erstattung, ihr Betrüger": not negated
            valence *= self._negation_scalar
            negated = True
        return valence, negated

    @staticmethod
    def _negated_after(
        i: int, words: list[str], valences: list[float | None], parts: list[str]
    ) -> bool:
        """Whether a clause-final negator follows within three tokens: "gefällt mir nicht"."""
        n = len(words)
        for j in range(i, min(i + 4, n)):
            if j > i:
                word = words[j]
                if word in _GERMAN_NEGATIONS:
                    return (
                        j == n - 1 or parts[j][-1] in _CLAUSE_END or words[j + 1] in _CLAUSE_WORDS
                    )
                if valences[j] is not None and word not in _GERMAN_BOOSTERS:
                    return False  # the next sentiment word owns what follows
            if parts[j][-1] in _CLAUSE_END:
                return False
        return False

    @staticmethod
    def _phrases(words: list[str], contrast: int) -> float:
        total = 0.0
        n = len(words)
        for i, word in enumerate(words):
            for rest, polarity in _GERMAN_PHRASES.get(word, ()):
                end = i + 1 + len(rest)
                if end <= n and tuple(words[i + 1 : end]) == rest:
                    valence = polarity * _GERMAN_SCALE
                    if contrast >= 0:
                        valence *= 0.5 if i < contrast else 1.5
                    total += valence
        return total


# --------------------------------------------------------------------------- dispatch


# Words of social-media crises that VADER (built from general microblog text) misses or
# rates mildly; valences on VADER's scale (-4..4). The German lexicon has its overrides.
ENGLISH_CRISIS_TERMS: Final[Mapping[str, float]] = {
    "boycott": -2.0,
    "boycotting": -2.2,
    "boycotted": -2.0,
    "censorship": -2.2,
    "censoring": -2.2,
    "censored": -1.8,
    "greenwashing": -2.0,
    "exploitation": -2.0,
    "exploiting": -1.8,
    "cover-up": -2.0,
    "coverup": -2.0,
    "shameful": -2.2,
    "disgrace": -2.2,
    "ripoff": -2.0,
    "rip-off": -2.0,
}


class MultilingualScorer:
    """Scores English with `VaderScorer` and German with `GermanScorer`.

    `lang` None means nobody knows the language: the comment is classified here and,
    when even that finds no evidence (mostly very short comments such as "Boykott!!"
    or "Scam"), both scorers run and the more negative wins, because missing a crisis
    word costs more than an occasional false alarm on a two-word comment. Text in any
    other language (given, or recognised) scores 0: an English or German lexicon reads
    French or Spanish as noise ("pain", "die", "gift"), and no score beats a wrong one.
    """

    def __init__(
        self,
        english: TokenNegativityScorer | None = None,
        german: TokenNegativityScorer | None = None,
    ) -> None:
        if english is None:
            english = VaderScorer(extra_lexicon=ENGLISH_CRISIS_TERMS)
        if german is None:
            german = GermanScorer()
        self.english = english  # the scorer of each language, for callers that ask
        self.german = german
        self._english = english.score_tokens
        self._german = german.score_tokens

    def score(self, text: str, lang: str | None) -> float:
        return self.score_tokens(Tokens(text), lang)

    def score_tokens(self, tokens: Tokens, lang: str | None) -> float:
        if lang is None:
            lang = classify_tokens(tokens)
            if lang is None:
                english = self._english(tokens, "en")
                german = self._german(tokens, "de")
                return english if english > german else german
        if lang == "en":
            return self._english(tokens, lang)
        if lang == "de":
            return self._german(tokens, lang)
        return 0.0  # OTHER, or a language we have no lexicon for


# --------------------------------------------------------------------------- backends

BACKENDS: Final = ("lexicon", "model")
"""Per-language choices: the lexicon scorer alone, or the trained model over it."""
DEFAULT_BACKENDS: Final[Mapping[str, str]] = {"en": "model", "de": "model"}


def lexicon_scorers() -> dict[str, _CompoundScorer]:
    """The lexicon scorer of each language that has one (the model's lexicon features)."""
    return {"en": VaderScorer(extra_lexicon=ENGLISH_CRISIS_TERMS), "de": GermanScorer()}


def _crisis_words(lang: str) -> frozenset[str]:
    if lang == "en":
        return frozenset(word for word, valence in ENGLISH_CRISIS_TERMS.items() if valence < 0)
    if lang == "de":
        lemmas = [form for form, polarity in _GERMAN_OVERRIDES.items() if polarity <= -0.7]
        forms = {form for lemma in lemmas for form in _inflections(lemma, "")}
        return frozenset({*lemmas, *forms})
    return frozenset()


QUESTION_PRIOR: Final = 0.8
"""Factor on the model's negativity of a question the lexicon finds nothing negative in.
On the validation splits it costs at most 0.01 F1 (questions are 2-4 % of those sets);
it keeps plain brand questions, which the model read at 0.50-0.55, below 0.5."""


class ModelScorer(_CompoundScorer):
    """One language's trained model (`negativity_model`) over that language's lexicon.

    The model reads hashed words and character n-grams, so it knows the words the lexicon
    lacks, and takes the lexicon's compound score as two features, so negation,
    intensifiers and emoji still count. A crisis word (boycott, censorship, Boykott,
    Zensur, ...) is rare in any training set: where one occurs, the lexicon's own
    negativity is a floor.

    The model's calibrated probability p is mapped onto [0, 1] piecewise linearly so
    that its measured threshold (chosen on validation data) lands on 0.5, the pipeline's
    default `negative_threshold`: 0.5 means "negative by measurement" in every language.
    """

    def __init__(
        self,
        lexicon: _CompoundScorer,
        model: LanguageModel,
        lang: str,
        reader: HashedScorer | None = None,
    ) -> None:
        self._lexicon = lexicon
        self._reader = reader if reader is not None else HashedScorer(model)
        self._threshold = model.threshold
        self._crisis = _crisis_words(lang)

    def compound_tokens(self, tokens: Tokens) -> float:
        """The lexicon's compound (the model has no positive side of its own)."""
        return self._lexicon.compound_tokens(tokens)

    def probability(self, tokens: Tokens) -> float:
        """The model's calibrated probability that the comment is negative."""
        return self._reader.probability(tokens.words, self._lexicon.compound_tokens(tokens))

    def reading(self, tokens: Tokens) -> ModelReading:
        """What the score is made of, so training can choose a threshold without
        reading every comment again for each candidate."""
        compound = self._lexicon.compound_tokens(tokens)
        return ModelReading(
            self._reader.probability(tokens.words, compound),
            compound,
            tokens.text.rstrip().endswith("?"),
            not self._crisis.isdisjoint(tokens.words),
        )

    def score_tokens(self, tokens: Tokens, lang: str | None = None) -> float:
        compound = self._lexicon.compound_tokens(tokens)
        p = self._reader.probability(tokens.words, compound)
        t = self._threshold
        negativity = 0.5 * p / t if p < t else 0.5 + 0.5 * (p - t) / (1.0 - t)
        if compound >= 0.0 and tokens.text.rstrip().endswith("?"):
            # A question without a negative word is mostly a customer asking ("Wie lange
            # dauert der Versand?"): common on brand pages, rare in the training sets.
            negativity *= QUESTION_PRIOR
        if compound < 0.0 and -compound > negativity and not self._crisis.isdisjoint(tokens.words):
            return -compound
        return negativity


@dataclass(frozen=True, slots=True)
class ModelReading:
    """One comment as `ModelScorer` reads it: the model's probability, the lexicon's
    compound, whether it is a question and whether it holds a crisis word."""

    probability: float
    compound: float
    question: bool
    crisis_word: bool

    def negativity(self, threshold: float) -> float:
        """`ModelScorer.score_tokens` at `threshold` (the same arithmetic)."""
        p, t, compound = self.probability, threshold, self.compound
        negativity = 0.5 * p / t if p < t else 0.5 + 0.5 * (p - t) / (1.0 - t)
        if compound >= 0.0 and self.question:
            negativity *= QUESTION_PRIOR
        if compound < 0.0 and -compound > negativity and self.crisis_word:
            return -compound
        return negativity


def _model_key(path: Path | None) -> tuple[str, int]:
    """The model file at `path` (default: the shipped one) and its version (mtime)."""
    path = default_model_path() if path is None else path
    try:
        return str(path), path.stat().st_mtime_ns
    except OSError:
        return str(path), 0  # load_model reports the missing file


@functools.lru_cache(maxsize=4)
def _read_model_file(path: str, version: int) -> ModelFile:
    """Read once per file version: every pipeline of a process shares the arrays."""
    return load_model(Path(path))


@functools.lru_cache(maxsize=8)
def _shared_reader(path: str, version: int, lang: str) -> HashedScorer:
    """One hot-path reader per loaded model: its weight list and word caches are built
    once per process, not once per pipeline (the caches only ever hold exact results)."""
    return HashedScorer(_read_model_file(path, version).models[lang])


def build_scorer(
    backends: Mapping[str, str] | None = None, model_path: Path | None = None
) -> MultilingualScorer:
    """The scorer a configuration asks for: `backends` maps "en"/"de" to "lexicon" or
    "model" (default: the model for both, its thresholds bounded by how many plain brand
    comments it reads as negative, see the README); `model_path` replaces the shipped
    model."""
    chosen = {**DEFAULT_BACKENDS, **(backends or {})}
    for lang, backend in chosen.items():
        if backend not in BACKENDS:
            raise DetectorError(f"negativity backend for {lang!r} must be one of {BACKENDS}")
    lexicons = lexicon_scorers()
    key = _model_key(model_path)
    model_file = _read_model_file(*key) if "model" in chosen.values() else None
    scorers: dict[str, _CompoundScorer] = {}
    for lang in ("en", "de"):
        scorers[lang] = lexicons[lang]
        if chosen.get(lang) == "model" and model_file is not None:
            model = model_file.models.get(lang)
            if model is None:
                raise DetectorError(f"the negativity model has no {lang!r} part")
            scorers[lang] = ModelScorer(lexicons[lang], model, lang, _shared_reader(*key, lang))
    return MultilingualScorer(english=scorers["en"], german=scorers["de"])

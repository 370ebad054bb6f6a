"""German negativity: Klenner et al.'s polarity lexicon with VADER-style rules.

The lexicon (from textblob-de, Apache 2.0, shipped as ``data/de_polarity_lexicon.tsv``)
lists lemmas; comments use inflections, so each lemma is expanded to its regular
inflected forms. German negation (before a word and clause-final), intensifiers and
dampeners, "aber", a few phrases ("nie wieder") and social-media crisis words
("Boykott", "Abzocke", ...) are scored with VADER's arithmetic (`negativity_compound`).

>>> scorer = GermanScorer()
>>> scorer.score("die Qualität ist super")
0.0
>>> round(scorer.score("Ich werde nie wieder bei euch kaufen, Boykott!"), 3)
0.807
>>> "boykott" in german_crisis_words()
True
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from importlib import resources
from itertools import compress
from typing import Final

from stormwatch.detectors.language import Tokens
from stormwatch.detectors.negativity_compound import (
    MAYBE_EMOJI,
    CompoundScorer,
    caps_differential,
    emoji_supplement,
    normalise,
    vader_tables,
)

__all__ = ["GermanScorer", "german_crisis_words"]

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
    # Accusations a campaign makes of a brand ("X zerstört den Regenwald", "X hat Leute
    # vergiftet"): the lexicon has their nouns (Zerstörung, Vergiftung, Ausbeutung,
    # Vertuschung) but not the verbs, and such a comment read 0.10-0.23. Of "ausbeuten"
    # only the participle: its derived "ausbeute" is the noun Ausbeute (yield).
    "zerstören": -1.0,
    "tötet": -1.0,  # "töten" is too short for the verb rule (the lexicon has it)
    "vergiften": -1.0,
    "vertuschen": -0.7,
    "schande": -1.0,
    "schämen": -1.0,
    "betrügen": -1.0,
    "lügt": -1.0,  # "lügen" is too short for the verb rule (the lexicon has it)
    "ausgebeutet": -1.0,
    # A data leak's own words, and a verdict the lexicon has only as one of thousands of
    # its -1.0 words (not a crisis word, so "datenleck ... erbärmlich" read 0.44).
    "datenleck": -1.0,
    "datenpanne": -1.0,
    "erbärmlich": -1.0,
    # Judgements of a service, a product or a post the lexicon lacks: "Voll geschmacklos,
    # was manche treiben" read 0.38 (PotTS and SB-10k validation halves, 2026-12-08).
    "geschmacklos": -1.0,
    "übergriffig": -1.0,
    "unbrauchbar": -1.0,
    "kundenunfreundlich": -1.0,
    "grottig": -1.0,
    "sauladen": -1.0,
    "verbuggt": -0.7,
    "verseucht": -1.0,
    "unlustig": -0.7,
    # Insults and derision of the people behind a brand, none of them in the lexicon:
    # "Was für Dilettanten bei euch" read 0.12, "Eure Firma ist eine Lachnummer" 0.11,
    # "So ein Trottelverein" 0.35 (2026-12-08). An angry German crowd calls names.
    "idiot": -1.0,
    "vollidiot": -1.0,
    "arschloch": -1.0,
    "arschlöcher": -1.0,
    "depp": -1.0,
    "trottel": -1.0,
    "vollpfosten": -1.0,
    "stümper": -1.0,
    "stümperhaft": -1.0,
    "dilettant": -1.0,
    "dilettantisch": -1.0,
    "amateurhaft": -1.0,
    "amateure": -0.7,
    "lachnummer": -1.0,
    "witzfigur": -1.0,
    "witzfiguren": -1.0,
    "schwachsinn": -1.0,
    "blödsinn": -0.7,
    "bullshit": -1.0,
    "wichser": -1.0,
    "clownsverein": -1.0,
    "trottelverein": -1.0,
    "drecksfirma": -1.0,
    "scheißladen": -1.0,
    "scheissladen": -1.0,
    "scheißfirma": -1.0,
    "scheissfirma": -1.0,
    "kackladen": -1.0,
    "kackverein": -1.0,
    # A failure named as one, as "Katastrophe" is: "freu mich schon aufs nächste Desaster"
    "desaster": -1.0,
    "debakel": -1.0,
    "fiasko": -1.0,
    "blamage": -1.0,
    "reinfall": -0.7,
    "ärgernis": -0.7,
    "albtraum": -1.0,
    "alptraum": -1.0,
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


def _override_pos(form: str) -> str:
    """The lexicon's own rule for a listed word it lacks: a verb if it looks like an
    infinitive, otherwise noun or adjective."""
    return "VB" if form.endswith("en") and len(form) > 5 else ""


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
        else:
            lemmas[form] = (polarity, _override_pos(form))
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


class GermanScorer(CompoundScorer):
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
        self._emoji_valence = {**vader_tables().emoji_valence, **emoji_supplement()}
        self._caps_increment = vader_tables().caps_increment
        self._negation_scalar = vader_tables().negation_scalar

    def compound_tokens(self, tokens: Tokens) -> float:
        words = tokens.words
        text = tokens.text
        valences = list(map(self._lexicon.get, words))
        n = len(words)
        total = 0.0
        if not text.isascii():
            emoji_valence = self._emoji_valence
            for char in MAYBE_EMOJI.findall(text):
                total += emoji_valence.get(char, 0.0)
        phrases = not _GERMAN_PHRASES.keys().isdisjoint(words)
        if not phrases and not any(valences):
            return normalise(total, text)
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
                    caps_differ = caps_differential(raw)
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
        return normalise(total, text)

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


def german_crisis_words() -> frozenset[str]:
    """The strongly negative words the lexicon was given (polarity <= -0.7), with their
    inflections: where one occurs, the model scorer keeps the lexicon's reading as a floor."""
    lemmas = [form for form, polarity in _GERMAN_OVERRIDES.items() if polarity <= -0.7]
    # A verb's forms as the lexicon derives them ("zerstört", "vergiftet", "schämt").
    forms = {form for lemma in lemmas for form in _inflections(lemma, _override_pos(lemma))}
    return frozenset({*lemmas, *forms})

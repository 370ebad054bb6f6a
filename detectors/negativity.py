"""How negative a comment is, in [0, 1], cheap enough to run on every comment.

One small interface, `NegativityScorer`, with two backends per language, chosen by
configuration (`build_scorer`): the rule-based lexicon scorers, and `ModelScorer`, the
trained model of `negativity_model` read over the lexicon. Both fit the hot path's
budget of microseconds per comment.

- `VaderScorer` (`negativity_english`): English. A re-implementation of VADER's rules
  over VADER's own lexicon (read at run time from the installed `vaderSentiment`
  package), several times faster than `SentimentIntensityAnalyzer.polarity_scores` and
  agreeing with it.
- `GermanScorer` (`negativity_german`): German. Klenner et al.'s polarity lexicon (from
  textblob-de, Apache 2.0, shipped as ``data/de_polarity_lexicon.tsv``), expanded to
  inflected forms, with German negation, intensifiers and a few social-media crisis
  words, scored with the same VADER-style arithmetic (`negativity_compound`).
- `ModelScorer` (`negativity_model_scorer`): a language's trained model with that
  language's lexicon as features; its calibrated probability is mapped so the measured
  threshold sits at 0.5.
- `MultilingualScorer` (here): picks one scorer per language.

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
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

from stormwatch.detectors.complaints import (
    COMPLAINT_FLOOR,
    COMPLAINT_POSITIVE_LIMIT,
    reports_failure,
)
from stormwatch.detectors.emoticons import frowns, smiles
from stormwatch.detectors.exceptions import DetectorError
from stormwatch.detectors.irony import ironic, welcomes_harm
from stormwatch.detectors.language import Tokens, classify_tokens
from stormwatch.detectors.negativity_compound import CompoundScorer
from stormwatch.detectors.negativity_english import ENGLISH_CRISIS_TERMS, VaderScorer
from stormwatch.detectors.negativity_german import GermanScorer
from stormwatch.detectors.negativity_model import (
    HashedScorer,
    ModelFile,
    default_model_path,
    load_model,
)
from stormwatch.detectors.negativity_model_scorer import ModelScorer
from stormwatch.detectors.officiating import OFFICIATING_CAP, aimed_at_officials, talks_of_the_match
from stormwatch.detectors.praise_slang import hype_removed, slang_praise_removed
from stormwatch.detectors.reproach import closing_verdict, derides, outraged, reproaches

__all__ = [
    "BACKENDS",
    "MultilingualScorer",
    "NegativityScorer",
    "PROTEST_FLOOR",
    "TokenNegativityScorer",
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


_BOTH: Final = ("en", "de")  # a comment's languages when nobody knows which

SLANG_PRAISE_BESIDE: Final = 0.4
"""The least lexicon compound of the rest of a comment whose slang word is also outrage
("insane", "crazy", "sick") for the word to count as praise (`praise_slang`): "love
it" reads 0.64, a 😍 0.46, "who thought this was ok" 0.30."""

PROTEST_FLOOR: Final = 0.75
"""The least negativity of a comment with a protest hashtag (``#BoycottNestle``,
``#BahnSkandal``, ``#ShameOnAcme``; `Tokens.protest`) or a reproach ("Schämt euch!";
`reproach`), in any language. The hashtag is the
commenter's own label for what they write: a campaign's copies are as mild as its
template ("i try navigating to a chapter past 34 via the menu and it wouldn't do it!
#boycottKO" reads 0.03 word by word), so a campaign of thousands read as a few (at
real volume, seed 31, 563 of 3,000 copies with such a hashtag read under 0.5). Above
`negative_threshold`'s default 0.5 with a margin, as a crisis word in a negative
sentence reads."""

_PRAISE_WORDS: Final = frozenset(
    """thank thanks thx cheers kudos appreciate appreciated grateful great awesome amazing
    excellent wonderful fantastic love loved lovely best helpful glad happy nice good
    friendly quick quickly fast perfect brilliant superb outstanding legend legends
    danke dankeschön dank super toll tolle toller tolles tollen klasse prima großartig
    großartige großartiger großartigen hervorragend hervorragende freundlich freundliche
    freundlicher freundlichen nett nette netter netten lieb liebe lieben spitze top
    schnell schnelle schneller hilfreich hilfreiche perfekt perfekte gut gute guter""".split()
)
"""Words of thanks or praise: a report of a failure with one of them, which the lexicon
reads as clearly positive, tells how it was handled (`COMPLAINT_POSITIVE_LIMIT`)."""

SMILE_CAP: Final = 0.45
"""The most a German comment with a smile reads, without a frown, irony or a negative
lexicon reading (`emoticons`): under the default `negative_threshold`. A report of a
failure is still floored (`COMPLAINT_FLOOR`)."""


class MultilingualScorer:
    """Scores English with `VaderScorer` and German with `GermanScorer`.

    `lang` None means nobody knows the language: the comment is classified here and,
    when even that finds no evidence (mostly very short comments such as "Boykott!!"
    or "Scam"), both scorers run and the more negative wins, because missing a crisis
    word costs more than an occasional false alarm on a two-word comment. Text in any
    other language (given, or recognised) scores 0: an English or German lexicon reads
    French or Spanish as noise ("pain", "die", "gift"), and no score beats a wrong one.
    In every language a protest hashtag or a reproach ("Shame on you!", "Schämt euch!":
    `reproach`) makes a comment at least `PROTEST_FLOOR`, and so do outrage in a phrase
    also said in praise ("what were you thinking") where the comment does not read as
    clearly positive (`reproach.outraged`) and derision in a set phrase ("your support is
    a joke", "reine Abzocke": `reproach.derides`), and in
    English and German a report of a failure at least `COMPLAINT_FLOOR` (`complaints`);
    without a hashtag, a reproach or a report, anger at a referee, a referee's call or a
    jury reads at most `OFFICIATING_CAP` (`officiating`), derided or not.
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
        negativity = self._score_language(tokens, lang)
        if negativity < PROTEST_FLOOR:
            if tokens.protest or reproaches(tokens):
                return PROTEST_FLOOR
            if outraged(tokens) and not self._reads_positive(tokens, lang):
                return PROTEST_FLOOR  # "what were you thinking with this post" (`reproach`)
            if derides(tokens):
                # Derision is aimed at what it names, which may be a referee (below).
                negativity = PROTEST_FLOOR
            marked = False  # (just asked)
        else:
            marked = None  # not asked yet: most comments never need to
        if negativity > OFFICIATING_CAP:
            official = aimed_at_officials(tokens, lang)
            if official or talks_of_the_match(tokens, lang):
                if marked is None:
                    marked = tokens.protest or reproaches(tokens)
                # Beside match talk, not a referee, a report of a failure is the brand's
                # ("my red card payment was declined again, worst service").
                if not marked and (
                    official
                    or not any(
                        reports_failure(tokens, language)
                        for language in ((lang,) if lang else _BOTH)
                    )
                ):
                    return OFFICIATING_CAP  # angry at the referee (`officiating`)
        return negativity

    def _reads_positive(self, tokens: Tokens, lang: str | None) -> bool:
        """Whether the language's lexicon reads the comment as clearly positive
        (`COMPLAINT_POSITIVE_LIMIT`): "What were you thinking, this is genius!"."""
        scorer = self.german if lang == "de" else self.english
        compound = getattr(scorer, "compound_tokens", None)
        return compound is not None and compound(tokens) >= COMPLAINT_POSITIVE_LIMIT

    def _score_language(self, tokens: Tokens, lang: str | None) -> float:
        if lang is None:
            lang = classify_tokens(tokens)
            if lang is None:
                english = self._reported(self._read_english(tokens), tokens, "en")
                german = self._reported(self._read_german(tokens), tokens, "de")
                return english if english > german else german
        if lang == "en":
            return self._reported(self._read_english(tokens), tokens, lang)
        if lang == "de":
            return self._reported(self._read_german(tokens), tokens, lang)
        return 0.0  # OTHER, or a language we have no lexicon for

    def _read_english(self, tokens: Tokens) -> float:
        """The English reading, of the comment without its slang praise where it has
        some ("that camera is insane": `praise_slang`) and nothing else negative, if
        that reads less negative."""
        negativity = self._english(tokens, "en")
        if negativity > 0.0:
            found = slang_praise_removed(tokens)
            if found is not None:
                rest = Tokens(found[0])
                # Only where nothing else in it is negative ("sick burger, i threw up"),
                # and for a word that is also outrage only with clear praise beside it
                # ("the new design is insane 😍", not "... insane, who thought this was
                # ok": "ok" alone reads 0.30).
                compound = getattr(self.english, "compound_tokens", None)
                reading = compound(rest) if compound is not None else 0.0
                if reading >= (SLANG_PRAISE_BESIDE if found[1] else 0.0):
                    return min(negativity, self._english(rest, "en"))
        return negativity

    def _read_german(self, tokens: Tokens) -> float:
        """The German reading, of the comment without its words of excitement where it
        laughs or loves beside them ("Digga brutaler Drop 💀": `praise_slang`) and the
        rest does not read negative, if that reads less negative; at most `SMILE_CAP`
        with a smile and no frown, irony or negative words (`emoticons`)."""
        negativity = self._german(tokens, "de")
        if negativity > SMILE_CAP and smiles(tokens.text) and not frowns(tokens.text):
            compound = getattr(self.german, "compound_tokens", None)
            if compound is not None and compound(tokens) >= 0.0 and not ironic(tokens):
                negativity = SMILE_CAP
        if negativity > 0.0:
            rest = hype_removed(tokens)
            if rest is not None:
                rest_tokens = Tokens(rest)
                compound = getattr(self.german, "compound_tokens", None)
                if compound is None or compound(rest_tokens) >= 0.0:
                    return min(negativity, self._german(rest_tokens, "de"))
        return negativity

    def _reported(self, negativity: float, tokens: Tokens, lang: str) -> float:
        """At least `COMPLAINT_FLOOR` for a report of a failure (`complaints`), unless
        the language's lexicon reads the comment as clearly positive and it carries no
        mark of irony (`irony`), and for a harm welcomed (`welcomes_harm`); at
        least `PROTEST_FLOOR` for a comment that ends in a verdict ("... Disgusting.",
        `closing_verdict`)."""
        scorer = self.english if lang == "en" else self.german
        if negativity < PROTEST_FLOOR:
            text_compound = getattr(scorer, "compound", None)
            if text_compound is not None and closing_verdict(tokens.text, text_compound):
                return PROTEST_FLOOR
        if negativity >= COMPLAINT_FLOOR:
            return negativity
        compound = getattr(scorer, "compound_tokens", None)
        if (
            welcomes_harm(tokens, lang, compound)
            and compound is not None
            and compound(tokens) < COMPLAINT_POSITIVE_LIMIT
        ):
            return COMPLAINT_FLOOR  # "Thanks for ruining my vacation" (`irony`)
        if not reports_failure(tokens, lang):
            return negativity
        if (
            # Thanks or praise, not "please help" or "hope", which the lexicons read as
            # positive too: "On hold for 2 hours & got disconnected! Please help!" read
            # 0.00 (the airline set's dev half, 2026-12-08). Asked first: a set lookup.
            not _PRAISE_WORDS.isdisjoint(tokens.words)
            and compound is not None
            and compound(tokens) >= COMPLAINT_POSITIVE_LIMIT
            and not ironic(tokens)  # "down for hours, great" is no thanks (`irony`)
        ):
            return negativity
        return COMPLAINT_FLOOR


# --------------------------------------------------------------------------- backends

BACKENDS: Final = ("lexicon", "model")
"""Per-language choices: the lexicon scorer alone, or the trained model over it."""
DEFAULT_BACKENDS: Final[Mapping[str, str]] = {"en": "model", "de": "model"}


def lexicon_scorers() -> dict[str, CompoundScorer]:
    """The lexicon scorer of each language that has one (the model's lexicon features)."""
    return {"en": VaderScorer(extra_lexicon=ENGLISH_CRISIS_TERMS), "de": GermanScorer()}


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
    scorers: dict[str, CompoundScorer] = {}
    for lang in ("en", "de"):
        scorers[lang] = lexicons[lang]
        if chosen.get(lang) == "model" and model_file is not None:
            model = model_file.models.get(lang)
            if model is None:
                raise DetectorError(f"the negativity model has no {lang!r} part")
            scorers[lang] = ModelScorer(lexicons[lang], model, lang, _shared_reader(*key, lang))
    return MultilingualScorer(english=scorers["en"], german=scorers["de"])

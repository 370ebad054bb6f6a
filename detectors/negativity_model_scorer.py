"""The model backend: one language's trained model (`negativity_model`) read over that
language's lexicon scorer, its probability mapped so the measured threshold sits at 0.5.

`ModelScorer` is what the hot path calls; `ModelReading` is one comment as it reads it,
so training (`negativity_training`) can try many thresholds without reading every
comment again. Both apply the same arithmetic: below the threshold t a probability p maps
to 0.5 p / t, above it to 0.5 + 0.5 (p - t) / (1 - t).

>>> ModelReading(0.2, 0.0, question=False, crisis_word=False).negativity(0.4)
0.25
>>> ModelReading(0.7, -0.9, question=False, crisis_word=True).negativity(0.4)
0.9
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from stormwatch.detectors.language import Tokens
from stormwatch.detectors.negativity_compound import CompoundScorer
from stormwatch.detectors.negativity_english import ENGLISH_CRISIS_TERMS
from stormwatch.detectors.negativity_german import german_crisis_words
from stormwatch.detectors.negativity_model import HashedScorer, LanguageModel

__all__ = ["QUESTION_PRIOR", "ModelReading", "ModelScorer"]


def _crisis_words(lang: str) -> frozenset[str]:
    if lang == "en":
        return frozenset(word for word, valence in ENGLISH_CRISIS_TERMS.items() if valence < 0)
    if lang == "de":
        return german_crisis_words()
    return frozenset()


QUESTION_PRIOR: Final = 0.8
"""Factor on the model's negativity of a question the lexicon finds nothing negative in.
On the validation splits it costs at most 0.01 F1 (questions are 2-4 % of those sets);
it keeps plain brand questions, which the model read at 0.50-0.55, below 0.5."""


class ModelScorer(CompoundScorer):
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
        lexicon: CompoundScorer,
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

"""The per-comment enrichment step: language, negativity and topics in one call.

This is the hot path (once per comment), so the comment is tokenised once and the same
tokens go to the language detector, the scorer and the tagger; and a storm repeats texts
(copy-paste campaigns, "+1", the same emoji), so the result of each distinct (text, lang)
is kept in a bounded cache.

>>> enricher = Enricher()
>>> lang, negativity, topics = enricher.enrich("Nie wieder kaufe ich hier. Boykott!", None)
>>> lang, round(negativity, 2), topics
('de', 0.81, ('boycott',))
>>> lang, negativity, topics = enricher.enrich("Love the new recipe!", "EN-us")
>>> lang, negativity < 0.5, topics
('en', True, ())
"""

from __future__ import annotations

from typing import Final

from stormwatch.detectors.language import OTHER, Tokens, classify_tokens
from stormwatch.detectors.negativity import (
    NegativityScorer,
    TokenNegativityScorer,
    build_scorer,
)
from stormwatch.detectors.negativity_feedback import BrandCorrections
from stormwatch.detectors.topics import TopicTagger

__all__ = ["DEFAULT_CACHE_SIZE", "Enricher"]

DEFAULT_CACHE_SIZE: Final = 100_000  # distinct (text, lang) results, some tens of MB at most


class Enricher:
    """Adds language, negativity in [0, 1] and topic tags to a comment's text.

    Any `NegativityScorer` works (default: `build_scorer()`'s default backends); one that
    also offers `score_tokens` (all scorers in
    `negativity` do) is handed the shared tokens instead of the raw text. Results are
    cached per (text, lang hint), up to `cache_size` entries (0: no cache); the cache is
    emptied when full, which is cheaper per comment than evicting one by one.
    """

    def __init__(
        self,
        scorer: NegativityScorer | None = None,
        tagger: TopicTagger | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.scorer: NegativityScorer = scorer if scorer is not None else build_scorer()
        self.tagger = tagger if tagger is not None else TopicTagger()
        self._score_tokens = (
            self.scorer.score_tokens if isinstance(self.scorer, TokenNegativityScorer) else None
        )
        self._tag_tokens = self.tagger.tags_tokens
        self._cache: dict[tuple[str, str | None], tuple[str | None, float, tuple[str, ...]]] = {}
        self._cache_size = cache_size
        # What people taught per brand (`negativity_feedback`); empty: nothing to correct.
        self.corrections = BrandCorrections()
        self._corrected_brands = self.corrections.brands

    def learn_label(self, brand: str, text: str, lang_hint: str | None, *, negative: bool) -> None:
        """A person's reading of one of `brand`'s comments: "negative" or not."""
        lang, negativity, _ = self.enrich(text, lang_hint)
        self.corrections.learn(brand, lang, text, negativity, negative=negative)

    def enrich(
        self, text: str, lang_hint: str | None, brand: str | None = None
    ) -> tuple[str | None, float, tuple[str, ...]]:
        """Return (lang, negativity, topics) for one comment.

        With `brand`, what people taught about that brand's comments corrects the
        negativity (`learn_label`); brands nobody taught cost one set lookup.

        A `lang_hint` (the comment's own `lang` field) is trusted: lowercased and cut
        to its first two letters, so "de-AT" is "de". Without one the language is
        detected, and is None when it is neither English nor German or unclear.
        """
        if brand is not None and brand in self._corrected_brands:
            lang, negativity, topics = self.enrich(text, lang_hint)
            return lang, self.corrections.correct(brand, lang, text, negativity), topics
        key = (text, lang_hint)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        tokens = Tokens(text)
        lang = lang_hint.strip()[:2].lower() if lang_hint else None
        if not lang:
            lang = classify_tokens(tokens)
            if lang is OTHER:
                lang = None
        score_tokens = self._score_tokens
        if score_tokens is not None:
            negativity = score_tokens(tokens, lang)
        else:
            negativity = self.scorer.score(text, lang)
        result = (lang, negativity, self._tag_tokens(tokens.words))
        if self._cache_size:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[key] = result
        return result

"""The per-comment enrichment step: language, negativity and topics in one call.

This is the hot path (once per comment), so the comment is tokenised once and the same
tokens go to the language detector, the scorer and the tagger.

>>> enricher = Enricher()
>>> lang, negativity, topics = enricher.enrich("Nie wieder kaufe ich hier. Boykott!", None)
>>> lang, round(negativity, 2), topics
('de', 0.81, ('boycott',))
>>> enricher.enrich("Love the new recipe!", "EN-us")
('en', 0.0, ())
"""

from __future__ import annotations

from stormwatch.detectors.language import OTHER, Tokens, classify_tokens
from stormwatch.detectors.negativity import (
    MultilingualScorer,
    NegativityScorer,
    TokenNegativityScorer,
)
from stormwatch.detectors.topics import TopicTagger

__all__ = ["Enricher"]


class Enricher:
    """Adds language, negativity in [0, 1] and topic tags to a comment's text.

    Any `NegativityScorer` works; one that also offers `score_tokens` (all scorers in
    `negativity` do) is handed the shared tokens instead of the raw text.
    """

    def __init__(
        self, scorer: NegativityScorer | None = None, tagger: TopicTagger | None = None
    ) -> None:
        self.scorer: NegativityScorer = scorer if scorer is not None else MultilingualScorer()
        self.tagger = tagger if tagger is not None else TopicTagger()
        self._score_tokens = (
            self.scorer.score_tokens if isinstance(self.scorer, TokenNegativityScorer) else None
        )
        self._tag_tokens = self.tagger.tags_tokens

    def enrich(self, text: str, lang_hint: str | None) -> tuple[str | None, float, tuple[str, ...]]:
        """Return (lang, negativity, topics) for one comment.

        A `lang_hint` (the comment's own `lang` field) is trusted: lowercased and cut
        to its first two letters, so "de-AT" is "de". Without one the language is
        detected, and is None when it is neither English nor German or unclear.
        """
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
        return lang, negativity, self._tag_tokens(tokens.words)

"""The negativity settings reach every runtime; the default backends; brand feedback."""

from __future__ import annotations

from dataclasses import replace

from stormwatch.config import Settings
from stormwatch.detectors.negativity_english import VaderScorer
from stormwatch.detectors.negativity_german import GermanScorer
from stormwatch.detectors.negativity_model_scorer import ModelScorer
from stormwatch.runtime import build_pipeline


def test_run_serve_and_worker_enrich_with_the_configured_backends() -> None:
    # `run` and `serve` build their pipeline here; a worker copies this one's enricher.
    settings = replace(Settings(), negativity_en="lexicon", negativity_de="model")
    scorer = build_pipeline(settings, env={}).enricher.scorer
    assert isinstance(scorer.english, VaderScorer)
    assert isinstance(scorer.german, ModelScorer)
    settings = replace(Settings(), negativity_en="model", negativity_de="lexicon")
    scorer = build_pipeline(settings, env={}).enricher.scorer
    assert isinstance(scorer.english, ModelScorer)
    assert isinstance(scorer.german, GermanScorer)


def test_the_worker_factory_shares_the_configured_enricher() -> None:
    from stormwatch.kafka.worker import VerdictLoadingFactory

    settings = replace(Settings(), negativity_en="lexicon", negativity_de="model")
    factory = VerdictLoadingFactory(settings)
    pipeline = factory([], None)  # type: ignore[arg-type]
    other = factory([], None)  # type: ignore[arg-type]  # another partition's
    assert isinstance(pipeline.enricher.scorer.german, ModelScorer)
    assert not isinstance(pipeline.enricher.scorer.english, ModelScorer)
    # One enricher for all of a worker's partitions: one text cache, one model in memory.
    assert other is not pipeline and other.enricher is pipeline.enricher


def test_plain_brand_questions_are_not_negative_but_complaints_are() -> None:
    from stormwatch.detectors.negativity import build_scorer

    scorer = build_scorer({"en": "model", "de": "model"})
    for question in (
        "Wie lange dauert der Versand?",
        "Gibt es das auch in Blau?",
        "Habt ihr am Sonntag geöffnet?",
        "Ist das Produkt vegan?",
        "Gibt es einen Gutschein?",
    ):
        assert scorer.score(question, "de") < 0.5, question
    assert scorer.score("Is this available in blue?", "en") < 0.5
    # A complaint without a word the lexicon knows. (A complaint asked as a question,
    # "Warum ist meine Bestellung noch nicht da?", and a train delay, "Mal wieder 40
    # Minuten Verspätung", the model alone reads 0.22 since GermEval left the training;
    # as reports of a failure they read as complaints: see the README.)
    assert scorer.score("Schon wieder kein WLAN im Zug", "de") >= 0.5
    assert scorer.score("Der Kundenservice ist eine Katastrophe", "de") >= 0.5
    assert scorer.score("Warum ist meine Bestellung noch nicht da?", "de") >= 0.5
    assert scorer.score("Mal wieder 40 Minuten Verspätung", "de") >= 0.5


def test_the_model_reads_lone_surrogates() -> None:
    from stormwatch.detectors.negativity import build_scorer

    scorer = build_scorer({"en": "model", "de": "model"})
    for lang in ("en", "de", None):
        assert 0.0 <= scorer.score("0" * 500 + "\ud800 terrible", lang) <= 1.0

"""Learning from people: labels on single comments correct that brand's negativity."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.store import IncidentStore
from stormwatch.cli import app
from stormwatch.config import Settings
from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.negativity_feedback import BrandCorrections
from stormwatch.runtime import build_pipeline

# The trained model's readings (the default backends), pinned so a change of default
# does not change what these tests teach.
MODEL_SETTINGS = replace(Settings(), negativity_en="model", negativity_de="model")
JARGON = "Der Killer Burger ist zurück, holt ihn euch"
SAME_JARGON = "Killer Burger Woche in allen Filialen"
UPDATE = "Hab gerade Update 4.2 installiert"
LATER = "Seit Update 4.2 zeigt die App Tarifwechsel an"


class _MisreadingScorer:
    """Reads the brand's jargon as a threat and its broken update as harmless, as the model
    shipped before the brand-stream thresholds did (0.46, 0.51, 0.42, 0.41): the learner
    is tested on a misreading, whatever the shipped model now reads."""

    READINGS = {JARGON: 0.46, SAME_JARGON: 0.51, UPDATE: 0.42, LATER: 0.41}

    def score(self, text: str, lang: str | None) -> float:
        return self.READINGS.get(text, 0.1)


def _store_with_sample(url: str) -> None:
    event = AlertEvent(
        incident="grillhaus/t1/1",
        event="opened",
        brand="grillhaus",
        thread_id="t1",
        severity="medium",
        score=1.0,
        at=1_772_442_902.0,
        emitted_at=1_800_000_000.0,
        summary="a storm",
        samples=[{"id": "c-42", "text": JARGON, "negativity": 0.8, "lang": "de"}],
    )
    with IncidentStore.open(url) as store:
        store.record(event)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    _store_with_sample(url)
    return url


def test_one_label_stops_a_brands_jargon_being_read_as_negative() -> None:
    enricher = Enricher(_MisreadingScorer())
    before = enricher.enrich(SAME_JARGON, "de", "grillhaus")[1]
    enricher.learn_label("grillhaus", JARGON, "de", negative=False)
    after = enricher.enrich(SAME_JARGON, "de", "grillhaus")[1]
    assert after < 0.5 <= before or after < before - 0.2
    # other brands, and the brand's comments without the taught words, read as before
    assert enricher.enrich(SAME_JARGON, "de", "other")[1] == before
    assert enricher.enrich(SAME_JARGON, "de")[1] == before
    complaint = "Kalt, zäh und zu teuer. Nie wieder."
    assert enricher.enrich(complaint, "de", "grillhaus") == enricher.enrich(complaint, "de")


def test_a_negative_label_teaches_a_misread_complaint() -> None:
    # At this brand, "Update 4.2" is the one that broke the app.
    enricher = Enricher(_MisreadingScorer())
    text, later = UPDATE, LATER
    assert enricher.enrich(text, "de", "netzo")[1] < 0.5
    assert enricher.enrich(later, "de", "netzo")[1] < 0.5
    enricher.learn_label("netzo", text, "de", negative=True)
    assert enricher.enrich(text, "de", "netzo")[1] >= 0.5
    assert enricher.enrich(later, "de", "netzo")[1] >= 0.5


def test_common_words_are_never_taught() -> None:
    corrections = BrandCorrections()
    corrections.learn("b", "de", "Das ist nicht mit uns", 0.8, negative=False)
    assert corrections.correct("b", "de", "Das ist mit uns ein Skandal", 0.8) == 0.8


def test_the_store_keeps_labels_and_finds_samples(db: str) -> None:
    with IncidentStore.open(db) as store:
        sample = store.find_sample("c-42")
        assert sample is not None and (sample.brand, sample.text) == ("grillhaus", JARGON)
        assert store.find_sample("c-42", brand="other") is None
        assert store.find_sample("nope") is None
        store.add_negativity_label(
            brand="grillhaus", comment_id="c-42", text=JARGON, negative=False, who="anna"
        )
        (label,) = store.negativity_labels("grillhaus")
        assert (label.comment_id, label.negative, label.who, label.lang) == (
            "c-42",
            False,
            "anna",
            None,
        )
        assert store.negativity_labels("other") == []


def test_feedback_command_labels_a_sample_and_runs_learn_it(db: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["feedback", "--comment", "c-42", "--not-negative", "--db", db, "--who", "anna"]
    )
    assert result.exit_code == 0, result.output
    assert "not negative" in result.output
    result = runner.invoke(
        app,
        ["feedback", "--comment", "x-1", "--negative", "--db", db,
         "--text", "Hab gerade Update 4.2 installiert", "--brand", "netzo", "--lang", "de"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with IncidentStore.open(db) as store:
        labels = store.negativity_labels()
    assert [(lb.brand, lb.negative) for lb in labels] == [("grillhaus", False), ("netzo", True)]
    assert labels[0].lang == "de"  # the sample's language, as the Slack button keeps it
    # `run`, `serve` and `worker` learn the labels when they open the store
    settings = replace(MODEL_SETTINGS, database_url=db)
    enricher = build_pipeline(settings, env={}).enricher
    assert enricher.enrich(SAME_JARGON, "de", "grillhaus")[1] < 0.5
    assert enricher.enrich(UPDATE, "de", "netzo")[1] >= 0.5  # the model alone: 0.19
    from stormwatch.kafka.worker import VerdictLoadingFactory

    worker_enricher = VerdictLoadingFactory(settings).template.enricher
    assert worker_enricher.enrich(SAME_JARGON, "de", "grillhaus")[1] < 0.5
    assert worker_enricher.enrich(UPDATE, "de", "netzo")[1] >= 0.5  # the worker learnt it too


def test_feedback_command_errors(db: str) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["feedback", "--comment", "nope", "--negative", "--db", db])
    assert missing.exit_code != 0 and "--text" in missing.output
    no_side = runner.invoke(app, ["feedback", "--comment", "c-42", "--db", db])
    assert no_side.exit_code != 0 and "--not-negative" in missing.output + no_side.output
    both = runner.invoke(
        app, ["feedback", "acme/*/1", "--confirmed", "--comment", "c-42", "--negative", "--db", db]
    )
    assert both.exit_code != 0


@pytest.mark.parametrize("taught", [False, True])
def test_pipeline_enriches_with_the_brands_correction(taught: bool) -> None:
    """The pipeline reads each comment with its brand's corrections: the model alone
    reads the update 0.18, and once a person marked it negative for netzo, netzo's
    comment counts as negative and another brand's with the same text does not."""
    pipeline = build_pipeline(MODEL_SETTINGS, env={})
    if taught:
        pipeline.enricher.learn_label("netzo", UPDATE, "de", negative=True)
    records = [
        {"id": str(i), "text": UPDATE, "created_at": 1_772_442_902, "brand": brand, "lang": "de"}
        for i, brand in enumerate(("netzo", "other"))
    ]
    pipeline.feed_lines([json.dumps(r).encode() for r in records])
    stats = pipeline.finish()
    assert stats.processed == 2 and stats.negative == (1 if taught else 0)

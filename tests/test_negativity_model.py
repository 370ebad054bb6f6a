"""The trained negativity model: shipped file, hot-path reader, training, CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from stormwatch.cli import app
from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.exceptions import DetectorError
from stormwatch.detectors.language import Tokens
from stormwatch.detectors.negativity import SMILE_CAP, build_scorer, lexicon_scorers
from stormwatch.detectors.negativity_model import (
    HashedScorer,
    default_model_path,
    design_matrix,
    fit_language_model,
    load_model,
    save_model,
    text_features,
)
from stormwatch.detectors.negativity_model_scorer import ModelReading, ModelScorer
from stormwatch.detectors.negativity_training import (
    choose_threshold,
    negative_scores,
    read_labelled,
    train_models,
)

MODEL = {"en": "model", "de": "model"}

NEGATIVE_EN = [
    "The customer service is terrible!",
    "Worst purchase ever, total ripoff",
    "I hate this, never again",
    "Boycott this brand",
    "Awful quality, broke after a day",
    "Disgusting. Refund me now",
]
OTHER_EN = [
    "Love the new recipe!",
    "Thanks for the quick reply",
    "Great product, works perfectly",
    "Looks nice, happy with it",
    "Best coffee in town",
    "Wonderful service, thank you",
]


def test_the_shipped_model_loads_offline_and_is_small() -> None:
    path = default_model_path()
    assert path.stat().st_size < 3_000_000
    model_file = load_model()
    assert set(model_file.models) >= {"en", "de"}
    for model in model_file.models.values():
        assert 0.0 < model.threshold < 1.0
        assert model.weights.shape[0] & (model.weights.shape[0] - 1) == 0
    assert model_file.meta["languages"]["de"]["train_comments"] > 1000


@pytest.mark.parametrize("text", NEGATIVE_EN)
def test_model_flags_clear_english_complaints(text: str) -> None:
    assert build_scorer(MODEL).score(text, "en") >= 0.5


@pytest.mark.parametrize("text", OTHER_EN)
def test_model_passes_clear_english_praise(text: str) -> None:
    assert build_scorer(MODEL).score(text, "en") < 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Zensur! Boykott!", "de"),
        ("Nie wieder, ihr Betrüger!", "de"),
        ("censorship!", "en"),
        ("scammers!!!", "en"),
        ("bunch of crooks", "en"),
        ("data breach and the first we hear about it is from the news", "en"),
        ("datenleck und wir erfahren es aus den nachrichten. erbärmlich", "de"),
    ],
)
def test_crisis_vocabulary_stays_negative(text: str, lang: str) -> None:
    assert build_scorer(MODEL).score(text, lang) >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Waldkorn zerstört den Regenwald",
        "Waldkorn hat Leute vergiftet",
        "Waldkorn vergiftet Leute und vertuscht es",
        "Waldkorn betrügt seine Kunden",
        "Waldkorn eure Lieferkette tötet Orang-Utans. Hört sofort damit auf",
        "Schande über Waldkorn",
        "Hört auf, den Regenwald zu zerstören!",
    ],
)
def test_german_accusations_read_negative(text: str) -> None:
    # The lexicon had the nouns (Zerstörung, Vergiftung) but not the verbs: a German
    # campaign's "X zerstört den Regenwald" read 0.21 while its English twin read 0.99.
    assert build_scorer(MODEL).score(text, "de") >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Das ist keine Schande",
        "Ihr müsst euch nicht schämen, tolles Produkt",
        "Danke, ihr seid die Besten",
    ],
)
def test_german_accusation_words_negated_or_absent_stay_below_one_half(text: str) -> None:
    assert build_scorer(MODEL).score(text, "de") < 0.5


def test_negation_and_intensifiers_still_count_through_the_lexicon_features() -> None:
    scorer = build_scorer(MODEL)
    assert scorer.score("This is good", "en") < scorer.score("This is not good", "en")
    assert scorer.score("Das ist schlecht", "de") < scorer.score("Das ist sehr schlecht!!", "de")


def test_backends_are_chosen_per_language() -> None:
    scorer = build_scorer({"en": "lexicon", "de": "model"})
    lexicon = lexicon_scorers()["en"]
    text = "The customer service is terrible!"
    assert scorer.score(text, "en") == lexicon.score(text)
    with pytest.raises(DetectorError):
        build_scorer({"en": "transformer"})


def test_hot_path_decision_equals_the_training_matrix() -> None:
    texts = [t.lower() for t in NEGATIVE_EN + OTHER_EN] + ["@someone see http://x.y #fail"]
    tokens = [Tokens(t) for t in texts]
    lexicon = lexicon_scorers()["en"]
    compounds = [lexicon.compound_tokens(t) for t in tokens]
    labels = [True] * len(NEGATIVE_EN) + [False] * (len(OTHER_EN) + 1)
    model = fit_language_model([t.words for t in tokens], compounds, labels, bits=12, c=1.0)
    x = design_matrix([t.words for t in tokens], compounds, bits=12)
    coef = np.concatenate([model.weights, [model.lexicon_negative, model.lexicon_positive]])
    expected = x @ coef + model.intercept
    reader = HashedScorer(model)
    got = [reader.decision(t.words, c) for t, c in zip(tokens, compounds, strict=True)]
    assert np.allclose(got, expected, atol=1e-9)
    # the word and pair caches give the same answer the second time
    assert reader.decision(tokens[0].words, compounds[0]) == got[0]


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"text": t, "label": label, "lang": lang}) + "\n" for t, label, lang in rows
        ),
        encoding="utf-8",
    )
    return path


def _labelled(repeat: int) -> list[tuple[str, str, str]]:
    rows = [(t, "negative", "en") for t in NEGATIVE_EN] + [(t, "positive", "en") for t in OTHER_EN]
    rows += [
        ("Lieferung kaputt, ganz schlecht", "negative", "de"),
        ("Danke, toll", "positive", "de"),
    ]
    rows += [
        ("Wo ist mein Paket, Frechheit", "negative", "de"),
        ("Schönes Wetter", "neutral", "de"),
    ]
    return rows * repeat


def test_training_chooses_thresholds_on_validation_and_round_trips(tmp_path: Path) -> None:
    train = _write(tmp_path / "train.jsonl", _labelled(3))
    validation = _write(tmp_path / "val.jsonl", _labelled(1))
    plain = _write(tmp_path / "plain.jsonl", [("Thanks, see you soon", "neutral", "en")] * 5)
    model_file = train_models(
        [train], [validation], bits=12, c=1.0, plain=[plain], max_plain_flagged=0.0
    )
    assert set(model_file.models) == {"en", "de"}
    english = model_file.meta["languages"]["en"]
    assert english["validation_files"] == ["val.jsonl"]
    assert english["plain_comments"] == 5 and english["plain_flagged"] == 0.0
    path = tmp_path / "model.npz"
    save_model(model_file, path)
    again = load_model(path)
    assert again.meta == json.loads(json.dumps(model_file.meta))
    for lang, model in model_file.models.items():
        assert again.models[lang].threshold == model.threshold
        assert np.array_equal(again.models[lang].weights, model.weights)
    scorer = build_scorer(MODEL, path)
    assert scorer.score("Worst purchase ever, total ripoff", "en") >= 0.5


def test_model_scorer_maps_its_threshold_to_one_half() -> None:
    """The calibrated probability is mapped piecewise linearly so that the threshold
    chosen on validation data lands on 0.5, the pipeline's `negative_threshold`."""
    model = load_model().models["en"]
    t = model.threshold
    assert 0.0 < t < 1.0

    def mapped(p: float) -> float:
        return ModelReading(p, 0.0, False, False).negativity(t)

    assert mapped(t) == pytest.approx(0.5)
    assert mapped(t - 1e-6) < 0.5 < mapped(t + 1e-6)
    assert mapped(0.0) == 0.0 and mapped(1.0) == pytest.approx(1.0)
    assert mapped(t / 2) == pytest.approx(0.25) and mapped((1 + t) / 2) == pytest.approx(0.75)
    # The scorer reads comments with the same arithmetic.
    scorer = ModelScorer(lexicon_scorers()["en"], model, "en")
    for text in ("meh", "Worst purchase ever, total ripoff", "Love the new colours"):
        tokens = Tokens(text)
        reading = scorer.reading(tokens)
        assert scorer.score_tokens(tokens) == pytest.approx(reading.negativity(t))
        assert (reading.probability >= t) == (scorer.score_tokens(tokens) >= 0.5)


def test_threshold_choice_maximises_mean_f1() -> None:
    probabilities = np.asarray([0.9, 0.7, 0.4, 0.2, 0.1])
    truth = np.asarray([True, True, True, False, False])
    threshold, f1 = choose_threshold([(probabilities, truth)])
    assert 0.2 < threshold <= 0.4 and f1 == pytest.approx(1.0)


def test_threshold_choice_is_bounded_by_plain_comments_read_as_negative() -> None:
    probabilities = np.asarray([0.9, 0.7, 0.4, 0.2, 0.1])
    truth = np.asarray([True, True, True, False, False])
    plain = np.asarray([0.1] * 90 + [0.3] * 5 + [0.5] * 5)  # a brand's ordinary comments
    threshold, f1 = choose_threshold([(probabilities, truth)], plain=plain, max_plain_flagged=0.05)
    assert 0.3 < threshold <= 0.4 and f1 == pytest.approx(1.0)
    # A stricter bound costs F1: the first threshold above every plain comment.
    threshold, f1 = choose_threshold([(probabilities, truth)], plain=plain, max_plain_flagged=0.0)
    assert 0.5 < threshold <= 0.7 and f1 == pytest.approx(0.8)
    # No threshold meets it: the one that reads the fewest plain comments as negative.
    threshold, _ = choose_threshold(
        [(probabilities, truth)], grid=[0.2, 0.4], plain=plain, max_plain_flagged=0.0
    )
    assert threshold == 0.4


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Wie lange dauert der Versand?", "de"),
        ("Boykott! Zensur pur", "de"),
        ("Is this available in blue?", "en"),
        ("The app is awful, boycott", "en"),
        ("Picked up a laptop on the way to work", "en"),
    ],
)
def test_model_reading_gives_the_scorers_negativity(text: str, lang: str) -> None:
    scorer = ModelScorer(lexicon_scorers()[lang], load_model().models[lang], lang)
    reading = scorer.reading(Tokens(text))
    threshold = load_model().models[lang].threshold
    assert reading.negativity(threshold) == pytest.approx(scorer.score_tokens(Tokens(text)))


def test_labelled_lines_are_checked() -> None:
    rows = list(read_labelled([b'{"text": "x", "label": "negative", "lang": "EN-us"}']))
    assert rows[0].lang == "en" and rows[0].negative
    with pytest.raises(DetectorError, match="input:1"):
        list(read_labelled([b'{"text": "x", "label": "angry"}']))


def test_scores_are_per_language_and_overall() -> None:
    rows = list(
        read_labelled(
            [
                b'{"text": "awful", "label": "negative", "lang": "en"}',
                b'{"text": "schlimm", "label": "negative", "lang": "de"}',
                b'{"text": "gut", "label": "positive", "lang": "de"}',
            ]
        )
    )
    scores = negative_scores(rows, [True, False, True])
    assert scores["en"].f1 == 1.0
    assert scores["de"].precision == 0.0 and scores["de"].recall == 0.0
    assert scores["all"].comments == 3 and scores["all"].true_positives == 1


def test_enricher_caches_repeated_texts() -> None:
    enricher = Enricher(cache_size=2)
    first = enricher.enrich("Boycott this brand", None)
    assert enricher.enrich("Boycott this brand", None) is first
    enricher.enrich("a", None)
    enricher.enrich("b", None)  # full: the cache starts again
    assert len(enricher._cache) <= 2
    assert enricher.enrich("Boycott this brand", None) == first


def test_german_lexicon_ships_with_the_package() -> None:
    lexicon = lexicon_scorers()["de"]
    assert lexicon.score("Das ist schlecht") > 0.0
    header = (default_model_path().parent / "de_polarity_lexicon.tsv").read_text("utf-8")[:800]
    assert "Apache License" in header


runner = CliRunner()


def test_score_command_prints_one_line_per_comment(tmp_path: Path) -> None:
    path = tmp_path / "comments.jsonl"
    path.write_text(
        '{"id": "1", "text": "Boycott this brand, censorship!", "created_at": 0, "brand": "b"}\n'
        '{"id": "2", "text": "Love the new recipe!", "lang": "en"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["score", str(path)])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["1", "2"]
    assert lines[0]["negative"] is True and lines[0]["lang"] == "en"
    assert "boycott" in lines[0]["topics"]
    assert lines[1]["negative"] is False and 0.0 <= lines[1]["negativity"] < 0.5
    assert set(lines[1]) == {"id", "lang", "negativity", "negative", "topics"}


def test_score_command_reads_stdin_and_reports_bad_lines() -> None:
    result = runner.invoke(app, ["score", "-"], input='{"id": "1", "text": "ok"}\nnot json\n')
    assert result.exit_code == 1
    assert orjson.loads(result.stdout.splitlines()[0])["id"] == "1"


def test_evaluate_negativity_json(tmp_path: Path) -> None:
    path = _write(tmp_path / "labelled.jsonl", _labelled(1))
    result = runner.invoke(app, ["evaluate", "negativity", str(path), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) == {"en", "de", "all"}
    assert figures["en"]["comments"] == 12 and figures["en"]["f1"] >= 0.9
    assert {"precision", "recall", "f1"} <= set(figures["all"])


def test_negativity_train_command(tmp_path: Path) -> None:
    train = _write(tmp_path / "train.jsonl", _labelled(3))
    validation = _write(tmp_path / "val.jsonl", _labelled(1))
    out = tmp_path / "model.npz"
    result = runner.invoke(
        app,
        [
            "negativity",
            "train",
            "--train",
            str(train),
            "--validation",
            str(validation),
            "--out",
            str(out),
            "--bits",
            "12",
            "--plain",
            str(validation),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "plain comments read negative" in " ".join(result.output.split())
    assert set(load_model(out).models) == {"en", "de"}
    # A directory for --out failed only after the training, in a traceback.
    for where in (str(tmp_path), "-"):
        result = runner.invoke(
            app, ["negativity", "train", "--train", str(train), "--validation",
                  str(validation), "--out", where, "--bits", "12"],
        )  # fmt: skip
        assert result.exit_code == 2 and "is not a file name" in result.output, result.output


def test_scenario_runs_read_negativity_with_the_configured_backend(tmp_path: Path) -> None:
    from stormwatch.config import Settings
    from stormwatch.evaluation.scenario_run import run_scenario

    path = tmp_path / "stream.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "c1",
                "text": "Schon wieder kein Sitzplatz im Zug",  # no word the lexicon knows
                "created_at": "2026-03-02T10:00:00Z",
                "brand": "bahn",
                "lang": "de",
            }
        )
        + "\n",
        encoding="utf-8",
    )

    def negatives(settings: Settings) -> int:
        run = run_scenario(path, [], settings)
        return sum(n for _, n in run.recorder.volume["bahn"].values())

    assert negatives(Settings(negativity_de="lexicon")) == 0
    assert negatives(Settings(negativity_de="model")) == 1


def test_training_and_evaluation_refuse_what_they_cannot_use(tmp_path: Path) -> None:
    """A language without validation comments got a threshold of 0.5 nobody chose
    ("validation F1 nan"); --c -1 and --bits 32 were scikit-learn tracebacks; a label
    that is an object a TypeError; an empty file figures of 0.000, exit 0."""
    train = _write(tmp_path / "train.jsonl", _labelled(3))
    german = _write(tmp_path / "val.jsonl", [r for r in _labelled(1) if r[2] == "de"])
    with pytest.raises(DetectorError, match="no validation comment in en"):
        train_models([train], [german], bits=12, c=1.0)
    for option, value in (("--c", "-1"), ("--c", "nan"), ("--bits", "32")):
        result = runner.invoke(
            app, ["negativity", "train", "--train", str(train), "--validation", str(train),
                  option, value],
        )  # fmt: skip
        assert result.exit_code == 2, (option, value, result.output)
    with pytest.raises(DetectorError, match="input:1"):
        list(read_labelled([b'{"text": "x", "label": {"a": 1}}']))
    empty = _write(tmp_path / "empty.jsonl", [])
    result = runner.invoke(app, ["evaluate", "negativity", str(empty)])
    assert result.exit_code == 2 and "no labelled comment" in result.output, result.output


@pytest.mark.parametrize(
    "text",
    [
        "that camera is insane 😍",
        "that demo was sick 🔥",
        "sick design, love it",
        "you killed it!",
        "Nintendo absolutely killed it today",
        "nailed it",
        "this is fire 🔥🔥",
        "the new screen is insane, so happy with it",
        "stupid good",
        "Looks sick 🔥",
        "the new presale is fire",
        "I'm dead 💀😂",
        "im crying lmao",
        "dead 💀💀",
        "that goal was sick 🔥",
        "wait i'm dead 💀😂!!",
        "ok but i'm screaming 😂",
        "yo they ate and left no crumbs #SuperBowl",
        "this is fire #ZestAd",
        "what's the song? 🔥",
        "got the TV!! 🔥🔥",
        "this slaps",
        "you're killing it!!!",
        "omg you guys are on fire 🔥",
        "omg stupidly good!!!",
    ],
)
def test_english_slang_praise_reads_as_praise(text: str) -> None:
    # Read in the dictionary sense these were 0.87-0.99: a launch's talk read 36 %
    # negative where 22 % were complaints (independent case streams). A word that is
    # also outrage ("insane", "sick") counts as praise only with praise beside it.
    assert build_scorer(MODEL).score(text, "en") < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "that price is insane",
        "I am sick of waiting",
        "this is insane, 3 weeks and no refund",
        "the app is sick, crashes every time",
        "the update is not fire at all, it broke my phone",
        "sick of this company",
        "this is crazy",
        "my kid is sick from your burger",
        "your warehouse is on fire",
        "there was fire!",
        "I'm dying, the AC in your store is broken",
        "they cancelled my flight again 😭",
        "this battery exploded 🔥🔥 dangerous",
        "i'm screaming at my phone, the app froze",
        "the wait for the update is insane",
        "he slaps his kids in the video, disgusting",
    ],
)
def test_the_same_words_in_complaints_stay_negative(text: str) -> None:
    assert build_scorer(MODEL).score(text, "en") >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "the price of this phone is insane",
        "the wait for the update is insane",
        "this ad is sick",
        "this launch is insane, prices doubled",
        "sick update, my phone bricked",
        "killer update bricked my phone",
        "they killed it, the original recipe is gone",
        "the new update absolutely killed it for me",
        "yeah you killed it alright, killed my trust",
        "İİİ that camera is insane: awful",
        "the new design is insane, who thought this was ok",
        "sick burger. literally, i threw up",
        "that camera is insane",
    ],
)
def test_slang_in_complaints_and_outrage_stays_negative(text: str) -> None:
    # Found by review: a price named after a product word, disgust at an ad, a complaint
    # beside the slang, "killed it" as discontinued, and text whose lowercase is longer.
    assert build_scorer(MODEL).score(text, "en") >= 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # independent case streams (2026-12-07): a Super Bowl night, a brand's roast
        # banter, a console showcase; each read 0.7-1.0
        ("This is sick!!! ❤️", "en"),
        ("Crazy crazy crazy 🔥 I'M SCREAMIN G💀💀!!!", "en"),
        ("That drop was brutal ✨", "en"),
        ("Wendy's said choose violence today 😂", "en"),
        ("I'm crying, this is savage 😂", "en"),
        ("DEAD I'M OBSESSED 🔥🔥🔥", "en"),
        ("OK THIS IS SICK 🤯", "en"),
        ("my wife is obsessed with the Baconator", "en"),
        ("Crying I've watched this 20 times ❤️❤️", "en"),
        ("bro got absolutely obliterated 💀💀!!!", "en"),
        # crying and thumbs up beside the words that are no report of harm
        ("I'M SCREAMING 😭", "en"),
        ("This is sick!!! 👍", "en"),
        ("Bro got absolutely obliterated 😭", "en"),
        ("I'm deceased 😭 that entrance", "en"),
        ("Wendy's killed it again 😂😂😂", "en"),
        ("krass 😂😂", "de"),
        ("ich sterbe 😂😂", "de"),
        ("Haha lächerlich wie gut das ist 😭", "de"),
    ],
)
def test_hype_beside_laughter_or_love_reads_as_praise(text: str, lang: str) -> None:
    assert build_scorer(MODEL).score(text, lang) < 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("you guys are crazy 😂 #boycott", "en"),
        ("this is insane, 3 weeks and no refund lol", "en"),
        ("the price is insane 😂 who pays that", "en"),
        ("brutaler Service, nie wieder 😂", "de"),
        ("Die Preise sind krank lol", "de"),
        ("crazy how you still haven't refunded me 😂", "en"),
        ("you destroyed my order 😂 where is my refund", "en"),
        ("my dog died 😭 and your driver just drove off", "en"),
        ("my order arrived destroyed 👍", "en"),
        ("the new update is crazy slow 😭", "en"),
        ("I'm sick of this app 😂", "en"),
    ],
)
def test_hype_words_in_complaints_stay_negative_beside_laughter(text: str, lang: str) -> None:
    assert build_scorer(MODEL).score(text, lang) >= 0.5


def test_a_heart_as_phones_send_it_reads_as_love() -> None:
    # "❤️" is U+2764 U+FE0F; its name was read "heart\ufe0f", no word of the lexicon.
    english = build_scorer(MODEL).english
    assert english.compound_tokens(Tokens("I love it ❤️")) > english.compound_tokens(
        Tokens("I love it")
    )


def test_ausbeute_the_yield_is_no_accusation() -> None:
    assert build_scorer(MODEL).score("Wie hoch ist die Ausbeute bei der Saftpresse?", "de") < 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Liebes Cobalt, zahlt euren Beschäftigten endlich faire Löhne! Rekordgewinne, "
            "Hungerlöhne. Schämt euch! #FaireLöhne",
            "de",
        ),
        (
            "Dear Cobalt, pay your workers fair wages! Record profits, poverty wages. "
            "Shame on you!",
            "en",
        ),
        ("Ihr solltet euch wirklich schämen, Acme", "de"),
        ("Super Gewinne, faire Preise? Schämen Sie sich!", "de"),
    ],
)
def test_a_reproach_makes_a_polite_campaign_template_negative(text: str, lang: str) -> None:
    # Held-out streams: two German campaigns of ~1,900 accounts with the first template
    # (0.08 word by word) opened nothing.
    assert build_scorer(MODEL).score(text, lang) >= 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("great job @acme, 3rd outage this week 🤣 thanks for nothing", "en"),
        ("so you post THIS today? read the room", "en"),
        ("this is the last straw", "en"),
        ("how is nobody talking about this?! explain yourselves", "en"),
        ("Do better.", "en"),
        ("Danke für nichts, Telekom", "de"),
        ("Das ist der Tropfen, der das Fass zum Überlaufen bringt", "de"),
    ],
)
def test_a_rebuke_in_a_set_phrase_reads_negative(text: str, lang: str) -> None:
    # Independent held-out streams: "thanks for nothing" read 0.05, "read the room" 0.20.
    assert build_scorer(MODEL).score(text, lang) >= 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # Independent held-out streams (2026-12-07): "your the app is a joke" read 0.07,
        # "euer Versand ist ein Witz" 0.17, "reine Abzocke!" 0.19, "erklärt euch" 0.15.
        ("listen, your the app is a joke.", "en"),
        ("@AmericanAir your call system is a fucking joke", "en"),
        ("what a joke of a company", "en"),
        ("So nobody at support knows what they're doing!", "en"),
        ("Wow. the DLC is a total ripoff", "en"),
        ("whoever approved this should be fired", "en"),
        ("Alsooo euer der Versand ist ein Witz Echt jetzt?", "de"),
        ("Mal ehrlich, der Hoodie ist reine Abzocke!", "de"),
        ("hallo mobilfunk24, ich hab die schnauze voll von die app", "de"),
        ("Ernsthaft? Eure Social-Media-Team gehört gefeuert!", "de"),
        ("@mobilfunk24 erklärt euch", "de"),
        ("zum dritten mal: 20 minuten in der warteschleife macht das endlich mal richtig.", "de"),
        ("bei euch weiß keiner was er tut", "de"),
        ("bester kundenservice der welt, sagte niemand 👍", "de"),
        ("Great update - said nobody ever.", "en"),
        ("@USAirways Wow! Your miles program is Ripoff,Quick ticket fee 75$", "en"),
        # GermEval 2017's dev split (2026-12-08): verdicts of a botched job, "na toll"
        ("Ein Armutszeugnis für die Bahn", "de"),
        ("Was für ein Murks, die neue App", "de"),
        ("Na toll, schon wieder", "de"),
        ("Super, Bahn, gaaaanz toll", "de"),
        # heldout8 tuning seeds 1-4: an apology demanded, outrage at a post
        ("apologise. now.", "en"),
        ("the workers deserve an apology", "en"),
        ("entschuldigt euch. sofort.", "de"),
        ("who thought this was a good idea??", "en"),
        ("so out of touch with normal people", "en"),
        # the airline set's dev half (2026-12-08): the biggest joke, a joke of an airline
        ("your airline is the biggest joke of an operation in the world.", "en"),
        ("Joke of an airline. Never again", "en"),
        # outrage at a post and its answers (heldout9's tuning seeds 1-8)
        ("what were you thinking with this post", "en"),
        ("take this down and apologise", "en"),
        ("this post is absolutely tone deaf", "en"),
        ("was habt ihr euch dabei gedacht", "de"),
        ("was soll dieser post?? sofort löschen", "de"),
        # answers demanded, a boycott called for, a warning to others
        ("customers deserve answers", "en"),
        ("die Kunden haben Antworten verdient", "de"),
        ("boykottiert die bis die das klären", "de"),
        ("Sagt es weiter: finger weg von denen", "de"),
        ("Glassplitter im Riegel!!! was soll das", "de"),
        # how people were treated, the apology that was none, a new boss demanded
        ("Staff being treated like that is not ok", "en"),
        ("Staff being treated like that is not ok.", "en"),
        ("The statement you posted is not an apology", "en"),
        ("Acme needs a new boss, today", "en"),
        ("so geht man nicht mit Mitarbeitern um", "de"),
        ("So geht man nicht mit seinen Kunden um.", "de"),
        ("So behandelt man keine Kunden", "de"),
        ("das Statement ist keine Entschuldigung", "de"),
    ],
)
def test_derision_and_rebukes_in_set_phrases_read_negative(text: str, lang: str) -> None:
    assert build_scorer(MODEL).score(text, lang) >= 0.5
    assert build_scorer(MODEL).score(text, None) >= 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # a review of the first drafts found these read as outrage or a harm welcomed:
        # the same phrases in praise, thanks for news of a harm, idioms (2026-12-08)
        ("Love the new ad, what were they thinking, so creative", "en"),
        ("Our fans deserve better seats, so glad you're expanding the stadium", "en"),
        ("Was habt ihr euch dabei gedacht? Genial!", "de"),
        ("Can you take this down for a sec, I want to screenshot it first lol", "en"),
        ("Danke für den Hinweis zur Störung!", "de"),
        ("Thanks for the fight last night, best boxing event ever", "en"),
        ("Thanks for never giving up on us", "en"),
        ("can't wait to kill it at the gym with my new shoes", "en"),
        ("Beat the #WorstCaseScenario with our travel insurance", "en"),
    ],
)
def test_praise_in_the_words_of_outrage_is_praise(text: str, lang: str) -> None:
    assert build_scorer(MODEL).score(text, lang) < 0.5, text


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("relax, it's just a joke", "en"),
        ("That was a joke omg", "en"),
        ("I know this is a joke but it made my day", "en"),
        ("the best joke about your ad, love it", "en"),
        ("das ist doch nur ein Witz, entspannt euch 😂", "de"),
        ("Ihr macht das richtig gut, weiter so!", "de"),
        ("keine Abzocke, faire Preise, gerne wieder", "de"),
        ("they said no one would notice the new logo, love it", "en"),
        ("Die Bahn ist ganz toll heute, pünktlich und sauber", "de"),
        ("Na, wie war euer Wochenende?", "de"),
    ],
)
def test_no_derision_without_the_phrase(text: str, lang: str) -> None:
    assert build_scorer(MODEL).score(text, lang) < 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("thanks, nothing else needed", "en"),
        ("Fingers crossed you do better! :)", "en"),
        ("you do better than everyone else", "en"),
        ("Danke, nichts weiter", "de"),
    ],
)
def test_no_rebuke_without_the_phrase(text: str, lang: str) -> None:
    assert build_scorer(MODEL).score(text, lang) < 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("shame on me for waiting so long, love it", "en"),
        ("Schämt euch nicht, das war super", "de"),
    ],
)
def test_no_reproach_of_oneself_or_under_a_negation(text: str, lang: str) -> None:
    assert build_scorer(MODEL).score(text, lang) < 0.5


@pytest.mark.parametrize(
    ("text", "lang", "negative"),
    [
        ("record bonus for the board, layoffs for the workers. disgusting", "en", True),
        ("Now your site is not working! WTF", "en", True),
        ("Kündigungen eine Woche vor Weihnachten. Erbärmlich!", "de", True),
        ("Flight was late. Crew was great.", "en", False),
        ("Thanks for the quick help! Awesome.", "en", False),
        ("Disgusting? No, delicious.", "en", False),
    ],
)
def test_a_closing_verdict_judges_the_comment(text: str, lang: str, negative: bool) -> None:
    # Outrage tells what happened, then judges it in a word; the telling reads neutral
    # or positive ("bonus"): the first read 0.38, its last word alone 0.98.
    assert (build_scorer(MODEL).score(text, lang) >= 0.5) is negative


@pytest.mark.parametrize(
    "text",
    [
        # Read over 0.5 by the German model (GermEval 2017's dev split, SB-10k's
        # validation split; 2026-12-08)
        "@user @user @user na guck, geht doch...;)))",
        "Steht aber auf der Todo-Liste ! :-)",
        "@user Aus diesem Internet. Irgend so eine Seite in Paris ...^^",
    ],
)
def test_a_german_comment_with_a_smile_reads_under_the_threshold(text: str) -> None:
    assert build_scorer(MODEL).score(text, "de") <= SMILE_CAP


@pytest.mark.parametrize(
    "text",
    [
        "Scheiß Service, nie wieder :)",  # negative words
        "Schon wieder kaputt :( :)",  # a frown beside it
        "Die App ist schon wieder down, na toll :)",  # irony, and a report
        "Paket kam nicht. ;)",  # a report of a failure is floored all the same
    ],
)
def test_a_smile_does_not_hide_a_complaint(text: str) -> None:
    assert build_scorer(MODEL).score(text, "de") >= 0.5


@pytest.mark.parametrize("backend", ["model", "lexicon"])
@pytest.mark.parametrize(
    "text",
    [
        # Tweets to airlines people read as negative (the airline set's dev half): the
        # handle was read as the word "united", praise to both lexicons.
        "@united the new seats on the regional jets just plain suck",
        "@united is it even legal for you guys to advertise flights that you cant honor??",
    ],
)
def test_a_mention_is_not_read_as_a_word(text: str, backend: str) -> None:
    scorer = build_scorer({"en": backend, "de": backend})
    assert "@united" in Tokens(text).words
    without = text.removeprefix("@united ")
    assert scorer.score(text, "en") == pytest.approx(scorer.score(without, "en"), abs=0.05)
    if backend == "model":
        assert scorer.score(text, "en") >= 0.5


def test_the_model_reads_a_mention_as_it_was_trained() -> None:
    # The shipped model was trained on tokens that kept only a handle (and "@user" for
    # handles of two letters or fewer): its features of a mention stay those.
    assert text_features(["@united", "rocks"]) == text_features(["united", "rocks"])
    assert text_features(["@user"]) == text_features(["user"])  # SB-10k's placeholder
    assert text_features(["@ab"]) == ["w|@user"]


@pytest.mark.parametrize(
    "text",
    [
        "We apologize for the delay, our team is on it",
        "who thought this up? brilliant",
        "Entschuldigt euch nicht, ihr habt alles richtig gemacht",
        "please keep in touch with updates",
        # said in fun or of oneself (a review, 2026-12-08)
        "I owe you an apology, the replacement works perfectly",
        "Apologize for the long post but the new app is great",
        "I've been out of touch for a while, new look is cool",
        "The audacity of this cake to be this cute",
        "Who approved this? Give them a raise",
        "Entschuldigt euch bloß nicht dafür",
    ],
)
def test_no_demand_of_an_apology_or_outrage_without_the_phrase(text: str) -> None:
    from stormwatch.detectors.reproach import derides, reproaches

    tokens = Tokens(text)
    assert not reproaches(tokens) and not derides(tokens)


def test_smiles_and_frowns_as_typed() -> None:
    from stormwatch.detectors.emoticons import frowns, smiles

    assert smiles("haha XD") and smiles("xd") and smiles("so lieb <3")
    assert not smiles("Lieferzeit <30 Tage") and not smiles("https://x.de/a:b")
    assert frowns("schon wieder :(") and not frowns("https://example.org")

"""The per-comment enrichment call: language, negativity and topics together."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.negativity import build_scorer
from stormwatch.detectors.topics import TopicTagger

_LEXICON = {"en": "lexicon", "de": "lexicon"}


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    # The lexicon backends: these tests pin their exact readings (0.0 for positive text).
    # The default (the trained model) is tested in test_negativity_runtime.py.
    return Enricher(build_scorer(_LEXICON))


def test_german_boycott_comment(enricher: Enricher) -> None:
    lang, negativity, topics = enricher.enrich(
        "Ich werde nie wieder bei euch kaufen, Boykott! Eure Preise sind Abzocke.", None
    )
    assert lang == "de"
    assert negativity >= 0.5
    assert topics == ("boycott", "price")


def test_english_complaint(enricher: Enricher) -> None:
    lang, negativity, topics = enricher.enrich(
        "Your customer service is terrible, I have been waiting for a refund for weeks!", None
    )
    assert lang == "en"
    assert negativity >= 0.5
    assert topics == ("service",)


def test_positive_comments_are_not_negative(enricher: Enricher) -> None:
    assert enricher.enrich("die Qualität ist super", None) == ("de", 0.0, ())
    assert enricher.enrich("Love the new recipe, thank you!", None) == ("en", 0.0, ())


def test_german_text_is_not_scored_as_english(enricher: Enricher) -> None:
    # VADER alone rates this strongly negative because of "die".
    lang, negativity, _ = enricher.enrich("Die Lieferung kam heute, die Verpackung war ok", None)
    assert (lang, negativity) == ("de", 0.0)


@pytest.mark.parametrize(
    ("hint", "lang"),
    [("en", "en"), ("EN-us", "en"), ("de-AT", "de"), (" DE ", "de"), ("fr", "fr"), ("pt_BR", "pt")],
)
def test_language_hint_is_trusted(enricher: Enricher, hint: str, lang: str) -> None:
    assert enricher.enrich("Das ist schlecht", hint)[0] == lang


def test_hint_decides_the_scorer(enricher: Enricher) -> None:
    text = "Das ist gut"  # "gut" means nothing in English
    assert enricher.enrich(text, "de")[1] == 0.0
    assert enricher.enrich("Das ist nicht gut", "de")[1] >= 0.3
    assert enricher.enrich("Das ist nicht gut", "en")[1] == 0.0
    assert enricher.enrich("C'est une honte, terrible", "fr")[1] == 0.0


@pytest.mark.parametrize("hint", [None, ""])
def test_missing_hint_means_detect(enricher: Enricher, hint: str | None) -> None:
    assert enricher.enrich("Never again, worst service ever", hint)[0] == "en"
    assert enricher.enrich("Le service client est vraiment nul", hint) == (None, 0.0, ())


def test_short_comment_in_unknown_language_still_scores(enricher: Enricher) -> None:
    lang, negativity, topics = enricher.enrich("Boykott!!", None)
    assert lang == "de"  # "boykott" is one of the German hint words
    assert negativity >= 0.5 and topics == ("boycott",)
    lang, negativity, _ = enricher.enrich("🤬🤬🤬", None)
    assert lang is None and negativity >= 0.5


def test_any_negativity_scorer_can_replace_the_default() -> None:
    calls: list[tuple[str, str | None]] = []

    class Constant:
        def score(self, text: str, lang: str | None) -> float:
            calls.append((text, lang))
            return 0.25

    enricher = Enricher(scorer=Constant(), tagger=TopicTagger({"food": ["pizza"]}))
    assert enricher.enrich("The pizza was cold", None) == ("en", 0.25, ("food",))
    assert calls == [("The pizza was cold", "en")]


_WORDS = [
    "not", "nicht", "kein", "never", "nie", "wieder", "very", "sehr", "so", "zu", "but",
    "aber", "no", "least", "kind", "of", "the", "shit", "good", "gut", "bad", "schlecht",
    "Boykott", "boycott", "GREAT", "SUPER", "teuer", "price", "customer", "service",
    "deleted", "comment", "palm", "oil", "😡", "😍", "❤️", ":)", ":(", "n't", "don't", "ß",
    "'", "’", "-", "!!!", "??", ",", ".", "\x00", "\u200b", "\U0001f3fb",
]  # fmt: skip

_texts = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(), min_size=500, max_size=3000),
    st.lists(st.sampled_from(_WORDS), max_size=60).map(" ".join),
    st.lists(st.sampled_from(_WORDS), max_size=60).map("".join),
    st.lists(
        st.tuples(st.sampled_from(_WORDS), st.sampled_from([" ", "  ", "\n", "\t", "", ", "])),
        max_size=40,
    ).map(lambda pairs: "".join(word + sep for word, sep in pairs)),
)
_hints = st.one_of(st.none(), st.sampled_from(["en", "de", "fr", "EN-GB", "", " "]), st.text())


_BOTH = (Enricher(build_scorer(_LEXICON), cache_size=0), Enricher(cache_size=0))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts, hint=_hints)
def test_enrich_never_raises_and_stays_in_range(text: str, hint: str | None) -> None:
    for enricher in _BOTH:
        lang, negativity, topics = enricher.enrich(text, hint)
        assert lang is None or isinstance(lang, str)
        assert 0.0 <= negativity <= 1.0
        assert isinstance(topics, tuple)
        assert list(topics) == sorted(set(topics))


def test_very_long_text(enricher: Enricher) -> None:
    text = ("Nie wieder! Boykott, das ist eine Frechheit 😡 " * 5000) + "\x00" * 100
    lang, negativity, topics = enricher.enrich(text, None)
    assert lang == "de" and 0.5 <= negativity <= 1.0 and "boycott" in topics
    lang, negativity, _ = enricher.enrich("terrible " * 20000, None)
    assert lang == "en" and 0.99 <= negativity <= 1.0

"""Topic tags from the shipped EN+DE vocabulary and from user vocabularies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stormwatch.detectors.exceptions import DetectorError, VocabularyError
from stormwatch.detectors.language import Tokens
from stormwatch.detectors.topics import TopicTagger, default_vocabulary, load_vocabulary

PLAYBOOK_TOPICS = {
    "boycott",
    "censorship",
    "data_privacy",
    "discrimination",
    "environment",
    "labour",
    "price",
    "safety",
    "service",
}


@pytest.fixture(scope="module")
def tagger() -> TopicTagger:
    return TopicTagger()


def test_default_vocabulary_has_the_playbook_topics() -> None:
    assert set(default_vocabulary()) == PLAYBOOK_TOPICS
    assert TopicTagger().topics == tuple(sorted(PLAYBOOK_TOPICS))


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # boycott
        ("Wir boykottieren euch ab sofort", "boycott"),
        ("Die Kunden haben den Laden boykottiert", "boycott"),
        ("Everyone is boycotting them now", "boycott"),
        ("#BoycottAcme", "boycott"),
        ("Ich werde nie wieder bei euch kaufen", "boycott"),
        ("Never buying from you again", "boycott"),
        # censorship
        ("Ihr zensiert jede Kritik", "censorship"),
        ("Schon wieder Kommentare gelöscht!", "censorship"),
        ("Why do you keep deleting comments?", "censorship"),
        ("My comment was deleted within a minute", "censorship"),
        ("Stop censoring your customers", "censorship"),
        # environment
        ("Palmöl aus abgeholztem Regenwald", "environment"),
        ("Your palm oil destroys rainforests", "environment"),
        ("So viel Plastikmüll für ein Produkt", "environment"),
        ("Klimaschutz ist euch egal", "environment"),
        ("Greenwashing at its finest", "environment"),
        ("Die Umweltbilanz ist katastrophal", "environment"),
        # safety
        ("Rückrufaktion wegen Glassplittern", "safety"),
        ("They recalled the stroller after kids were injured", "safety"),
        ("Das Spielzeug ist gefährlich für Kleinkinder", "safety"),
        ("Mein Sohn hat sich daran verletzt", "safety"),
        ("This charger is unsafe and overheats", "safety"),
        # service
        ("Der Kundenservice antwortet nicht", "service"),
        ("Ich warte seit Tagen auf eine Antwort", "service"),
        ("Customer service put me on hold for an hour", "service"),
        ("Your support team is useless", "service"),
        ("Die Hotline ist dauerbesetzt", "service"),
        # price
        ("Viel zu teuer geworden", "price"),
        ("Die teuren Preise sind eine Abzocke", "price"),
        ("Prices went up again", "price"),
        ("Completely overpriced", "price"),
        ("Such a rip off", "price"),
        # discrimination
        ("Das war eindeutig rassistisch", "discrimination"),
        ("That ad is sexist and racist", "discrimination"),
        ("Diskriminierung von Frauen bei der Beförderung", "discrimination"),
        # data privacy
        ("Datenleck bei Acme: meine Daten wurden gehackt", "data_privacy"),
        ("Was ist mit dem Datenschutz?", "data_privacy"),
        ("Another data breach? My account got hacked", "data_privacy"),
        ("You sold my data to advertisers", "data_privacy"),
        # labour
        ("Streik im Lager wegen Hungerlöhnen", "labour"),
        ("Pay your workers fair wages", "labour"),
        ("Die Mitarbeiter werden ausgebeutet", "labour"),
        ("Workers are striking again", "labour"),
        ("Kinderarbeit in der Lieferkette", "labour"),
    ],
)
def test_topics_found_in_inflected_forms(tagger: TopicTagger, text: str, topic: str) -> None:
    assert topic in tagger.tags(text)


@pytest.mark.parametrize(
    "text",
    [
        "Die Klimaanlage im Laden ist super",  # "klima$" is a whole word
        "Das lohnt sich nicht",  # "lohn$" must not match "lohnt"
        "Ich bin mit dem Auto gefahren",  # "gefahr$" must not match "gefahren"
        "I recommend the carbonara",  # "carbon$"
        "Love the new design",
        "Wo ist die nächste Filiale?",
        "",
    ],
)
def test_no_false_topics(tagger: TopicTagger, text: str) -> None:
    assert tagger.tags(text) == ()


def test_tags_are_sorted_and_unique(tagger: TopicTagger) -> None:
    text = "Boykott! Boykott! Zu teuer, Datenleck, und der Kundenservice ist ein Witz. #boycott"
    assert tagger.tags(text) == ("boycott", "data_privacy", "price", "service")


def test_multiword_terms_need_their_words_in_order(tagger: TopicTagger) -> None:
    assert tagger.tags("customer service") == ("service",)
    assert tagger.tags("service for customers") == ()
    assert tagger.tags("palm oil") == ("environment",)
    assert tagger.tags("palm") == ()


def test_tags_tokens_matches_tags(tagger: TopicTagger) -> None:
    text = "Eure Preise sind eine Frechheit und der Support ignoriert uns"
    assert tagger.tags_tokens(Tokens(text).words) == tagger.tags(text) == ("price", "service")


def test_repeated_calls_give_the_same_answer(tagger: TopicTagger) -> None:
    text = "Recall now! Dangerous product, price gouging, no response from support"
    first = tagger.tags(text)
    assert first == tagger.tags(text) == ("price", "safety", "service")


def test_custom_vocabulary() -> None:
    tagger = TopicTagger({"delivery": ["late parcel", "lieferung", "dhl$"], "food": ["salmonell"]})
    assert tagger.topics == ("delivery", "food")
    assert tagger.tags("Late parcels again, thanks DHL") == ("delivery",)
    assert tagger.tags("Lieferungen kommen nie an") == ("delivery",)
    assert tagger.tags("dhlexpress") == ()
    assert tagger.tags("Salmonellen im Hähnchen") == ("food",)


def test_load_vocabulary_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text("delivery:\n  - Late Parcel\n  - lieferung\nfood: [salmonell]\n", "utf-8")
    vocabulary = load_vocabulary(path)
    assert vocabulary == {"delivery": ("late parcel", "lieferung"), "food": ("salmonell",)}
    assert TopicTagger(vocabulary).tags("LATE PARCELS") == ("delivery",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- just\n- a list\n", "expected a mapping"),
        ("{}\n", "no topics"),
        ("Delivery: [lieferung]\n", "topic name 'Delivery'"),
        ("delivery: lieferung\n", "expected a list of terms"),
        ("delivery: []\n", "has no terms"),
        ("delivery: [lieferung, 42]\n", "term 2: expected a string"),
        ("delivery: ['  ']\n", "term 1: the term is empty"),
        ("delivery: [abc]\n", "stem 'abc' is shorter than 4"),
        ("delivery: [late pa]\n", "stem 'pa' is shorter than 3"),
        ("delivery: [a$b]\n", "'$' only ends a word"),
        ("delivery: [lieferung\n", "not valid YAML"),
    ],
)
def test_invalid_vocabulary_files_say_what_is_wrong(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, "utf-8")
    with pytest.raises(VocabularyError, match=re.escape(message)) as info:
        load_vocabulary(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, DetectorError)


def test_invalid_mapping_is_rejected_by_the_tagger() -> None:
    with pytest.raises(VocabularyError, match="expected a list of terms"):
        TopicTagger({"delivery": "lieferung"})


def test_missing_file_raises_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_vocabulary(tmp_path / "nope.yaml")


def test_token_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import stormwatch.detectors.topics as topics

    monkeypatch.setattr(topics, "_CACHE_LIMIT", 2)
    tagger = TopicTagger()
    text = "Boykott wegen Datenleck und Streik, viel zu teuer"
    assert tagger.tags(text) == tagger.tags(text) == ("boycott", "data_privacy", "labour", "price")
    assert len(tagger._starts) <= 2

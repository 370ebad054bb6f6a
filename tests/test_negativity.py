"""Negativity scorers: the real behaviour on EN/DE comments, and agreement with VADER."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from stormwatch.config import Settings
from stormwatch.detectors.language import Tokens
from stormwatch.detectors.negativity import (
    PROTEST_FLOOR,
    MultilingualScorer,
    NegativityScorer,
    TokenNegativityScorer,
)
from stormwatch.detectors.negativity_compound import emoji_supplement, people_emoji_valence
from stormwatch.detectors.negativity_english import ENGLISH_CRISIS_TERMS, VaderScorer
from stormwatch.detectors.negativity_german import GermanScorer
from stormwatch.runtime import negativity_scorer


@pytest.fixture(scope="module")
def english() -> VaderScorer:
    return VaderScorer()


@pytest.fixture(scope="module")
def german() -> GermanScorer:
    return GermanScorer()


@pytest.fixture(scope="module")
def multi() -> MultilingualScorer:
    return MultilingualScorer()


# --------------------------------------------------------------------- VADER agreement

REALISTIC_ENGLISH = [
    "Worst customer service ever",
    "I will never buy from you again",
    "Thanks for the quick reply!",
    "This is a scam",
    "So disappointed with the new recipe",
    "Still waiting for my refund after three weeks, nobody answers the phone",
    "You raised the prices again and the quality got worse. Shame on you.",
    "Just ordered the new model, can't wait to try it out!",
    "Absolutely love the new packaging, well done guys",
    "Great product but the delivery took forever",
    "Not bad at all, I expected worse",
    "lol this ad is so bad",
    "omg the new flavour is amazing",
    "Your app leaked my credit card data. I want answers now.",
    "The cashier was racist to my friend and the manager did nothing about it",
    "Nobody asked for this redesign",
    "The charger overheated and burned my desk, this is dangerous",
    "Thank you for fixing it so quickly, really appreciated",
    "Disgusting. You should be ashamed of yourselves.",
    "You deleted my review because it was negative. Pathetic.",
    "Terrible experience, would not recommend",
    "My kids love these cereals",
    "What happened to the old recipe? Bring it back!",
    "Honestly the best pizza I have ever had",
    "This is NOT OK!!! Fix it now",
    "I don't hate it, but I don't love it either",
    "Without a doubt the worst launch this year 😡",
    "Kind of pricey but really good quality :)",
    "The app is barely usable and support is useless??",
    "No problems at all, fast delivery 👍",
]


def _varied_sentences(n: int = 400, seed: int = 7) -> list[str]:
    """Sentences that exercise every VADER rule: negation, boosters, dampeners, caps,
    "but", "no", "least", idioms, emoticons, emoji and punctuation emphasis."""
    rng = random.Random(seed)
    subjects = [
        "The service", "Your app", "This product", "The new recipe", "Customer support",
        "The delivery", "The staff", "This company", "The price", "Your ad", "It", "The update",
    ]  # fmt: skip
    verbs = ["is", "was", "looks", "feels", "seems", "has been", "is really", "was so"]
    before = [
        "", "", "", "", "not ", "never ", "isn't ", "no ", "hardly ", "very ", "extremely ",
        "kind of ", "somewhat ", "so ", "totally ", "barely ", "not very ", "the least ",
        "at least ", "without a doubt ", "never so ", "not at all ",
    ]  # fmt: skip
    adjectives = [
        "good", "great", "bad", "terrible", "awful", "amazing", "okay", "fine", "disappointing",
        "horrible", "excellent", "poor", "slow", "helpful", "useless", "rude", "friendly",
        "broken", "expensive", "fair", "unfair", "disgusting", "lovely", "boring", "dangerous",
        "safe", "fake", "honest", "the shit", "the bomb", "bad ass", "a joke", "a scam",
    ]  # fmt: skip
    tails = [
        "", "", "", " but the staff is friendly", " but I hate the price",
        ", and I love it", ", no thanks", " lol", " :(", " :)", " 😡", " 😍", " 👍",
        " yeah right", " but honestly not terrible", ", what a disaster", " 💔 sad",
    ]  # fmt: skip
    endings = [".", "!", "!!!", "?", "??", "", "!!!!!", "????"]
    sentences = []
    for _ in range(n):
        adjective = rng.choice(adjectives)
        if rng.random() < 0.15:
            adjective = adjective.upper()
        sentences.append(
            f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(before)}{adjective}"
            f"{rng.choice(tails)}{rng.choice(endings)}"
        )
    return sentences


def _vader_class(compound: float) -> int:
    """VADER's own convention: >= 0.05 positive, <= -0.05 negative, else neutral."""
    return 1 if compound >= 0.05 else -1 if compound <= -0.05 else 0


def test_fast_english_scorer_agrees_with_real_vader(english: VaderScorer) -> None:
    analyzer = SentimentIntensityAnalyzer()
    # The supplement's emoji are a deliberate difference (tested below).
    sentences = [
        s
        for s in _varied_sentences() + REALISTIC_ENGLISH
        if not any(emoji in s for emoji in emoji_supplement())
    ]
    assert len(set(sentences)) >= 300
    ours = [english.compound(s) for s in sentences]
    theirs = [analyzer.polarity_scores(s)["compound"] for s in sentences]
    same_class = sum(_vader_class(a) == _vader_class(b) for a, b in zip(ours, theirs, strict=True))
    assert same_class / len(sentences) >= 0.95
    assert statistics.correlation(ours, theirs) >= 0.98
    # It is a re-implementation of the same rules, so nearly all scores are identical.
    identical = sum(abs(a - b) < 1e-3 for a, b in zip(ours, theirs, strict=True))
    assert identical / len(sentences) >= 0.95


@pytest.mark.parametrize(
    "text",
    [
        "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
        "At least it isn't a horrible book.",
        "The book was only kind of good.",
        "Today only kinda sux! But I'll get by, lol",
        "Catch utf-8 emoji such as 💘 and 💋 and 😁",
        "With VADER, sentiment analysis is the shit!",
        "Roger Dodger is one of the least compelling variations on this theme.",
        "Without a doubt, an excellent idea.",
        "Sentiment analysis has never been this good!",
        "The plot was good, but the characters are uncompelling and the dialog is not great.",
    ],
)
def test_vader_readme_examples_score_exactly_as_vader(english: VaderScorer, text: str) -> None:
    expected = SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    assert round(english.compound(text), 4) == pytest.approx(expected, abs=1e-4)


def test_english_negativity(english: VaderScorer) -> None:
    assert english.score("I love this brand", "en") == 0.0
    assert english.score("not bad", "en") < 0.1  # negated negative is not negative
    assert english.score("bad", "en") > 0.4
    assert english.score("This is a scam!!", "en") >= 0.5
    assert english.score("BOYCOTT this company, they are liars!", "en") >= 0.5
    assert english.score("very bad") > english.score("bad") > english.score("somewhat bad")


@pytest.mark.parametrize(
    "text",
    ["your unhelpful team", "the least satisfactory airline I know", "what an abysmal app",
     "the seats are cramped and filthy", "overpriced and buggy", "what a bunch of amateurs",
     "your company is a total shitshow", "storing passwords in plain text is negligence"],
)  # fmt: skip
def test_words_customers_judge_a_service_by_read_negative(text: str) -> None:
    # Missing from VADER's lexicon: "your unhelpful team" read 0.24 (airline dev half).
    english = VaderScorer(extra_lexicon=ENGLISH_CRISIS_TERMS)
    assert english.compound(text) < -0.05, text


def test_typographic_apostrophe_negates(english: VaderScorer) -> None:
    assert english.compound("I don’t like it") == english.compound("I don't like it") < 0


# --------------------------------------------------------------------------- German


def test_positive_german_is_not_negative(german: GermanScorer) -> None:
    for text in [
        "die Qualität ist super",
        "Die Qualität ist super",
        "Danke für die schnelle Antwort",
        "Meine Kinder lieben diese Cornflakes",
        "Die Mitarbeiter waren super freundlich",
        "Endlich mal gute Nachrichten von euch",
    ]:
        assert german.score(text, "de") == 0.0, text


def test_german_boycott_comment_is_clearly_negative(german: GermanScorer) -> None:
    assert german.score("Ich werde nie wieder bei euch kaufen, Boykott!", "de") >= 0.5


def test_german_negation_flips(german: GermanScorer) -> None:
    assert german.score("gut", "de") == 0.0
    assert german.score("nicht gut", "de") >= 0.3
    assert german.score("Das ist kein guter Service", "de") >= 0.3
    assert german.score("Ich kann das nicht empfehlen", "de") >= 0.3
    assert german.score("nicht schlecht", "de") == 0.0
    assert german.score("Das ist nicht schlecht", "de") == 0.0


def test_german_negation_after_the_word_at_the_end_of_the_clause(german: GermanScorer) -> None:
    assert german.score("Das gefällt mir nicht.", "de") >= 0.3
    assert german.score("Schlecht ist das nicht", "de") == 0.0


def test_german_negation_stops_at_punctuation(german: GermanScorer) -> None:
    assert german.score("Seit Wochen keine Erstattung, ihr Betrüger, unverschämt", "de") >= 0.5
    assert german.score("Zensur ist keine Antwort, Acme. Boykott!", "de") >= 0.5


def test_nie_wieder_is_a_boycott_not_a_negation(german: GermanScorer) -> None:
    assert german.score("Nie wieder!", "de") >= 0.5
    assert german.score("Nie wieder so einen schlechten Service", "de") >= 0.5


def test_german_intensifiers_and_dampeners(german: GermanScorer) -> None:
    bad = german.score("Der Service ist schlecht", "de")
    assert german.score("Der Service ist sehr schlecht", "de") > bad
    assert german.score("Der Service ist total schlecht", "de") > bad
    assert german.score("Der Service ist etwas schlecht", "de") < bad
    # "super" intensifies before a sentiment word and praises on its own.
    assert german.score("super teuer", "de") > german.score("teuer", "de") > 0.3
    assert german.score("Das Essen ist super", "de") == 0.0


def test_german_inflected_forms_are_scored(german: GermanScorer) -> None:
    for text in [
        "schlechter Service",
        "eine enttäuschende Qualität",
        "überteuerte Preise",
        "die schlechteste Firma",
        "ihr habt uns belogen und betrogen",
        "Teure Abzocker",
    ]:
        assert german.score(text, "de") >= 0.4, text


@pytest.mark.parametrize(
    "text",
    [
        "Skandal!",
        "Zensur!",
        "Was für eine Abzocke",
        "Lügner!",
        "Frechheit",
        "Unverschämt",
        "Katastrophe",
        "Eine Schande",
        "Ekelhaft",
        "Totaler Schrott",
        "Verarsche!",
        "Zerstört!",
        "Vergiftet!",
        # judgements the lexicon lacked (PotTS and SB-10k validation halves)
        "Voll geschmacklos",
        "Die App ist unbrauchbar",
        "Was für ein Sauladen",
        # insults an angry crowd uses, none in the lexicon
        "Was für Dilettanten bei euch",
        "Eure Firma ist eine Lachnummer",
        "So ein Trottelverein",
        "Ihr seid echt Stümper",
    ],
)
def test_german_crisis_words(german: GermanScorer, text: str) -> None:
    assert german.score(text, "de") >= 0.4


def test_english_reads_the_emoji_vader_names_without_valence(english: VaderScorer) -> None:
    # VADER reads "Customer service 😡😡😡" as neutral: "pouting face" scores nothing.
    assert SentimentIntensityAnalyzer().polarity_scores("Customer service 😡😡😡")["compound"] == 0
    assert english.score("Customer service 😡😡😡", "en") > 0.5
    assert english.score("Customer service 👎", "en") > 0.3
    # "broken heart" is "broken" -2.1 plus "heart" +3.2 for VADER: positive.
    assert english.score("Flight cancelled again 💔", "en") > 0.3
    assert english.score("Great crew today 👍", "en") == 0.0
    # The emoji is a word like any other: negation turns it round.
    assert english.score("not 😡", "en") == 0.0
    assert english.score("Customer service", "en") == 0.0


def test_emoji_people_labelled_against_their_name_read_as_people_labelled(
    english: VaderScorer, german: GermanScorer
) -> None:
    # VADER names 🔥 "fire" (-1.4); people labelled the tweets holding it positive 26 %,
    # negative 12 % (Emoji Sentiment Ranking). 😭 "crying" (-2.1): negative 44 %,
    # positive 34 %, so it reads at people's -0.37. Where people clearly agree with the
    # name (😠, 😩, 😕: negative at least twice as often as positive) the name stands.
    valence = people_emoji_valence()
    assert set("🔥💥💤🍂👻💫😭😢😱") <= set(valence)
    assert not set("😠😩😕😍") & set(valence)
    assert -1.0 < valence["😭"] < 0.0
    assert english.compound("what's the song? 🔥") > 0.0
    assert english.score("got the TV!! 🔥🔥", "en") == 0.0
    assert german.score("Lieferung heute angekommen 🔥", "de") == 0.0
    assert english.score("Flight cancelled again 😭", "en") > 0.3
    assert english.score("the dog at the end 😭", "en") < 0.5
    assert english.score("Customer service 😡😡😡", "en") > 0.5
    assert english.score("Customer service 😠", "en") > 0.5


def test_german_emoji_count_with_their_english_names(german: GermanScorer) -> None:
    assert german.score("Lieferung heute angekommen 😡😡", "de") > 0.3
    assert german.score("Lieferung heute angekommen 😍", "de") == 0.0


def test_design_warning_vader_reads_german_articles_as_negative(
    english: VaderScorer, multi: MultilingualScorer
) -> None:
    # "die" is -2.9 in VADER's lexicon: German must never reach the English scorer.
    text = "Die Lieferung kam heute, die Verpackung war in Ordnung"
    assert english.score(text, "en") > 0.5
    assert multi.score(text, "de") == 0.0
    assert multi.score(text, None) == 0.0  # detected as German first


# -------------------------------------------------------------------------- dispatch


def test_multilingual_dispatches_on_language(multi: MultilingualScorer) -> None:
    assert multi.score("This is terrible!!", "en") >= 0.5
    assert multi.score("Was für eine Katastrophe!", "de") >= 0.5
    # the German lexicon knows no "terrible" (derision in a set phrase, "This is a
    # scam", is read in any language, as a reproach is)
    assert multi.score("This is terrible!!", "de") == 0.0


def test_unknown_language_tries_both_for_short_comments(multi: MultilingualScorer) -> None:
    assert multi.score("Boykott!!", None) >= 0.5
    assert multi.score("Scam!!", None) >= 0.5
    assert multi.score("Acme", None) == 0.0


def test_other_languages_score_zero(multi: MultilingualScorer) -> None:
    assert multi.score("Le service client est nul, c'est une honte", "fr") == 0.0
    assert multi.score("Le service client est nul, c'est une honte", None) == 0.0
    # Spanish "no"/"nada" and French "pain" would read as English negatives.
    assert multi.score("No me gusta nada, es terrible", None) == 0.0
    assert multi.score("I hate this", "es") == 0.0


def test_scorers_implement_both_protocols() -> None:
    for scorer in (VaderScorer(), GermanScorer(), MultilingualScorer()):
        assert isinstance(scorer, TokenNegativityScorer)
        _: NegativityScorer = scorer
        text = "Not good at all, nicht gut!!"
        assert scorer.score_tokens(Tokens(text), "en") == scorer.score(text, "en")


def test_lexicons_are_loaded_once() -> None:
    first, second = GermanScorer(), GermanScorer()
    assert first._lexicon is second._lexicon
    assert VaderScorer()._lexicon is VaderScorer()._lexicon


@pytest.mark.parametrize(
    "text",
    ["", " ", "!!!!!!", "?" * 50, ":(" * 20, "😡" * 100, "NO NO NO NO", "nicht " * 40, "\x00\x1f"],
)
def test_scores_stay_in_range(multi: MultilingualScorer, text: str) -> None:
    for lang in ("en", "de", None, "fr"):
        assert 0.0 <= multi.score(text, lang) <= 1.0


def test_a_campaign_hashtag_makes_a_mild_complaint_negative() -> None:
    """The copies of a templated campaign carry its hashtags: "#BoycottX" reads as the
    boycott it calls for, in both backends, where a model trained on tweets reads the
    template itself as harmless (an Amazon review snippet rated -1.7 by people)."""
    model = negativity_scorer(Settings())
    lexicon = MultilingualScorer()
    template = "avoid apex dvd players - even if they're free!"
    assert model.score(template, "en") < 0.5
    assert model.score(template + " #boycottKO", "en") >= 0.5
    assert lexicon.score("Nestle, answer us #BoycottNestle", "en") > lexicon.score(
        "Nestle, answer us", "en"
    )


@pytest.mark.parametrize("backend", ["model", "lexicon"])
def test_a_protest_hashtag_makes_any_comment_negative(backend: str) -> None:
    """A campaign's copies are as mild as its template; the protest hashtag is the
    commenter's own label, in any language and either backend."""
    scorer = negativity_scorer(Settings(negativity_en=backend, negativity_de=backend))
    mild = "i try navigating to a chapter past 34 via the menu and it wouldn't do it!"
    assert scorer.score(mild, "en") < 0.5
    for text, lang in [
        (mild + " #boycottKO", "en"),
        ("Danke für nichts #BahnSkandal", "de"),
        ("Ne plus acheter #BoycottNestle", "fr"),
        ("#ShameOnAcme", None),
    ]:
        assert scorer.score(text, lang) >= PROTEST_FLOOR, text
    # A clearer complaint keeps its own, higher reading; other hashtags add no floor.
    assert scorer.score("This is a disgrace, I hate it #BoycottAcme", "en") > PROTEST_FLOOR
    assert scorer.score(mild + " #throwback #IBM", "en") < 0.5


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=60),
    hashtag=st.sampled_from(["#BoycottAcme", "#AcmeSkandal", "#ShameOnAcme", "#Acme", "#fun"]),
    lang=st.sampled_from(["en", "de", "fr", None]),
)
def test_the_protest_floor_changes_nothing_else(
    multi: MultilingualScorer, text: str, hashtag: str, lang: str | None
) -> None:
    """With a protest hashtag a comment reads at least the floor and otherwise as its
    language's scorer reads it; without one, exactly as that scorer reads it."""
    combined = f"{text} {hashtag}"
    tokens = Tokens(combined)
    plain = multi._score_language(tokens, lang)
    if tokens.protest:
        assert multi.score(combined, lang) == max(plain, PROTEST_FLOOR)
    else:
        assert multi.score(combined, lang) == plain
    if "#" not in text:
        assert tokens.protest == (hashtag in ("#BoycottAcme", "#AcmeSkandal", "#ShameOnAcme"))

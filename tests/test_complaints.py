"""A customer's report that something failed reads as negative, in either backend.

Sentiment lexicons and the tweet-trained model read "40 minutes on hold and counting"
as neutral; to a brand it is a complaint (`detectors/complaints.py`).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stormwatch.config import Settings
from stormwatch.detectors import complaints
from stormwatch.detectors.complaints import COMPLAINT_FLOOR, reports_failure
from stormwatch.detectors.language import Tokens
from stormwatch.detectors.negativity import MultilingualScorer
from stormwatch.runtime import negativity_scorer

REPORTS = [
    ("en", "@acme 40 minutes on hold and counting"),
    ("en", "the app keeps crashing since the update"),
    ("en", "Still waiting for my package, ordered two weeks ago"),
    ("en", "you charged me twice and nobody answers"),
    ("en", "They hung up on me. Third time today."),
    ("en", "my order was cancelled without any notice"),
    ("en", "it stopped working after two days"),
    ("en", "Never buying from them again."),
    ("en", "lost my suitcase and no reply to my emails"),
    ("en", "Delayed again, this is the third week in a row"),
    ("de", "Warum ist meine Bestellung noch nicht da?"),
    ("de", "Mal wieder 40 Minuten Verspätung"),
    ("de", "Seit einer Stunde in der Warteschleife"),
    ("de", "Die App funktioniert schon wieder nicht"),
    ("de", "Zug fällt heute schon wieder aus"),
    ("de", "Doppelt abgebucht und keine Antwort vom Kundenservice"),
    # calls to stop, refusals to buy: a campaign's polite template
    ("en", "Dear Acme, stop funding coal mines now. We will not buy your products anymore!"),
    ("en", "@acme end animal testing today, we won't buy until you do"),
    ("en", "Please stop selling palm oil from cleared forests"),
    ("en", "I'm not going to buy from you until you change this."),
    ("de", "Hört auf mit Tierversuchen, sofort! Wir kaufen nichts mehr von euch."),
    ("de", "Schluss mit Palmöl aus Regenwaldrodung"),
    ("de", "Stoppt die Abholzung jetzt! Kein Cent mehr für euch."),
    ("de", "Ich kaufe bei euch nie wieder, hört endlich auf damit"),
    ("en", "We won't be buying from you again"),
    ("en", "End animal testing now"),
    ("en", "@pepsi pull this garbage now"),
    ("en", "take this ad down, seriously"),
    ("de", "Wir kaufen eure Produkte nicht mehr"),
    ("de", "Hört endlich auf, Regenwald abzuholzen"),
    # a service that is down, money wanted back, a customer let down
    ("en", "the app is down again"),
    ("en", "@acme your website was down all day yesterday"),
    ("en", "third outage this week"),
    ("en", "I want my money back"),
    ("en", "you have let me down"),
    ("de", "Die App ist schon wieder down"),
    ("de", "Seit heute morgen kein Netz"),
    ("de", "Schon wieder Störung im Netz"),
    ("de", "Ich will mein Geld zurück"),
    ("en", "paying for a service that never works"),
    ("de", "läuft bei euch... nicht"),
    ("de", "dritter Ausfall diese Woche"),
    ("de", "Stromausfall seit heute morgen, wann geht das wieder?"),
    ("de", "schon wieder down, danke für gar nichts"),
    # locked out, an error page, money owed
    ("en", "can't log in again since this morning"),
    ("en", "error 503 everywhere on your site"),
    ("en", "@acme you still owe me $40"),
    ("de", "Kann mich nicht einloggen?"),
    ("de", "@nordnetz null empfang hier?"),
    ("de", "Dringend: Überall Fehler 503??"),
    ("de", "Tag 9: Ihr schuldet mir 399 Euro!!"),
    # personal data leaked or sold, and the worried questions; more money for less
    ("en", "Is my data safe? Did you guys get hacked?"),
    ("en", "you leaked my personal info to scammers"),
    ("en", "my credit card details were stolen, thanks to you"),
    ("en", "another data breach, seriously"),
    ("en", "Love paying more for less, thanks guys"),
    ("de", "Sind meine Daten jetzt im Netz? Wurdet ihr gehackt?"),
    ("de", "Meine Kreditkartendaten wurden gestohlen, danke dafür"),
    ("de", "Habt ihr etwa unsere Daten verkauft?"),
    ("de", "Schon wieder ein Datenleck bei euch"),
    ("de", "Mehr zahlen für weniger Leistung"),
    # late, not coming, broken down, chaos (GermEval 2017's dev split, 2026-12-08)
    ("de", "Lieferung kam zu spät"),
    ("de", "Aber die Bahn kommt niiiicht"),
    ("de", "Paket kam nicht."),
    ("de", "@DB_Bahn Ja, sind stehen geblieben"),
    ("de", "Totales Chaos an der Kasse"),
    ("de", "Das Netz ist seit Stunden lahmgelegt"),
    ("de", "unzuverlässig wie immer, danke"),
    # leaving, a post to take back, a leak told otherwise (heldout8 tuning seeds 1-4)
    ("en", "delete this post"),
    ("en", "you lost a loyal customer today"),
    ("en", "deleting my account, done with you"),
    ("en", "i'm switching to a competitor"),
    ("en", "unfollowing until they take responsibility"),
    ("en", "please answer, was my payment info exposed?"),
    ("en", "my password is on a leak site now"),
    ("en", "getting phishing emails since the hack"),
    ("en", "reporting you to the data protection authority"),
    ("de", "mail bekommen dass meine daten bei euch geleakt wurden"),
    ("de", "hacker haben meine daten"),
    ("de", "löscht mein konto"),
    ("de", "melde euch beim datenschutzbeauftragten"),
    ("de", "löscht diesen post"),
    ("de", "ich wechsle zur konkurrenz"),
    ("de", "ihr habt gerade einen treuen kunden verloren"),
    # how customers complain (the airline set's dev half, 2026-12-08)
    ("en", "stuck in line for 45 minutes"),
    ("en", "been trying to reach you for two days"),
    ("en", "can't get through to customer service"),
    ("en", "why won't you answer my emails"),
    ("en", "where is my refund"),
    ("en", "does anyone there even care"),
    ("en", "get your act together"),
    ("en", "I want a full refund"),
    ("en", "so frustrated with this app"),
    ("en", "fed up with this"),
    ("en", "not happy with the service"),
    ("en", "complete waste of my time"),
    ("en", "the app won't let me log in"),
    ("en", "they refused to help"),
    ("en", "Been on the phone for over an hour to fix my booking"),
    ("en", "after several hours of waiting on the phone"),
    ("en", "the agents say they are unable to help us"),
    ("en", "Can no one at Acme help me?"),
    ("en", "My whole family will NEVER fly Acme again."),
    ("en", "No way to treat loyal customers."),
    ("en", "Three hours on the tarmac. Way to treat your customers."),
    ("en", "after this experience I will NEVER EVER use you again."),
    ("en", "I'm not flying you again, if I can help it."),
    ("en", "I sent a DM two weeks ago and have heard nothing!"),
    ("en", "why did you book my hotel twice?!"),
    ("en", "Why do you keep moving my seat"),
    # leaving, what fails and again (heldout9's tuning seeds 1-8, 2026-12-08)
    ("en", "not buying from Acme Home Goods ever again after this"),
    ("en", "i'm done with this company"),
    ("en", "i used to defend acme. not anymore"),
    ("en", "how is this company still allowed to operate"),
    ("en", "great, now nothing loads at all"),
    ("en", "third outage this week"),
    ("de", "klasse, meine einstellungen sind weg"),
    ("de", "seit dem Update geht gar nix mehr"),
    ("de", "dritte Störung diese Woche"),
    ("de", "wie kann so eine firma noch existieren"),
    ("de", "heute noch wechsle ich den Anbieter, tschüss"),
    ("en", "read the interview. never spending a penny here again"),
    ("de", "hab die immer verteidigt. jetzt nicht mehr"),
    ("en", "how do i get a refund for the recalled charger"),
    ("de", "wie bekomm ich mein Geld für das zurückgerufene Ladegerät zurück"),
]

NOT_REPORTS = [
    ("en", "Picked up an air fryer on the way to work"),
    ("en", "Just ordered the new model, can't wait to try it out!"),
    ("en", "Delivered without delay, thanks a lot!"),
    ("en", "What time do you open on Sundays?"),
    ("en", "Love the new flavour, please never change it"),
    ("de", "Die neue App sieht gut aus"),
    ("de", "Auf dem Weg zur Arbeit noch die Kaffeemaschine geholt"),
    ("de", "Wann öffnet die Filiale am Samstag?"),
    ("en", "I can't stop eating these, so good"),
    ("en", "Stop by our store on Main Street this weekend"),
    ("en", "We will buy the bigger one next time"),
    ("en", "Never stop making this flavour"),
    ("de", "Ich höre auf zu rauchen, eure App hilft mir dabei"),
    ("de", "Wir kaufen nur noch bei euch"),
    ("de", "Ich kaufe jetzt schon zum dritten Mal"),
    # a person's own habit, loyalty, a wish, a sentence's subject: no call on the brand
    ("en", "Quit smoking last year thanks to your app"),
    ("en", "I can't wait until you do a collab with them"),
    ("en", "We will never shop anywhere else"),
    ("en", "Stop eating junk food, try our salads"),
    ("de", "Zum Schluss mit Freunden noch eine Pizza bei euch gegessen"),
    ("de", "Ich hör auf zu rauchen, eure App hilft mir dabei"),
    ("de", "Der Bus beendet die Fahrt heute am Bahnhof"),
    ("de", "Ich kaufe nicht mehr als zwei Packungen"),
    # down, but no service down; money, but not wanted back
    ("en", "calm down everyone, it's just a teaser"),
    ("en", "prices are down this week!"),
    ("en", "this brand never lets me down"),
    ("en", "Dont let me down, Acme!"),
    ("en", "tales handed down since the beginning of time"),
    ("en", "no outage for a year, impressive"),
    ("en", "pull the lever and see what happens"),
    ("en", "take it down a notch, guys"),
    ("de", "Entschuldigen Sie die Störung, wann öffnen Sie?"),
    ("de", "Ich habe mein Geld gut angelegt"),
    ("de", "läuft bei euch, weiter so!"),
    ("de", "Das geht mir nicht aus dem Kopf, so lecker"),
    ("en", "you owe me a beer for this tip lol"),
    ("en", "I can't log off, this game is too good"),
    ("de", "Ihr schuldet mir eine Pizza, hab die Wette gewonnen"),
    ("de", "Null Fehler, null Stress, alles angekommen"),
    # leaked, hacked, safe: not of someone's data
    ("en", "The new trailer leaked early, so hyped"),
    ("en", "I hacked my old controller into a lamp lol"),
    ("en", "Is my order safe to leave at the door?"),
    ("de", "Der Trailer wurde geleakt, ich freu mich so"),
    ("de", "Sind die Geschenke sicher vor Weihnachten da?"),
    ("de", "Es ist nie zu spät für Pizza"),
    ("de", "Das kommt nicht in Frage, wir bleiben euch treu"),
    ("de", "Kein Chaos heute, alles pünktlich"),
    ("en", "you lost me at the plot twist lol"),
    ("en", "my competitor analysis is due tomorrow"),
    ("de", "ich lösche mal meine alten Fotos"),
    ("en", "I can't wait to get mine"),
    ("en", "been a fan for 10 years"),
    ("en", "not disappointed at all, love it"),
    ("en", "why wouldn't you want one?"),
    ("en", "why don't you try the new flavour"),
    # fan talk the first drafts of these phrases caught (a review, 2026-12-08)
    ("en", "I have never been disappointed"),
    ("en", "You won't be disappointed!"),
    ("en", "Christmas shopping used to be a nightmare, your app makes it so easy"),
    ("en", "Nightmare Before Christmas collection is so cute, need it!"),
    ("en", "Spent a week in your hotel, will be back next year"),
    ("en", "Been using your face cream twice a day, skin is glowing"),
    ("en", "Arrived in line with the 2-3 days promised"),
    ("en", "Can't get through the week without your cold brew"),
    ("en", "My kids won't let me order from anywhere else now"),
    ("en", "I refuse to replace my 15 year old blender, still runs like new"),
    ("en", "Why isn't this in stores yet"),
    ("en", "I need an answer: which colour should I get?"),
    ("en", "I'll never get tired of this view"),
    ("en", "Definitely not a waste of money"),
    ("en", "What to do if you get hacked, saved this post"),
    ("en", "I'm on the phone with my mom for an hour every day lol"),
    ("en", "Can anyone help me pick a size?"),
    ("en", "Never using another brand again, this is the best"),
    ("en", "I have heard nothing but good things about your app"),
    ("en", "got nothing wrong with my order, all good"),
    ("en", "Why do I love this app so much"),
    ("en", "I'm done with my order, thanks"),
    ("en", "nothing works better than your cold brew"),
    ("de", "meine Bestellung ist schon weg, danke!"),
    ("de", "second time ordering and love it"),
    ("de", "Was soll das heißen?"),
    # a review of the first drafts found these read as complaints (2026-12-08)
    ("en", "Why did you change the logo? Just curious"),
    ("en", "We're done with the kitchen remodel, thanks to your tools!"),
    ("en", "got nothing to complain about"),
    ("en", "Nothing opens a bottle like this opener"),
    ("en", "I will never book with anyone else again"),
    ("en", "Two hours of waiting in line for the new phone, worth it!"),
    ("en", "How do I get a refund for the ticket I don't need anymore?"),
    ("en", "I was on the phone with my mom for two hours lol"),
    ("de", "Nichts geht mehr ohne euren Kaffee"),
    ("de", "Wir wechseln unseren Anbieter zu euch, freu mich!"),
    ("de", "Meine Tickets sind schon weg, ich hab sie verschenkt"),
    ("de", "Bin etwas zu spät dran, aber alles Gute zum Jubiläum!"),
    ("de", "Meine Daten wurden nie verkauft, vorbildlich"),
    ("de", "Der fährt nicht, der fliegt!"),
    # a delay said not to be (GermEval 2017's dev split, 2026-12-08)
    ("de", "Ein Lob an die Bahn, ohne eine Sekunde Verspätung angekommen"),
    ("de", "Zurzeit keine nennenswerten Verspätungen bei Bus und Bahn"),
]


@pytest.fixture(scope="module", params=["model", "lexicon"])
def scorer(request: pytest.FixtureRequest) -> MultilingualScorer:
    backends = {"negativity_en": request.param, "negativity_de": request.param}
    return negativity_scorer(Settings(**backends))


@pytest.mark.parametrize(("lang", "text"), REPORTS)
def test_a_report_of_a_failure_reads_negative_in_either_backend(
    scorer: MultilingualScorer, lang: str, text: str
) -> None:
    assert reports_failure(Tokens(text), lang), text
    assert scorer.score(text, lang) >= COMPLAINT_FLOOR, text
    # Without a language given, it is classified (or both languages read it).
    assert scorer.score(text, None) >= COMPLAINT_FLOOR, text


@pytest.mark.parametrize(("lang", "text"), NOT_REPORTS)
def test_everyday_talk_is_no_report(scorer: MultilingualScorer, lang: str, text: str) -> None:
    tokens = Tokens(text)
    assert not reports_failure(tokens, lang), text
    # Read as the language's own scorer reads it (the model reads "Delivered without
    # delay" as negative on its own, 0.71: not this floor's doing).
    own = scorer.english if lang == "en" else scorer.german
    assert scorer.score_tokens(tokens, lang) == own.score_tokens(tokens, lang), text


@pytest.mark.parametrize(
    "text",
    [
        "Flight delayed two hours but the crew was amazing, thank you so much!",
        # praise opening it, or "again" of a service restored, is no irony here
        "Perfect! Flight delayed 2 hours but the crew was amazing, thank you!",
        "Great job fixing the outage, everything works again!",
    ],
)
def test_a_failure_handled_well_is_not_floored(scorer: MultilingualScorer, text: str) -> None:
    assert reports_failure(Tokens(text), "en")
    assert scorer.score(text, "en") < 0.5


def test_a_plea_for_help_is_no_thanks(scorer: MultilingualScorer) -> None:
    # "please help" and "hope" read as positive to the lexicons; only thanks or praise
    # tell that a failure was handled well (read 0.00 before, 2026-12-08).
    text = "On hold for 2 hours & got disconnected! Please help!"
    assert reports_failure(Tokens(text), "en")
    assert scorer.score(text, "en") >= COMPLAINT_FLOOR


@pytest.mark.parametrize(
    "text",
    [
        "love that for us. down AGAIN 🙃",
        "servers are down for hours, great",
        "Flight delayed two hours, just great",
        "Die App ist schon wieder down, na toll",
        # praise opening the report, or praise for the work beside its repetition
        "@acme great. I just called your number and she hung up on me",
        "Super, schon wieder 20 Minuten Verspätung. Danke Bahn",
        "Great job leaking my data again 👏",
    ],
)
def test_a_failure_praised_with_irony_is_floored(scorer: MultilingualScorer, text: str) -> None:
    # Independent held-out streams: sarcastic storms read 21 % negative, opened nothing.
    assert scorer.score(text, None) >= COMPLAINT_FLOOR, text


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("@acme Thanks so much for ruining my vacation.", "en"),
        ("thank you for the vague copy-paste answer that ignores my question!", "en"),
        ("Vielen Dank für den miesen Service", "de"),
        # ... or waited for eagerly
        ("can't wait for the next outage", "en"),
        ("freu mich schon aufs nächste Desaster", "de"),
    ],
)
def test_thanks_for_a_harm_is_floored(scorer: MultilingualScorer, text: str, lang: str) -> None:
    # Sarcasm is praise on a negative situation: the lexicons add the two and the thanks
    # won ("Thanks so much for ruining my vacation" read 0.24; airline dev half).
    assert scorer.score(text, lang) >= COMPLAINT_FLOOR, text


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Thanks for the help with my delayed flight!", "en"),
        ("thanks for the warning about the strike", "en"),
        ("Danke für die schnelle Hilfe bei der Verspätung", "de"),
        ("can't wait to try the new flavour!", "en"),
        ("Ich freue mich auf das neue Album", "de"),
    ],
)
def test_thanks_for_help_is_thanks(scorer: MultilingualScorer, text: str, lang: str) -> None:
    # ... and a treat waited for is a treat
    assert scorer.score(text, lang) < 0.5, text


def test_other_languages_are_not_read_for_reports(scorer: MultilingualScorer) -> None:
    # English words inside French: the scorer reads no French, and no report either.
    text = "Mon colis est delayed, toujours rien"
    assert scorer.score(text, "fr") == 0.0
    assert not reports_failure(Tokens(text), "fr")


@settings(max_examples=200, deadline=None)
@given(
    st.text(min_size=0, max_size=80),
    st.sampled_from(["", " still waiting", " on hold", " Verspätung", " kaputt", "!"]),
    st.sampled_from(["en", "de"]),
)
def test_the_floor_only_raises_a_language_scorers_reading(text: str, tail: str, lang: str) -> None:
    multi = MultilingualScorer()
    own = multi.english if lang == "en" else multi.german
    tokens = Tokens(text + tail)
    reading = multi.score_tokens(tokens, lang)
    assert reading >= own.score_tokens(tokens, lang)
    if reading != own.score_tokens(tokens, lang) and not tokens.protest:
        assert reading == COMPLAINT_FLOOR


def _one_pattern(lang: str) -> re.Pattern[str]:
    entries = complaints._ENGLISH if lang == "en" else complaints._GERMAN
    return re.compile("|".join(f"(?:{pattern})" for _, pattern in entries))


def _vocabulary(lang: str) -> list[str]:
    entries = complaints._ENGLISH if lang == "en" else complaints._GERMAN
    words = {w for anchors, pattern in entries for w in anchors.split()}
    words |= {w for _, pattern in entries for w in re.findall(r"[a-zäöüß']+", pattern)}
    return sorted(words | {"the", "my", "acme", "heute", "2", "😡", "@acme"})


@settings(max_examples=400, deadline=None)
@given(st.data(), st.sampled_from(["en", "de"]))
def test_the_anchored_search_finds_what_one_pattern_finds(data: st.DataObject, lang: str) -> None:
    # Only anchored patterns are searched, for speed; none may be passed over, also
    # when words are glued by punctuation ("w/delays", "nicht,deshalb").
    words = data.draw(st.lists(st.sampled_from(_vocabulary(lang)), min_size=1, max_size=8))
    glue = data.draw(st.lists(st.sampled_from([" ", " ", ", ", "/", "...", "!! ", ","]),
                              min_size=len(words), max_size=len(words)))  # fmt: skip
    text = "".join(w + g for w, g in zip(words, glue, strict=True)).strip()
    tokens = Tokens(text)
    expected = _one_pattern(lang).search(tokens.lower) is not None
    assert reports_failure(tokens, lang) == expected, text


def test_a_polite_campaign_opens_an_incident_that_says_campaign() -> None:
    """Three hundred people pasting a polite German demand on one post of a brand of
    1,500 a day: read 0.22 a copy, it was no storm at all."""
    import orjson

    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.pipeline import Pipeline
    from tests.seeded_runs import background_comments

    comments = background_comments("hof", 1500, 12, lang="de", seed=2)
    start = comments[0]["created_at"] + 9 * 3600
    openers = ("", "Liebes Hof-Team, ", "Hallo Hof, ", "@hof ")
    tails = ("", " #TierversucheStoppen", " Danke.", " 🐰")
    campaign = [
        {"id": f"camp{i}", "brand": "hof", "thread_id": "hof-post-7", "lang": "de",
         "text": f"{openers[i % 4]}hört auf mit Tierversuchen, sofort! Wir kaufen nichts "
                 f"mehr von euch.{tails[i // 4 % 4]}",
         "created_at": start + i * 12.0, "author_id": f"person{i}"}
        for i in range(300)
    ]  # fmt: skip
    memory = MemoryAlertSink()
    pipeline = Pipeline(sinks=[memory])
    for c in sorted(comments + campaign, key=lambda c: c["created_at"]):
        pipeline.feed(orjson.dumps(c))
    pipeline.finish()
    opened = [e for e in memory.events if e.event == "opened" and e.at >= start]
    assert opened and opened[0].at < start + 1800, [(e.event, e.at - start) for e in opened]
    assert any(e.drivers.get("campaign") for e in memory.events if e.at >= start)

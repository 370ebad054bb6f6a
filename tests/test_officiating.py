"""Live commentary that curses the referee or the jury is no storm against the brand.

Independent held-out streams (2026-12-07): every live-event spike on a sponsor's
match-day post opened an incident, most of its negatives aimed at the referee
(`detectors/officiating.py`).
"""

from __future__ import annotations

import pytest

from stormwatch.detectors.negativity import build_scorer
from stormwatch.detectors.officiating import OFFICIATING_CAP
from tests.seeded_runs import crowd_on_a_post, opened_after


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Schiri, du Blinder!! 😭", "de"),
        ("Der Schiedsrichter pfeift heute alles kaputt", "de"),
        ("Die Jury ist doch gekauft, so eine Scheiße", "de"),
        ("worst refereeing I've ever seen", "en"),
        ("the ref is blind 😭😭", "en"),
        ("VAR is a joke, that was never offside", "en"),
        # a referee's calls (independent held-out streams, 2026-12-07)
        ("Unfassbar rote Karte!!! 😭", "de"),
        ("red card!!! 🤬", "en"),
        ("come on offside my ass 😱", "en"),
        ("OMG Schwalbe du Betrüger!", "de"),
        ("Elfmeter?! Niemals!!! 🤬", "de"),
        ("Leute, Was pfeift der da?! Unfassbar 🤬", "de"),
        ("Tja. der FCB spielt nur auf Zeit, peinlich 👎.", "de"),
        ("omg deren torwart ist eine gurke 🤬", "de"),
        ("IST DAS DEIN ERNST DAS WAR NIE EIN ELFER 🤬", "de"),
        ("the goalkeeper is useless tonight 🤬", "en"),
        # the side, its coach, the commentators (heldout8 tuning seeds, 2026-12-08)
        ("der trainer muss weg, furchtbare taktik", "de"),
        ("diese abwehr ist ein witz", "de"),
        ("schlechtestes spiel der saison", "de"),
        ("the keeper is useless today", "en"),
        ("the coach has to go, awful tactics", "en"),
        ("worst match of the season", "en"),
    ],
)
def test_anger_at_a_referee_or_jury_reads_under_the_threshold(text: str, lang: str) -> None:
    scorer = build_scorer()
    assert scorer.score(text, lang) <= OFFICIATING_CAP
    assert scorer.score(text, None) <= OFFICIATING_CAP


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # a reproach of the brand keeps its floor; a court's jury is no contest's
        ("Shame on you @acme for paying the refs", "en"),
        ("the jury found acme liable, disgusting", "en"),
        ("company officials lied to us, disgusting", "en"),
        ("my order ref 12345 never arrived, terrible service", "en"),
        ("booking ref: AB123, still no refund, disgusting", "en"),
        ("my red card payment was declined again, worst service", "en"),
        ("the halftime show was trash, shame on you Pepsi", "en"),
        ("your halftime ad was disgusting", "en"),
        ("Meine Mannschaft im Büro ist sauer, weil euer Server down ist", "de"),
        ("your support team is a joke", "en"),
        # a store's manager, workers on strike, a brand's own goal, a ship's crew
        ("The store manager needs to go, she was so rude to my kids", "en"),
        ("Your defense of this racist ad is pathetic", "en"),
        ("Your treatment of the strikers is disgusting", "en"),
        ("Die Werbung war ein Eigentor, widerlich", "de"),
        ("Eure Abwehr gegen Hacker ist ein Witz", "de"),
    ],
)
def test_anger_at_the_brand_stays_negative(text: str, lang: str) -> None:
    assert build_scorer().score(text, lang) >= 0.5


def test_a_match_that_curses_the_referee_opens_no_incident_at_its_sponsor() -> None:
    cursing = [
        "Schiri, du Blinder!!", "Der Schiri pfeift heute alles kaputt",
        "Was pfeift der Schiedsrichter da, unfassbar", "TOOOR!!! ⚽⚽", "Was für ein Spiel!",
    ]  # fmt: skip
    comments, start = crowd_on_a_post(cursing, "stadtwerk", per_day=1200, lang="de", seed=3)
    assert opened_after(comments, start) == []
    # The same crowd angry at the brand is a storm.
    angry = [
        "Stadtwerk, ihr seid eine Schande!!", "Nie wieder Stadtwerk, Abzocke",
        "Was macht ihr da, unfassbar", "TOOOR!!! ⚽⚽", "Was für ein Spiel!",
    ]  # fmt: skip
    comments, start = crowd_on_a_post(angry, "stadtwerk", per_day=1200, lang="de", seed=3)
    assert opened_after(comments, start)

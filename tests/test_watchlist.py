"""The watchlist's rule: where a comment was written decides, else its text does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stormwatch.exceptions import ConfigError
from stormwatch.ingest.watchlist import Watchlist

WATCHLIST = """
brands:
  acme:
    pages: ["1001"]
    accounts: ["@Acme", "acme_help"]
    channels: ["UCacme"]
    keywords: ["acme", "acme bank"]
    hashtags: ["#acmefail"]
  globex:
    pages: ["2002"]
    keywords: ["globex"]
    hashtags: ["globexdown"]
    languages: ["de"]
  initech:
    keywords: ["initech"]
"""


@pytest.fixture
def watchlist(tmp_path: Path) -> Watchlist:
    path = tmp_path / "watchlist.yaml"
    path.write_text(WATCHLIST)
    return Watchlist.load(path)


@pytest.mark.parametrize(
    ("where", "text", "lang", "brands"),
    [
        ({"page_id": "1001"}, "globex is better", None, ["acme"]),  # owned page decides
        ({"page_id": "2002"}, "acme!", "en", ["globex"]),  # languages filter text only
        ({"account": "ACME"}, "", None, ["acme"]),  # handles: any case, "@" optional
        ({"account": "@acme_help"}, "x", None, ["acme"]),
        ({"channel_id": "UCacme"}, "x", None, ["acme"]),
        ({}, "Acme and Initech both down", "en", ["acme", "initech"]),  # two brands
        ({}, "acme and globex", "de", ["acme", "globex"]),
        ({}, "acme and globex", "en", ["acme"]),  # globex watches German only
        ({}, "acme and globex", None, ["acme", "globex"]),  # unknown language: kept
        ({}, "#AcmeFail again", None, ["acme"]),
        ({}, "#globexdown seit heute", "de", ["globex"]),
        ({}, "acmes and macme are not acme's", None, ["acme"]),  # whole words: "acme's"
        ({}, "acmes only", None, []),
        ({"page_id": "999"}, "nothing", None, []),
    ],
)
def test_brands_for(
    watchlist: Watchlist, where: dict, text: str, lang: str | None, brands: list[str]
) -> None:
    assert watchlist.brands_for(text=text, lang=lang, **where) == brands


def test_a_comment_about_two_brands_counts_for_both_with_stable_ids(watchlist: Watchlist) -> None:
    record = {"id": "c1", "text": "acme and initech"}
    brands = watchlist.brands_for(text=record["text"])
    copies = watchlist.records_for(record, brands)
    assert [(c["id"], c["brand"]) for c in copies] == [
        ("acme:c1", "acme"),
        ("initech:c1", "initech"),
    ]
    assert watchlist.records_for(record, brands) == copies  # a redelivery dedupes
    assert watchlist.records_for(record, ["acme"]) == [{**record, "brand": "acme"}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"brands": {"a": {"pages": ["1"]}, "b": {"pages": ["1"]}}}, "belongs to both"),
        ({"brands": {"a": {"page": ["1"]}}}, "unknown key 'page'"),
        ({"brand": {}}, "expected a top-level 'brands:'"),
        ({"brands": {"a": {"keywords": [{"x": 1}]}}}, "list of strings"),
    ],
)
def test_invalid_watchlists_name_the_problem(tmp_path: Path, data: dict, message: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=message):
        Watchlist.load(path)

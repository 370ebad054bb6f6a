"""The watchlist: which brand a mention belongs to.

```yaml
brands:
  acme:
    pages: ["104392837465"]        # Facebook Page / Instagram account ids it owns
    accounts: ["acme", "acme_help"] # handles it owns (any platform; "@" optional)
    channels: ["UCx8Yz0acme"]       # YouTube channel ids, subreddits, Mastodon accounts
    keywords: ["acme", "acme bank"] # mentions in text (whole words, any case)
    hashtags: ["#acme"]
    languages: ["en", "de"]         # keyword and hashtag matches only in these (empty: any)
```

The rule (`brands_for`): where a comment was written decides first — on a page,
account or channel a brand owns, it is that brand's comment, whatever its text says.
Elsewhere its text decides: every brand whose keyword or hashtag it contains, in the
watchlist's order, except brands whose `languages` exclude the comment's language. A
comment about two brands is a mention of both (`records_for` gives one record per brand).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stormwatch.exceptions import ConfigError

FIELDS = ("pages", "accounts", "channels", "keywords", "hashtags", "languages")


def _handle(value: str) -> str:
    return value.strip().removeprefix("@").casefold()


@dataclass(frozen=True, slots=True)
class BrandWatch:
    brand: str
    pages: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    hashtags: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def mentioned_in(self, text: str, lang: str | None) -> bool:
        if self.languages and lang is not None and lang.casefold() not in self.languages:
            return False
        if self._pattern is not None and self._pattern.search(text):
            return True
        if self.hashtags:
            tags = {t.casefold() for t in re.findall(r"#\w+", text)}
            return not self.hashtags.isdisjoint(tags)
        return False


class Watchlist:
    """Brands and what identifies them.

    >>> w = Watchlist.from_mapping({"brands": {
    ...     "acme": {"pages": ["111"], "keywords": ["acme"]},
    ...     "globex": {"keywords": ["globex"], "hashtags": ["#globexfail"]}}})
    >>> w.brands_for(page_id="111", text="globex is worse")
    ['acme']
    >>> w.brands_for(text="ACME and Globex both down")
    ['acme', 'globex']
    >>> w.brands_for(text="so slow #GlobexFail")
    ['globex']
    >>> w.brands_for(text="nothing here")
    []
    """

    def __init__(self, brands: Iterable[BrandWatch]) -> None:
        self.brands = list(brands)
        self.by_page: dict[str, str] = {}
        self.by_account: dict[str, str] = {}
        self.by_channel: dict[str, str] = {}
        for watch in self.brands:
            for table, values, what in (
                (self.by_page, watch.pages, "page"),
                (self.by_account, watch.accounts, "account"),
                (self.by_channel, watch.channels, "channel"),
            ):
                for value in values:
                    other = table.setdefault(value, watch.brand)
                    if other != watch.brand:
                        raise ConfigError(
                            f"watchlist: {what} {value!r} belongs to both {other!r} and "
                            f"{watch.brand!r}; a {what} has one owner"
                        )

    @classmethod
    def load(cls, path: str | Path) -> Watchlist:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"watchlist {path} not found") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"watchlist {path}: {exc}") from None
        except RecursionError:  # lists nested thousands deep: PyYAML builds them recursively
            raise ConfigError(f"watchlist {path}: nested too deep") from None
        return cls.from_mapping(data, where=str(path))

    @classmethod
    def from_mapping(cls, data: Any, *, where: str = "watchlist") -> Watchlist:
        if not isinstance(data, Mapping) or not isinstance(data.get("brands"), Mapping):
            raise ConfigError(f"{where}: expected a top-level 'brands:' mapping")
        unknown = sorted(set(data) - {"brands"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: brands)")
        brands = []
        for brand, spec in data["brands"].items():
            spec = spec or {}
            if not isinstance(brand, str) or not brand or not isinstance(spec, Mapping):
                raise ConfigError(f"{where}: brand {brand!r} needs a mapping of {FIELDS}")
            bad = sorted(set(spec) - set(FIELDS))
            if bad:
                raise ConfigError(
                    f"{where}: brands.{brand}: unknown key {bad[0]!r} (known: {', '.join(FIELDS)})"
                )
            lists = {}
            for name in FIELDS:
                values = spec.get(name) or []
                if isinstance(values, str | int):
                    values = [values]
                if not isinstance(values, list) or not all(
                    isinstance(v, str | int) and str(v).strip() for v in values
                ):
                    raise ConfigError(f"{where}: brands.{brand}.{name} must be a list of strings")
                lists[name] = [str(v).strip() for v in values]
            keywords = tuple(k.casefold() for k in lists["keywords"])
            pattern = (
                re.compile(
                    r"(?<!\w)(?:" + "|".join(re.escape(k) for k in keywords) + r")(?!\w)",
                    re.IGNORECASE,
                )
                if keywords
                else None
            )
            brands.append(
                BrandWatch(
                    brand=brand,
                    pages=frozenset(lists["pages"]),
                    accounts=frozenset(_handle(a) for a in lists["accounts"]),
                    channels=frozenset(lists["channels"]),
                    keywords=keywords,
                    hashtags=frozenset(
                        "#" + h.strip().removeprefix("#").casefold() for h in lists["hashtags"]
                    ),
                    languages=frozenset(x.casefold() for x in lists["languages"]),
                    _pattern=pattern,
                )
            )
        return cls(brands)

    def brand_of_page(self, page_id: str | None) -> str | None:
        return self.by_page.get(str(page_id)) if page_id is not None else None

    def brands_for(
        self,
        *,
        page_id: str | None = None,
        account: str | None = None,
        channel_id: str | None = None,
        text: str | None = None,
        lang: str | None = None,
    ) -> list[str]:
        """The brands a comment belongs to (see the module doc for the rule)."""
        owner = (
            self.brand_of_page(page_id)
            or (self.by_account.get(_handle(account)) if account else None)
            or (self.by_channel.get(channel_id) if channel_id else None)
        )
        if owner is not None:
            return [owner]
        if not text:
            return []
        return [w.brand for w in self.brands if w.mentioned_in(text, lang)]

    def records_for(self, record: dict[str, Any], brands: list[str]) -> list[dict[str, Any]]:
        """The record once per brand. With one brand it keeps its id; a mention of several
        brands gets `brand:id` per brand (the pipeline dedupes by id, and each brand must
        count it), the same on every redelivery.

        >>> Watchlist([]).records_for({"id": "c1"}, ["acme", "globex"])
        [{'id': 'acme:c1', 'brand': 'acme'}, {'id': 'globex:c1', 'brand': 'globex'}]
        """
        if len(brands) == 1:
            return [{**record, "brand": brands[0]}]
        return [{**record, "id": f"{b}:{record.get('id')}", "brand": b} for b in brands]

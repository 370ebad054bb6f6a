"""RSS/Atom feeds (blogs, news, comment feeds) → records in the input contract.

Each poll fetches the feed with `feedparser` (conditional GET with the last ETag and
Last-Modified: a 304 costs nothing) and yields the entries not seen before. The cursor —
per feed: ETag, Last-Modified and the ids of the newest entries — lives in a JSON file,
replaced atomically by `commit()` once the caller has delivered the records, so a
restart neither re-reads nor loses entries (a crash between delivery and commit re-reads
them; the pipeline dedupes by id).

Mapping: `id` ← the entry's id (else its link), `text` ← title and summary without HTML,
`created_at` ← published (else updated) time, `thread_id` ← the feed's URL (one feed, one
conversation: a comment feed is one post's comments), `author_id` ← author,
`platform` ← `blog`, `brand` ← the feed's brand, else the watchlist by text (a mention of
two brands goes to both).
"""

from __future__ import annotations

import calendar
import html
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stormwatch.ingest.page_collector import Page, collected_text
from stormwatch.ingest.watchlist import Watchlist

PLATFORM = "blog"  # the `platform` of its records (a metrics label of its own)

SEEN_PER_FEED = 2000  # ids remembered per feed: far more than any feed lists at once
MAX_FEED_BYTES = 20_000_000  # a feed document larger than this is refused, not read on
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


class FeedError(Exception):
    """A feed could not be fetched or parsed (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Feed:
    url: str
    brand: str | None = None


def _plain(text: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def entry_record(entry: Any, feed: Feed) -> dict[str, Any] | None:
    """The record of one feedparser entry, None when it has no id and no link."""
    ident = entry.get("id") or entry.get("link")
    if not ident:
        return None
    parts = [entry.get("title") or "", entry.get("summary") or ""]
    text = _plain(" — ".join(p for p in parts if p))
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    return {
        "id": str(ident),
        "text": collected_text(text),
        "created_at": calendar.timegm(when) if when else None,  # none: dead-lettered
        "thread_id": feed.url,
        "author_id": entry.get("author") or None,
        "platform": PLATFORM,
    }


class RssCollector:
    def __init__(
        self,
        feeds: list[Feed],
        cursor_path: Path,
        *,
        watchlist: Watchlist | None = None,
        agent: str = "stormwatch (+https://github.com/stormwatch)",
        timeout: float = 30.0,
    ) -> None:
        self.feeds = feeds
        self.cursor_path = cursor_path
        self.watchlist = watchlist
        self.agent = agent
        self.timeout = timeout
        self.cursor: dict[str, dict[str, Any]] = {}
        if cursor_path.exists():
            try:
                self.cursor = json.loads(cursor_path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise FeedError(f"cursor file {cursor_path} is not JSON: {exc}") from None
        self._pending: dict[str, dict[str, Any]] = {}

    def poll(self) -> Iterator[dict[str, Any]]:
        """New records of every feed; `commit()` after delivering them. FeedError at the
        end when a feed failed (`pages`)."""
        for page in self.pages():
            yield from page.records

    def pages(self) -> Iterator[Page]:
        """One page per feed, for the page loop (`poll_once`, `serve`'s collectors):
        deliver it, then `commit()`. A feed that fails (gone, refused, not a feed) is
        skipped, and FeedError names the failed ones once the others were read: one dead
        feed stopped every feed after it, at every poll."""
        failed: list[str] = []
        self._pending = {}  # a feed whose page was not delivered is read again
        for feed in self.feeds:
            try:
                records = list(self._poll_feed(feed))
            except FeedError as exc:
                failed.append(str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - feedparser fails on garbage its own way
                # (UnicodeEncodeError on "&#55357;", a half emoji as an entity): that feed
                # fails, not every feed after it.
                failed.append(f"{feed.url}: {type(exc).__name__}: {exc}")
                continue
            yield Page(records=records)
        if failed:
            raise FeedError("; ".join(failed))

    def check(self) -> str:
        """One plain GET per feed (no ETag: the body must parse): each answers as a feed."""
        entries = 0
        for feed in self.feeds:
            parsed = self._fetch(feed, None, None)
            if not parsed.get("version"):
                raise FeedError(f"{feed.url}: not an RSS or Atom feed")
            entries += len(parsed.entries)
        return f"rss: {len(self.feeds)} feed(s) answered, {entries} entries listed"

    def _fetch(self, feed: Feed, etag: str | None, modified: str | None) -> Any:
        """The parsed feed (its `status` 304 when unchanged); FeedError when refused.

        Fetched with httpx, parsed by feedparser: feedparser's own fetch (urllib) has no
        time-out, and a feed that accepts the connection and never answers held the
        collector (and every feed after it) for good."""
        import feedparser  # here: `stormwatch --help` need not load it
        import httpx

        if not feed.url.lower().startswith(("http://", "https://")):
            parsed = feedparser.parse(feed.url)  # a file: no network to wait on
            if parsed.get("bozo") and not parsed.entries:
                raise FeedError(f"{feed.url}: {parsed.get('bozo_exception')}")
            return parsed
        headers = {"User-Agent": self.agent}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        # The time-out bounds the whole fetch, not each read: a feed trickling a byte
        # at a time would pass every read's.
        deadline = time.monotonic() + self.timeout
        body = bytearray()
        try:
            with httpx.stream(
                "GET", feed.url, headers=headers, timeout=self.timeout, follow_redirects=True
            ) as response:
                for chunk in response.iter_bytes():
                    body += chunk
                    if time.monotonic() > deadline:
                        raise FeedError(f"{feed.url}: no whole answer in {self.timeout:g} s")
                    if len(body) > MAX_FEED_BYTES:
                        raise FeedError(f"{feed.url}: larger than {MAX_FEED_BYTES:,} bytes")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FeedError(f"{feed.url}: {exc or type(exc).__name__}") from None
        status = response.status_code
        if status >= 400:
            raise FeedError(f"{feed.url}: HTTP {status}")
        if status == 304:
            return feedparser.FeedParserDict(status=304, entries=[])
        lowered = {k.lower(): v for k, v in response.headers.items()}
        lowered.pop("content-encoding", None)  # httpx has decoded the body already
        lowered.setdefault("content-location", str(response.url))  # base of relative links
        parsed = feedparser.parse(bytes(body), response_headers=lowered)
        parsed["status"] = status
        if lowered.get("etag"):
            parsed["etag"] = lowered["etag"]
        if lowered.get("last-modified"):
            parsed["modified"] = lowered["last-modified"]
        if parsed.get("bozo") and not parsed.entries:
            raise FeedError(f"{feed.url}: {parsed.get('bozo_exception')}")
        return parsed

    def _poll_feed(self, feed: Feed) -> Iterator[dict[str, Any]]:
        state = self.cursor.get(feed.url, {})
        parsed = self._fetch(feed, state.get("etag"), state.get("modified"))
        if parsed.get("status") == 304:
            return
        seen = list(state.get("seen", []))
        known = set(seen)
        fresh: list[str] = []
        # Oldest first: feeds list the newest on top.
        for entry in reversed(parsed.entries):
            record = entry_record(entry, feed)
            if record is None or record["id"] in known:
                continue
            known.add(record["id"])
            fresh.append(record["id"])
            yield from self._with_brand(record, feed)
        self._pending[feed.url] = {
            "etag": parsed.get("etag") or state.get("etag"),
            "modified": parsed.get("modified") or state.get("modified"),
            "seen": (seen + fresh)[-SEEN_PER_FEED:],
        }

    def _with_brand(self, record: dict[str, Any], feed: Feed) -> Iterator[dict[str, Any]]:
        if feed.brand is not None:
            yield {**record, "brand": feed.brand}
            return
        brands = self.watchlist.brands_for(text=record["text"]) if self.watchlist else []
        if not brands:
            yield record  # no brand: the decoder dead-letters it, visibly
            return
        yield from self.watchlist.records_for(record, brands)  # type: ignore[union-attr]

    def commit(self) -> None:
        """Persist the cursor of what `poll()` returned (atomically)."""
        if not self._pending:
            return
        self.cursor.update(self._pending)
        self._pending = {}
        self.cursor_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cursor_path.parent, prefix=".cursor-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self.cursor, out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.cursor_path)

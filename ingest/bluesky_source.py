"""Bluesky posts and replies matching the watchlist → records in the input contract.

Polls `app.bsky.feed.searchPosts` (sort `latest`) through the `atproto` client, logged in
with a handle and an app password. Each query — `--query`, else every keyword and
hashtag of the watchlist — is read in scans: newest first along the response's `cursor`
back to `since`, `OVERLAP` before the newest `sortAt` already delivered, skipping the ids
delivered from there on (`seen`). Search results go back in time, so a scan's progress
is kept by time too: after each delivered page the cursor file holds the scan's newest
and oldest `sortAt` so far (and the ids at each), and a restart resumes the scan with
`since` and `until` filters rather than the server's `cursor`, which may be an offset that
new posts have moved. Without a cursor file a query starts with its newest page.

Rate limits: a 429 waits for `Retry-After`, else `ratelimit-reset`, else 2, 4, 8 ... s,
and retries; a page answered with `ratelimit-remaining: 0` makes the next request wait
for `ratelimit-reset`.

Mapping: `id` ← the post's `at://` URI, `text`, `created_at` ← the record's `createdAt`,
`thread_id` ← `reply.root` (the post itself when it starts a thread), `parent_id` ←
`reply.parent`, `author_id` ← the author's DID, `lang` ← the first of `langs`, `platform`
← `bluesky`. Brand: `--brand`, else the watchlist: a post naming an account a brand owns
(`@handle` in its text) is that brand's; otherwise its text decides. A post the client's
`PostView` model rejects, one without a readable `indexedAt`, one whose record has no text
or no valid `createdAt`, and one matching no brand become dead letters with their reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from stormwatch.ingest.page_collector import CollectorError, CursorFile, Page, dead_letter_item
from stormwatch.ingest.watchlist import Watchlist
from stormwatch.retry_after import retry_after_seconds

PLATFORM = "bluesky"  # the `platform` of its records (a metrics label of its own)

PAGE_LIMIT = 100  # the most searchPosts returns per page
MAX_WAIT_S = 300.0  # never sleep longer than this for a rate limit
MAX_RETRIES = 8  # 429s in a row before a request is given up
HANDLE_ENV = "STORMWATCH_BLUESKY_HANDLE"
PASSWORD_ENV = "STORMWATCH_BLUESKY_APP_PASSWORD"
_HANDLE_IN_TEXT = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9.-]*[a-z0-9])", re.IGNORECASE)


def queries_of(watchlist: Watchlist) -> list[str]:
    """Search queries covering a watchlist: its keywords and hashtags, each once.

    >>> queries_of(Watchlist.from_mapping({"brands": {"acme": {
    ...     "keywords": ["acme", "acme bank"], "hashtags": ["#acme", "acmefail"]}}}))
    ['acme', 'acme bank', '#acme', '#acmefail']
    """
    out: list[str] = []
    for watch in watchlist.brands:
        for query in [*watch.keywords, *sorted(watch.hashtags)]:
            if query not in out:
                out.append(query)
    return out


def _when(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string; None when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# Each scan reads this far back below the newest post it delivered before: search orders
# by sortAt, the earlier of createdAt and indexedAt, so a post from a phone whose clock
# runs behind, or indexed late, sorts below posts already collected; without the overlap
# it lay below `since` for good. The ids delivered within it are remembered and skipped.
OVERLAP = timedelta(minutes=5)
SEEN_LIMIT = 5000  # ids remembered within the overlap (a busy query's five minutes)


@dataclass(slots=True)
class _Scan:
    """One pass from the newest post back to `since`; what it delivered so far."""

    since: datetime | None  # everything before here was delivered by earlier scans
    seen: dict[str, datetime]  # ... and these ids from `since` on (id -> sortAt)
    top: datetime | None = None  # newest sortAt delivered by this scan
    top_seen: set[str] = field(default_factory=set)
    until: datetime | None = None  # oldest sortAt delivered by this scan
    until_seen: set[str] = field(default_factory=set)
    resumed_until: datetime | None = None  # where the interrupted scan had got to
    resumed_seen: frozenset[str] = frozenset()
    uris: dict[str, datetime] = field(default_factory=dict)  # delivered by this scan
    read_to_end: bool = False  # no older page was left (a first scan may stop at one)

    @classmethod
    def load(cls, state: dict[str, Any]) -> _Scan:
        since = _when(state.get("since"))
        saved_seen = state.get("seen", [])
        if isinstance(saved_seen, dict):
            seen = {u: t for u, t in ((u, _when(t)) for u, t in saved_seen.items()) if t}
        else:  # a cursor from before the overlap: the ids at exactly `since`
            seen = dict.fromkeys(saved_seen, since) if since is not None else {}
        scan = cls(since, seen)  # type: ignore[arg-type]
        saved = state.get("scan") or {}
        scan.top, scan.top_seen = _when(saved.get("top")), set(saved.get("top_seen", []))
        scan.until, scan.until_seen = _when(saved.get("until")), set(saved.get("until_seen", []))
        scan.resumed_until, scan.resumed_seen = scan.until, frozenset(scan.until_seen)
        # What the interrupted scan delivered within the overlap below its top: the
        # next scan reads back over it and must know them.
        delivered = saved.get("delivered") or {}
        scan.uris = {u: t for u, t in ((u, _when(t)) for u, t in delivered.items()) if t}
        return scan

    def delivered(self, uri: str, sort_at: datetime) -> bool:
        if uri in self.uris:
            return True  # offset cursors repeat a post when new ones arrive on top
        if self.since is not None and (sort_at < self.since or uri in self.seen):
            return True
        until = self.resumed_until
        return until is not None and (
            sort_at > until or (sort_at == until and uri in self.resumed_seen)
        )

    def note(self, uri: str, sort_at: datetime) -> None:
        self.uris[uri] = sort_at
        if self.top is None or sort_at > self.top:
            self.top, self.top_seen = sort_at, {uri}
        elif sort_at == self.top:
            self.top_seen.add(uri)
        if self.until is None or sort_at < self.until:
            self.until, self.until_seen = sort_at, {uri}
        elif sort_at == self.until:
            self.until_seen.add(uri)

    def _seen_json(self, seen: dict[str, datetime]) -> dict[str, str]:
        newest = sorted(seen.items(), key=lambda item: item[1])[-SEEN_LIMIT:]
        return {u: _iso(t) for u, t in sorted(newest)}

    def in_progress(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "since": _iso(self.since) if self.since else None,
            "seen": self._seen_json(self.seen),
        }
        if self.top is not None and self.until is not None:
            below = self.top - OVERLAP
            state["scan"] = {
                "top": _iso(self.top),
                "top_seen": sorted(self.top_seen),
                "until": _iso(self.until),
                "until_seen": sorted(self.until_seen),
                "delivered": self._seen_json({u: t for u, t in self.uris.items() if t >= below}),
            }
        return state

    def finished(self) -> dict[str, Any]:
        if self.top is None:
            return {"since": _iso(self.since) if self.since else None,
                    "seen": self._seen_json(self.seen)}  # fmt: skip
        # Never below what the scans read: the last one's `since`, or the bottom of a
        # first scan (a query starts with its newest page, older posts left alone).
        since = self.top - OVERLAP
        floor = self.since
        if floor is None and not self.read_to_end:
            floor = self.until
        if floor is not None and floor > since:
            since = floor
        seen = {u: t for u, t in (*self.seen.items(), *self.uris.items()) if t >= since}
        return {"since": _iso(since), "seen": self._seen_json(seen)}


@dataclass(slots=True)
class _SearchPage:
    cursor: Any
    size: int  # posts in the answer, valid or not
    posts: list[Any] = field(default_factory=list)  # PostView models
    invalid: list[tuple[Any, str]] = field(default_factory=list)  # (raw post, why)


class BlueskyCollector:
    """Search results of Bluesky queries, page by page (see the module doc)."""

    def __init__(
        self,
        base_url: str,
        handle: str,
        app_password: str,
        queries: list[str],
        cursor_path: Path,
        *,
        watchlist: Watchlist | None = None,
        brand: str | None = None,
        page_limit: int = PAGE_LIMIT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from atproto import Client

        self.base_url = base_url.rstrip("/")
        self.handle = handle
        self.queries = queries
        self.watchlist = watchlist
        self.brand = brand
        self.page_limit = page_limit
        self.sleep = sleep
        self.throttled = 0  # 429 answers waited out
        self._resume_at = 0.0  # wall clock time before which no request is sent
        self.client = Client(base_url=self.base_url)
        self.cursor_file = CursorFile(cursor_path)
        self.cursor = self.cursor_file.load()
        self._pending: dict[str, dict[str, Any]] = {}
        self._request(
            lambda: self.client.login(handle, app_password, fetch_bsky_profile=False),
            "login",
        )

    def _request(self, call: Callable[[], Any], what: str) -> Any:
        """One XRPC call, waiting out rate limits; errors as one-line CollectorErrors."""
        from atproto.exceptions import AtProtocolError, RateLimitExceededError

        backoff = 2.0
        for _ in range(MAX_RETRIES + 1):
            wait = self._resume_at - time.time()
            if wait > 0:
                self.sleep(min(wait, MAX_WAIT_S))
            try:
                return call()
            except RateLimitExceededError as exc:
                self.throttled += 1
                headers = exc.response.headers if exc.response is not None else {}
                retry = retry_after_seconds(headers.get("retry-after"), None, longest=MAX_WAIT_S)
                if retry is None and exc.reset_at is not None:
                    retry = (exc.reset_at - datetime.now(UTC)).total_seconds()
                if retry is None or retry <= 0:
                    retry, backoff = backoff, min(backoff * 2, MAX_WAIT_S)
                self._resume_at = time.time() + min(retry, MAX_WAIT_S)
            except AtProtocolError as exc:
                raise CollectorError(f"bluesky {self.base_url}: {what}: {exc}") from None
        raise CollectorError(f"bluesky {self.base_url}: {what}: still rate-limited, gave up")

    def check(self) -> str:
        """The login (done when built) and one search for one post: the password, the
        server and its search answer."""
        query = self.queries[0]
        params = {"q": query, "sort": "latest", "limit": 1}
        self._request(lambda: self._search(params), f"search {query!r}")
        return (
            f"bluesky {self.base_url}: logged in as {self.handle}, search answers, "
            f"{len(self.queries)} query(ies)"
        )

    def _search(self, params: dict[str, Any]) -> _SearchPage:
        """searchPosts, keeping the rate-limit headers the typed call would drop, and
        parsing each post on its own: one post the client's models reject is one dead
        letter, not a page that can never be read."""
        from atproto import models
        from atproto.exceptions import ModelError
        from atproto_client.models.utils import get_or_create

        response = self.client.invoke_query(
            "app.bsky.feed.searchPosts",
            params=models.AppBskyFeedSearchPosts.Params(**params),
            output_encoding="application/json",
        )
        headers = response.headers
        if headers.get("ratelimit-remaining") == "0" and headers.get("ratelimit-reset"):
            try:
                self._resume_at = float(headers["ratelimit-reset"])
            except ValueError:
                pass
        content = response.content
        if not isinstance(content, dict) or not isinstance(content.get("posts"), list):
            raise CollectorError(f"bluesky {self.base_url}: searchPosts answered without posts")
        page = _SearchPage(cursor=content.get("cursor") or None, size=len(content["posts"]))
        for raw in content["posts"]:
            try:
                page.posts.append(get_or_create(raw, models.AppBskyFeedDefs.PostView, strict=True))
            except ModelError as exc:
                page.invalid.append((raw, _validation_summary(exc)))
        return page

    def pages(self) -> Iterator[Page]:
        """Each query's new posts, one search page at a time; `commit()` after delivering
        each page."""
        self._pending = {}  # a page that was not delivered is read again, not committed
        for query in self.queries:
            yield from self._query_pages(query)

    def _query_pages(self, query: str) -> Iterator[Page]:
        key = f"q:{query}"
        scan = _Scan.load(self.cursor.get(key, {}))
        first_run = scan.since is None and scan.top is None
        params: dict[str, Any] = {"q": query, "sort": "latest", "limit": self.page_limit}
        if scan.since is not None:
            params["since"] = _iso(scan.since)  # inclusive: the ids in `seen` are skipped
        if scan.resumed_until is not None:  # `until` is exclusive: one ms past it
            params["until"] = _iso(scan.resumed_until + timedelta(milliseconds=1))
        source = f"bluesky:{self.base_url}:{key}"
        while True:
            response = self._request(lambda p=dict(params): self._search(p), f"search {query!r}")
            out = Page()
            for raw, why in response.invalid:
                out.dead_letters.append(dead_letter_item(raw, "invalid_post", why, source))
            for post in reversed(response.posts):  # oldest first, as other collectors
                sort_at = _sort_at(post)
                if sort_at is None:  # never noted: it cannot move the scan's bounds
                    detail = f"indexedAt {post.indexed_at!r} is not ISO 8601"
                    raw = _post_json(post)
                    out.dead_letters.append(
                        dead_letter_item(raw, "invalid_timestamp", detail, source)
                    )
                    continue
                if scan.delivered(post.uri, sort_at):
                    continue
                scan.note(post.uri, sort_at)
                self._map(post, source, out)
            scan.read_to_end = not response.size or not isinstance(response.cursor, str)
            finished = first_run or scan.read_to_end
            self._pending[key] = scan.finished() if finished else scan.in_progress()
            yield out
            if finished:
                return
            params["cursor"] = response.cursor

    def _map(self, post: Any, source: str, out: Page) -> None:
        record = post.record
        text = getattr(record, "text", None)
        created = getattr(record, "created_at", None)
        raw = _post_json(post)
        if not isinstance(text, str):
            out.dead_letters.append(dead_letter_item(raw, "missing_field", "no text", source))
            return
        if _when(created) is None:
            detail = f"createdAt {created!r} is missing or not ISO 8601"
            out.dead_letters.append(dead_letter_item(raw, "invalid_timestamp", detail, source))
            return
        reply = getattr(record, "reply", None)
        langs = getattr(record, "langs", None) or []
        item = {
            "id": post.uri,
            "text": text,
            "created_at": created,
            "thread_id": _ref_uri(reply, "root") or post.uri,
            "parent_id": _ref_uri(reply, "parent"),
            "author_id": post.author.did,
            "lang": langs[0] if langs and isinstance(langs[0], str) else None,
            "platform": PLATFORM,
        }
        brands = self._brands(text, item["lang"])
        if not brands:
            detail = "no watchlist brand matches its handles or text"
            out.dead_letters.append(dead_letter_item(raw, "no_brand", detail, source))
        elif len(brands) == 1:
            out.records.append({**item, "brand": brands[0]})
        else:
            out.records.extend(self.watchlist.records_for(item, brands))  # type: ignore[union-attr]

    def _brands(self, text: str, lang: str | None) -> list[str]:
        if self.brand is not None:
            return [self.brand]
        if self.watchlist is None:
            return []
        owners: list[str] = []
        for handle in _HANDLE_IN_TEXT.findall(text):
            for brand in self.watchlist.brands_for(account=handle):
                if brand not in owners:
                    owners.append(brand)
        return owners or self.watchlist.brands_for(text=text, lang=lang)

    def commit(self) -> None:
        """Persist the cursor as it stands after the pages delivered so far."""
        self.cursor.update(self._pending)
        self._pending = {}
        self.cursor_file.save(self.cursor)


def _sort_at(post: Any) -> datetime | None:
    """The time search orders by: the earlier of when the post says it was written and
    when the network indexed it (a post cannot date itself into the future); None when
    the index time is unreadable."""
    indexed = _when(post.indexed_at)
    if indexed is None:
        return None
    created = _when(getattr(post.record, "created_at", None))
    return min(indexed, created) if created is not None else indexed


def _validation_summary(exc: Exception) -> str:
    """'PostView: uri: Field required' from pydantic's multi-line message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) >= 3:
        return f"not a PostView: {lines[1]}: {lines[2].split(' [')[0]}"
    return lines[0][:200] if lines else type(exc).__name__


def _ref_uri(reply: Any, which: str) -> str | None:
    ref = getattr(reply, which, None) if reply is not None else None
    uri = getattr(ref, "uri", None)
    return uri if isinstance(uri, str) else None


def _post_json(post: Any) -> dict[str, Any]:
    from atproto_client.models.utils import get_model_as_dict

    try:
        return get_model_as_dict(post)
    except Exception:  # noqa: BLE001 - a dead letter must never fail for its own dump
        return {"uri": getattr(post, "uri", None)}

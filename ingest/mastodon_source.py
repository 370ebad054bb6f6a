"""Mastodon hashtag timelines and mentions → records in the input contract.

Polls the REST API with `Mastodon.py`. Each stream — `GET /api/v1/timelines/tag/:tag` per
hashtag, and the authenticated account's mentions, `GET
/api/v1/notifications?types[]=mention` — is read forward from its cursor with `min_id`:
the first page after the last id delivered, then the page the
`Link: <...?min_id=...>; rel="prev"` header points to, until a page comes back empty.
The cursor is the newest id per stream (`CursorFile`, committed after each delivered
page); without one a stream starts with its newest page.

With `stream_seconds` > 0, each poll is followed by that long on the streaming API
(server-sent events of `/api/v1/streaming/hashtag` and `/api/v1/streaming/user/
notification`, reconnecting by themselves): statuses arrive as they are written, one page
per burst. The poll stays the record of completeness — a stream loses what is said while
it is disconnected, the next poll finds it — so streamed ids do not move the poll's
cursor; they are remembered in the cursor file until the poll has passed them, and the
poll skips them.

Rate limits: Mastodon.py runs with `ratelimit_method="wait"`: a 429 sleeps until
`X-RateLimit-Reset` (or backs off 2, 4, 8 ... s without it) and retries; before each
request the collector also waits for the reset when `X-RateLimit-Remaining` reached 0.

Mapping: `id` ← the status id on this server, `text` ← the content warning and the HTML
content as plain text, `created_at`, `parent_id` ← `in_reply_to_id`, `thread_id` ← the
conversation's root status (the first ancestor of `GET /api/v1/statuses/:id/context`,
remembered per status so one request serves a whole conversation; the parent when the
context is not visible), `author_id` ← `acct`, `author_followers`, `lang`, `platform` ←
`mastodon`. Brand: `--brand`, else the watchlist: a status mentioning an account a brand
owns (`accounts`, matched on `acct`, or on the username for accounts of this server) is
that brand's; otherwise its text (keywords, hashtags) decides. Reblogs are not comments
and are left out; a status without id, date or account, or matching no brand, becomes a
dead letter with its reason.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from stormwatch.ingest.page_collector import (
    CollectorError,
    CursorFile,
    Page,
    collected_text,
    dead_letter_item,
)
from stormwatch.ingest.watchlist import Watchlist

PLATFORM = "mastodon"  # the `platform` of its records (a metrics label of its own)

PAGE_LIMIT = 40  # the most Mastodon returns per timeline page
ROOTS_REMEMBERED = 5000  # status → conversation root, kept in the cursor file
MAX_WAIT_S = 300.0  # never sleep longer than this for a rate limit
TOKEN_ENV = "STORMWATCH_MASTODON_TOKEN"
HIDDEN_CONTEXT = (403, 404, 410)  # a private or deleted conversation: the parent stands in


@dataclass(frozen=True, slots=True)
class MastodonStream:
    """A hashtag timeline (`tag` without '#') or, with `tag=None`, the mentions."""

    tag: str | None = None

    @property
    def key(self) -> str:
        return f"tag:{self.tag.casefold()}" if self.tag else "mentions"


class _PlainText(HTMLParser):
    """Mastodon's status HTML (`<p>`, `<br>`, links, mentions, hashtags) as text: inline
    markup disappears without adding spaces, so `#<span>acme</span>` stays `#acme`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """Plain text of a status's HTML.

    >>> html_to_text('<p>So slow <a href="https://m.example/tags/acme" class="mention '
    ...     'hashtag" rel="tag">#<span>acme</span></a> &amp; down</p><p>again<br>today</p>')
    'So slow #acme & down\\n\\nagain\\ntoday'
    """
    parser = _PlainText()
    parser.feed(content)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(lines).strip()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MastodonCollector:
    """Hashtag timelines and mentions of one Mastodon server, page by page (see module)."""

    def __init__(
        self,
        api_base_url: str,
        access_token: str,
        streams: list[MastodonStream],
        cursor_path: Path,
        *,
        watchlist: Watchlist | None = None,
        brand: str | None = None,
        page_limit: int = PAGE_LIMIT,
        request_timeout: float = 30.0,
        stream_seconds: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests
        from mastodon import Mastodon

        self.base_url = api_base_url.rstrip("/")
        self.streams = streams
        self.watchlist = watchlist
        self.brand = brand
        self.page_limit = page_limit
        self.stream_seconds = stream_seconds
        self.sleep = sleep
        self.throttled = 0  # 429 answers Mastodon.py waited out
        self.last_error = ""  # the `error` of the last refused request's body
        session = requests.Session()
        session.hooks["response"].append(self._watch_response)
        self.client = Mastodon(
            access_token=access_token,
            api_base_url=self.base_url,
            ratelimit_method="wait",
            request_timeout=request_timeout,
            session=session,
            user_agent="stormwatch-collector",
        )
        self.cursor_file = CursorFile(cursor_path)
        self.cursor = self.cursor_file.load()
        self.roots: dict[str, str] = dict(self.cursor.get("roots", {}))
        self._pending: dict[str, dict[str, Any]] = {}
        # Ids delivered from the streaming API and not yet passed by the poll, per stream.
        self.streamed: dict[str, set[str]] = {
            key: set(ids) for key, ids in self.cursor.get("streamed", {}).items()
        }
        self._pending_streamed: dict[str, set[str]] = {}
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._handles: list[Any] = []

    def _watch_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """Counts 429s, and keeps the error message Mastodon.py does not pass on."""
        if response.ok:
            return
        self.throttled += response.status_code == 429
        try:
            body = response.json()
        except ValueError:
            body = None
        self.last_error = str(body.get("error", "")) if isinstance(body, dict) else ""

    def _wait_for_rate_limit(self) -> None:
        """Sleep until the reset when the last answer said no requests remain."""
        remaining = self.client.ratelimit_remaining
        reset = self.client.ratelimit_reset
        if remaining is not None and remaining <= 0 and reset is not None:
            wait = reset - time.time()
            if wait > 0:
                self.sleep(min(wait, MAX_WAIT_S))

    def _error(self, exc: Exception) -> CollectorError:
        return CollectorError(f"mastodon {self.base_url}: {_describe(exc, self.last_error)}")

    def _request(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from mastodon.errors import MastodonError

        self._wait_for_rate_limit()
        try:
            return call(*args, **kwargs)
        except MastodonError as exc:
            raise self._error(exc) from None

    def check(self) -> str:
        """One request, `verify_credentials`: the server answers and accepts the token
        (hashtag timelines may be public, so reading one would prove nothing)."""
        account = self._request(self.client.account_verify_credentials)
        return (
            f"mastodon {self.base_url}: token accepted for @{account.get('acct')}, "
            f"{len(self.streams)} stream(s)"
        )

    def pages(self) -> Iterator[Page]:
        """Each stream's new statuses, one API page at a time, oldest first; `commit()`
        after delivering each page."""
        self._pending, self._pending_streamed = {}, {}  # a page that failed is read again
        for stream in self.streams:
            yield from self._stream_pages(stream)
        if self.stream_seconds > 0:
            yield from self._streamed_pages()

    def _first_page(self, stream: MastodonStream, min_id: str | None) -> Any:
        if stream.tag is None:
            return self._request(
                self.client.notifications, types=["mention"], min_id=min_id, limit=self.page_limit
            )
        return self._request(
            self.client.timeline_hashtag, stream.tag, min_id=min_id, limit=self.page_limit
        )

    def _stream_pages(self, stream: MastodonStream) -> Iterator[Page]:
        state = self.cursor.get(stream.key, {})
        last_id = state.get("last_id")
        page = self._first_page(stream, last_id)
        source = f"mastodon:{self.base_url}:{stream.key}"
        while page:
            items = sorted(page, key=_id_order)
            ids = [str(i["id"]) for i in items if i.get("id") is not None]
            newest = max(ids, key=_id_key) if ids else None
            if newest is None or (last_id is not None and _id_key(newest) <= _id_key(last_id)):
                return  # nothing past the cursor: a server that ignored min_id
            out = Page()
            streamed = self.streamed.get(stream.key, set())
            for item in items:
                ident = item.get("id")
                if ident is not None and last_id is not None:
                    if _id_key(str(ident)) <= _id_key(last_id):
                        continue  # at or before the cursor: delivered already
                if ident is not None and str(ident) in streamed:
                    continue  # delivered from the streaming API
                self._map(item, stream, source, out)
            last_id = newest
            self._pending[stream.key] = {"last_id": newest}
            yield out
            if getattr(page, "_pagination_prev", None) is None:
                return
            page = self._request(self.client.fetch_previous, page)

    def _map(self, item: Any, stream: MastodonStream, source: str, out: Page) -> None:
        status = item if stream.tag is not None else item.get("status")
        if status is None:
            out.dead_letters.append(
                dead_letter_item(item, "missing_field", "mention without a status", source)
            )
            return
        if status.get("reblog"):
            return  # a boost repeats someone's status: not a new comment
        problem = _malformed(status)
        if problem is not None:
            out.dead_letters.append(dead_letter_item(status, "missing_field", problem, source))
            return
        record = self._record(status)
        brands = self._brands(status, record)
        if not brands:
            detail = "no watchlist brand matches its mentions or text"
            out.dead_letters.append(dead_letter_item(status, "no_brand", detail, source))
            return
        if len(brands) == 1:
            out.records.append({**record, "brand": brands[0]})
        else:
            out.records.extend(self.watchlist.records_for(record, brands))  # type: ignore[union-attr]

    def _record(self, status: Any) -> dict[str, Any]:
        sid = str(status["id"])
        parent = status.get("in_reply_to_id")
        parent_id = str(parent) if parent is not None else None
        text = html_to_text(status.get("content") or "")
        warning = (status.get("spoiler_text") or "").strip()
        account = status["account"]
        followers = account.get("followers_count")
        return {
            "id": sid,
            "text": collected_text(f"{warning}\n\n{text}" if warning else text),
            "created_at": _iso(status["created_at"]),
            "thread_id": self._root(sid, parent_id),
            "parent_id": parent_id,
            "author_id": account.get("acct"),
            "author_followers": followers if isinstance(followers, int) else None,
            "lang": status.get("language"),
            "platform": PLATFORM,
        }

    def _root(self, sid: str, parent_id: str | None) -> str:
        """The conversation's first status: remembered, else asked of the server once."""
        from mastodon.errors import MastodonAPIError, MastodonError

        if parent_id is None:
            root = sid
        elif parent_id in self.roots:
            root = self.roots[parent_id]
        else:
            self._wait_for_rate_limit()
            try:
                ancestors = self.client.status_context(sid).get("ancestors") or []
                root = str(ancestors[0]["id"]) if ancestors else parent_id
            except MastodonAPIError as exc:
                if len(exc.args) < 2 or exc.args[1] not in HIDDEN_CONTEXT:
                    raise self._error(exc) from None
                root = parent_id
            except MastodonError as exc:
                raise self._error(exc) from None
        self.roots[sid] = root
        if len(self.roots) > ROOTS_REMEMBERED:
            del self.roots[next(iter(self.roots))]
        return root

    def _brands(self, status: Any, record: dict[str, Any]) -> list[str]:
        if self.brand is not None:
            return [self.brand]
        if self.watchlist is None:
            return []
        owners: list[str] = []
        for mention in status.get("mentions") or []:
            acct = str(mention.get("acct") or "")
            handles = [acct] if "@" in acct else [acct, str(mention.get("username") or "")]
            for handle in filter(None, handles):
                for brand in self.watchlist.brands_for(account=handle):
                    if brand not in owners:
                        owners.append(brand)
        if owners:
            return owners
        return self.watchlist.brands_for(text=record["text"], lang=record["lang"])

    def _last_id(self, key: str) -> str | None:
        state = self._pending.get(key) or self.cursor.get(key) or {}
        return state.get("last_id")

    def _start_streaming(self) -> None:
        """One streaming connection per stream, each a thread of Mastodon.py's that
        reconnects by itself and puts what arrives on the queue."""
        from mastodon import StreamListener

        events = self._events

        class Listener(StreamListener):
            def __init__(self, key: str) -> None:
                super().__init__()
                self.key = key

            def on_update(self, status: Any) -> None:
                events.put((self.key, status))

            def on_notification(self, notification: Any) -> None:
                if notification.get("type") == "mention":
                    events.put((self.key, notification))

            def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
                pass  # newer servers' events: not comments

        for stream in self.streams:
            listener = Listener(stream.key)
            options = {"run_async": True, "reconnect_async": True, "reconnect_async_wait_sec": 5}
            if stream.tag is None:
                call = self.client.stream_user_notifications
                handle = self._request(call, listener, **options)
            else:
                handle = self._request(self.client.stream_hashtag, stream.tag, listener, **options)
            self._handles.append(handle)

    def _streamed_pages(self) -> Iterator[Page]:
        """What the streaming API brings for `stream_seconds`, a page per burst."""
        if not self._handles:
            self._start_streaming()
        by_key = {stream.key: stream for stream in self.streams}
        deadline = time.monotonic() + self.stream_seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                burst = [self._events.get(timeout=min(left, 1.0))]
            except queue.Empty:
                continue
            while True:
                try:
                    burst.append(self._events.get_nowait())
                except queue.Empty:
                    break
            out = Page()
            for key, item in sorted(burst, key=lambda event: _id_order(event[1])):
                ident = str(item.get("id"))
                last_id = self._last_id(key)
                fresh = self._pending_streamed.setdefault(key, set())
                seen = ident in fresh or ident in self.streamed.get(key, ())
                if seen or (last_id is not None and _id_key(ident) <= _id_key(last_id)):
                    continue  # the poll or the stream delivered it already
                fresh.add(ident)
                self._map(item, by_key[key], f"mastodon:{self.base_url}:{key}:stream", out)
            if out.records or out.dead_letters:
                yield out

    def close(self) -> None:
        """Stop the streaming connections (the poll needs no closing)."""
        for handle in self._handles:
            handle.close()
        self._handles = []

    def commit(self) -> None:
        """Persist the cursor as it stands after the pages delivered so far."""
        self.cursor.update(self._pending)
        self._pending = {}
        self.cursor["roots"] = self.roots
        for key, fresh in self._pending_streamed.items():
            self.streamed.setdefault(key, set()).update(fresh)
        self._pending_streamed = {}
        for key, ids in self.streamed.items():  # the poll has passed those up to last_id
            last_id = self._last_id(key)
            if last_id is not None:
                ids.difference_update([i for i in ids if _id_key(i) <= _id_key(last_id)])
        self.cursor["streamed"] = {key: sorted(ids) for key, ids in self.streamed.items() if ids}
        self.cursor_file.save(self.cursor)


def _id_key(value: str) -> tuple[int, str]:
    # Mastodon ids are numeric strings (snowflakes) on Mastodon; order them as numbers.
    return (int(value), value) if value.isdigit() else (0, value)


def _id_order(item: Any) -> tuple[int, str]:
    ident = item.get("id")
    return _id_key(str(ident)) if ident is not None else (-1, "")


def _malformed(status: Any) -> str | None:
    if status.get("id") is None:
        return "status without an id"
    if not isinstance(status.get("created_at"), datetime):
        return f"status {status.get('id')}: created_at missing or not a date"
    account = status.get("account")
    if not isinstance(account, dict) or not account.get("acct"):
        return f"status {status.get('id')}: account missing"
    if not isinstance(status.get("content"), str):
        return f"status {status.get('id')}: content missing"
    return None


def _describe(exc: Exception, body_error: str = "") -> str:
    """One line from a Mastodon.py error: 'HTTP 401 Unauthorized: The access token is
    invalid' rather than its tuple of arguments."""
    args = exc.args
    if len(args) >= 4 and isinstance(args[1], int):
        message = args[3] or body_error
        detail = f": {message}" if message else ""
        return f"HTTP {args[1]} {args[2]}{detail}"
    return str(args[0]) if args else type(exc).__name__

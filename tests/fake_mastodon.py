"""A Mastodon server on 127.0.0.1 speaking the REST API's wire format, for the collector
tests: statuses and notifications as Mastodon serialises them, `min_id` / `since_id` /
`max_id` paging with `Link` headers, `X-RateLimit-*` headers on every answer, 429 with
`Retry-After`, `{"error": ...}` bodies, bearer-token authentication, conversation
contexts, and the streaming API's server-sent events (`event: update` / `notification`
with the JSON on a `data:` line, `:thump` heartbeats)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

TOKEN = "mastodon-test-token"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def account(acct: str, followers: int = 10) -> dict[str, Any]:
    username = acct.split("@")[0]
    return {
        "id": str(abs(hash(acct)) % 10**9),
        "username": username,
        "acct": acct,
        "display_name": username.title(),
        "locked": False,
        "bot": False,
        "created_at": "2024-01-01T00:00:00.000Z",
        "note": "",
        "url": f"https://m.example/@{username}",
        "avatar": "https://m.example/avatars/original/missing.png",
        "followers_count": followers,
        "following_count": 3,
        "statuses_count": 42,
        "emojis": [],
        "fields": [],
    }


class FakeMastodon:
    """Statuses by id; `tagged[tag]` and `mentions` list which ids each stream shows."""

    def __init__(self) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.tagged: dict[str, list[str]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.requests: list[str] = []  # path and query of each API request
        self.throttle_next = 0  # answer this many requests with 429
        self.fail_on_request: int | None = None  # answer request number N (1-based) 500
        self.ignore_min_id = False  # a server that always answers with the newest page
        self.remaining = 300
        self._next_id = 110_000_000_000_000_000
        self.listeners: list[tuple[str, queue.Queue[tuple[str, Any]]]] = []  # (stream, events)
        self.closing = False
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.closing = True
        self.server.shutdown()
        self.server.server_close()

    # -- content ---------------------------------------------------------------------

    def post(
        self,
        html: str,
        *,
        acct: str = "bob@other.example",
        tags: tuple[str, ...] = (),
        reply_to: str | None = None,
        mentions: tuple[str, ...] = (),
        lang: str = "en",
        spoiler: str = "",
        **overrides: Any,
    ) -> str:
        """A status (newest id so far); listed in the timelines of `tags`, and a mention
        notification when it mentions `me`."""
        with self._lock:
            self._next_id += 1000
            sid = str(self._next_id)
        when = T0 + timedelta(seconds=len(self.statuses))
        parent = self.statuses.get(reply_to) if reply_to else None
        status: dict[str, Any] = {
            "id": sid,
            "created_at": _iso(when),
            "in_reply_to_id": reply_to,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "sensitive": bool(spoiler),
            "spoiler_text": spoiler,
            "visibility": "public",
            "language": lang,
            "uri": f"https://other.example/users/bob/statuses/{sid}",
            "url": f"https://other.example/@bob/{sid}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": html,
            "reblog": None,
            "application": None,
            "account": account(acct),
            "media_attachments": [],
            "mentions": [
                {
                    "id": account(m)["id"],
                    "username": m.split("@")[0],
                    "url": f"https://m.example/@{m}",
                    "acct": m,
                }
                for m in mentions
            ],
            "tags": [{"name": t, "url": f"https://m.example/tags/{t}"} for t in tags],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        status.update(overrides)
        self.statuses[sid] = status
        for tag in tags:
            self.tagged.setdefault(tag, []).append(sid)
            self._push(f"hashtag:{tag}", "update", status)
        if "me" in mentions:
            self.notifications.append(
                {
                    "id": str(len(self.notifications) + 5000),
                    "type": "mention",
                    "created_at": status["created_at"],
                    "account": status["account"],
                    "status": status,
                }
            )
            self._push("user:notification", "notification", self.notifications[-1])
        return sid

    def _push(self, stream: str, event: str, payload: dict[str, Any]) -> None:
        with self._lock:
            for name, events in self.listeners:
                if name == stream:
                    events.put((event, payload))

    def streaming(self, stream: str) -> int:
        """How many clients listen to `stream` ("hashtag:acme", "user:notification")."""
        with self._lock:
            return sum(name == stream for name, _ in self.listeners)

    def drop_streams(self) -> None:
        """End every streaming connection (a restart of the streaming server)."""
        with self._lock:
            for _, events in self.listeners:
                events.put(("close", {}))

    # -- HTTP ------------------------------------------------------------------------

    def _send(
        self, handler: BaseHTTPRequestHandler, code: int, body: Any, headers: dict[str, str]
    ) -> None:
        data = orjson.dumps(body)
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = parse_qs(url.query)
        now = datetime.now(UTC)
        if url.path.startswith("/api/v1/instance"):
            host = self.url.removeprefix("http://")
            body = {"uri": "m.example", "title": "Test", "version": "4.3.2", "urls": {
                "streaming_api": f"ws://{host}"}}  # fmt: skip
            self._send(handler, 200, body, {})
            return
        if url.path.startswith("/api/v1/streaming/"):
            self._stream(handler, url.path, query)
            return
        if url.path.startswith("/api/v2/instance"):
            body = {"domain": "m.example", "title": "Test", "version": "4.3.2", "api_versions": {
                "mastodon": 2}}  # fmt: skip
            self._send(handler, 200, body, {})
            return
        with self._lock:
            self.requests.append(handler.path)
            number = len(self.requests)
            throttled = self.throttle_next > 0
            self.throttle_next -= throttled
            self.remaining = max(self.remaining - 1, 0)
        limits = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(self.remaining)}
        if throttled:
            reset = now + timedelta(seconds=1)
            headers = {**limits, "X-RateLimit-Remaining": "0", "Retry-After": "1"}
            headers["X-RateLimit-Reset"] = reset.isoformat(timespec="microseconds")
            self._send(handler, 429, {"error": "Too many requests"}, headers)
            return
        limits["X-RateLimit-Reset"] = (now + timedelta(minutes=5)).isoformat(
            timespec="microseconds"
        )
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(handler, 401, {"error": "The access token is invalid"}, limits)
            return
        if number == self.fail_on_request:
            self._send(handler, 500, {"error": "Internal server error"}, limits)
            return
        if url.path.startswith("/api/v1/timelines/tag/"):
            tag = url.path.rsplit("/", 1)[1]
            items = [self.statuses[s] for s in self.tagged.get(tag, [])]
            self._page(handler, url.path, items, query, limits)
        elif url.path == "/api/v1/notifications":
            types = query.get("types[]", [])
            items = [n for n in self.notifications if not types or n["type"] in types]
            self._page(handler, url.path, items, query, limits)
        elif url.path == "/api/v1/accounts/verify_credentials":
            self._send(handler, 200, account("me"), limits)
        elif url.path.startswith("/api/v1/statuses/") and url.path.endswith("/context"):
            sid = url.path.split("/")[4]
            if sid not in self.statuses:
                self._send(handler, 404, {"error": "Record not found"}, limits)
                return
            ancestors = list(self._ancestors(sid))
            self._send(handler, 200, {"ancestors": ancestors, "descendants": []}, limits)
        else:
            self._send(handler, 404, {"error": "Record not found"}, limits)

    def _stream(
        self, handler: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]]
    ) -> None:
        """Server-sent events until the server closes or `drop_streams()`."""
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(handler, 401, {"error": "Error: Invalid access token"}, {})
            return
        length = int(handler.headers.get("Content-Length") or 0)
        form = parse_qs(handler.rfile.read(length).decode()) if length else {}
        if path == "/api/v1/streaming/hashtag":
            stream = "hashtag:" + (query.get("tag") or form.get("tag") or [""])[0]
        elif path == "/api/v1/streaming/user/notification":
            stream = "user:notification"
        else:
            self._send(handler, 404, {"error": "Unknown stream type"}, {})
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        entry = (stream, events)
        with self._lock:
            self.listeners.append(entry)
        try:
            handler.wfile.write(b":)\n")
            handler.wfile.flush()
            while not self.closing:
                try:
                    event, payload = events.get(timeout=0.2)
                except queue.Empty:
                    handler.wfile.write(b":thump\n")
                    handler.wfile.flush()
                    continue
                if event == "close":
                    return
                data = orjson.dumps(payload).decode()
                handler.wfile.write(f"event: {event}\ndata: {data}\n\n".encode())
                handler.wfile.flush()
        except OSError:
            pass  # the client went away
        finally:
            with self._lock:
                self.listeners.remove(entry)

    def _ancestors(self, sid: str) -> Iterator[dict[str, Any]]:
        chain = []
        parent = self.statuses[sid]["in_reply_to_id"]
        while parent is not None and parent in self.statuses:
            chain.append(self.statuses[parent])
            parent = self.statuses[parent]["in_reply_to_id"]
        return reversed(chain)

    def _page(
        self,
        handler: BaseHTTPRequestHandler,
        path: str,
        items: list[dict[str, Any]],
        query: dict[str, list[str]],
        headers: dict[str, str],
    ) -> None:
        """Mastodon's paging: newest first; `min_id` gives the items just above it,
        `since_id` the newest above it, `max_id` the newest below it."""
        limit = min(int(query.get("limit", ["20"])[0]), 40)

        def key(item: dict[str, Any]) -> int:
            return int(item["id"])

        ordered = sorted(items, key=key)
        if "max_id" in query:
            ordered = [i for i in ordered if key(i) < int(query["max_id"][0])]
        if "since_id" in query:
            ordered = [i for i in ordered if key(i) > int(query["since_id"][0])]
        if "min_id" in query and not self.ignore_min_id:
            ordered = [i for i in ordered if key(i) > int(query["min_id"][0])][:limit]
        else:
            ordered = ordered[-limit:]
        page = list(reversed(ordered))
        if page:
            base = f"{self.url}{path}"
            headers = {
                **headers,
                "Link": f'<{base}?max_id={page[-1]["id"]}>; rel="next", '
                f'<{base}?min_id={page[0]["id"]}>; rel="prev"',
            }
        self._send(handler, 200, page, headers)

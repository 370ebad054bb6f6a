"""A Bluesky PDS/AppView on 127.0.0.1 speaking XRPC's wire format, for the collector
tests: `com.atproto.server.createSession` (JWTs with an expiry, XRPC error bodies on a
wrong password), `app.bsky.feed.searchPosts` with `sort=latest`, `since`/`until`
(inclusive/exclusive, on sortAt), an offset `cursor` as the AppView gives, and
`ratelimit-*` headers, 429 with `Retry-After`."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

HANDLE = "collector.test"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:collector0000000000000000"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(scope: str, hours: float) -> str:
    now = int(time.time())
    header = _b64(orjson.dumps({"typ": "at+jwt", "alg": "ES256K"}))
    claims = {"scope": scope, "sub": DID, "aud": "did:web:pds.test", "iat": now}
    claims["exp"] = now + int(hours * 3600)
    return f"{header}.{_b64(orjson.dumps(claims))}.{_b64(b'signature')}"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class FakeBluesky:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []  # PostViews, in the order written
        # The search index, beside each post: its text as written, sortAt and URI (a
        # served view may be corrupted by a test without moving it in the index).
        self.index: list[tuple[str, datetime, str]] = []
        self.requests: list[str] = []  # path and query of each searchPosts request
        self.logins = 0
        self.throttle_next = 0  # answer this many searches with 429
        self.fail_on_request: int | None = None  # answer search number N (1-based) 500
        self.remaining = 3000
        self.send_retry_after = True  # False: a 429 tells only ratelimit-reset
        self.access = jwt("com.atproto.appPass", 2)
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer._handle(self, None)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                outer._handle(self, self.rfile.read(length))

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def post(
        self,
        text: str,
        *,
        author: str = "bob.test",
        reply_to: str | None = None,
        langs: tuple[str, ...] = ("en",),
        record: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
    ) -> str:
        """A post written one second after the previous one; its at:// URI."""
        n = len(self.posts)
        did = f"did:plc:{author.split('.')[0]:0<24}"
        uri = f"at://{did}/app.bsky.feed.post/3l{n:011d}"
        when = T0 + timedelta(seconds=n)
        body: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": _iso(when),
            "langs": list(langs),
        }
        if reply_to is not None:
            parent = next(p for p in self.posts if p["uri"] == reply_to)
            root = parent["record"].get("reply", {}).get("root") or {"uri": reply_to, "cid": CID}
            body["reply"] = {"root": root, "parent": {"uri": reply_to, "cid": CID}}
        self.index.append((text, when, uri))  # sortAt: createdAt, before indexedAt
        body.update(record or {})
        self.posts.append(
            {
                "uri": uri,
                "cid": CID,
                "author": {
                    "did": did,
                    "handle": author,
                    "displayName": author.split(".")[0].title(),
                    "avatar": "https://cdn.bsky.app/img/avatar/plain/x/y@jpeg",
                    "labels": [],
                    "createdAt": "2024-01-01T00:00:00.000Z",
                },
                "record": body,
                "replyCount": 0,
                "repostCount": 0,
                "likeCount": 0,
                "quoteCount": 0,
                "indexedAt": _iso(when + timedelta(milliseconds=400)),
                "labels": [],
            }
        )
        self.posts[-1].update(view or {})
        return uri

    # -- HTTP ------------------------------------------------------------------------

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        code: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = orjson.dumps(body)
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _error(
        self,
        handler: BaseHTTPRequestHandler,
        code: int,
        error: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """An XRPC error body: `{"error": Name, "message": text}`."""
        self._send(handler, code, {"error": error, "message": message}, headers)

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        url = urlsplit(handler.path)
        if url.path == "/xrpc/com.atproto.server.createSession" and body is not None:
            data = orjson.loads(body)
            if data.get("identifier") != HANDLE or data.get("password") != APP_PASSWORD:
                self._error(
                    handler, 401, "AuthenticationRequired", "Invalid identifier or password"
                )
                return
            self.logins += 1
            session = {"accessJwt": self.access, "refreshJwt": jwt("com.atproto.refresh", 24)}
            session.update({"handle": HANDLE, "did": DID, "active": True})
            self._send(handler, 200, session)
            return
        if url.path != "/xrpc/app.bsky.feed.searchPosts":
            self._error(handler, 501, "MethodNotImplemented", "Method Not Implemented")
            return
        with self._lock:
            self.requests.append(handler.path)
            number = len(self.requests)
            throttled = self.throttle_next > 0
            self.throttle_next -= throttled
            self.remaining = max(self.remaining - 1, 0)
        reset = str(int(time.time()) + 300)
        limits = {"ratelimit-limit": "3000", "ratelimit-remaining": str(self.remaining)}
        limits.update({"ratelimit-reset": reset, "ratelimit-policy": "3000;w=300"})
        if throttled:
            limits["ratelimit-remaining"] = "0"
            limits["ratelimit-reset"] = str(int(time.time()) + 2)
            if self.send_retry_after:
                limits["retry-after"] = "1"
            self._error(handler, 429, "RateLimitExceeded", "Rate Limit Exceeded", limits)
            return
        if handler.headers.get("Authorization") != f"Bearer {self.access}":
            self._error(handler, 401, "AuthMissing", "Authentication Required", limits)
            return
        if number == self.fail_on_request:
            self._error(handler, 500, "InternalServerError", "Internal Server Error", limits)
            return
        self._search(handler, parse_qs(url.query), limits)

    def _search(
        self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]], headers: dict[str, str]
    ) -> None:
        q = query.get("q", [""])[0].casefold()
        if not q:
            message = 'Error: Params must have the property "q"'
            self._error(handler, 400, "InvalidRequest", message, headers)
            return
        limit = min(int(query.get("limit", ["25"])[0]), 100)
        offset = int(query.get("cursor", ["0"])[0])

        since = datetime.fromisoformat(query["since"][0]) if "since" in query else None
        until = datetime.fromisoformat(query["until"][0]) if "until" in query else None
        hits = []  # (sortAt, uri, post): since inclusive, until exclusive
        for post, (text, at, uri) in zip(self.posts, self.index, strict=True):
            if q in text.casefold() and (since is None or at >= since):
                if until is None or at < until:
                    hits.append((at, uri, post))
        hits.sort(key=lambda hit: hit[:2], reverse=True)
        hits_posts = [hit[2] for hit in hits]
        page = hits_posts[offset : offset + limit]
        body: dict[str, Any] = {"hitsTotal": len(hits), "posts": page}
        if offset + limit < len(hits):
            body["cursor"] = str(offset + limit)
        self._send(handler, 200, body, headers)

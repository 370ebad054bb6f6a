"""A local HTTP server that speaks enough of the Slack Web API for stormwatch's tests.

Requests come in as the real `slack_sdk.WebClient` sends them: JSON bodies
(`chat.postMessage` with blocks), form bodies and query strings, a bearer token. Replies
are Slack's: HTTP 200 with `{"ok": false, "error": ...}` for API errors, 429 with
`Retry-After`, 5xx. Behaviour is chosen by the token (`xoxb-no-files` lacks the
`files:write` scope, `xoxb-revoked` is revoked) or scripted per method in a queue:

    slack.script("chat.postMessage", Status(503), Status(429, retry_after=1), Accept())
    slack.script("chat.postMessage", SlowAfterAccept(seconds=1.5))  # timeout after storing
    slack.outage = True                                               # every call: 503

Messages are kept per channel with their metadata, so `conversations.history` and
`conversations.replies` answer like Slack does.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`X-Slack-Signature` as Slack computes it: v0 HMAC-SHA256 over the raw bytes (not
    slack_sdk's `generate_signature`, which decodes the body and so cannot sign the
    non-UTF-8 body a test sends)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Accept:
    """Handle the call normally."""


@dataclass(frozen=True)
class Status:
    """Answer with this HTTP status (and Retry-After for 429) without acting."""

    code: int
    retry_after: int | str | None = None  # seconds, or an HTTP-date as Slack may send


@dataclass(frozen=True)
class Error:
    """HTTP 200 with `ok: false` and this error, without acting."""

    error: str


@dataclass(frozen=True)
class SlowAfterAccept:
    """Act on the call, then answer only after `seconds`: the client times out not
    knowing that the message is there."""

    seconds: float


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    http_method: str


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[Any] | None
    metadata: dict[str, Any] | None
    thread_ts: str | None
    edits: int = 0
    files: list[str] = field(default_factory=list)

    def as_api(self, *, with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        if self.files:
            out["files"] = [{"id": f} for f in self.files]
        return out


class FakeSlack:
    TOKEN = "xoxb-test"

    def __init__(self, channels: dict[str, str] | None = None) -> None:
        self.channels = channels or {"C0ALERTS": "alerts", "C0CRISIS": "crisis"}
        self.messages: list[Message] = []
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.outage = False
        self._scripts: dict[str, deque[Any]] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    # --- lifecycle and test helpers ---------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, method: str, *behaviours: Any) -> None:
        with self._lock:
            self._scripts.setdefault(method, deque()).extend(behaviours)

    def roots(self, channel: str | None = None) -> list[Message]:
        return [
            m
            for m in self.messages
            if m.thread_ts is None and (channel is None or m.channel == channel)
        ]

    def replies(self, root: Message) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == root.ts]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # --- HTTP -------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if parsed.path.startswith("/upload/"):
            self.uploads[parsed.path.rsplit("/", 1)[1]] = body
            self._send(request, 200, b"OK - " + str(len(body)).encode(), "text/plain")
            return
        method = parsed.path.removeprefix("/api/")
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        kind = request.headers.get("Content-Type", "")
        if body and kind.startswith("application/json"):
            params.update(json.loads(body))
        elif body:
            params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        with self._lock:
            self.calls.append(Call(method, params, token, request.command))
            queue = self._scripts.get(method)
            behaviour = queue.popleft() if queue else Accept()
        if self.outage:
            behaviour = Status(503)
        if isinstance(behaviour, Status):
            headers = {"Retry-After": str(behaviour.retry_after)} if behaviour.retry_after else {}
            body_out = {"ok": False, "error": "ratelimited"} if behaviour.code == 429 else None
            self._send_json(request, behaviour.code, body_out, headers)
            return
        if isinstance(behaviour, Error):
            self._send_json(request, 200, {"ok": False, "error": behaviour.error})
            return
        with self._lock:
            result = self._api(method, params, token)
        if isinstance(behaviour, SlowAfterAccept):
            time.sleep(behaviour.seconds)
        self._send_json(request, 200, result)

    def _send_json(
        self,
        request: BaseHTTPRequestHandler,
        code: int,
        body: dict[str, Any] | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        raw = json.dumps(body).encode() if body is not None else b"Service Unavailable"
        kind = "application/json; charset=utf-8" if body is not None else "text/plain"
        self._send(request, code, raw, kind, headers)

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler,
        code: int,
        raw: bytes,
        kind: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            request.send_response(code)
            request.send_header("Content-Type", kind)
            request.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): exactly the case some tests make

    # --- the API ----------------------------------------------------------------------------

    def _channel(self, value: Any) -> str | None:
        if value in self.channels:
            return str(value)
        if isinstance(value, str) and value.startswith("#"):
            for cid, name in self.channels.items():
                if name == value[1:]:
                    return cid
        return None

    def _api(self, method: str, p: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not token or not token.startswith("xoxb-"):
            return {"ok": False, "error": "not_authed"}
        if token == "xoxb-revoked":
            return {"ok": False, "error": "token_revoked"}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(p, token)

    def _auth_test(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "team": "test", "user": "stormwatch", "bot_id": "B01"}

    def _chat_postMessage(self, p: dict[str, Any], token: str) -> dict[str, Any]:  # noqa: N802
        channel = self._channel(p.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not p.get("text") and not p.get("blocks"):
            return {"ok": False, "error": "no_text"}
        thread_ts = p.get("thread_ts")
        if thread_ts is not None and not any(
            m.ts == thread_ts and m.channel == channel for m in self.messages
        ):
            return {"ok": False, "error": "thread_not_found"}
        metadata = p.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        blocks = p.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        message = Message(
            channel=channel,
            ts=f"{int(time.time())}.{next(self._ts):06d}",
            text=str(p.get("text", "")),
            blocks=blocks,
            metadata=metadata,
            thread_ts=thread_ts,
        )
        self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": message.as_api(with_metadata=True),
        }

    def _chat_update(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._channel(p.get("channel"))
        for m in self.messages:
            if m.channel == channel and m.ts == p.get("ts"):
                m.text = str(p.get("text", m.text))
                blocks = p.get("blocks", m.blocks)
                m.blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
                m.edits += 1
                return {"ok": True, "channel": channel, "ts": m.ts, "text": m.text}
        return {"ok": False, "error": "message_not_found"}

    def _page(self, items: list[Message], p: dict[str, Any], key: str) -> dict[str, Any]:
        limit = int(p.get("limit") or 100)
        start = int(p.get("cursor") or 0)
        chunk = items[start : start + limit]
        with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        more = start + limit < len(items)
        return {
            "ok": True,
            key: [m.as_api(with_metadata=with_metadata) for m in chunk],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _conversations_history(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        channel = p.get("channel")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        top = [m for m in self.messages if m.channel == channel and m.thread_ts is None]
        return self._page(list(reversed(top)), p, "messages")

    def _conversations_replies(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        channel, ts = p.get("channel"), p.get("ts")
        root = [m for m in self.messages if m.channel == channel and m.ts == ts]
        if not root:
            return {"ok": False, "error": "thread_not_found"}
        oldest = float(p.get("oldest") or 0)  # Slack: replies after it (the parent always)
        thread = root + [
            m
            for m in self.messages
            if m.channel == channel and m.thread_ts == ts and float(m.ts) > oldest
        ]
        return self._page(thread, p, "messages")

    def _conversations_list(self, p: dict[str, Any], token: str) -> dict[str, Any]:
        limit = int(p.get("limit") or 100)
        start = int(p.get("cursor") or 0)
        items = [{"id": cid, "name": name} for cid, name in self.channels.items()]
        more = start + limit < len(items)
        return {
            "ok": True,
            "channels": items[start : start + limit],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _files_getUploadURLExternal(self, p: dict[str, Any], token: str) -> dict[str, Any]:  # noqa: N802
        if token == "xoxb-no-files":
            return {"ok": False, "error": "missing_scope", "needed": "files:write"}
        file_id = f"F{next(self._file_ids):06d}"
        host, port = self.server.server_address[:2]
        return {
            "ok": True,
            "upload_url": f"http://{host}:{port}/upload/{file_id}",
            "file_id": file_id,
        }

    def _files_completeUploadExternal(self, p: dict[str, Any], token: str) -> dict[str, Any]:  # noqa: N802
        files = p.get("files")
        files = json.loads(files) if isinstance(files, str) else files
        ids = [f["id"] for f in files]
        if any(i not in self.uploads for i in ids):
            return {"ok": False, "error": "file_not_found"}
        channel, thread_ts = self._channel(p.get("channel_id")), p.get("thread_ts")
        if channel is not None:
            message = Message(
                channel=channel,
                ts=f"{int(time.time())}.{next(self._ts):06d}",
                text=str(p.get("initial_comment", "")),
                blocks=None,
                metadata=None,
                thread_ts=thread_ts,
                files=ids,
            )
            self.messages.append(message)
        return {
            "ok": True,
            "files": [{"id": i, "title": f.get("title")} for i, f in zip(ids, files, strict=True)],
        }

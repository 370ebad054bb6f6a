"""A local HTTP server that receives stormwatch's signed webhook the way a receiver should.

It checks the signature with its own HMAC-SHA256 over `v1:{timestamp}:{body}` (written
from the documented scheme, not with stormwatch's code), rejects a request whose
timestamp is more than five minutes from its clock, and dedupes on
`X-Stormwatch-Delivery`. Answers: 200 accepted (or already seen), 401 with the reason.
Responses can be scripted (`hook.script(503)`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_AGE_SECONDS = 300


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int  # what the receiver answered
    reason: str


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> str:
    """'' when the request is authentic and fresh, else why not (`headers`: lower-case
    names, as HTTP header names are case-insensitive)."""
    timestamp = headers.get("x-stormwatch-timestamp", "")
    given = headers.get("x-stormwatch-signature", "")
    if not timestamp.isdigit() or not given.startswith("v1="):
        return "missing or malformed signature headers"
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return "stale timestamp"
    mac = hmac.new(secret.encode(), f"v1:{timestamp}:".encode() + body, hashlib.sha256)
    if not hmac.compare_digest("v1=" + mac.hexdigest(), given):
        return "bad signature"
    return ""


class FakeWebhookReceiver:
    def __init__(self, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.clock = clock
        self.requests: list[Received] = []
        self.accepted: dict[str, dict[str, Any]] = {}  # delivery id -> body, once each
        self._script: deque[int] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, reason = fake._handle(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                raw = json.dumps({"ok": status == 200, "reason": reason}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/stormwatch"

    def __enter__(self) -> FakeWebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, *statuses: int) -> None:
        self._script.extend(statuses)

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        with self._lock:
            if self._script:
                status, reason = self._script.popleft(), "scripted"
            else:
                problem = verify(self.secret, headers, body, self.clock())
                status, reason = (401, problem) if problem else (200, "accepted")
                delivery = headers.get("x-stormwatch-delivery", "")
                if status == 200 and delivery in self.accepted:
                    reason = "duplicate"
                elif status == 200:
                    self.accepted[delivery] = json.loads(body)
            self.requests.append(Received(path, headers, body, status, reason))
            return status, reason

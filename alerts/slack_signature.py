"""Checks that a request really comes from Slack, now, and only once.

Slack signs each request: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret,
"v0:{X-Slack-Request-Timestamp}:{raw body}")>`. A request older or newer than the window
(5 minutes) is refused, and so is one whose signature was already accepted inside the
window: a captured button press cannot be played again. The replay memory is per
process, bounded by the window.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable

WINDOW_SECONDS = 300.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SignatureVerifier:
    def __init__(
        self,
        signing_secret: str,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not signing_secret:
            raise ValueError("a Slack signing secret is required")
        self.secret = signing_secret
        self.window = window
        self.clock = clock
        self._seen: dict[str, float] = {}  # signature -> request timestamp
        self._lock = threading.Lock()

    def check(self, *, body: bytes, timestamp: str | None, signature: str | None) -> str | None:
        """None if the request is genuine, fresh and new; else why not (for the log only:
        the client gets a bare 401)."""
        if not timestamp or not signature:
            return "missing signature headers"
        try:
            sent = float(timestamp)
        except ValueError:
            return "malformed timestamp"
        now = self.clock()
        if abs(now - sent) > self.window:
            return "stale timestamp"
        if not hmac.compare_digest(sign(self.secret, timestamp, body), signature):
            return "bad signature"
        with self._lock:
            for old in [s for s, t in self._seen.items() if now - t > self.window]:
                del self._seen[old]
            if signature in self._seen:
                return "replayed request"
            self._seen[signature] = sent
        return None

"""A generic signed webhook for on-call tools stormwatch does not know: the delivery as
JSON, signed so the receiver can check it came from us and is fresh.

Signature: `X-Stormwatch-Signature: v1=<hex HMAC-SHA256(secret, "v1:{timestamp}:{body}")>`
with `X-Stormwatch-Timestamp` (epoch seconds), the scheme Slack uses for its requests.
`X-Stormwatch-Delivery` is stable across retries: receivers dedupe on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

from stormwatch.alerts.delivery import Outcome
from stormwatch.alerts.http_target import failed, outcome, post_json
from stormwatch.alerts.store import Delivery


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v1:" + timestamp.encode() + b":" + body
    return "v1=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class WebhookNotifier:
    def __init__(
        self,
        *,
        url: str,
        secret: str,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.clock = clock

    def deliver(self, delivery: Delivery) -> Outcome:
        body = json.dumps(
            {
                "delivery": delivery.id,
                "incident": delivery.incident,
                "action": delivery.payload.get("action"),
                "level": delivery.payload.get("level"),
                "who": delivery.payload.get("who"),
                "alert": delivery.payload.get("alert"),
            },
            sort_keys=True,
        ).encode()
        timestamp = str(int(self.clock()))
        headers = {
            "X-Stormwatch-Timestamp": timestamp,
            "X-Stormwatch-Signature": signature(self.secret, timestamp, body),
            "X-Stormwatch-Delivery": str(delivery.id),
        }
        try:
            answer = post_json(self.url, None, raw=body, headers=headers, timeout=self.timeout)
        except Exception as exc:
            return failed(exc, what="webhook")
        return outcome(answer, what="webhook", external_id=str(delivery.id))

"""PagerDuty Events API v2: trigger, acknowledge and resolve one PagerDuty alert per
incident. The `dedup_key` is the incident key, so a retried trigger, a level-2 page after
a level-1 page and the resolve all land on the same PagerDuty alert; a key past
PagerDuty's 255 characters (a long thread id, percent-encoded) is shortened the same way
every time (`dedup_key`)."""

from __future__ import annotations

import hashlib
from typing import Any

from stormwatch.alerts.delivery import Dead, Outcome
from stormwatch.alerts.http_target import failed, outcome, post_json
from stormwatch.alerts.store import Delivery

DEFAULT_URL = "https://events.pagerduty.com"
ACTIONS = ("trigger", "acknowledge", "resolve")
# stormwatch severity -> PagerDuty's (critical, error, warning, info)
SEVERITY = {"low": "info", "medium": "warning", "high": "error", "critical": "critical"}
_DETAILS = (
    "negative_per_min_now",
    "negative_per_min_baseline",
    "ratio_to_baseline",
    "doubling_minutes",
    "negative_share",
    "distinct_accounts_30min",
    "topics",
)


DEDUP_KEY_LIMIT = 255  # PagerDuty refuses longer keys with 400, for good


def dedup_key(incident: str) -> str:
    """The incident key, or for a longer one its start and a hash of the whole: the same
    for every event of the incident, and distinct for distinct incidents.

    >>> dedup_key("acme/p1/2026-03-02T09:15Z")
    'acme/p1/2026-03-02T09:15Z'
    >>> len(dedup_key("acme/" + "x" * 300))
    255
    """
    if len(incident) <= DEDUP_KEY_LIMIT:
        return incident
    digest = hashlib.sha256(incident.encode("utf-8")).hexdigest()
    return f"{incident[: DEDUP_KEY_LIMIT - len(digest) - 1]}#{digest}"


def event_body(
    delivery: Delivery, *, routing_key: str, source: str = "stormwatch"
) -> dict[str, Any]:
    """The Events v2 body for an on-call delivery (payload: action, level, alert)."""
    p = delivery.payload
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": p["action"],
        "dedup_key": dedup_key(delivery.incident),
    }
    if p["action"] != "trigger":
        return body
    alert = p["alert"]
    drivers = alert.get("drivers") or {}
    body["payload"] = {
        "summary": f"[{alert['severity'].upper()}] {alert['brand']}: {alert['summary']}"[:1024],
        "source": source,
        "severity": SEVERITY.get(alert["severity"], "warning"),
        "timestamp": alert.get("at"),
        "component": alert["brand"],
        "group": alert.get("thread_id") or "brand-wide",
        "class": alert.get("kind", "firestorm"),
        "custom_details": {
            "incident": delivery.incident,
            "level": p.get("level"),
            "playbook": alert.get("playbook"),
            **{k: drivers[k] for k in _DETAILS if k in drivers},
        },
    }
    body["client"] = "stormwatch"
    return body


class PagerDutyNotifier:
    """An `oncall:<name>` target of type `pagerduty`."""

    def __init__(self, *, routing_key: str, url: str = DEFAULT_URL, timeout: float = 10.0):
        self.routing_key = routing_key
        self.endpoint = url.rstrip("/") + "/v2/enqueue"
        self.timeout = timeout

    def deliver(self, delivery: Delivery) -> Outcome:
        if delivery.payload.get("action") not in ACTIONS:
            return Dead(f"pagerduty: unknown action {delivery.payload.get('action')!r}")
        body = event_body(delivery, routing_key=self.routing_key)
        try:
            answer = post_json(self.endpoint, body, timeout=self.timeout)
        except Exception as exc:
            return failed(exc, what="pagerduty")
        return outcome(answer, what="pagerduty", external_id=delivery.incident)

"""Prometheus Alertmanager API v2: an escalated incident becomes a firing alert that
Alertmanager routes, groups and sends to its receivers; a resolution sends `endsAt`; an
acknowledgement becomes a silence on the incident.

Alertmanager resolves an alert on its own once `endsAt` passes, so a firing alert is sent
with `endsAt` = now + `ttl` and re-sent (`refresh`) by the escalation scheduler while
the incident is open: if stormwatch dies, its alerts end instead of firing for ever.
Severity is a label (receivers route on it); when it rises, the alert under the old
severity is ended in the same request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from stormwatch.alerts.delivery import Dead, Outcome
from stormwatch.alerts.http_target import failed, outcome, post_json
from stormwatch.alerts.store import Delivery, IncidentStore

ALERTNAME = "StormwatchIncident"
DEFAULT_TTL = 3600.0
SILENCE_SECONDS = 24 * 3600.0


def rfc3339(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def labels(incident: str, alert: dict[str, Any], severity: str | None = None) -> dict[str, str]:
    out = {
        "alertname": ALERTNAME,
        "incident": incident,
        "brand": str(alert["brand"]),
        "severity": severity or str(alert["severity"]),
        "kind": str(alert.get("kind", "firestorm")),
    }
    if alert.get("thread_id"):
        out["thread"] = str(alert["thread_id"])
    return out


def annotations(alert: dict[str, Any], payload: dict[str, Any]) -> dict[str, str]:
    drivers = alert.get("drivers") or {}
    out = {"summary": str(alert.get("summary", "")), "event_time": str(alert.get("at"))}
    if alert.get("playbook"):
        out["playbook"] = str(alert["playbook"])
    if payload.get("level") is not None:
        out["escalation_level"] = str(payload["level"])
    for key in ("negative_per_min_now", "negative_per_min_baseline", "ratio_to_baseline"):
        if key in drivers:
            out[key] = str(drivers[key])
    return out


class AlertmanagerNotifier:
    """An `oncall:<name>` target of type `alertmanager`."""

    def __init__(
        self,
        *,
        url: str,
        store: IncidentStore,
        ttl: float = DEFAULT_TTL,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        generator_url: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.store = store
        self.ttl = ttl
        self.timeout = timeout
        self.clock = clock
        self.generator_url = generator_url

    def deliver(self, delivery: Delivery) -> Outcome:
        action = delivery.payload.get("action")
        try:
            if action in ("trigger", "refresh", "resolve"):
                answer = post_json(
                    f"{self.url}/api/v2/alerts", self._alerts(delivery), timeout=self.timeout
                )
                return outcome(answer, what="alertmanager")
            if action == "acknowledge":
                answer = post_json(
                    f"{self.url}/api/v2/silences", self._silence(delivery), timeout=self.timeout
                )
                silence = (answer.json() or {}).get("silenceID") if answer.status == 200 else None
                return outcome(answer, what="alertmanager silence", external_id=silence)
        except Exception as exc:
            return failed(exc, what="alertmanager")
        return Dead(f"alertmanager: unknown action {action!r}")

    def _alerts(self, delivery: Delivery) -> list[dict[str, Any]]:
        payload = delivery.payload
        alert = payload["alert"]
        now = self.clock()
        ends = now if payload["action"] == "resolve" else now + self.ttl
        started = rfc3339(float(payload.get("started", now)))
        current = str(alert["severity"])
        body = [
            {
                "labels": labels(delivery.incident, alert),
                "annotations": annotations(alert, payload),
                "startsAt": started,
                "endsAt": rfc3339(ends),
            }
        ]
        # Alerts sent earlier under another severity are another identity: end them.
        for severity in self._earlier_severities(delivery) - {current}:
            body.append(
                {
                    "labels": labels(delivery.incident, alert, severity),
                    "annotations": annotations(alert, payload),
                    "startsAt": started,
                    "endsAt": rfc3339(now),
                }
            )
        if self.generator_url:
            for item in body:
                item["generatorURL"] = self.generator_url
        return body

    def _earlier_severities(self, delivery: Delivery) -> set[str]:
        return {
            str(d.payload["alert"]["severity"])
            for d in self.store.deliveries(delivery.incident)
            if d.target == delivery.target
            and d.status == "sent"
            and d.id != delivery.id
            and isinstance(d.payload.get("alert"), dict)
        }

    def _silence(self, delivery: Delivery) -> dict[str, Any]:
        now = self.clock()
        who = str(delivery.payload.get("who") or "stormwatch")
        return {
            "matchers": [
                {"name": "incident", "value": delivery.incident, "isRegex": False, "isEqual": True}
            ],
            "startsAt": rfc3339(now),
            "endsAt": rfc3339(now + SILENCE_SECONDS),
            "createdBy": who,
            "comment": f"Acknowledged in stormwatch by {who}",
        }

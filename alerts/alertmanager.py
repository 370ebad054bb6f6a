"""Prometheus Alertmanager API v2: an escalated incident becomes a firing alert that
Alertmanager routes, groups and sends to its receivers; a resolution sends `endsAt`; an
acknowledgement becomes a silence on the incident.

Alertmanager resolves an alert on its own once `endsAt` passes, so a firing alert is sent
with `endsAt` = now + `ttl` and re-sent (`refresh`) by the escalation scheduler while
the incident is open: if stormwatch dies, its alerts end instead of firing for ever.
Severity is a label (receivers route on it); when it rises, the alert under the old
severity is ended in the same request. A silence lasts 24 hours and is made again while
the incident stays acknowledged and its alert is refreshed; a resolution expires it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from stormwatch.alerts.delivery import Dead, Outcome, Sent
from stormwatch.alerts.http_target import delete, failed, outcome, post_json
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
                if action == "resolve":
                    # A silence left behind hid the resolution and, when the storm came
                    # back, the reopened incident's alert from every receiver.
                    for silence in self._silences(delivery):
                        ended = self._expire(silence)
                        if ended is not None:
                            return ended
                answer = post_json(
                    f"{self.url}/api/v2/alerts", self._alerts(delivery), timeout=self.timeout
                )
                result = outcome(answer, what="alertmanager")
                if action == "refresh" and isinstance(result, Sent):
                    return self._renew_silence(delivery) or result
                return result
            if action == "acknowledge":
                return self._post_silence(delivery)
        except Exception as exc:
            return failed(exc, what="alertmanager")
        return Dead(f"alertmanager: unknown action {action!r}")

    def _post_silence(self, delivery: Delivery) -> Outcome:
        answer = post_json(
            f"{self.url}/api/v2/silences", self._silence(delivery), timeout=self.timeout
        )
        body = answer.json() if answer.status == 200 else None
        silence = body.get("silenceID") if isinstance(body, dict) else None
        return outcome(
            answer,
            what="alertmanager silence",
            external_id=silence if isinstance(silence, str) else None,
        )

    def _silences(self, delivery: Delivery) -> list[tuple[str, float]]:
        """(silence id, when it was made) of this target's silences on the incident since
        it last resolved here, oldest first."""
        found: list[tuple[str, float]] = []
        for d in self.store.deliveries(delivery.incident):
            if d.target != delivery.target or d.status != "sent" or d.id == delivery.id:
                continue
            if d.payload.get("action") == "resolve":
                found = []
            elif d.external_id and d.payload.get("action") in ("acknowledge", "refresh"):
                found.append((d.external_id, d.updated_at))
        return found

    def _expire(self, silence: tuple[str, float]) -> Outcome | None:
        """None once the silence is gone (expired now, earlier, or unknown: 404)."""
        answer = delete(f"{self.url}/api/v2/silence/{silence[0]}", timeout=self.timeout)
        if 200 <= answer.status < 300 or answer.status == 404:
            return None
        if b"already expired" in answer.body:  # Alertmanager answers 500 so
            return None
        return outcome(answer, what="alertmanager silence expiry")

    def _renew_silence(self, delivery: Delivery) -> Outcome | None:
        """An acknowledged incident's silence is made again before it ends: it lasted 24
        hours while its alert was refreshed as firing, and receivers were paged again
        about an incident someone had taken."""
        silences = self._silences(delivery)
        if not silences or silences[-1][1] + SILENCE_SECONDS - 2 * self.ttl > self.clock():
            return None
        return self._post_silence(delivery)

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

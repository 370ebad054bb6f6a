"""The escalation scheduler: pages on-call when nobody in Slack acts, and tells on-call when
someone does.

It keeps no state of its own. What was paged is the incident's `oncall:*` deliveries in
the outbox (payload `action`, `level`), so every pass reconciles the incident's status
with them: an open incident gets the levels now due (policy, business and quiet hours);
an acknowledged one an `acknowledge` to each target paged, a resolved one a `resolve`.
The outbox then delivers them in order per target: a resolve never overtakes its trigger.
A snooze is a journal row (`escalation` target) whose `until` holds the pages back.

The clock is injectable; live runs use the wall clock, and levels count from the moment
stormwatch recorded the incident, not from its event time (a replay of last month must
not page anybody for last month's storms... unless it is live).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from stormwatch.alerts.alertmanager import DEFAULT_TTL
from stormwatch.alerts.escalation_policy import OncallConfig
from stormwatch.alerts.store import Delivery, Incident, IncidentStore, StoredEvent

log = logging.getLogger(__name__)

ONCALL_PREFIX = "oncall:"
JOURNAL = "escalation"
ESCALATE_AGAIN_AFTER_S = 10.0  # an Escalate within this of the last one is a double click
SLACK = "slack"


class Escalator:
    def __init__(
        self,
        store: IncidentStore,
        config: OncallConfig,
        *,
        clock: Callable[[], float] = time.time,
        notify_slack: bool = True,
        alertmanager_ttl: float = DEFAULT_TTL,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.notify_slack = notify_slack
        self.alertmanager_ttl = alertmanager_ttl
        # One reconcile per process at a time (no double pages). People's actions hold it
        # too (`IncidentActions`), so no pass acts on a status they are changing.
        self.lock = threading.RLock()
        self._settled: set[str] = set()  # resolved and fully told downstream

    # --- entry points --------------------------------------------------------------------

    def tick(self) -> int:
        """One pass over the unresolved incidents and the recently resolved ones; the number
        of deliveries enqueued."""
        enqueued = 0
        for status in ("open", "snoozed", "acknowledged", "resolved"):
            for key in self.store.incident_keys(status):  # type: ignore[arg-type]
                if status == "resolved" and key in self._settled:
                    continue  # (a settled incident that reopened is reconciled again)
                enqueued += self.reconcile(key)
        return enqueued

    def reconcile(self, key: str) -> int:
        with self.lock:
            incident = self.store.get_incident(key)
            if incident is None:
                return 0
            deliveries = self.store.deliveries(key)
            if incident.status == "snoozed":
                if self._snoozed_until(deliveries) > self.clock():
                    return 0
                # Someone who took the incident and snoozed it still has it.
                taken = incident.acknowledged_at is not None
                self.store.set_status(key, "acknowledged" if taken else "open")
                self._tell_slack(key, "⏰ Snooze over: escalation runs again")
                incident = self.store.get_incident(key)
                assert incident is not None
            if incident.status == "resolved":
                n = self._follow(incident, deliveries, "resolve")
                if n == 0 and not any(
                    d.status in ("pending", "failed") and d.target.startswith(ONCALL_PREFIX)
                    for d in deliveries
                ):
                    self._settled.add(key)
                return n
            self._settled.discard(key)
            if incident.status == "acknowledged":
                return self._follow(incident, deliveries, "acknowledge") + self._refresh(
                    incident, deliveries
                )
            return self._page_due(incident, deliveries) + self._refresh(incident, deliveries)

    def escalate_now(self, key: str, *, who: str) -> str:
        """The Escalate button: the next level that has not paged yet, now, whatever its
        delay and hours say. Returns a note for the thread."""
        with self.lock:
            incident = self.store.get_incident(key)
            if incident is None:
                return f"no incident {key}"
            if incident.status == "resolved":
                # An older copy of the message still has the button: paging on-call for
                # an incident over would wake someone for nothing.
                return f"{who} asked to escalate, but the incident is resolved"
            policy = self.config.policy_for(incident.brand, incident.severity)
            if policy is None:
                return "no on-call policy covers this incident"
            this_round = _this_round(self.store.deliveries(key))
            pressed = [
                d.created_at
                for d in this_round
                if d.target.startswith(ONCALL_PREFIX)
                and d.payload.get("action") == "trigger"
                and d.payload.get("who") is not None
            ]
            if pressed and self.clock() - pressed[-1] < ESCALATE_AGAIN_AFTER_S:
                # A double click is two signed requests: it paged two levels at once.
                return f"{who} asked to escalate, but the incident was escalated just now"
            fired = _fired_levels(this_round)
            for i, level in enumerate(policy.levels):
                level_id = f"{policy.index}.{i}"
                if level_id not in fired:
                    self._page(incident, level_id, level.targets, who=who)
                    return f"🚨 Escalated by {who}: paging {', '.join(level.targets)}"
            return f"{who} asked to escalate, but every on-call level has been paged already"

    def snooze(self, key: str, *, who: str, seconds: float) -> None:
        until = self.clock() + seconds
        row = self.store.enqueue(
            incident=key,
            target=JOURNAL,
            payload={"action": "snooze", "until": until, "who": who},
        )
        self.store.mark_delivered(row)

    def resolved_by(self, key: str, *, who: str) -> None:
        """A person resolved the incident: journalled, so that if its storm goes on and
        it reopens, its levels count from then, whether or not on-call had been paged
        (the store forgets the resolution when the incident reopens)."""
        row = self.store.enqueue(
            incident=key, target=JOURNAL, payload={"action": "resolve", "who": who}
        )
        self.store.mark_delivered(row)

    # --- reconciliation ----------------------------------------------------------------

    def _page_due(self, incident: Incident, deliveries: list[Delivery]) -> int:
        policy = self.config.policy_for(incident.brand, incident.severity)
        if policy is None:
            return 0
        started = _round_started(self.store.events(incident.key), deliveries, incident.opened_at)
        now = self.clock()
        fired = _fired_levels(_this_round(deliveries))
        n = 0
        for i, level in enumerate(policy.levels):
            level_id = f"{policy.index}.{i}"
            if level_id in fired or now < started + level.after_minutes * 60.0:
                continue
            if not self.config.allows(level, incident.severity, now):
                continue
            n += self._page(incident, level_id, level.targets, who=None, started=started)
        return n

    def _page(
        self,
        incident: Incident,
        level_id: str,
        targets: tuple[str, ...],
        *,
        who: str | None,
        started: float | None = None,
    ) -> int:
        if started is None:
            events, deliveries = (
                self.store.events(incident.key),
                self.store.deliveries(incident.key),
            )
            started = _round_started(events, deliveries, self.clock())
        self.store.enqueue_all(
            incident.key,
            [
                self._row(incident, name, "trigger", level=level_id, who=who, started=started)
                for name in targets
            ],
        )
        log.info("incident %s: level %s pages %s", incident.key, level_id, ", ".join(targets))
        return len(targets)

    def _follow(self, incident: Incident, deliveries: list[Delivery], action: str) -> int:
        """Tell every paged target that the incident was acknowledged or resolved."""
        n = 0
        for name, last in _last_actions(deliveries).items():
            done = ("acknowledge", "resolve") if action == "acknowledge" else ("resolve",)
            if last in done or name not in self.config.targets:
                continue
            self._enqueue(incident, name, action, who=self._last_who(incident, action))
            n += 1
        return n

    def _refresh(self, incident: Incident, deliveries: list[Delivery]) -> int:
        """Re-send firing Alertmanager alerts before their `endsAt`, and when severity rose."""
        n = 0
        now = self.clock()
        for name, target in self.config.targets.items():
            if target.type != "alertmanager":
                continue
            sent = [
                d
                for d in deliveries
                if d.target == target.outbox_target
                and d.payload.get("action") in ("trigger", "refresh")
            ]
            if not sent or any(d.status in ("pending", "failed") for d in sent):
                continue
            last = sent[-1]
            stale = now - last.updated_at >= self.alertmanager_ttl / 2
            rose = last.payload["alert"].get("severity") != incident.severity
            if stale or rose:
                self._enqueue(incident, name, "refresh", started=last.payload.get("started"))
                n += 1
        return n

    # --- helpers -----------------------------------------------------------------------

    def _enqueue(self, incident: Incident, name: str, action: str, **extra: Any) -> None:
        self.store.enqueue_all(incident.key, [self._row(incident, name, action, **extra)])

    def _row(
        self, incident: Incident, name: str, action: str, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        payload = {"action": action, "alert": incident.last_event, **extra}
        return self.config.targets[name].outbox_target, payload

    def _tell_slack(self, key: str, note: str) -> None:
        if self.notify_slack:
            self.store.enqueue(
                incident=key, target=SLACK, payload={"action": "refresh", "note": note}
            )

    def _last_who(self, incident: Incident, action: str) -> str:
        if action == "acknowledge":
            acks = self.store.acknowledgements(incident.key)
            if acks:
                return acks[-1].who
        return "stormwatch"

    @staticmethod
    def _snoozed_until(deliveries: list[Delivery]) -> float:
        snoozes = [
            float(d.payload["until"])
            for d in deliveries
            if d.target == JOURNAL and d.payload.get("action") == "snooze"
        ]
        return snoozes[-1] if snoozes else 0.0

    def run_forever(self, stop: threading.Event, *, interval: float = 15.0) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("escalation pass failed")
            stop.wait(interval)


def _is_resolve(delivery: Delivery) -> bool:
    """A `resolve` sent to on-call, or a person's resolve journalled (`resolved_by`)."""
    return delivery.payload.get("action") == "resolve" and (
        delivery.target == JOURNAL or delivery.target.startswith(ONCALL_PREFIX)
    )


def _last_resolve(deliveries: list[Delivery]) -> int:
    """The index of the last resolve (`_is_resolve`), -1 when there was none."""
    return max((n for n, d in enumerate(deliveries) if _is_resolve(d)), default=-1)


def _this_round(deliveries: list[Delivery]) -> list[Delivery]:
    """The deliveries since the incident last resolved (on-call told so, or a person
    resolved it; the same cut as `_round_started`): an incident that reopens (its storm
    came back, or it went on after a person resolved it) pages its levels again, from
    the first, rather than counting the pages of its first round."""
    return deliveries[_last_resolve(deliveries) + 1 :]


def _round_started(events: list[StoredEvent], deliveries: list[Delivery], default: float) -> float:
    """When this round of the incident began, which its levels count from: its first
    event recorded after it last resolved (its `resolved` event, on-call told so, or a
    person resolving it while its storm went on), else its first event. Counted from the
    reopening after a person resolved it too: with nobody paged before, its levels
    counted from its first opening and all paged at once when it reopened."""
    if not events:
        return default
    resolved = [e.recorded_at for e in events if e.event == "resolved"]
    resolved += [d.created_at for d in deliveries if _is_resolve(d)]
    if not resolved:
        return events[0].recorded_at
    last = max(resolved)
    after = [e.recorded_at for e in events if e.recorded_at >= last and e.event != "resolved"]
    return after[0] if after else last


def _fired_levels(deliveries: list[Delivery]) -> set[str]:
    return {
        str(d.payload.get("level"))
        for d in deliveries
        if d.target.startswith(ONCALL_PREFIX) and d.payload.get("action") == "trigger"
    }


def _last_actions(deliveries: list[Delivery]) -> dict[str, str]:
    """Per paged target name, its latest trigger/acknowledge/resolve (refreshes aside)."""
    last: dict[str, str] = {}
    for d in deliveries:  # oldest first
        action = d.payload.get("action")
        if d.target.startswith(ONCALL_PREFIX) and action in ("trigger", "acknowledge", "resolve"):
            last[d.target.removeprefix(ONCALL_PREFIX)] = action
    return last

"""The outbox worker: takes due deliveries from the incident store and hands each to the
notifier of its target (Slack, PagerDuty, Alertmanager, webhook), then records the result.

A notifier says whether a failure is recoverable (Alertmanager's rule). Recoverable
failures are retried for ever with capped exponential backoff, or after the target's own
`Retry-After`: an alert is never dropped because Slack was down for an hour. Only a
permanent failure (bad channel, bad routing key) makes a delivery dead.

Order through an outage: when a target is down, the rest of the claimed batch is put back
with the same retry time, untried, and the target is left alone until then; the oldest
delivery is the probe. So deliveries queued during the outage go out oldest first when it
ends, and the store keeps each incident's deliveries in sequence on top of that.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from stormwatch.alerts.store import Delivery, IncidentStore

log = logging.getLogger(__name__)

MIN_RETRY_AFTER = 1.0  # seconds at least before a retry that a target asked for


@dataclass(frozen=True, slots=True)
class Sent:
    external_id: str | None = None  # what the target calls it (Slack ts, ...)


@dataclass(frozen=True, slots=True)
class Retry:
    error: str
    after: float | None = None  # seconds the target asked for (429 Retry-After)
    target_down: bool = True  # False: only this delivery failed, go on with the others


@dataclass(frozen=True, slots=True)
class Dead:
    error: str


Outcome = Sent | Retry | Dead


class Notifier(Protocol):
    def deliver(self, delivery: Delivery) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds before retry n (1-based): base · 2^(n-1), capped, ±jitter so that many
    workers coming back from one outage do not retry in lockstep."""

    base: float = 2.0
    cap: float = 300.0
    jitter: float = 0.2

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        raw = min(self.cap, self.base * 2.0 ** max(0, attempts - 1))
        spread = (rng or random).uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        return raw * (1.0 + spread)


class OutboxWorker:
    def __init__(
        self,
        store: IncidentStore,
        notifiers: Mapping[str, Notifier],
        *,
        clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        lease: float = 120.0,
        batch: int = 50,
        rng: random.Random | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
    ) -> None:
        """`on_outcome(target, outcome)` hears each attempt: target `slack` or the on-call
        target's type (`pagerduty`, ...), outcome `delivered`, `failed` (to be retried) or
        `dropped`; `StormwatchMetrics.delivery` fits."""
        self.store = store
        self.on_outcome = on_outcome
        self.notifiers = dict(notifiers)
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.lease = lease
        self.batch = batch
        self.rng = rng or random.Random()
        self.down_until: dict[str, float] = {}
        self.waiting: dict[int, float] = {}  # delivery id -> retry time, this process's view
        self.sent = 0
        self.dead = 0

    def run_once(self) -> int:
        """One pass over every target; the number of deliveries tried."""
        tried = 0
        for target, notifier in self.notifiers.items():
            now = self.clock()
            if self.down_until.get(target, 0.0) > now:
                continue
            claimed = self.store.pending_deliveries(
                target, now=now, limit=self.batch, lease=self.lease
            )
            for i, delivery in enumerate(claimed):
                tried += 1
                retry_at = self._attempt(notifier, delivery)
                if retry_at is not None:
                    for untried in claimed[i + 1 :]:
                        self.store.mark_failed(
                            untried.id, "not tried: target unavailable", retry_at=retry_at
                        )
                        self.waiting[untried.id] = retry_at
                    self.down_until[target] = retry_at
                    break
        return tried

    def _attempt(self, notifier: Notifier, delivery: Delivery) -> float | None:
        """Deliver one; the time the whole target may be retried if it is down."""
        try:
            outcome = notifier.deliver(delivery)
        except Exception as exc:  # a notifier bug must not stop the other deliveries
            log.exception("delivery %s to %s crashed", delivery.id, delivery.target)
            outcome = Retry(f"{type(exc).__name__}: {exc}", target_down=False)
        self._count(notifier, delivery.target, outcome)
        if isinstance(outcome, Sent):
            self.store.mark_delivered(delivery.id, outcome.external_id)
            self.waiting.pop(delivery.id, None)
            self.sent += 1
            return None
        if isinstance(outcome, Dead):
            log.error("delivery %s to %s is dead: %s", delivery.id, delivery.target, outcome.error)
            self.store.mark_failed(delivery.id, outcome.error, retry_at=None)
            self.waiting.pop(delivery.id, None)
            self.dead += 1
            return None
        # As the target asks, but never sooner than a second: one that answered "retry
        # after 0 s" (or a date in the past) again and again was retried in a hot loop,
        # and `drain` never saw a pass without work.
        delay = (
            max(outcome.after, MIN_RETRY_AFTER)
            if outcome.after is not None
            else self.backoff.delay(delivery.attempts, self.rng)
        )
        retry_at = self.clock() + delay
        log.warning(
            "delivery %s to %s failed (attempt %d), retry in %.1fs: %s",
            delivery.id,
            delivery.target,
            delivery.attempts,
            delay,
            outcome.error,
        )
        self.store.mark_failed(delivery.id, outcome.error, retry_at=retry_at)
        self.waiting[delivery.id] = retry_at
        return retry_at if outcome.target_down else None

    def _count(self, notifier: Notifier, target: str, outcome: object) -> None:
        if self.on_outcome is None:
            return
        # One label per kind of target, not per on-call target name: bounded cardinality.
        kind = target if ":" not in target else type(notifier).__name__.removesuffix("Notifier")
        result = (
            "delivered"
            if isinstance(outcome, Sent)
            else "dropped"
            if isinstance(outcome, Dead)
            else "failed"
        )
        try:
            self.on_outcome(kind.lower(), result)
        except Exception:  # metrics must never stop a delivery
            log.exception("delivery outcome hook failed")

    def drain(self, *, timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Deliver until nothing is due or waiting in this process; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if self.run_once():
                if time.monotonic() > deadline:
                    return False  # deliveries still being tried: not drained
                continue
            if not self.waiting:
                return True
            wait = min(self.waiting.values()) - self.clock()
            if time.monotonic() + max(wait, 0.0) > deadline:
                return False
            sleep(min(max(wait, 0.01), 1.0))

    def run_forever(self, stop: threading.Event, *, interval: float = 1.0) -> None:
        """The worker loop of `stormwatch serve`; returns soon after `stop` is set."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("outbox pass failed")
                busy = 0
            if not busy:
                stop.wait(interval)

"""The collectors of `stormwatch serve`: one thread each, polling every `every` seconds.

Each poll is the standalone commands' loop (`poll_once`): a page of records is offered to
the live pipeline's intake, the same path as `POST /ingest`, and the collector's cursor is
committed only once the intake took the whole page. A full intake is waited out (retried
every `retry_seconds`), never dropped: the collector falls behind instead, and its cursor
with it. A poll that fails (a platform down, a login refused) is logged in one line and
retried at the next interval; the collector is built by its thread, so that includes a
refused login at start-up.

Stopping (`serve`'s SIGTERM): a page not yet taken is not committed and is read again
after the restart; a page taken is processed before the pipeline checkpoints. Records
taken but not yet checkpointed are lost if the process is killed outright, as for
`POST /ingest`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from stormwatch.exceptions import StormwatchError
from stormwatch.ingest.decode import record_json
from stormwatch.ingest.page_collector import PageCollector, poll_once
from stormwatch.ingest.rss_source import FeedError
from stormwatch.metrics import StormwatchMetrics
from stormwatch.service.collector_config import CollectorSpec
from stormwatch.service.live import LivePipeline

log = logging.getLogger(__name__)

RETRY_SECONDS = 0.2  # between offers to a full intake


class IntakeClosed(StormwatchError):
    """serve is stopping: the page was not taken, its cursor stays where it was."""


class IntakeDelivery:
    """`poll_once`'s destination: the live pipeline's intake, waiting while it is full."""

    def __init__(
        self,
        live: LivePipeline,
        source: str,
        stop: threading.Event,
        *,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.live = live
        self.source = source
        self.stop = stop
        self.retry_seconds = retry_seconds
        self.waits = 0  # offers refused by a full intake
        self.taken = 0  # records the intake took

    def send(self, records: Sequence[dict[str, Any]]) -> None:
        lines = [record_json(record) for record in records]
        while True:
            if self.stop.is_set():
                raise IntakeClosed("stopping: page left for the next start")
            if self.live.offer(lines, self.source):
                self.taken += len(lines)
                return
            self.waits += 1
            self.stop.wait(self.retry_seconds)


class CollectorThread:
    """One configured collector, polled on its own thread until `stop` is set."""

    def __init__(
        self,
        spec: CollectorSpec,
        live: LivePipeline,
        *,
        metrics: StormwatchMetrics | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.spec = spec
        self.live = live
        self.metrics = metrics
        self.retry_seconds = retry_seconds
        self.collector: PageCollector | None = None
        self.polls = 0  # polls that ended without an error
        self.failures = 0
        self.records = 0  # records the intake took
        self.thread: threading.Thread | None = None

    def start(self, stop: threading.Event) -> None:
        self.thread = threading.Thread(
            target=self.run, args=(stop,), name=f"collector-{self.spec.name}", daemon=True
        )
        self.thread.start()

    def join(self, timeout: float) -> None:
        if self.thread is not None:
            self.thread.join(timeout)
            if self.thread.is_alive():
                log.warning("collector %s still in a request at shutdown", self.spec.name)

    def run(self, stop: threading.Event) -> None:
        spec = self.spec
        delivery = IntakeDelivery(
            self.live, f"collector:{spec.name}", stop, retry_seconds=self.retry_seconds
        )
        try:
            while not stop.is_set():
                self.poll(delivery)
                stop.wait(spec.every)
        finally:
            close = getattr(self.collector, "close", None)
            if close is not None:
                close()

    def poll(self, delivery: IntakeDelivery) -> None:
        """One poll; errors are logged in one line, never raised (the next poll retries)."""
        taken, waits = delivery.taken, delivery.waits
        ok = self._poll(delivery)
        if ok is None:
            return  # stopping
        self.records += delivery.taken - taken
        if self.metrics is not None:
            self.metrics.collector_poll(
                self.spec.name,
                ok=ok,
                records=delivery.taken - taken,
                waits=delivery.waits - waits,
            )

    def _poll(self, delivery: IntakeDelivery) -> bool | None:
        spec = self.spec
        try:
            if self.collector is None:
                self.collector = spec.build()
            report = poll_once(
                self.collector,
                delivery,
                spec.dead_letter,
                # Privacy on: the platform's items hold accounts ingest never sees.
                withhold_items=self.live.pipeline.pseudonymize is not None,
            )
        except IntakeClosed:
            return None
        except (StormwatchError, FeedError) as exc:
            self.failures += 1
            log.error("collector %s (%s): %s", spec.name, spec.source, exc)
            return False
        except Exception:  # a client library's surprise must not end the thread
            self.failures += 1
            log.exception("collector %s (%s): poll failed", spec.name, spec.source)
            return False
        self.polls += 1
        if report.records or report.dead_letters:
            log.info("collector %s: %s", spec.name, report.line())
        return True

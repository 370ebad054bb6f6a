"""`stormwatch serve`: the always-on embedded deployment, one ASGI app on uvicorn.

| route | what |
|---|---|
| `POST /ingest` | comments in the input contract (bearer token; see `service/ingest.py`) |
| `GET/POST /webhooks/meta` | Facebook Page and Instagram comments (see `service/meta.py`) |
| `POST /slack/actions` | Slack buttons on incidents and comments (`service/slack_actions.py`) |
| `GET /metrics` | Prometheus metrics of this process |
| `GET /healthz` | 200 while the pipeline thread lives (no connection details, ever) |
| `GET /readyz` | 200 only when the incident store answers and the pipeline runs |

Behind them: the pipeline on its own thread (`service/live.py`: bounded intake, minutes
closed on wall-clock idleness, checkpoints in the store), one delivery loop for the
outbox (woken by new alerts and button presses, never a thread per press), the
on-call escalation scheduler, and a thread per collector of the config file's
`[[collectors]]` (`service/collector_config.py`, `service/collector_threads.py`), feeding
the intake as `POST /ingest` does.

SIGTERM or Ctrl-C: uvicorn stops accepting and finishes the requests in flight; the
collectors stop (a page not yet handed over is read again next start); then the
pipeline processes everything accepted and checkpoints, the outbox is drained (bounded),
the store closed; the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stormwatch.alerts.actions import IncidentActions
from stormwatch.alerts.comment_readings import CommentReadings
from stormwatch.alerts.delivery import OutboxWorker
from stormwatch.alerts.escalation import Escalator
from stormwatch.alerts.escalation_policy import load_oncall_config
from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.exceptions import StoreError
from stormwatch.alerts.notifiers import build_notifiers
from stormwatch.alerts.slack_config import load_slack_config
from stormwatch.alerts.store import IncidentStore
from stormwatch.config import Settings
from stormwatch.exceptions import ConfigError
from stormwatch.service.asgi import (
    AsgiEndpoint,
    ServerThread,
    bind,
    error,
    exception_handlers,
    raise_open_files_limit,
    server_config,
)
from stormwatch.service.collector_config import load_collectors
from stormwatch.service.collector_threads import CollectorThread
from stormwatch.service.ingest import IngestConfig, IngestEndpoint, load_ingest_config
from stormwatch.service.live import LivePipeline
from stormwatch.service.meta import MetaWebhook, load_meta_config, load_watchlist
from stormwatch.service.slack_actions import SlackActionsEndpoint

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0  # outbox delivery at shutdown, at most
COLLECTOR_JOIN_SECONDS = 10.0  # a collector's request in flight at shutdown, at most


class DeliveryLoop:
    """The one thread that delivers the outbox: a pass every `interval`, at once when
    woken (a new alert, a button press), again at once while passes find work."""

    def __init__(self, worker: OutboxWorker, *, interval: float = 1.0) -> None:
        self.worker = worker
        self.interval = interval
        self._wake = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if stop.is_set():
                return
            try:
                if self.worker.run_once():
                    self._wake.set()  # more may be due: go again without waiting
            except Exception:
                log.exception("outbox pass failed")


class StoreAlertSink:
    """The pipeline's alerts into the store (with their deliveries), then a wake-up for
    the delivery loop; escalation learns of each incident change."""

    def __init__(
        self,
        store: IncidentStore,
        *,
        targets: tuple[str, ...],
        escalator: Escalator | None,
        wake: Callable[[], None],
    ) -> None:
        self.store = store
        self.targets = targets
        self.escalator = escalator
        self.wake = wake
        # Events not recorded yet: the store failed (locked past its timeout, a database
        # restarting). Kept in order and recorded by the next `flush`; the pipeline
        # goes on. Raised into it, the event was lost and the rest of its minute
        # (other brands' decisions, what the minute teaches) was never done.
        self.pending: deque[AlertEvent] = deque()
        self._failing = False

    def emit(self, event: AlertEvent) -> None:
        self.pending.append(event)
        self.flush()

    def flush(self) -> bool:
        """Record what waits, oldest first; True when nothing waits any more."""
        pending = self.pending
        while pending:
            event = pending[0]
            try:
                self.store.record(event, targets=self.targets)
            except Exception:  # noqa: BLE001 - the store's or its driver's: retried
                if not self._failing:
                    self._failing = True
                    log.exception("recording alert events failed; %d wait", len(pending))
                return False
            pending.popleft()
            if self._failing:
                self._failing = False
                log.warning("the incident store records again")
            if self.escalator is not None:
                try:
                    self.escalator.reconcile(event.incident)
                except Exception:  # noqa: BLE001 - its next round reconciles again
                    log.exception("escalation of %s failed", event.incident)
            self.wake()
        return True

    def close(self) -> None:
        pass  # the service closes the store after the outbox drained


class Service:
    """The running parts of `stormwatch serve`. `start()` serves from a background thread
    (tests); `run()` serves in the calling (main) thread until SIGTERM/SIGINT."""

    def __init__(
        self,
        *,
        store: IncidentStore,
        live: LivePipeline,
        registry: CollectorRegistry,
        ingest: IngestConfig,
        slack: SlackActionsEndpoint | None,
        meta: MetaWebhook | None,
        delivery: DeliveryLoop | None,
        escalator: Escalator | None,
        collectors: Sequence[CollectorThread] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        worker_interval: float = 1.0,
        escalation_interval: float = 15.0,
    ) -> None:
        self.store = store
        self.live = live
        self.collectors = list(collectors)
        self.collectors_stop = threading.Event()
        self.registry = registry
        self.ingest = IngestEndpoint(ingest, live)
        self.slack = slack
        self.meta = meta
        self.delivery = delivery
        self.escalator = escalator
        self.host = host
        self.port = port
        self.worker_interval = worker_interval
        self.escalation_interval = escalation_interval
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.server: ServerThread | None = None
        self.app = self.build_app()
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- the app ------------------------------------------------------------------------

    def build_app(self) -> Starlette:
        async def slack_actions(request: Request) -> Response:
            if self.slack is None:
                return error(404, "Slack is not configured: set SLACK_SIGNING_SECRET")
            return await self.slack.handle(request)

        async def not_found(request: Request, exc: Exception) -> Response:
            return error(404, "not found")

        async def not_allowed(request: Request, exc: Exception) -> Response:
            return error(405, "method not allowed")

        routes = [
            Route("/ingest", self.ingest.handle, methods=["POST"]),
            Route("/slack/actions", slack_actions, methods=["POST"]),
            Route("/healthz", self._healthz, methods=["GET"]),
            Route("/readyz", self._readyz, methods=["GET"]),
            Route("/metrics", AsgiEndpoint(make_asgi_app(self.registry))),
        ]
        if self.meta is not None:
            routes.append(Route("/webhooks/meta", self.meta.handle, methods=["GET", "POST"]))
        handlers = exception_handlers()
        handlers[404] = not_found
        handlers[405] = not_allowed
        return Starlette(routes=routes, exception_handlers=handlers)

    async def _healthz(self, request: Request) -> Response:
        ok = self.live.running
        return JSONResponse({"ok": ok} if ok else {"ok": False, "error": "pipeline stopped"},
                            status_code=200 if ok else 503)  # fmt: skip

    async def _readyz(self, request: Request) -> Response:
        ok, reason = await run_in_threadpool(self.ready)
        return JSONResponse({"ok": ok, "reason": reason}, status_code=200 if ok else 503)

    def health(self) -> bool:
        return self.live.running

    def ready(self) -> tuple[bool, str]:
        try:
            self.store.ping()
        except StoreError as exc:
            log.warning("readiness: %s", exc)
            return False, "incident store unavailable"  # no URL, user or host here
        return self.live.ready()

    # -- lifecycle ----------------------------------------------------------------------

    def open(self) -> Service:
        """Restore the pipeline and start the background threads (not the HTTP server)."""
        self.live.start()
        if self.delivery is not None:
            self.delivery.interval = self.worker_interval
            self.threads.append(
                threading.Thread(
                    target=self.delivery.run, args=(self.stop_event,), name="delivery", daemon=True
                )
            )
        if self.escalator is not None:
            self.threads.append(
                threading.Thread(
                    target=self.escalator.run_forever,
                    args=(self.stop_event,),
                    kwargs={"interval": self.escalation_interval},
                    name="escalation",
                    daemon=True,
                )
            )
        for thread in self.threads:
            thread.start()
        for collector in self.collectors:
            collector.start(self.collectors_stop)
        return self

    def start(self) -> Service:
        """Serve from a background thread; returns once it listens."""
        self.server = ServerThread(self.app, host=self.host, port=self.port)
        self.host, self.port = self.server.host, self.server.port
        self.open()
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop intake, process what was accepted, checkpoint, drain the outbox."""
        if self.server is not None:
            self.server.close()
            self.server = None
        self.shutdown()

    def shutdown(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        # Collectors first: a page they have not handed over stays uncommitted, and what
        # they handed over is in the intake the pipeline now finishes.
        self.collectors_stop.set()
        for collector in self.collectors:
            collector.join(timeout=COLLECTOR_JOIN_SECONDS)
        self.live.stop()
        self.stop_event.set()
        if self.delivery is not None:
            self.delivery.wake()
        for thread in self.threads:
            thread.join(timeout=15)
        if self.delivery is not None:
            try:
                if not self.delivery.worker.drain(timeout=DRAIN_SECONDS):
                    log.warning("outbox not empty at shutdown: the rest goes out next start")
            except Exception:
                log.exception("draining the outbox at shutdown failed")

    def run(self, *, ready: Callable[[str], None] | None = None) -> None:
        """Serve in this thread until SIGTERM/SIGINT, then shut down cleanly."""
        raise_open_files_limit()
        sock = bind(self.host, self.port)  # a busy port fails before anything starts
        self.host, self.port = sock.getsockname()[:2]
        server = uvicorn.Server(server_config(self.app, host=self.host, port=self.port))

        # uvicorn re-raises the signal it caught once it stopped; with these handlers in
        # place that only asks it to stop again, and the shutdown below runs to the end
        # (exit 0). Before uvicorn takes the signals over (while the store and the
        # pipeline open), a stop is remembered: uvicorn then stops right after it
        # started (a SIGTERM then was dropped, and the service ran on).
        def stop_soon(*_: object) -> None:
            server.should_exit = True

        previous = {sig: signal.signal(sig, stop_soon) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.open()
            if ready is not None:
                ready(self.url)
            server.run(sockets=[sock])
        finally:
            log.info("stopping: intake closed, finishing what was accepted")
            self.shutdown()
            sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def build_service(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    store: IncidentStore | None = None,
    alerts_jsonl: Path | None = None,
    dead_letter: Path | None = None,
    registry: CollectorRegistry | None = None,
    live_options: Mapping[str, Any] | None = None,
) -> Service:
    """Everything `serve` runs, from the settings, the config file and the environment."""
    import os

    from stormwatch.metrics import MetricsObserver, StormwatchMetrics
    from stormwatch.runtime import build_pipeline

    env = os.environ if env is None else env
    path = Path(config_path) if config_path else None
    slack = load_slack_config(path, env=env)
    oncall = load_oncall_config(path, env=env)
    ingest = load_ingest_config(path, env=env)
    meta_config = load_meta_config(path, env=env)
    collector_specs = load_collectors(path, env=env, watchlist=load_watchlist(path, env=env))
    if store is None:
        if not settings.database_url:
            raise ConfigError(
                "stormwatch serve needs the incident store: set database_url "
                "(--db or STORMWATCH_DATABASE_URL)"
            )
        store = IncidentStore.open(settings.database_url, clock=clock)
    playbooks = None
    try:
        from stormwatch.playbooks.loader import load_playbooks

        playbooks = load_playbooks(Path(settings.playbooks_dir) if settings.playbooks_dir else None)
    except ImportError:  # pragma: no cover - playbooks ship with the package
        pass
    escalator = (
        Escalator(store, oncall, clock=clock, notify_slack=slack.enabled)
        if oncall.policies
        else None
    )
    notifiers = build_notifiers(store, slack=slack, oncall=oncall, playbooks=playbooks, clock=clock)
    registry = registry if registry is not None else CollectorRegistry()
    metrics = StormwatchMetrics(registry)
    delivery = (
        DeliveryLoop(OutboxWorker(store, notifiers, clock=clock, on_outcome=metrics.delivery))
        if notifiers
        else None
    )
    sink = StoreAlertSink(
        store,
        targets=("slack",) if slack.enabled else (),
        escalator=escalator,
        wake=delivery.wake if delivery is not None else (lambda: None),
    )
    pipeline = build_pipeline(
        settings,
        alerts_jsonl=alerts_jsonl,
        dead_letter=dead_letter,
        observer=MetricsObserver(metrics),
        config_path=path,
        env=env,
        delivery_sinks=[sink],
    )
    live = LivePipeline(
        pipeline, store=store, max_records=ingest.queue_records, **dict(live_options or {})
    )
    slack_endpoint = None
    if slack.signing_secret:
        slack_endpoint = SlackActionsEndpoint(
            store=store,
            signing_secret=slack.signing_secret,
            actions=IncidentActions(
                store,
                escalator=escalator,
                notify_slack=slack.enabled,
                clock=clock,
                on_acknowledged=metrics.observe_time_to_acknowledge,
            ),
            readings=CommentReadings(store, notify_slack=slack.enabled, learn=live.learn_label),
            wake_delivery=delivery.wake if delivery is not None else (lambda: None),
            clock=clock,
        )
    elif slack.enabled:
        raise ConfigError(
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: stormwatch serve needs "
            "it to check Slack's button presses (Slack app → Basic Information)"
        )
    meta = MetaWebhook(meta_config, live) if meta_config is not None else None
    return Service(
        store=store,
        live=live,
        registry=registry,
        ingest=ingest,
        slack=slack_endpoint,
        meta=meta,
        delivery=delivery,
        escalator=escalator,
        collectors=[CollectorThread(spec, live, metrics=metrics) for spec in collector_specs],
        host=host,
        port=port,
    )


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    alerts_jsonl: Path | None = None,
    dead_letter: Path | None = None,
    registry: CollectorRegistry | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT; returns after a clean shutdown."""
    service = build_service(
        settings,
        host=host,
        port=port,
        config_path=config_path,
        env=env,
        alerts_jsonl=alerts_jsonl,
        dead_letter=dead_letter,
        registry=registry,
    )
    try:
        service.run(ready=ready)
    finally:
        service.store.close()

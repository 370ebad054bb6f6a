"""`stormwatch serve`: the process that acts on incidents after detection recorded them.

- `POST /slack/actions`: Slack's interactivity requests (button presses). Each one is
  checked against the signing secret (v0, 5-minute window, no replays) before anything
  is read from it; a forged, stale or replayed request gets 401 and changes nothing.
- `GET /healthz`: 200 when the incident store answers.
- In the background, the outbox worker (Slack, on-call targets) and the escalation
  scheduler.

The HTTP server is the standard library's threading server: the endpoint answers a few
requests a minute, and Slack wants the answer within 3 s, which the store writes here
meet; Slack itself is called by the outbox worker, not while Slack waits.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from stormwatch.alerts.actions import ACTION_NAMES, IncidentActions
from stormwatch.alerts.delivery import OutboxWorker
from stormwatch.alerts.escalation import Escalator
from stormwatch.alerts.escalation_policy import load_oncall_config
from stormwatch.alerts.exceptions import StoreError
from stormwatch.alerts.notifiers import build_notifiers
from stormwatch.alerts.slack_config import load_slack_config
from stormwatch.alerts.slack_message import ACTION_PREFIX
from stormwatch.alerts.slack_signature import SignatureVerifier
from stormwatch.alerts.store import IncidentStore
from stormwatch.config import Settings
from stormwatch.exceptions import ConfigError

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # Slack's action payloads are a few kB


class Service:
    """The running parts of `stormwatch serve`; `start()` returns once it listens."""

    def __init__(
        self,
        *,
        store: IncidentStore,
        verifier: SignatureVerifier,
        actions: IncidentActions,
        worker: OutboxWorker | None,
        escalator: Escalator | None,
        host: str = "127.0.0.1",
        port: int = 0,
        worker_interval: float = 1.0,
        escalation_interval: float = 15.0,
    ) -> None:
        self.store = store
        self.verifier = verifier
        self.actions = actions
        self.worker = worker
        self.escalator = escalator
        self.host = host
        self.port = port
        self.worker_interval = worker_interval
        self.escalation_interval = escalation_interval
        self.stop_event = threading.Event()
        self.server: ThreadingHTTPServer | None = None
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Service:
        self.server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self.server.daemon_threads = True
        self.threads = [
            threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)
        ]
        if self.worker is not None:
            self.threads.append(
                threading.Thread(
                    target=self.worker.run_forever,
                    args=(self.stop_event,),
                    kwargs={"interval": self.worker_interval},
                    daemon=True,
                )
            )
        if self.escalator is not None:
            self.threads.append(
                threading.Thread(
                    target=self.escalator.run_forever,
                    args=(self.stop_event,),
                    kwargs={"interval": self.escalation_interval},
                    daemon=True,
                )
            )
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)

    # --- request handling ------------------------------------------------------------

    def health(self) -> tuple[int, dict[str, Any]]:
        try:
            self.store.list_incidents(status="open")
        except StoreError as exc:
            return 503, {"ok": False, "error": str(exc)}
        return 200, {"ok": True}

    def slack_action(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        problem = self.verifier.check(
            body=body,
            timestamp=headers.get("X-Slack-Request-Timestamp"),
            signature=headers.get("X-Slack-Signature"),
        )
        if problem is not None:
            log.warning("refused a Slack request: %s", problem)
            return 401, {"ok": False, "error": "invalid signature"}
        try:
            payload = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
        except (KeyError, IndexError, ValueError, UnicodeDecodeError):
            return 400, {"ok": False, "error": "expected a form body with a JSON payload"}
        if payload.get("type") != "block_actions":
            return 200, {}
        user = payload.get("user") or {}
        who = f"<@{user['id']}>" if user.get("id") else str(user.get("username") or "someone")
        for pressed in payload.get("actions") or []:
            action_id = str(pressed.get("action_id", ""))
            action = action_id.removeprefix(ACTION_PREFIX)
            if not action_id.startswith(ACTION_PREFIX) or action not in ACTION_NAMES:
                continue
            incident = str(pressed.get("value", ""))
            try:
                result = self.actions.apply(action, incident, who=who)
            except StoreError as exc:
                log.warning("Slack action %s on %r: %s", action, incident, exc)
                return 200, {"response_type": "ephemeral", "text": f"Unknown incident {incident}"}
            log.info("incident %s: %s", incident, result.note)
        if self.worker is not None:
            # Deliver the refresh now rather than at the worker's next pass.
            threading.Thread(target=self.worker.run_once, daemon=True).start()
        return 200, {}


def _handler(service: Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "stormwatch"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.split("?", 1)[0] == "/healthz":
                self._reply(*service.health())
            else:
                self._reply(404, {"ok": False, "error": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            if self.path.split("?", 1)[0] != "/slack/actions":
                self._reply(404, {"ok": False, "error": "not found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._reply(413, {"ok": False, "error": "too large"})
                return
            body = self.rfile.read(length)
            try:
                self._reply(*service.slack_action(body, self.headers))
            except Exception:
                log.exception("Slack action failed")
                self._reply(500, {"ok": False, "error": "internal error"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode() if body else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


def build_service(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    store: IncidentStore | None = None,
) -> Service:
    """Everything `serve` runs, from the settings, the config file and the environment."""
    slack = load_slack_config(config_path, env=env)
    if slack.signing_secret is None:
        raise ConfigError("stormwatch serve needs SLACK_SIGNING_SECRET in the environment")
    oncall = load_oncall_config(config_path, env=env)
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

        playbooks = load_playbooks(settings.playbooks_dir)
    except ImportError:  # pragma: no cover - playbooks ship with the package
        pass
    escalator = (
        Escalator(store, oncall, clock=clock, notify_slack=slack.enabled)
        if oncall.policies
        else None
    )
    notifiers = build_notifiers(store, slack=slack, oncall=oncall, playbooks=playbooks, clock=clock)
    return Service(
        store=store,
        verifier=SignatureVerifier(slack.signing_secret, clock=clock),
        actions=IncidentActions(
            store, escalator=escalator, notify_slack=slack.enabled, clock=clock
        ),
        worker=OutboxWorker(store, notifiers, clock=clock) if notifiers else None,
        escalator=escalator,
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
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run until interrupted (Ctrl-C / SIGTERM as KeyboardInterrupt)."""
    service = build_service(settings, host=host, port=port, config_path=config_path, env=env)
    service.start()
    if ready is not None:
        ready(service.url)
    try:
        service.stop_event.wait()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        service.store.close()

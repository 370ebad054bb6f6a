"""A local HTTP server that speaks PagerDuty's Events API v2 (`POST /v2/enqueue`).

It validates like PagerDuty does (routing key, event action, dedup key for acknowledge
and resolve, summary/source/severity for trigger) and answers 202 with the dedup key, or
400 `invalid event`. Responses can be scripted (`pd.script(429, 500)`) and PagerDuty's
alert state is kept per dedup key: triggered, acknowledged, resolved.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


class FakePagerDuty:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.state: dict[str, str] = {}
        self._script: deque[int] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake._handle(self.path, body)
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakePagerDuty:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, *statuses: int) -> None:
        self._script.extend(statuses)

    def _handle(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self._script:
                status = self._script.popleft()
                return status, {"status": "error", "message": f"scripted {status}"}
            if path != "/v2/enqueue":
                return 404, {"status": "error", "message": "not found"}
            try:
                event = json.loads(body)
            except ValueError:
                return 400, {"status": "invalid event", "message": "Event object is invalid"}
            errors = self._validate(event)
            if errors:
                return 400, {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": errors,
                }
            self.events.append(event)
            key = event["dedup_key"]
            action = event["event_action"]
            current = self.state.get(key)
            if action == "trigger" and current != "acknowledged":
                self.state[key] = "triggered"
            elif action == "acknowledge" and current == "triggered":
                self.state[key] = "acknowledged"
            elif action == "resolve" and current is not None:
                self.state[key] = "resolved"
            return 202, {"status": "success", "message": "Event processed", "dedup_key": key}

    @staticmethod
    def _validate(event: dict[str, Any]) -> list[str]:
        errors = []
        if not event.get("routing_key"):
            errors.append("'routing_key' is missing or blank")
        if event.get("event_action") not in ACTIONS:
            errors.append("'event_action' is invalid")
        if not event.get("dedup_key"):
            errors.append("'dedup_key' is missing or blank")  # we always send one
        elif len(event["dedup_key"]) > 255:
            errors.append("'dedup_key' is too long (max 255)")
        if event.get("event_action") == "trigger":
            payload = event.get("payload") or {}
            for name in ("summary", "source"):
                if not payload.get(name):
                    errors.append(f"'payload.{name}' is missing or blank")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' is invalid")
            if len(str(payload.get("summary", ""))) > 1024:
                errors.append("'payload.summary' is too long")
        return errors

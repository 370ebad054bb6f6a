"""The HTTP endpoint operators and Prometheus talk to: `/metrics`, `/healthz`, `/readyz`.

prometheus-client's own `start_http_server` serves only metrics; Kubernetes probes also
need liveness and readiness, so this small server serves all three from one port.
`/healthz` answers 200 while the process can answer at all (and `health()` agrees);
`/readyz` answers 200 only when `ready()` returns `(True, reason)` — source connected,
store reachable, caught up within the lateness bound — and 503 with the reason otherwise.

The port comes from `--metrics-port` or `STORMWATCH_METRICS_PORT`; the listening address
from `STORMWATCH_METRICS_HOST` (default 127.0.0.1: nothing is exposed unless asked; in a
container set it to 0.0.0.0).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from stormwatch.exceptions import ConfigError

__all__ = ["MetricsServer", "metrics_address", "start_metrics_server"]

PORT_ENV = "STORMWATCH_METRICS_PORT"
HOST_ENV = "STORMWATCH_METRICS_HOST"
DEFAULT_HOST = "127.0.0.1"

Health = Callable[[], bool]
Readiness = Callable[[], tuple[bool, str]]


def metrics_address(
    port: int | None = None, *, env: Mapping[str, str] | None = None
) -> tuple[str, int] | None:
    """(host, port) to serve on: the option wins over the environment; None = no endpoint.

    >>> metrics_address(env={"STORMWATCH_METRICS_PORT": "9108"})
    ('127.0.0.1', 9108)
    >>> metrics_address(9200, env={"STORMWATCH_METRICS_HOST": "0.0.0.0"})
    ('0.0.0.0', 9200)
    >>> metrics_address(env={}) is None
    True
    """
    env = os.environ if env is None else env
    host = env.get(HOST_ENV) or DEFAULT_HOST
    if port is None:
        raw = env.get(PORT_ENV)
        if not raw:
            return None
        try:
            port = int(raw)
        except ValueError:
            raise ConfigError(f"{PORT_ENV} must be a port number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"metrics port must be in 0..65535, got {port}")
    return host, port


class MetricsServer:
    """A running endpoint; `port` is the bound port (useful when asked for port 0)."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host, self.port = server.server_address[:2]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(
    port: int,
    registry: CollectorRegistry,
    *,
    host: str = DEFAULT_HOST,
    health: Health | None = None,
    ready: Readiness | None = None,
) -> MetricsServer:
    """Serve in a daemon thread; the pipeline thread never waits on a scrape."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = _call_health(health)
                self._send(200 if ok else 503, b"ok\n" if ok else b"unhealthy\n")
            elif path == "/readyz":
                ok, reason = _call_ready(ready)
                self._send(200 if ok else 503, f"{reason}\n".encode())
            else:
                self._send(404, b"not found: try /metrics, /healthz or /readyz\n")

        def _send(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # a scrape every few seconds is not news

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()
    return MetricsServer(server, thread)


def _call_health(health: Health | None) -> bool:
    if health is None:
        return True
    try:
        return bool(health())
    except Exception:  # noqa: BLE001 - a failing check means unhealthy, not a crashed server
        return False


def _call_ready(ready: Readiness | None) -> tuple[bool, str]:
    if ready is None:
        return True, "ready"
    try:
        ok, reason = ready()
    except Exception as exc:  # noqa: BLE001 - report it as the reason
        return False, f"readiness check failed: {exc}"
    return bool(ok), reason or ("ready" if ok else "not ready")

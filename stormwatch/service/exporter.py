"""The HTTP endpoint operators and Prometheus talk to: `/metrics`, `/healthz`, `/readyz`.

prometheus-client's ASGI app serves `/metrics`; Kubernetes probes also need liveness and
readiness, so this small Starlette app on uvicorn serves all three from one port
(`stormwatch serve` mounts the same routes on its main port).
`/healthz` answers 200 while the process can answer at all (and `health()` agrees);
`/readyz` answers 200 only when `ready()` returns `(True, reason)` (a worker: partitions
assigned and the store answering; `serve`: the store answering and the pipeline thread
running) and 503 with the reason otherwise.

The port comes from `--metrics-port` or `STORMWATCH_METRICS_PORT`; the listening address
from `STORMWATCH_METRICS_HOST` (default 127.0.0.1: nothing is exposed unless asked; in a
container set it to 0.0.0.0).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from stormwatch.exceptions import ConfigError
from stormwatch.service.asgi import AsgiEndpoint, ServerThread, exception_handlers

__all__ = [
    "MetricsServer",
    "metrics_address",
    "metrics_app",
    "probe_routes",
    "start_metrics_server",
]

log = logging.getLogger(__name__)

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

    def __init__(self, server: ServerThread) -> None:
        self._server = server
        self.host, self.port = server.host, server.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._server.close()


def probe_routes(
    registry: CollectorRegistry,
    *,
    health: Health | None = None,
    ready: Readiness | None = None,
) -> list[BaseRoute]:
    """`/metrics` (prometheus_client's ASGI app), `/healthz` and `/readyz`: the routes
    of this endpoint, and of `stormwatch serve`'s main port."""

    async def healthz(request: Request) -> Response:
        ok = await run_in_threadpool(_call_health, health)
        return PlainTextResponse("ok\n" if ok else "unhealthy\n", status_code=200 if ok else 503)

    async def readyz(request: Request) -> Response:
        ok, reason = await run_in_threadpool(_call_ready, ready)
        return PlainTextResponse(f"{reason}\n", status_code=200 if ok else 503)

    return [
        Route("/metrics", AsgiEndpoint(make_asgi_app(registry))),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]


def metrics_app(
    registry: CollectorRegistry,
    *,
    health: Health | None = None,
    ready: Readiness | None = None,
) -> Starlette:
    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("not found: try /metrics, /healthz or /readyz\n", status_code=404)

    handlers = exception_handlers()
    handlers[404] = not_found
    return Starlette(
        routes=probe_routes(registry, health=health, ready=ready),
        exception_handlers=handlers,
    )


def start_metrics_server(
    port: int,
    registry: CollectorRegistry,
    *,
    host: str = DEFAULT_HOST,
    health: Health | None = None,
    ready: Readiness | None = None,
) -> MetricsServer:
    """Serve on uvicorn in a daemon thread; the pipeline thread never waits on a scrape.
    A busy port raises `OSError` here."""
    app = metrics_app(registry, health=health, ready=ready)
    return MetricsServer(ServerThread(app, host=host, port=port).start())


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
    except Exception:  # noqa: BLE001 - not ready; the reason may hold connection details
        log.warning("readiness check failed", exc_info=True)
        return False, "readiness check failed"
    return bool(ok), reason or ("ready" if ok else "not ready")

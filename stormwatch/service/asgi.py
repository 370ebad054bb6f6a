"""What every stormwatch HTTP endpoint shares: the uvicorn server, bounded request bodies,
and errors that never carry a traceback or a connection detail.

uvicorn (h11) already answers a malformed request line or header — `Content-Length: -1`
or `abc` included — with 400 before the app sees it. Bodies are read here chunk by chunk:
413 as soon as one goes past its limit (nothing past it is read), 408 when the sender
stalls, and a `Content-Length` over the limit is refused before the first byte.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "AsgiEndpoint",
    "BODY_TIMEOUT_SECONDS",
    "ServerThread",
    "error",
    "read_body",
    "server_config",
]

BODY_TIMEOUT_SECONDS = 10.0  # a body that has not arrived by then is not coming
KEEP_ALIVE_SECONDS = 5

log = logging.getLogger(__name__)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status, headers=headers)


async def read_body(
    request: Request, limit: int, *, timeout: float = BODY_TIMEOUT_SECONDS
) -> bytes:
    """The request body, at most `limit` bytes; raises `HTTPException` 413 (too large)
    or 408 (too slow) while reading, so a huge or endless body never sits in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"body larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise HTTPException(408, "request body too slow") from None
    return b"".join(chunks)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail), exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error(500, "internal error")


def exception_handlers() -> dict[Any, Any]:
    """JSON errors: 4xx with the reason, 5xx without any detail (logged instead)."""
    return {HTTPException: _http_error, Exception: _internal_error}


class AsgiEndpoint:
    """A plain ASGI callable (prometheus_client's app is a function) as a route endpoint:
    Starlette would take a function for a request handler."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def server_config(app: Starlette, *, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": "h11",
        "loop": "asyncio",
        "lifespan": "off",
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": 10,
        "h11_max_incomplete_event_size": 64 * 1024,  # request line and headers
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound now: a busy port fails here, in the caller's thread."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ServerThread:
    """A uvicorn server in a daemon thread (the metrics endpoint of `run` and `worker`,
    tests); `start()` returns once it listens, `close()` once it stopped."""

    def __init__(self, app: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        self.server = uvicorn.Server(server_config(app, host=self.host, port=self.port))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"HTTP server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()

"""What every stormwatch HTTP endpoint shares: the uvicorn server, bounded request bodies,
and errors that never carry a traceback or a connection detail.

uvicorn (h11) already answers a malformed request line or header — `Content-Length: -1`
or `abc` included — with 400 before the app sees it. Bodies are read here chunk by chunk:
413 as soon as one goes past its limit (nothing past it is read), 408 when the sender
stalls, and a `Content-Length` over the limit is refused before the first byte.

A connection must deliver its request line and headers within `HEADER_TIMEOUT_SECONDS`
of opening (or of its previous response), else it is closed: uvicorn itself times out
only idle keep-alive connections, so a client that sent half a request and then nothing
held its socket for ever. Stalled sockets cost the event loop nothing while they wait,
so they never hold up other requests; the open-files limit is raised to its hard limit
at start-up, so a thousand of them cannot make `accept()` fail either.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "AsgiEndpoint",
    "BODY_TIMEOUT_SECONDS",
    "HEADER_TIMEOUT_SECONDS",
    "ServerThread",
    "error",
    "raise_open_files_limit",
    "read_body",
    "server_config",
]

BODY_TIMEOUT_SECONDS = 10.0  # a body that has not arrived by then is not coming
KEEP_ALIVE_SECONDS = 5
HEADER_TIMEOUT_SECONDS = 5.0  # Slack, Meta and collectors send a request's head at once
OPEN_FILES_WANTED = 65536

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


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request line and headers have
    not all arrived `HEADER_TIMEOUT_SECONDS` after it opened or after its last response
    (a body that stalls is `read_body`'s 408)."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's head arrived: the app has it now
            self._disarm_header_timer()

    def on_response_complete(self) -> None:
        self._arm_header_timer()  # first: a pipelined request handled below disarms it
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT_SECONDS, self._drop_stalled)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _drop_stalled(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def raise_open_files_limit(wanted: int = OPEN_FILES_WANTED) -> int:
    """Raise this process's soft limit of open files towards its hard limit (each
    connection is one): the usual soft limit of 1,024 is a thousand stalled clients.
    Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-files limit from %d: %s", soft, exc)
            return soft
        return target
    return soft


def server_config(app: Starlette, *, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": HeaderTimeoutProtocol,
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

"""JSON over HTTP for the on-call targets (PagerDuty, Alertmanager, webhooks), and what an
answer means for the outbox: 2xx sent; 408, 429 and 5xx or no answer recoverable (after
the target's `Retry-After`, in seconds or as an HTTP-date); any other 4xx permanent,
since sending the same body again cannot fix it. A redirect is not followed: urllib
would follow a 301 or 302 with a GET without the body, and a 200 to that GET counted as
a page sent that nobody received; it is permanent, naming where it points."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError

from stormwatch.alerts.delivery import Dead, Outcome, Retry, Sent
from stormwatch.retry_after import retry_after_seconds


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError: an answer, below


class _Deadline:
    """The sockets one request opens, cut when its time-out passes (`_send`): urllib lets
    go of a connection's socket once the headers are in, so the handlers below keep it."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.passed = False

    def opened(self, sock: socket.socket) -> None:
        self.sockets.append(sock)
        if self.passed:  # it passed while connecting
            _shut(sock)

    def cut(self) -> None:
        self.passed = True
        for sock in list(self.sockets):
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _tracked(base: type[http.client.HTTPConnection], deadline: _Deadline) -> Any:
    class Tracked(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            deadline.opened(self.sock)

    return Tracked


class _TrackedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_tracked(http.client.HTTPConnection, self.deadline), req)


class _TrackedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _tracked(http.client.HTTPSConnection, self.deadline),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


def post_json(
    url: str,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    raw: bytes | None = None,
) -> Answer:
    """POST `body` as JSON (or the exact bytes `raw`, when they are signed); HTTP errors
    come back as answers, network failures raise `OSError`.

    `timeout` bounds the whole request: urllib's bounds each socket read, and a target
    trickling its answer a byte a second held the outbox worker (Slack's deliveries too)
    for as long as it went on. A timer cuts the connection at the deadline."""
    data = raw if raw is not None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    return _send(request, timeout)


def delete(url: str, *, timeout: float = 10.0) -> Answer:
    """DELETE `url`, as `post_json` sends."""
    return _send(urllib.request.Request(url, method="DELETE"), timeout)


def _send(request: urllib.request.Request, timeout: float) -> Answer:
    deadline = _Deadline()
    opener = urllib.request.build_opener(
        _NoRedirects, _TrackedHTTPHandler(deadline), _TrackedHTTPSHandler(deadline)
    )
    timer = threading.Timer(timeout, deadline.cut)
    timer.daemon = True
    timer.start()
    try:
        with opener.open(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except HTTPError as exc:
        try:
            body = exc.read() or b""
        except (OSError, http.client.HTTPException):
            if not deadline.passed:
                raise
            body = b"(answer cut at the time-out)"
        return Answer(exc.code, dict(exc.headers or {}), body)
    except (OSError, http.client.HTTPException) as exc:
        if deadline.passed:
            raise TimeoutError(f"no whole answer in {timeout:g} s") from exc
        raise
    finally:
        timer.cancel()


def outcome(answer: Answer, *, what: str, external_id: str | None = None) -> Outcome:
    if 200 <= answer.status < 300:
        return Sent(external_id)
    detail = answer.body[:300].decode("utf-8", "replace")
    error = f"{what}: HTTP {answer.status} {detail}".strip()
    if 300 <= answer.status < 400:
        location = next((v for k, v in answer.headers.items() if k.lower() == "location"), "")
        return Dead(f"{what}: HTTP {answer.status} redirected to {location!r}: fix the url")
    if answer.status in (408, 429) or answer.status >= 500:
        header = next((v for k, v in answer.headers.items() if k.lower() == "retry-after"), None)
        # Absent or unparsable: None, and the outbox's own backoff decides.
        return Retry(error, after=retry_after_seconds(header, None))
    return Dead(error)


def failed(exc: BaseException, *, what: str) -> Outcome:
    """No answer: a network error or timeout. The targets here dedupe on their own key
    (dedup_key, alert labels, delivery id), so sending again is safe."""
    if isinstance(exc, OSError | URLError | http.client.HTTPException):
        return Retry(f"{what}: {type(exc).__name__}: {exc}")
    raise exc

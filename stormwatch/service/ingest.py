"""`POST /ingest`: comments pushed over HTTP, in the input contract.

```toml
[ingest]
max_body_bytes = 8388608      # larger bodies: 413, read no further
queue_records = 100000        # records waiting for the pipeline; beyond: 429
retry_after_seconds = 1

[ingest.tokens]               # more tokens, one per source: source = "ENV_VARIABLE"
helpdesk = "STORMWATCH_INGEST_TOKEN_HELPDESK"
```

The body is JSONL/NDJSON (one object per line) or one JSON array of objects. Each
request needs `Authorization: Bearer TOKEN` with the token of `STORMWATCH_INGEST_TOKEN`
(source `ingest`) or of a source above; tokens come only from the environment and are
compared in constant time. Without any token, ingest is off (404): never open.

Answer `202 {"accepted": n, "dead_lettered": m}`: every record went to the pipeline;
the `m` malformed ones are dead-lettered there with their reason (`reasons` counts them
here). When the intake is full the whole request is refused with `429` and `Retry-After`
and nothing of it is taken: send it again later.
"""

from __future__ import annotations

import hmac
import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stormwatch.alerts.config_section import SectionReader, read_section
from stormwatch.exceptions import ConfigError
from stormwatch.ingest.decode import OPTIONAL_TEXT, Decoder, record_json
from stormwatch.model import Comment, DeadLetter
from stormwatch.service.asgi import error, read_body
from stormwatch.service.live import LivePipeline

TOKEN_ENV = "STORMWATCH_INGEST_TOKEN"
DEFAULT_SOURCE = "ingest"
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True, slots=True)
class IngestConfig:
    tokens: Mapping[str, bytes] = field(default_factory=dict)  # source -> token
    max_body_bytes: int = 8 << 20
    queue_records: int = 100_000
    retry_after_seconds: int = 1

    @property
    def enabled(self) -> bool:
        return bool(self.tokens)


def load_ingest_config(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None
) -> IngestConfig:
    """`[ingest]` of the config file, tokens from the environment."""
    env = os.environ if env is None else env
    section = SectionReader(read_section("ingest", path, env), "ingest")
    section.check_keys({"max_body_bytes", "queue_records", "retry_after_seconds", "tokens"})
    tokens: dict[str, bytes] = {}
    if env.get(TOKEN_ENV):
        tokens[DEFAULT_SOURCE] = _token(TOKEN_ENV, env[TOKEN_ENV])
    table = section.table("tokens")
    for source in table.data:
        variable = table.str(source)
        if not variable:
            raise ConfigError(f"ingest.tokens.{source} must name an environment variable")
        value = env.get(variable)
        if not value:
            raise ConfigError(
                f"ingest.tokens.{source} names {variable}, which is not set in the environment"
            )
        tokens[source] = _token(variable, value)
    return IngestConfig(
        tokens=tokens,
        max_body_bytes=int(section.number("max_body_bytes", 8 << 20, minimum=1024)),
        queue_records=int(section.number("queue_records", 100_000, minimum=1)),
        retry_after_seconds=max(1, int(section.number("retry_after_seconds", 1))),
    )


def _token(variable: str, value: str) -> bytes:
    if len(value.strip()) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"{variable} is shorter than {MIN_TOKEN_LENGTH} characters: use a long random "
            "token, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if not value.strip().isascii():
        # An HTTP header carries ASCII (`authenticate`): such a token could never match.
        raise ConfigError(f"{variable} must be ASCII: e.g. secrets.token_urlsafe(32)")
    return value.strip().encode()


def authenticate(header: str | None, tokens: Mapping[str, bytes]) -> str | None:
    """The source whose token the `Authorization` header carries, else None. Every token
    is compared, in constant time, whatever matched first.

    >>> authenticate("Bearer s3cret-token-0123456789", {"ingest": b"s3cret-token-0123456789"})
    'ingest'
    >>> authenticate("Bearer wrong", {"ingest": b"s3cret-token-0123456789"}) is None
    True
    """
    if not header:
        return None
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return None
    try:
        presented = given.strip().encode("ascii")
    except UnicodeEncodeError:
        return None
    found = None
    for source, token in tokens.items():
        if hmac.compare_digest(presented, token) and found is None:
            found = source
    return found


class TooManyRecords(Exception):
    """A body holds more records than the intake takes (`queue_records`): a 413."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def split_records(body: bytes, max_records: int | None = None) -> list[bytes]:
    """The records of a body: a JSON array of objects, or one object per line. An array
    of more than `max_records` items raises `TooManyRecords` before any item is copied.

    >>> split_records(b'[{"id": "1"}, {"id": "2"}]')
    [b'{"id":"1"}', b'{"id":"2"}']
    >>> split_records(b'{"id": "1"}\\n\\n{"id": "2"}\\r\\n')
    [b'{"id": "1"}', b'{"id": "2"}']
    """
    stripped = body.lstrip()
    if not stripped.startswith(b"["):
        return [line for line in (raw.strip() for raw in body.split(b"\n")) if line]
    exact = False
    try:
        items = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        # orjson refuses a lone surrogate ("\ud83d": a text cut inside an emoji) and a
        # number past the double range; the standard library reads both, and each item
        # is then judged alone, as in JSON lines (`record_json`).
        items = _exact_items(stripped)
        if items is None:
            raise HTTPException(400, "body starts with '[' but is not a JSON array") from None
        exact = True
    if not isinstance(items, list):
        raise HTTPException(400, "expected a JSON array or JSON lines")
    if max_records is not None and len(items) > max_records:
        raise TooManyRecords(len(items))
    if not exact and any(_lossy(item) for item in items):
        # An id past 64 bits, which orjson reads as a float: the items as sent, from
        # the standard library's parser (exact integers), as the decoder does. If it
        # cannot read the body (an item nested past its recursion limit), the ids stay
        # as orjson read them rather than the batch failing.
        exact_items = _exact_items(stripped)
        if isinstance(exact_items, list) and len(exact_items) == len(items):
            items, exact = exact_items, True
    return [record_json(item, exact=exact) for item in items]


def _exact_items(body: bytes) -> object | None:
    """`body` read by the standard library's parser, None where it cannot read it."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _lossy(item: object) -> bool:
    return type(item) is dict and any(type(item.get(k)) is float for k in OPTIONAL_TEXT)


class IngestEndpoint:
    def __init__(
        self, config: IngestConfig, live: LivePipeline, *, decoder: Decoder | None = None
    ) -> None:
        self.config = config
        self.live = live
        # The pipeline's decoder (its settings), so what the answer counts is what the
        # pipeline takes.
        self.decoder = decoder or live.pipeline.decoder
        self.requests: Counter[str] = Counter()  # outcome -> count

    async def handle(self, request: Request) -> Response:
        if not self.config.enabled:
            self.requests["off"] += 1
            return error(404, f"ingest is off: set {TOKEN_ENV} to turn it on")
        source = authenticate(request.headers.get("authorization"), self.config.tokens)
        if source is None:
            self.requests["unauthorized"] += 1
            return error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
        body = await read_body(request, self.config.max_body_bytes)
        limit = self.config.queue_records
        # JSON lines are counted before they are split: a body of millions of tiny
        # records is refused before it costs anything. Not an array's newlines: a
        # pretty-printed array has many per record.
        if not body.lstrip().startswith(b"["):
            lines = body.count(b"\n")
            if lines > 2 * limit:
                return self._too_many(lines)
        # Off the event loop: a large body decoded there held every other request
        # (health checks, Slack) for as long.
        try:
            records = await run_in_threadpool(split_records, body, limit)
        except TooManyRecords as too_many:
            return self._too_many(too_many.count)
        if len(records) > limit:
            return self._too_many(len(records))
        # A request the intake cannot take is refused before it is decoded: under
        # overload the HTTP side must not take the pipeline's time (one GIL). The body
        # is read all the same, so the client gets its 429 on an intact connection.
        if not self.live.has_room(len(records)):
            return self._full()
        label = DEFAULT_SOURCE if source == DEFAULT_SOURCE else f"{DEFAULT_SOURCE}:{source}"
        decoded, counts = await run_in_threadpool(self.check, records, label)
        if not self.live.offer(records, label, decoded):
            return self._full()
        self.requests["accepted"] += 1
        return JSONResponse(counts, status_code=202)

    def _too_many(self, n: int) -> Response:
        """More records than the intake holds (`queue_records`): never taken, so not a
        429 to retry but a 413 to split."""
        self.requests["too_large"] += 1
        return error(
            413, f"{n} records in one request: at most {self.config.queue_records}, split it"
        )

    def _full(self) -> Response:
        self.requests["full"] += 1
        return error(
            429, "intake full: retry later", {"Retry-After": str(self.config.retry_after_seconds)}
        )

    def check(
        self, records: list[bytes], source: str
    ) -> tuple[list[Comment | DeadLetter], dict[str, Any]]:
        """The records decoded (handed to the pipeline with them, which does not decode
        them again), and how many it will take and dead-letter, and why."""
        reasons: Counter[str] = Counter()
        decode = self.decoder.decode
        decoded = []
        append = decoded.append
        for n, raw in enumerate(records, 1):
            item = decode(raw, f"{source}:{n}")
            if isinstance(item, DeadLetter):
                reasons[item.reason] += 1
            append(item)
        dead = sum(reasons.values())
        counts = {"accepted": len(records) - dead, "dead_lettered": dead, "reasons": dict(reasons)}
        return decoded, counts

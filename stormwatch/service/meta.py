"""`/webhooks/meta`: Facebook Page and Instagram comments pushed by Meta.

Needs `META_APP_SECRET` (the app secret: signs every POST) and `META_VERIFY_TOKEN` (any
string you also enter in the app's webhook settings) in the environment, and a watchlist
that names the pages and Instagram accounts of each brand:

```toml
[watchlist]
file = "watchlist.yaml"     # relative to this config file
```

- `GET` is Meta's verification handshake: `hub.mode=subscribe` and the right
  `hub.verify_token` are answered with `hub.challenge`; anything else with 403.
- `POST` must carry `X-Hub-Signature-256: sha256=HMAC-SHA256(app secret, raw body)`:
  missing → 401, wrong → 403, and nothing of it is stored. A verified delivery is mapped
  (`ingest/meta_webhook.py`) and queued for the pipeline: 200 with the counts; 429 with
  `Retry-After` when the intake is full (Meta delivers again later).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from stormwatch.alerts.config_section import SectionReader, config_path, read_section
from stormwatch.exceptions import ConfigError
from stormwatch.ingest.decode import record_json
from stormwatch.ingest.meta_webhook import map_payload, verify_signature
from stormwatch.ingest.watchlist import Watchlist
from stormwatch.service.asgi import error, read_body
from stormwatch.service.live import LivePipeline

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20
APP_SECRET_ENV = "META_APP_SECRET"
VERIFY_TOKEN_ENV = "META_VERIFY_TOKEN"


@dataclass(frozen=True, slots=True)
class MetaConfig:
    app_secret: bytes
    verify_token: bytes
    watchlist: Watchlist


def load_watchlist(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None
) -> Watchlist | None:
    """The watchlist named by `[watchlist] file` (relative to the config file), or None."""
    section = SectionReader(read_section("watchlist", path, env), "watchlist")
    section.check_keys({"file"})
    name = section.str("file")
    if name is None:
        return None
    base = config_path(path, env)
    file = Path(name)
    if not file.is_absolute() and base is not None:
        file = base.parent / file
    return Watchlist.load(file)


def load_meta_config(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None
) -> MetaConfig | None:
    """None when `META_APP_SECRET` is not set (the webhook is off)."""
    env = os.environ if env is None else env
    secret = env.get(APP_SECRET_ENV)
    if not secret:
        return None
    token = env.get(VERIFY_TOKEN_ENV)
    if not token:
        raise ConfigError(f"{APP_SECRET_ENV} is set but {VERIFY_TOKEN_ENV} is not")
    watchlist = load_watchlist(path, env=env)
    if watchlist is None:
        raise ConfigError(
            f"{APP_SECRET_ENV} is set but no watchlist names the pages: add "
            '[watchlist] file = "watchlist.yaml" to the config file'
        )
    return MetaConfig(secret.encode(), token.encode(), watchlist)


class MetaWebhook:
    def __init__(self, config: MetaConfig, live: LivePipeline) -> None:
        self.config = config
        self.live = live

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            return self.handshake(request)
        body = await read_body(request, MAX_BODY)
        signature = request.headers.get("x-hub-signature-256")
        if not signature:
            return error(401, "missing X-Hub-Signature-256")
        if not verify_signature(self.config.app_secret, body, signature):
            log.warning("refused a Meta webhook delivery: wrong signature")
            return error(403, "wrong signature")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return error(400, "body is not JSON")
        mapped = map_payload(payload, self.config.watchlist)
        lines = [record_json(r) for r in mapped.records]
        if not self.live.offer(lines, "meta"):
            return error(429, "intake full: retry later", {"Retry-After": "1"})
        return JSONResponse({"accepted": len(lines), "skipped": dict(mapped.skipped)})

    def handshake(self, request: Request) -> Response:
        query = request.query_params
        token = query.get("hub.verify_token", "")
        challenge = query.get("hub.challenge", "")
        try:
            given = token.encode("utf-8")
        except UnicodeEncodeError:
            given = b""
        if (
            query.get("hub.mode") == "subscribe"
            and hmac.compare_digest(given, self.config.verify_token)
            and challenge
        ):
            return PlainTextResponse(challenge)
        return error(403, "verification failed")

"""`POST /slack/actions`: Slack's interactivity requests (button presses): the incident
buttons (`alerts/actions.py`) and the readings of shown comments
(`alerts/comment_readings.py`).

Each request is checked with `slack_sdk.signature.SignatureVerifier` (v0 HMAC of the raw
body, 5-minute window) before anything is read from it, then *claimed* in the incident
store by its signature: a replay — also after a restart — is refused with 401 and
changes nothing. A claim is completed once the press took effect; when the store fails
meanwhile, the claim is released and the answer is 503, so Slack's retry (or the
user's) is accepted. Deliveries are not made here: the press wakes the delivery loop.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stormwatch.alerts.actions import ACTION_NAMES, IncidentActions
from stormwatch.alerts.comment_readings import CommentReadings
from stormwatch.alerts.exceptions import StoreError
from stormwatch.alerts.slack_message import ACTION_PREFIX, COMMENT_ACTION_PREFIX, READINGS
from stormwatch.alerts.store import IncidentStore
from stormwatch.service.asgi import error, read_body

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # Slack's action payloads are a few kB
WINDOW_SECONDS = 300.0  # slack_sdk's window; claims older than this can go


class _Clock:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock()


def verify(verifier: SignatureVerifier, body: bytes, timestamp: Any, signature: Any) -> bool:
    """slack_sdk's check, with every malformed header (non-numeric timestamp, non-ASCII
    signature, body not UTF-8) a plain refusal instead of an exception."""
    if not isinstance(timestamp, str) or not isinstance(signature, str):
        return False
    if not timestamp.isascii() or not timestamp.isdigit() or not signature.isascii():
        return False
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except (ValueError, TypeError, UnicodeDecodeError):
        return False


class SlackActionsEndpoint:
    def __init__(
        self,
        *,
        store: IncidentStore,
        signing_secret: str,
        actions: IncidentActions,
        readings: CommentReadings | None = None,
        wake_delivery: Callable[[], None] = lambda: None,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))  # type: ignore[arg-type]
        self.actions = actions
        self.readings = readings if readings is not None else CommentReadings(store)
        self.wake_delivery = wake_delivery
        self.clock = clock
        self._next_prune = 0.0

    async def handle(self, request: Request) -> Response:
        body = await read_body(request, MAX_BODY)
        timestamp = request.headers.get("x-slack-request-timestamp")
        signature = request.headers.get("x-slack-signature")
        if not verify(self.verifier, body, timestamp, signature):
            log.warning("refused a Slack request: missing, stale or wrong signature")
            return error(401, "invalid signature")
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=True)
            payload = orjson.loads(form["payload"][0])
        except (KeyError, IndexError, ValueError, UnicodeDecodeError):
            return error(400, "expected a form body with a JSON payload")
        if not isinstance(payload, dict):
            return error(400, "the payload must be a JSON object")
        status, answer = await run_in_threadpool(self.act, str(signature), payload)
        return JSONResponse(answer, status_code=status)

    def act(self, signature: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Claim, apply, complete; in a worker thread (the store is synchronous)."""
        key = "slack:" + hashlib.sha256(signature.encode()).hexdigest()
        try:
            self._prune()
            if not self.store.claim_request(key):
                log.warning("refused a replayed Slack request")
                return 401, {"ok": False, "error": "replayed request"}
        except StoreError as exc:
            log.warning("Slack action not taken, store unavailable: %s", exc)
            return 503, {"ok": False, "error": "incident store unavailable, retry"}
        try:
            answer = self._apply(payload)
        except StoreError as exc:
            log.warning("Slack action failed, store unavailable: %s", exc)
            try:
                self.store.release_request(key)
            except StoreError:
                pass  # the claim goes stale and a retry can take it again
            return 503, {"ok": False, "error": "incident store unavailable, retry"}
        try:
            self.store.complete_request(key)
        except StoreError as exc:
            log.warning("Slack action taken; marking it done failed: %s", exc)
        self.wake_delivery()
        return 200, answer

    def _apply(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("type") != "block_actions":
            return {}
        user = payload.get("user")
        user = user if isinstance(user, dict) else {}
        who = f"<@{user['id']}>" if user.get("id") else str(user.get("username") or "someone")
        pressed_list = payload.get("actions")
        for pressed in pressed_list if isinstance(pressed_list, list) else []:
            if not isinstance(pressed, dict):
                continue
            action_id = str(pressed.get("action_id", ""))
            if action_id.startswith(COMMENT_ACTION_PREFIX):
                answer = self._mark_comment(action_id, pressed.get("value"), who)
                if answer:
                    return answer
                continue
            action = action_id.removeprefix(ACTION_PREFIX)
            if not action_id.startswith(ACTION_PREFIX) or action not in ACTION_NAMES:
                continue
            incident = str(pressed.get("value", ""))
            if self.store.get_incident(incident) is None:
                return {"response_type": "ephemeral", "text": f"Unknown incident {incident}"}
            result = self.actions.apply(action, incident, who=who)
            log.info("incident %s: %s", incident, result.note)
        return {}

    def _mark_comment(self, action_id: str, value: Any, who: str) -> dict[str, Any]:
        """`stormwatch:comment:<reading>:<position>` with the comment's reference."""
        reading = action_id.removeprefix(COMMENT_ACTION_PREFIX).split(":", 1)[0]
        if reading not in {name for name, _ in READINGS}:
            return {}
        try:
            reference = orjson.loads(value) if isinstance(value, str) else None
        except orjson.JSONDecodeError:
            reference = None
        if (
            not isinstance(reference, dict)
            or not all(isinstance(reference.get(k), str) for k in ("incident", "comment"))
            or not isinstance(reference.get("platform", ""), str)
        ):
            return {"response_type": "ephemeral", "text": "Not a comment this app showed"}
        result = self.readings.mark(
            reference["incident"],
            reference["comment"],
            platform=reference.get("platform"),  # absent in buttons made before it was
            negative=reading == "negative",
            who=who,
        )
        if result.label is None:
            return {"response_type": "ephemeral", "text": result.note}
        log.info(  # not the note: it quotes the comment, and logs are not purged
            "incident %s: comment %s marked %s by %s",
            reference["incident"],
            reference["comment"],
            reading,
            who,
        )
        return {}

    def _prune(self) -> None:
        now = self.clock()
        if now >= self._next_prune:
            self._next_prune = now + 60.0
            self.store.forget_requests(before=now - 2 * WINDOW_SECONDS)

"""Delivers an incident's Slack deliveries: one message per incident, edited in place,
with escalations, resolutions, button presses and (rate-limited) updates in its thread.

Idempotency. `chat.postMessage` has no idempotency key, and a timeout after Slack took
the post leaves us not knowing whether it is there. So every message we post carries
metadata naming the incident (and the delivery, for thread replies); a delivery being
tried again (`attempts > 1`: an earlier attempt failed or its worker died) first looks
for that metadata in the channel (`conversations.history`) or thread
(`conversations.replies`) and adopts what it finds instead of posting a second time. The
root's ts is stored on the incident (`set_slack_message`) as soon as it is known.

Retries inside the client use slack-sdk's handlers where a retry cannot duplicate: rate
limits (429 means Slack did not act) for every call; connection and 5xx errors only for
idempotent calls (update, history, replies). Everything else is handed back to the
outbox as a recoverable or permanent failure.
"""

from __future__ import annotations

import http.client
import logging
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from stormwatch.alerts.chart import curve_png
from stormwatch.alerts.curve import incident_curve, minute_counts, usual_rate
from stormwatch.alerts.delivery import Dead, Outcome, Retry, Sent
from stormwatch.alerts.slack_config import SlackConfig
from stormwatch.alerts.slack_message import incident_blocks, notification_text, reply_text
from stormwatch.alerts.store import Delivery, Incident, IncidentStore
from stormwatch.alerts.store.negativity_labels import NegativityLabel
from stormwatch.playbooks.matcher import PlaybookSet
from stormwatch.retry_after import retry_after_seconds

log = logging.getLogger(__name__)

TARGET = "slack"
UNEDITABLE = frozenset({"cant_update_message", "edit_window_closed"})
CHART_PAUSE_SECONDS = 600.0
METADATA_EVENT = "stormwatch_incident"
SEARCH_PAGES = 5  # 1000 newest messages: an uncertain post is minutes old at most
MAX_UNKNOWN_ATTEMPTS = 10
IN_CLIENT_RATE_LIMIT_WAIT = 5.0  # longer Retry-After: back to the outbox, not a blocked worker

# Slack errors that will not go away by trying again: the delivery is dead, loudly.
# The bot may post but not read the channel: searching for a lost post is skipped.
UNSEARCHABLE = frozenset({"missing_scope", "not_in_channel", "channel_not_found"})
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "restricted_action",
        "invalid_metadata_format",
        "cant_update_message",
        "edit_window_closed",
    }
)
TRANSIENT = frozenset(
    {"ratelimited", "service_unavailable", "fatal_error", "internal_error", "request_timeout"}
)


class ShortRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Waits out a 429 in the client only when Slack asks for a short pause; a long one is
    scheduled by the outbox instead of blocking the worker."""

    def __init__(self, *, max_retry_count: int = 2, max_wait: float = IN_CLIENT_RATE_LIMIT_WAIT):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _retry_after(response.headers) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """The wait as `_can_retry` read it: slack_sdk's own reads the header with
        `int()`, which raised on an HTTP-date or "1.5" and slept a negative "-1"."""
        if response is None:
            raise error or RuntimeError("no response to retry")
        state.next_attempt_requested = True
        time.sleep(_retry_after(response.headers))
        state.increment_current_attempt()


class RefusedConnectionRetryHandler(ConnectionErrorRetryHandler):
    """Retries a connection that was refused: then Slack cannot have seen the request, so
    even a post is safe to send again. A reset or a timeout may come after Slack acted."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return isinstance(error, URLError) and isinstance(error.reason, ConnectionRefusedError)


def _retry_after(headers: Mapping[str, Any]) -> float:
    """Slack's `Retry-After` (its client keeps headers as lists); 1 s when missing."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) and value else value
            return retry_after_seconds(raw if isinstance(raw, str | bytes) else None, 1.0)
    return 1.0


def make_clients(
    config: SlackConfig, *, timeout: float = 10.0, backoff_factor: float = 0.5
) -> tuple[WebClient, WebClient]:
    """(client for idempotent calls, client for posts): see the module docstring.
    `backoff_factor` paces the in-client retries of connection and server errors."""
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor)
    safe = WebClient(
        token=config.token,
        base_url=config.api_url,
        timeout=timeout,  # type: ignore[arg-type]
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=interval),
            ShortRateLimitRetryHandler(),
            ServerErrorRetryHandler(max_retry_count=2, interval_calculator=interval),
        ],
    )
    post = WebClient(
        token=config.token,
        base_url=config.api_url,
        timeout=timeout,  # type: ignore[arg-type]
        retry_handlers=[RefusedConnectionRetryHandler(), ShortRateLimitRetryHandler()],
    )
    return safe, post


def classify(exc: Exception, *, attempts: int) -> Outcome:
    """What a failed Slack call means for the delivery."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429 or error == "ratelimited":
            return Retry(f"slack: {error}", after=_retry_after(exc.response.headers))
        if status >= 500 or error in TRANSIENT:
            return Retry(f"slack: {error} (HTTP {status})")
        if error in PERMANENT:
            return Dead(f"slack: {error}")
        if attempts >= MAX_UNKNOWN_ATTEMPTS:
            return Dead(f"slack: {error} after {attempts} attempts")
        return Retry(f"slack: {error}", target_down=False)
    if isinstance(
        exc, TimeoutError | socket.timeout | URLError | ConnectionError | http.client.HTTPException
    ):
        return Retry(f"uncertain: {type(exc).__name__}: {exc}")
    if isinstance(exc, SlackClientError):
        return Retry(f"slack client: {exc}")
    raise exc


class SlackNotifier:
    """The `slack` target of the outbox worker."""

    def __init__(
        self,
        store: IncidentStore,
        config: SlackConfig,
        *,
        playbooks: PlaybookSet | None = None,
        clients: tuple[WebClient, WebClient] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.playbooks = playbooks
        self.client, self.poster = clients or make_clients(config)
        self.clock = clock or store._clock
        self.charts = config.chart  # turned off for good when the token lacks files:write
        self.charts_paused_until = 0.0  # after an upload that timed out (`_chart`)
        self._channel_ids: dict[str, str] = {}

    # --- the outbox entry point ---------------------------------------------------------

    def deliver(self, delivery: Delivery) -> Outcome:
        incident = self.store.get_incident(delivery.incident)
        if incident is None:
            return Dead(f"no incident {delivery.incident!r}")
        try:
            if incident.slack_ts is None or incident.slack_channel is None:
                return self._post_root(incident, delivery)
            try:
                return self._update(incident, delivery)
            except SlackApiError as exc:
                if exc.response is None or exc.response.get("error") != "message_not_found":
                    raise
                # Someone deleted the incident's message: every later update failed,
                # and the escalations never reached Slack. Post it anew, as it stands.
                log.warning("the Slack message of %s is gone: posting it anew", incident.key)
                return self._post_root(incident, delivery)
        except (SlackApiError, SlackClientError, OSError, http.client.HTTPException) as exc:
            return classify(exc, attempts=delivery.attempts)

    # --- root message -------------------------------------------------------------------

    def _post_root(self, incident: Incident, delivery: Delivery) -> Outcome:
        # The channel of the delivery's own event, not of the incident as it stands: a
        # retry of a post Slack took (the client timed out) searches where that post
        # went, though the incident escalated into another route's channel meanwhile.
        severity = delivery.payload.get("severity") or incident.severity
        channel = self.config.channel_for(incident.brand, severity)
        found = self._search_root(channel, incident.key) if delivery.attempts > 1 else None
        if found is None:
            response = self.poster.chat_postMessage(
                channel=channel,
                text=notification_text(incident.last_event),
                blocks=self._blocks(incident),
                metadata={
                    "event_type": METADATA_EVENT,
                    "event_payload": {"incident": incident.key},
                },
                unfurl_links=False,
                unfurl_media=False,
            )
            channel_id, ts = str(response["channel"]), str(response["ts"])
        else:
            channel_id, ts = found
        self.store.set_slack_message(incident.key, channel=channel_id, ts=ts)
        self._chart(incident, delivery, channel_id, ts)
        return Sent(ts)

    def _search_root(self, channel: str, key: str) -> tuple[str, str] | None:
        """`_find_root`, for a bot that may not read the channel: without the scope
        (`channels:history`) or membership the search is skipped and the message posted
        (a second message is possible then; no message at all was the alternative)."""
        try:
            return self._find_root(channel, key)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error not in UNSEARCHABLE:
                raise
            log.warning("cannot search %s for a lost post (%s): posting it", channel, error)
            return None

    def _find_root(self, channel: str, key: str) -> tuple[str, str] | None:
        channel_id = self._channel_id(channel)
        if channel_id is None:
            return None
        cursor = None
        for _ in range(SEARCH_PAGES):
            page = self.client.conversations_history(
                channel=channel_id, limit=200, include_all_metadata=True, cursor=cursor
            )
            for message in page.get("messages", []):
                if _names(message, key) and message.get("thread_ts") in (None, message["ts"]):
                    return channel_id, str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _channel_id(self, channel: str) -> str | None:
        """conversations.history wants an id; the config may name the channel instead."""
        if not channel.startswith("#"):
            return channel
        name = channel[1:]
        if name in self._channel_ids:
            return self._channel_ids[name]
        cursor = None
        for _ in range(20):
            page = self.client.conversations_list(
                limit=200,
                cursor=cursor,
                exclude_archived=True,
                types="public_channel,private_channel",
            )
            for found in page.get("channels", []):
                self._channel_ids[found["name"]] = found["id"]
            if name in self._channel_ids:
                return self._channel_ids[name]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    # --- edits and thread replies --------------------------------------------------------

    def _update(self, incident: Incident, delivery: Delivery) -> Outcome:
        channel, root = str(incident.slack_channel), str(incident.slack_ts)
        try:
            self.client.chat_update(
                channel=channel,
                ts=root,
                text=notification_text(incident.last_event),
                blocks=self._blocks(incident),
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error not in UNEDITABLE:
                raise
            # Another bot user posted it (the app was installed anew), or it is too old
            # to edit: the escalation still goes into its thread, which Slack takes.
            log.warning("cannot edit the Slack message of %s (%s)", incident.key, error)
        text = self._reply_for(incident, delivery)
        if text is None:
            return Sent(None)  # edited in place; the thread stays quiet
        reply_ts = self._reply(channel, root, incident.key, delivery, text)
        self._chart(incident, delivery, channel, root)
        return Sent(reply_ts)

    def _reply_for(self, incident: Incident, delivery: Delivery) -> str | None:
        payload = delivery.payload
        if payload.get("action") == "refresh":
            return payload.get("note")
        if payload.get("event") == "opened" and not self._told_before(incident, delivery):
            # The incident's first message, posted by this very delivery before it was
            # marked sent (a crash in the chart upload, a store that refused the mark):
            # the retry edits it; "Reopened" in its thread and a second chart were wrong.
            return None
        if payload.get("event") != "updated":
            return reply_text(payload)
        # Minor update: into the thread at most once per interval, else only the edit.
        interval = self.config.update_interval_minutes * 60.0
        last = max(
            (
                d.updated_at
                for d in self.store.deliveries(incident.key)
                if d.target == TARGET
                and d.status == "sent"
                and d.external_id
                and d.payload.get("event") == "updated"
            ),
            default=None,
        )
        if last is not None and self.clock() - last < interval:
            return None
        return reply_text(payload)

    def _told_before(self, incident: Incident, delivery: Delivery) -> bool:
        """Whether Slack was sent anything of the incident before this delivery."""
        return any(
            d.target == TARGET and d.status == "sent" and d.id < delivery.id
            for d in self.store.deliveries(incident.key)
        )

    def _reply(self, channel: str, root: str, key: str, delivery: Delivery, text: str) -> str:
        marker = {"incident": key, "delivery": delivery.id}
        if delivery.attempts > 1:
            # Only replies from after the delivery was queued: a thread of six weeks of
            # updates holds more than the 1,000 replies read, oldest first.
            found = self._find_reply(channel, root, marker, oldest=delivery.created_at - 300)
            if found is not None:
                return found
        response = self.poster.chat_postMessage(
            channel=channel,
            thread_ts=root,
            text=text,
            metadata={"event_type": METADATA_EVENT, "event_payload": marker},
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

    def _find_reply(
        self, channel: str, root: str, marker: dict[str, Any], *, oldest: float
    ) -> str | None:
        cursor = None
        for _ in range(SEARCH_PAGES):
            page = self.client.conversations_replies(
                channel=channel,
                ts=root,
                limit=200,
                include_all_metadata=True,
                cursor=cursor,
                oldest=f"{max(oldest, 0.0):.6f}",
            )
            for message in page.get("messages", []):
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if message.get("ts") != root and payload == marker:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    # --- content ---------------------------------------------------------------------------

    def _curve(self, incident: Incident) -> list[tuple[float, float]]:
        history = [(e.at, e.payload.get("drivers") or {}) for e in self.store.events(incident.key)]
        return incident_curve(
            incident.last_event.get("drivers") or {}, incident.updated_at, history
        )

    def _blocks(self, incident: Incident) -> list[dict[str, Any]]:
        playbook = None
        if self.playbooks is not None and incident.playbook in self.playbooks:
            playbook = self.playbooks[incident.playbook]  # type: ignore[index]
        curve = self._curve(incident)
        hours = (curve[-1][0] - curve[0][0]) / 3600.0 if len(curve) >= 2 else None
        return incident_blocks(
            self._shown(incident),
            status=incident.status,
            status_note=self._status_note(incident),
            playbook=playbook,
            curve=[v for _, v in curve],
            curve_hours=hours,
            marks=self._marks(incident),
        )

    def _shown(self, incident: Incident) -> Mapping[str, Any]:
        """The incident's last event, with the comments of its latest event that had
        any: a calm event (resolved, a quiet update) has none of its last half hour, and
        the card lost its top comments and their Negative / Not negative buttons."""
        last = incident.last_event
        if last.get("samples"):
            return last
        for event in reversed(self.store.events(incident.key)):
            if event.payload.get("samples"):
                return {**last, "samples": event.payload["samples"]}
        return last

    def _marks(self, incident: Incident) -> dict[str, NegativityLabel]:
        """The latest reading people gave each of the incident's sample comments."""
        samples = self._shown(incident).get("samples") or ()
        shown = {str(s.get("id")) for s in samples if isinstance(s, dict)}
        if not shown:
            return {}
        labels = self.store.negativity_labels(incident.brand)  # oldest first
        return {label.comment_id: label for label in labels if label.comment_id in shown}

    def _status_note(self, incident: Incident) -> str | None:
        if incident.status == "acknowledged":
            acks = self.store.acknowledgements(incident.key)
            return f"by {acks[-1].who} via {acks[-1].source}" if acks else None
        return None

    def _chart(self, incident: Incident, delivery: Delivery, channel: str, root: str) -> None:
        """A PNG of the curve into the thread when an incident opens, escalates or resolves
        (a backlog after an outage: only for the newest event): minute by minute from
        three hours before the opening, against the normal rate at the opening. A missing
        scope or a failed upload only costs the picture, never the alert."""
        event = delivery.payload.get("event")
        if not self.charts or event not in ("opened", "escalated", "resolved"):
            return
        if self.clock() < self.charts_paused_until:
            return
        if delivery.payload != incident.last_event:
            return
        history = [(e.at, e.payload.get("drivers") or {}) for e in self.store.events(incident.key)]
        per_minute = minute_counts(history)
        curve = [(m * 60.0, float(v)) for m, v in per_minute.items()] or self._curve(incident)
        if len(curve) < 3:
            return
        # What was normal when it opened: a later baseline may have moved with the storm.
        baseline = usual_rate(history, "negative_per_min_baseline")
        title = f"{incident.severity.upper()} {incident.brand} {incident.thread_id or ''}"
        try:
            png = curve_png(curve, title=title.strip(), baseline=baseline)
        except Exception:  # noqa: BLE001 - a picture that cannot be drawn must not cost the alert
            log.exception("chart of %s could not be drawn", incident.key)
            return
        try:
            self.poster.files_upload_v2(
                channel=channel,
                thread_ts=root,
                file=png,
                filename=f"incident-{incident.updated_at:.0f}.png",
                title="Negative comments per minute",
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in ("missing_scope", "not_allowed_token_type", "no_permission"):
                log.warning("Slack token may not upload files (%s): charts off", error)
                self.charts = False
            else:
                log.warning("chart upload failed: %s", error)
        except (SlackClientError, OSError, http.client.HTTPException) as exc:
            # A file host that does not answer (an egress rule lets slack.com through,
            # not files.slack.com) held every alert behind it for the client's time-out:
            # charts wait a while, the alerts do not.
            self.charts_paused_until = self.clock() + CHART_PAUSE_SECONDS
            log.warning("chart upload failed (charts paused for 10 min): %s", exc)


def _names(message: Mapping[str, Any], key: str) -> bool:
    metadata = message.get("metadata") or {}
    return (
        metadata.get("event_type") == METADATA_EVENT
        and (metadata.get("event_payload") or {}).get("incident") == key
        and "delivery" not in (metadata.get("event_payload") or {})
    )

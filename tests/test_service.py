"""`stormwatch serve` over HTTP: real uvicorn on 127.0.0.1, real httpx clients.

Ingest (tokens, limits, dead letters, back-pressure), Meta webhooks (handshake,
signatures, mapping), Slack presses during a store error and replays across a restart,
probes without connection details, restart from the checkpoint, SIGTERM → exit 0."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from stormwatch.alerts.exceptions import StoreError
from stormwatch.alerts.store import IncidentStore
from stormwatch.config import Settings
from stormwatch.model import Comment, DeadLetter
from stormwatch.service.live import CHECKPOINT_NAME, LivePipeline
from stormwatch.service.serve import Service, build_service
from tests.fake_slack import FakeSlack, sign
from tests.test_slack_delivery import alert

TOKEN = "ingest-token-0123456789abcdef"
HELPDESK = "helpdesk-token-0123456789abcdef"
APP_SECRET = "meta-app-secret"
VERIFY = "meta-verify-token"
SIGNING = "s3cr3t-signing"
KEY = "acme/p1/2026-03-02T09:15Z"
NOW = time.time()


def comment(i: int, *, t: float = NOW - 3600, brand: str = "acme", **extra: Any) -> dict:
    return {"id": f"c{i}", "text": f"comment {i}", "created_at": t + i, "brand": brand, **extra}


def jsonl(records: list[dict]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "watchlist.yaml").write_text(
        "brands:\n"
        "  acme: {pages: ['1001', '17841400000'], keywords: [acme]}\n"
        "  globex: {pages: ['2002'], keywords: [globex]}\n"
    )
    path = tmp_path / "stormwatch.toml"
    path.write_text(
        "[ingest]\nmax_body_bytes = 4096\nqueue_records = 40\n"
        '[ingest.tokens]\nhelpdesk = "HELPDESK_TOKEN"\n'
        '[watchlist]\nfile = "watchlist.yaml"\n'
    )
    return path


def make_service(
    tmp_path: Path,
    config: Path | None,
    env: dict[str, str],
    *,
    gate: threading.Event | None = None,
    db: str | None = None,
    capture: list[bytes] | None = None,
) -> Service:
    db = db or f"sqlite:///{tmp_path / 'incidents.sqlite3'}"
    service = build_service(
        Settings(database_url=db),
        port=0,
        config_path=config,
        env=env,
        dead_letter=tmp_path / "dead.jsonl",
        live_options={"tick": 0.05, "checkpoint_seconds": 3600},
    )
    if gate is not None or capture is not None:
        pipeline = service.live.pipeline
        feed_decoded = pipeline.feed_decoded

        def gated(decoded: Comment | DeadLetter, raw: bytes, source: str = "") -> None:
            # every record passes here: `feed` decodes and hands over, POST /ingest
            # hands over what it decoded
            if gate is not None:  # hold the pipeline: the intake fills up
                gate.wait()
            if capture is not None:  # what reaches the pipeline
                capture.append(raw)
            feed_decoded(decoded, raw, source)

        pipeline.feed_decoded = gated  # type: ignore[method-assign]
    return service.start()


ENV = {
    "STORMWATCH_INGEST_TOKEN": TOKEN,
    "HELPDESK_TOKEN": HELPDESK,
    "META_APP_SECRET": APP_SECRET,
    "META_VERIFY_TOKEN": VERIFY,
}


@pytest.fixture
def service(tmp_path: Path, config: Path) -> Iterator[Service]:
    s = make_service(tmp_path, config, ENV)
    yield s
    s.stop()
    s.store.close()


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def processed(service: Service, n: int) -> None:
    wait_for(lambda: service.live.pipeline.stats.read >= n and not service.live.queued)


# --- ingest ------------------------------------------------------------------------------


def test_ingest_jsonl_and_array_with_dead_letters_counted(service: Service, tmp_path: Path) -> None:
    body = jsonl([comment(1), comment(2)]) + b'{"id": "x", "text": "no time"}\n{oops\n'
    r = httpx.post(service.url + "/ingest", content=body, headers=auth())
    assert r.status_code == 202
    assert r.json() == {
        "accepted": 2,
        "dead_lettered": 2,
        "reasons": {"missing_field": 1, "invalid_json": 1},
    }
    r = httpx.post(service.url + "/ingest", json=[comment(3), comment(4), 5], headers=auth())
    assert r.status_code == 202 and (r.json()["accepted"], r.json()["dead_lettered"]) == (2, 1)
    r = httpx.post(service.url + "/ingest", content=jsonl([comment(5)]), headers=auth(HELPDESK))
    assert r.status_code == 202
    processed(service, 8)
    stats = service.live.pipeline.stats
    assert (stats.read, stats.dead_lettered) == (8, 3)
    service.live.stop()  # closes the dead-letter file
    letters = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert sorted(x["reason"] for x in letters) == [
        "invalid_json",
        "missing_field",
        "not_an_object",
    ]
    # decoded once, on the HTTP side: each letter names the request's source and line
    assert sorted(x["source"] for x in letters) == ["ingest:3", "ingest:3", "ingest:4"]


def test_ingest_refuses_missing_wrong_and_malformed_tokens(service: Service) -> None:
    url = service.url + "/ingest"
    for headers in (
        {},
        auth("wrong-token-0123456789abcdef"),
        {"Authorization": "Basic " + TOKEN},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer tök-ünïcode".encode()},
    ):
        r = httpx.post(url, content=jsonl([comment(1)]), headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"] == "Bearer"
    time.sleep(0.2)
    assert service.live.accepted == 0 and service.live.pipeline.stats.read == 0


def test_ingest_is_off_without_a_token(tmp_path: Path) -> None:
    s = make_service(tmp_path, None, {})
    try:
        r = httpx.post(s.url + "/ingest", content=jsonl([comment(1)]), headers=auth())
        assert r.status_code == 404 and "STORMWATCH_INGEST_TOKEN" in r.json()["error"]
        assert httpx.post(s.url + "/ingest", content=b"").status_code == 404
    finally:
        s.stop()
        s.store.close()


def raw_request(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        return sock.recv(65536)


def test_body_limits_and_malformed_requests_get_4xx_without_traceback(service: Service) -> None:
    url = service.url
    big = b"x" * 5000
    r = httpx.post(url + "/ingest", content=big, headers=auth())
    assert r.status_code == 413
    # a chunked body without Content-Length is cut off while reading, too
    r = httpx.post(url + "/ingest", content=iter([b"x" * 1000] * 10), headers=auth())
    assert r.status_code == 413
    for length in (b"-1", b"abc", b"1e3"):
        answer = raw_request(
            url,
            b"POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 400"), answer
    assert httpx.post(url + "/ingest", content=b"[1, 2", headers=auth()).status_code == 400
    assert httpx.get(url + "/ingest").status_code == 405
    assert httpx.get(url + "/nope").status_code == 404
    # Slack without a signing secret: off, not open
    assert httpx.post(url + "/slack/actions", content=b"payload=%7B%7D").status_code == 404
    for r in (httpx.get(url + "/nope"), httpx.post(url + "/ingest", content=big, headers=auth())):
        assert "Traceback" not in r.text and r.headers["content-type"] == "application/json"


def test_ingest_flood_against_a_full_queue_gets_429_and_nothing_is_lost(
    tmp_path: Path, config: Path
) -> None:
    gate = threading.Event()
    s = make_service(tmp_path, config, ENV, gate=gate)
    try:
        accepted: list[str] = []
        refused = 0
        results: list[httpx.Response] = []

        def client(k: int) -> None:
            with httpx.Client(base_url=s.url, headers=auth()) as c:
                for b in range(10):
                    batch = [comment(1000 * k + 10 * b + i) for i in range(10)]
                    r = c.post("/ingest", content=jsonl(batch))
                    results.append(r)
                    if r.status_code == 202:
                        accepted.extend(x["id"] for x in batch)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        refused = sum(r.status_code == 429 for r in results)
        assert refused > 0 and all(r.status_code in (202, 429) for r in results)
        assert all(r.headers["retry-after"] == "1" for r in results if r.status_code == 429)
        assert s.live.queued <= 40 + 10  # bounded: the limit, plus the batch in the pipeline
        gate.set()
        wait_for(lambda: s.live.pipeline.stats.read == len(accepted))
        time.sleep(0.2)
        assert s.live.pipeline.stats.read == len(accepted)  # every accepted one, once
        assert s.live.pipeline.stats.processed == len(accepted)
    finally:
        gate.set()
        s.stop()
        s.store.close()


# --- Meta webhooks -------------------------------------------------------------------------


def meta_sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


FEED = {
    "object": "page",
    "entry": [
        {
            "id": "1001",
            "time": int(NOW),
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": "add",
                        "comment_id": "1001_55_1",
                        "post_id": "1001_55",
                        "parent_id": "1001_55",
                        "message": "this is a scam",
                        "created_time": int(NOW) - 30,
                        "from": {"id": "u1", "name": "A"},
                    },
                },
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": "add",
                        "comment_id": "1001_55_2",
                        "post_id": "1001_55",
                        "parent_id": "1001_55_1",
                        "message": "agreed",
                        "created_time": int(NOW) - 20,
                        "from": {"id": "u2"},
                    },
                },
                {"field": "feed", "value": {"item": "reaction", "verb": "add"}},
            ],
        },
        {"id": "9999", "changes": [{"field": "feed", "value": {"item": "comment",
         "verb": "add", "comment_id": "9_1", "post_id": "9", "message": "x"}}]},
    ],
}  # fmt: skip
INSTAGRAM = {
    "object": "instagram",
    "entry": [
        {
            "id": "17841400000",
            "time": int(NOW),
            "changes": [
                {
                    "field": "comments",
                    "value": {
                        "id": "178000001",
                        "text": "worst brand",
                        "media": {"id": "180000555", "media_product_type": "FEED"},
                        "from": {"id": "ig1", "username": "x"},
                    },
                },
                {
                    "field": "comments",
                    "value": {
                        "id": "178000002",
                        "parent_id": "178000001",
                        "text": "so true",
                        "media": {"id": "180000555"},
                    },
                },
            ],
        }
    ],
}


def test_meta_handshake(service: Service) -> None:
    url = service.url + "/webhooks/meta"
    ok = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    r = httpx.get(url, params=ok)
    assert (r.status_code, r.text) == (200, "1158201444")
    assert httpx.get(url, params={**ok, "hub.verify_token": "nope"}).status_code == 403
    assert httpx.get(url, params={**ok, "hub.mode": "unsubscribe"}).status_code == 403
    assert httpx.get(url).status_code == 403


def test_meta_wrong_or_missing_signature_is_refused_and_nothing_stored(service: Service) -> None:
    url = service.url + "/webhooks/meta"
    body = orjson.dumps(FEED)
    assert httpx.post(url, content=body).status_code == 401
    for sig in (meta_sign(body, "other secret"), meta_sign(body + b" "), "sha256=zz", "sha1=ab"):
        assert (
            httpx.post(url, content=body, headers={"X-Hub-Signature-256": sig}).status_code == 403
        )
    r = httpx.post(url, content=body, headers={"X-Hub-Signature-256": "sha256=ä".encode()})
    assert r.status_code == 403
    time.sleep(0.2)
    assert service.live.accepted == 0 and service.live.pipeline.stats.read == 0


def test_meta_comments_map_to_the_input_contract(tmp_path: Path, config: Path) -> None:
    seen: list[bytes] = []
    service = make_service(tmp_path, config, ENV, capture=seen)
    try:
        url = service.url + "/webhooks/meta"
        body = orjson.dumps(FEED)
        r = httpx.post(url, content=body, headers={"X-Hub-Signature-256": meta_sign(body)})
        assert r.status_code == 200
        assert r.json() == {"accepted": 2, "skipped": {"not_a_comment": 1, "unwatched_page": 1}}
        body = orjson.dumps(INSTAGRAM)
        r = httpx.post(url, content=body, headers={"X-Hub-Signature-256": meta_sign(body)})
        assert r.json()["accepted"] == 2
        processed(service, 4)
        assert service.live.pipeline.stats.dead_lettered == 0
    finally:
        service.stop()
        service.store.close()
    fields = ("id", "brand", "platform", "thread_id", "parent_id", "author_id", "text")
    got = [tuple(orjson.loads(raw).get(f) for f in fields) for raw in seen]
    assert got == [
        ("1001_55_1", "acme", "facebook", "1001_55", None, "u1", "this is a scam"),
        ("1001_55_2", "acme", "facebook", "1001_55", "1001_55_1", "u2", "agreed"),
        ("178000001", "acme", "instagram", "180000555", None, "ig1", "worst brand"),
        ("178000002", "acme", "instagram", "180000555", "178000001", None, "so true"),
    ]


def test_a_meta_comment_whose_message_cannot_be_written_is_one_dead_letter(
    tmp_path: Path, config: Path
) -> None:
    """A signed delivery whose `message` was nested 300 deep (orjson reads 1,024 levels,
    writes 255) was a 500: the delivery's good comment was lost with it at every retry."""
    service = make_service(tmp_path, config, ENV)
    try:
        import copy

        feed = copy.deepcopy(FEED)
        feed["entry"][0]["changes"][1]["value"]["message"] = "DEEP"
        body = orjson.dumps(feed).replace(b'"DEEP"', b"[" * 300 + b'"x"' + b"]" * 300)
        r = httpx.post(
            service.url + "/webhooks/meta",
            content=body,
            headers={"X-Hub-Signature-256": meta_sign(body)},
        )
        assert r.status_code == 200 and r.json()["accepted"] == 2
        processed(service, 2)
        assert service.live.pipeline.stats.dead_lettered == 1
    finally:
        service.stop()
        service.store.close()


# --- Slack ----------------------------------------------------------------------------------


def press_body(action: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE"},
        "actions": [{"action_id": f"stormwatch:{action}", "value": KEY, "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes, ts: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if ts is None else ts))
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sign(SIGNING, stamp, body)}


@pytest.fixture
def slack_env() -> Iterator[dict[str, str]]:
    with FakeSlack() as slack:
        yield {
            "SLACK_BOT_TOKEN": FakeSlack.TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_API_URL": slack.url,
            "STORMWATCH_SLACK_CHANNEL": "#alerts",
        }


def test_press_during_store_error_gets_5xx_and_the_retry_is_accepted(
    tmp_path: Path, slack_env: dict[str, str]
) -> None:
    s = make_service(tmp_path, None, slack_env)
    try:
        s.store.record(alert(), targets=["slack"])
        body = press_body("false_alarm")
        headers = signed(body)
        real = s.store.add_feedback
        calls = {"n": 0}

        def failing(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 1:
                raise StoreError("incident store sqlite:///x: database is locked")
            return real(*args, **kwargs)

        s.store.add_feedback = failing  # type: ignore[method-assign]
        r = httpx.post(s.url + "/slack/actions", content=body, headers=headers)
        assert r.status_code == 503 and "sqlite" not in r.text
        assert not s.store.feedback_for("acme")
        r = httpx.post(s.url + "/slack/actions", content=body, headers=headers)  # Slack's retry
        assert r.status_code == 200
        assert len(s.store.feedback_for("acme")) == 1
        r = httpx.post(s.url + "/slack/actions", content=body, headers=headers)  # a replay
        assert r.status_code == 401 and len(s.store.feedback_for("acme")) == 1
    finally:
        s.stop()
        s.store.close()


def test_replay_is_refused_after_a_restart(tmp_path: Path, slack_env: dict[str, str]) -> None:
    body = press_body("false_alarm")
    headers = signed(body)
    s = make_service(tmp_path, None, slack_env)
    try:
        s.store.record(alert(), targets=["slack"])
        assert (
            httpx.post(s.url + "/slack/actions", content=body, headers=headers).status_code == 200
        )
    finally:
        s.stop()
        s.store.close()
    s = make_service(tmp_path, None, slack_env)
    try:
        r = httpx.post(s.url + "/slack/actions", content=body, headers=headers)
        assert r.status_code == 401
        assert len(s.store.feedback_for("acme")) == 1
        # malformed signature headers: refused, never a 500
        for bad in (
            {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
            {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=ä"},
            {},
        ):
            hdrs = {k: v.encode() for k, v in bad.items()}
            assert (
                httpx.post(s.url + "/slack/actions", content=body, headers=hdrs).status_code == 401
            )
        # a signed payload that is a list, or not a form: 400; a body that is not UTF-8
        # cannot carry a valid Slack signature: 401
        for raw, status in (
            (urlencode({"payload": "[1, 2]"}).encode(), 400),
            (b"payload=%7B%22a", 400),
            (b"\xff\xfe", 401),
        ):
            r = httpx.post(s.url + "/slack/actions", content=raw, headers=signed(raw))
            assert r.status_code == status, raw
    finally:
        s.stop()
        s.store.close()


def test_slack_token_without_signing_secret_is_a_config_error(tmp_path: Path) -> None:
    from stormwatch.exceptions import ConfigError

    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        build_service(
            Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"),
            env={"SLACK_BOT_TOKEN": "xoxb-1"},
        )


# --- probes ---------------------------------------------------------------------------------


def test_probes_and_metrics(service: Service) -> None:
    assert httpx.get(service.url + "/healthz").json() == {"ok": True}
    r = httpx.get(service.url + "/readyz")
    assert r.status_code == 200 and r.json()["ok"] is True
    httpx.post(service.url + "/ingest", content=jsonl([comment(1)]), headers=auth())
    processed(service, 1)
    r = httpx.get(service.url + "/metrics")
    assert r.status_code == 200 and "stormwatch_comments_total" in r.text

    def broken() -> None:
        raise StoreError("incident store postgresql://alice@db.internal:5432/prod: refused")

    service.store.ping = broken  # type: ignore[method-assign]
    r = httpx.get(service.url + "/readyz")
    assert r.status_code == 503
    assert "alice" not in r.text and "db.internal" not in r.text and "5432" not in r.text
    assert httpx.get(service.url + "/healthz").status_code == 200  # liveness: still alive


# --- live pipeline: idle minutes, checkpoints ----------------------------------------------


def quiet_live(now: list[float]) -> tuple[LivePipeline, float]:
    """A live pipeline on the fake wall clock `now[0]`, fed half an hour of comments
    that end half a minute before it; and the first comment's time."""
    from stormwatch.pipeline import Pipeline

    live = LivePipeline(
        Pipeline(Settings(lateness_seconds=120)), tick=0.05, clock=lambda: now[0]
    ).start()
    t0 = NOW - 1800
    live.offer([orjson.dumps(comment(i, t=t0 + 30 * i)) for i in range(30)], "test")
    wait_for(lambda: live.pipeline.stats.read == 30)
    return live, t0


def test_quiet_stream_closes_minutes_on_wall_clock(tmp_path: Path) -> None:
    now = [NOW]
    live, _ = quiet_live(now)
    try:
        time.sleep(0.2)
        before = live.pipeline.windows.next_minute
        now[0] += 170  # under lateness + 60 s of silence: nothing closes on the clock
        time.sleep(0.3)
        assert live.pipeline.windows.next_minute == before
        now[0] += 20  # past it: the minutes up to wall clock - lateness close
        target = int((now[0] - 120) // 60)
        wait_for(lambda: live.pipeline.windows.next_minute >= target)
        assert live.pipeline.windows.next_minute == target
        assert live.pipeline.stats.minutes_closed > 0
    finally:
        live.stop()


def test_a_trickle_of_late_records_does_not_hold_a_quiet_streams_minutes_open() -> None:
    """Late replies to old threads (or duplicates, or malformed records) every 20 s do
    not move the stream on: they kept the idle timer fresh, and the quiet brand's
    minutes never closed on the wall clock."""
    now = [NOW]
    live, t0 = quiet_live(now)
    try:
        for k in range(10):  # 200 s of wall clock, a late record every 20 s
            now[0] += 20
            late = comment(1000 + k, t=t0 - 600)
            live.offer([orjson.dumps({**late, "brand": "globex"})], "collector")
            wait_for(lambda k=k: live.pipeline.stats.read == 31 + k)
        target = int((now[0] - 120) // 60)
        wait_for(lambda: live.pipeline.windows.next_minute >= target)
    finally:
        live.stop()


def storm_lines() -> list[bytes]:
    from stormwatch.evaluation.scenario import generate
    from tests.metrics_run import SPEC

    return [orjson.dumps(c) for c in generate(SPEC).comments]


def send(s: Service, lines: list[bytes], per_request: int = 500) -> None:
    """All of `lines` to `POST /ingest`, waiting out each 429."""
    with httpx.Client(base_url=s.url, headers=auth(), timeout=30) as c:
        for i in range(0, len(lines), per_request):
            body = b"\n".join(lines[i : i + per_request])
            while (r := c.post("/ingest", content=body)).status_code == 429:
                time.sleep(0.02)
            assert r.status_code == 202


def test_restart_mid_stream_resumes_the_open_incident(tmp_path: Path) -> None:
    lines = storm_lines()
    db = f"sqlite:///{tmp_path / 'resume.sqlite3'}"
    env = {"STORMWATCH_INGEST_TOKEN": TOKEN}

    # reference: one uninterrupted run
    ref = make_service(tmp_path, None, env, db=f"sqlite:///{tmp_path / 'ref.sqlite3'}")
    try:
        send(ref, lines)
        processed(ref, len(lines))
        ref_open = {k for k, i in ref.live.pipeline.tracker.open.items()}
        ref_incidents = {i.key for i in ref.store.list_incidents()}
    finally:
        ref.stop()
        ref.store.close()
    assert ref_incidents, "the scenario's storm opens an incident"

    # the same stream, stopped in the middle of the storm and restarted
    with IncidentStore.open(db) as probe:
        probe.ping()
    half = len(lines) * 3 // 4
    first = make_service(tmp_path, None, env, db=db)
    try:
        send(first, lines[:half])
        processed(first, half)
        open_before = set(first.live.pipeline.tracker.open)
    finally:
        first.stop()
        first.store.close()
    second = make_service(tmp_path, None, env, db=db)
    try:
        assert second.live.restored
        assert set(second.live.pipeline.tracker.open) == open_before  # no warm-up, same incident
        assert second.live.pipeline.stats.read == half
        send(second, lines[half:])
        processed(second, len(lines))
        incidents = {i.key for i in second.store.list_incidents()}
        assert incidents == ref_incidents  # nothing opened twice, nothing missed
        assert set(second.live.pipeline.tracker.open) == ref_open
        assert second.store.load_checkpoint(CHECKPOINT_NAME) is not None
    finally:
        second.stop()
        second.store.close()


# --- the command ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_process(db: Path, port: int) -> subprocess.Popen[str]:
    """`stormwatch serve` in a process of its own, once it says it is listening."""
    env = {**os.environ, "STORMWATCH_INGEST_TOKEN": TOKEN}
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "META_APP_SECRET", "STORMWATCH_CONFIG"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "stormwatch.cli", "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    while "listening on" not in line:
        if not line:
            proc.kill()
            raise AssertionError("serve exited before listening")
        line = proc.stderr.readline()
    return proc


def test_sigterm_stops_serve_cleanly_with_exit_0(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "serve.sqlite3"
    proc = serve_process(db, port)
    try:
        assert proc.stderr is not None
        url = f"http://127.0.0.1:{port}"
        r = httpx.post(url + "/ingest", content=jsonl([comment(i) for i in range(50)]),
                       headers=auth())  # fmt: skip
        assert r.status_code == 202
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        rest = proc.stderr.read()
        assert "Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
    with IncidentStore.open(f"sqlite:///{db}") as store:
        found = store.load_checkpoint(CHECKPOINT_NAME)
    assert found is not None  # the accepted comments are in the final checkpoint
    import pickle
    import zlib

    state = pickle.loads(zlib.decompress(found[1]))["state"]
    assert state["stats"].read == 50


def test_more_records_than_the_intake_holds_get_413_and_a_batch_counts_until_processed(
    tmp_path: Path, config: Path
) -> None:
    """`queue_records` (40 here) bounds what waits and what the pipeline works on: a
    request of more records is refused whole with 413 (an empty intake took any request,
    millions of tiny records in one body), and a batch being processed still counts
    (the next one was taken while the first was worked on)."""
    gate = threading.Event()
    s = make_service(tmp_path, config, ENV, gate=gate)
    try:
        r = httpx.post(s.url + "/ingest", content=b"{}\n" * 41, headers=auth())
        assert r.status_code == 413 and "split it" in r.json()["error"]
        r = httpx.post(s.url + "/ingest", content=b"[" + b"{}," * 40 + b"{}]", headers=auth())
        assert r.status_code == 413 and r.json()["error"].startswith("41 records")
        assert s.live.queued == 0
        # A pretty-printed array has many lines per record: 20 records in 221 lines.
        pretty = json.dumps([comment(300 + i) for i in range(20)], indent=2).encode()
        assert pretty.count(b"\n") > 2 * 40
        r = httpx.post(s.url + "/ingest", content=pretty, headers=auth())
        assert r.status_code == 202 and r.json()["accepted"] == 20
        gate.set()
        processed(s, 20)
        gate.clear()
        first = jsonl([comment(i) for i in range(30)])
        assert httpx.post(s.url + "/ingest", content=first, headers=auth()).status_code == 202
        wait_for(lambda: not s.live._queue)  # the pipeline took it, and waits at the gate
        assert s.live.queued == 30
        second = jsonl([comment(100 + i) for i in range(30)])
        assert httpx.post(s.url + "/ingest", content=second, headers=auth()).status_code == 429
        gate.set()
        processed(s, 50)
        assert httpx.post(s.url + "/ingest", content=second, headers=auth()).status_code == 202
        processed(s, 80)
        # A collector's page larger than the intake holds is taken when it is idle (it
        # would wait for ever), and nothing is taken beside it while it is worked on.
        page = jsonl([comment(200 + i) for i in range(50)]).splitlines()
        gate.clear()
        assert s.live.offer(page, "collector:x")
        assert not s.live.offer(page[:1], "collector:x")
        gate.set()
        processed(s, 130)
    finally:
        gate.set()
        s.stop()
        s.store.close()


def test_a_record_nested_too_deep_for_json_arrays_is_dead_lettered(service: Service) -> None:
    """orjson reads 1,024 levels but writes 255: an array item deeper than that was a 500
    for the whole request; it is one dead letter, the rest is taken."""
    deep = b"[" * 300 + b"]" * 300
    body = b"[" + orjson.dumps(comment(1)) + b"," + deep + b"]"
    r = httpx.post(service.url + "/ingest", content=body, headers=auth())
    assert r.status_code == 202
    assert r.json()["accepted"] == 1 and r.json()["dead_lettered"] == 1


def test_an_array_item_the_parsers_cannot_take_is_one_dead_letter(service: Service) -> None:
    """A lone surrogate (a text cut inside an emoji), orjson refuses whole: the batch was a
    400; the comment is taken, the half emoji read as U+FFFD. An item nested past the
    standard library's recursion limit beside an id past 64 bits (read again exactly)
    was a 500: it is one dead letter, and the rest is taken."""
    cut = orjson.dumps(comment(2, text="so angry XX")).replace(b"XX", b"\\ud83d")
    body = b"[" + orjson.dumps(comment(1)) + b"," + cut + b"]"
    r = httpx.post(service.url + "/ingest", content=body, headers=auth())
    assert r.status_code == 202
    assert r.json()["accepted"] == 2 and r.json()["dead_lettered"] == 0
    deep = b"[" * 1000 + b"]" * 1000
    wide_id = comment(2, thread_id=2**70)
    body = b"[" + json.dumps(wide_id).encode() + b"," + deep + b"]"
    r = httpx.post(service.url + "/ingest", content=body, headers=auth())
    assert r.status_code == 202
    assert r.json()["accepted"] == 1 and r.json()["dead_lettered"] == 1


def test_a_token_that_is_not_ascii_stops_the_start(tmp_path: Path, config: Path) -> None:
    """A header carries ASCII: such a token could never authenticate."""
    from stormwatch.exceptions import ConfigError

    with pytest.raises(ConfigError, match="must be ASCII"):
        make_service(tmp_path, config, {**ENV, "STORMWATCH_INGEST_TOKEN": "ü" * 40})


def test_sigterm_right_after_the_start_still_stops_serve(tmp_path: Path) -> None:
    """A stop that comes while the service starts (before uvicorn takes the signals
    over) is kept: it was dropped, and the service ran on."""
    proc = serve_process(tmp_path / "serve.sqlite3", free_port())
    try:
        proc.send_signal(signal.SIGTERM)  # at once
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_alert_events_wait_out_a_store_that_fails_and_nothing_else_stops(
    tmp_path: Path,
) -> None:
    """The store refuses writes for a while (locked, a database restarting): the events
    wait in order and are recorded once it answers again; the pipeline goes on. Raised
    into the pipeline, the event was lost and the rest of its minute was not done."""
    from sqlalchemy.exc import OperationalError

    from stormwatch.service.serve import StoreAlertSink

    lines = storm_lines()
    env = {"STORMWATCH_INGEST_TOKEN": TOKEN}
    s = make_service(tmp_path, None, env)
    try:
        [sink] = [x for x in s.live.pipeline.sinks if isinstance(x, StoreAlertSink)]
        record = sink.store.record
        down = threading.Event()
        down.set()

        def failing(*args: Any, **kwargs: Any) -> bool:
            if down.is_set():
                raise OperationalError("INSERT", {}, Exception("database is locked"))
            return record(*args, **kwargs)

        sink.store.record = failing  # type: ignore[method-assign]
        send(s, lines, per_request=40)
        processed(s, len(lines))
        assert s.live.pipeline.tracker.history  # the storm opened
        assert sink.pending and not s.store.list_incidents()
        waiting = list(sink.pending)
        down.clear()
        wait_for(lambda: not sink.pending)
        stored = [
            (e.incident, e.event) for i in s.store.list_incidents() for e in s.store.events(i.key)
        ]
        assert sorted(stored) == sorted((e.incident, e.event) for e in waiting)
        assert s.live.failed == 0 and s.live.pipeline.stats.read == len(lines)
    finally:
        s.stop()
        s.store.close()


def test_alert_events_the_store_refused_until_a_stop_are_recorded_after_the_restart(
    tmp_path: Path,
) -> None:
    """The store refuses the events (a row lock past its timeout) but takes the
    checkpoint, which holds the decisions: the events were dropped at the stop, and the
    restarted service never recorded or posted the storm."""
    from sqlalchemy.exc import OperationalError

    from stormwatch.service.serve import StoreAlertSink

    lines = storm_lines()
    env = {"STORMWATCH_INGEST_TOKEN": TOKEN}
    db = f"sqlite:///{tmp_path / 'incidents.sqlite3'}"
    s = make_service(tmp_path, None, env, db=db)
    try:
        [sink] = [x for x in s.live.pipeline.sinks if isinstance(x, StoreAlertSink)]

        def failing(*args: Any, **kwargs: Any) -> bool:
            raise OperationalError("INSERT", {}, Exception("database is locked"))

        sink.store.record = failing  # type: ignore[method-assign]
        send(s, lines, per_request=40)
        processed(s, len(lines))
        waiting = [(e.incident, e.event, e.at) for e in sink.pending]
        assert waiting
    finally:
        s.stop()
        s.store.close()
    again = make_service(tmp_path, None, env, db=db)
    try:
        assert again.live.restored
        stored = [
            (e.incident, e.event, e.at)
            for i in again.store.list_incidents()
            for e in again.store.events(i.key)
        ]
        assert sorted(stored) == sorted(waiting)
    finally:
        again.stop()
        again.store.close()


def test_a_start_whose_restore_fails_keeps_the_checkpoint_it_could_not_read(
    tmp_path: Path,
) -> None:
    """The store errs while the checkpoint is read (a database restarting): the failed
    start's shutdown saved its empty pipeline over the checkpoint, and the next start
    had lost every open incident, baseline and seen id."""
    env = {"STORMWATCH_INGEST_TOKEN": TOKEN}
    db = f"sqlite:///{tmp_path / 'incidents.sqlite3'}"
    s = make_service(tmp_path, None, env, db=db)
    send(s, [orjson.dumps(comment(i)) for i in range(50)])
    processed(s, 50)
    s.stop()
    s.store.close()

    def read() -> int:
        with IncidentStore.open(db) as store:
            found = store.load_checkpoint(CHECKPOINT_NAME)
        assert found is not None
        return pickle.loads(zlib.decompress(found[1]))["state"]["stats"].read

    assert read() == 50
    service = build_service(Settings(database_url=db), port=0, env=env)

    def flaky(name: str) -> None:
        raise StoreError("incident store: server closed the connection unexpectedly")

    service.store.load_checkpoint = flaky  # type: ignore[method-assign]
    try:
        with pytest.raises(StoreError):
            service.run()
    finally:
        service.store.close()
    assert read() == 50

"""Signed Slack button presses against a real `stormwatch serve` process on 127.0.0.1,
with delivery on (Slack is `tests/fake_slack.py`, spoken to by the real `slack_sdk`):
the load of `benchmarks/slack_buttons_load.py` and of its test.

Each press is an Acknowledge by its own user on one of `incidents` incidents, signed as
Slack signs (`slack_sdk.signature.SignatureVerifier.generate_signature`). Clients behave
as Slack does: a 5xx or no answer is retried with the same request; a few accepted
presses are sent once more (a retry whose first answer was lost) and must be refused as
replays. Afterwards the store must hold exactly one acknowledgement and one message
refresh per press, all delivered to Slack.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson
from slack_sdk.signature import SignatureVerifier

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.store import IncidentStore
from tests.fake_slack import FakeSlack

SIGNING_SECRET = "load-test-signing-secret"
MAX_ATTEMPTS = 4  # Slack retries a failed interactivity request a few times at most


@dataclass
class PressLoad:
    presses: int
    clients: int
    seconds: float = 0.0  # first press sent to last answer received
    latencies: list[float] = field(default_factory=list)  # every request, retries included
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: int = 0  # presses answered 200
    retries: int = 0  # requests repeated after a 5xx or a transport error
    replays_sent: int = 0
    replays_refused: int = 0  # of those, answered 401
    lost: list[str] = field(default_factory=list)  # presses with no acknowledgement stored
    doubled: list[str] = field(default_factory=list)  # presses stored more than once
    refreshes_sent: int = 0  # message refreshes delivered to Slack
    drain_seconds: float = 0.0  # last answer to the last delivery sent
    server_exit: int | None = None

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "presses": self.presses,
            "clients": self.clients,
            "accepted": self.accepted,
            "lost": len(self.lost),
            "doubled": len(self.doubled),
            "replays_sent": self.replays_sent,
            "replays_refused": self.replays_refused,
            "retries": self.retries,
            "statuses": dict(self.statuses),
            "p50_ms": round(self.percentile(0.50) * 1000, 1),
            "p99_ms": round(self.percentile(0.99) * 1000, 1),
            "max_ms": round(max(self.latencies, default=0.0) * 1000, 1),
            "presses_per_s": round(self.presses / self.seconds, 1) if self.seconds else 0.0,
            "refreshes_delivered": self.refreshes_sent,
            "drain_s": round(self.drain_seconds, 2),
            "server_exit": self.server_exit,
        }


def incident_key(i: int) -> str:
    return f"brand{i}/post{i}/2026-03-02T09:15Z"


def _alert(key: str) -> AlertEvent:
    brand, thread, _ = key.split("/", 2)
    return AlertEvent(
        incident=key,
        event="opened",
        brand=brand,
        thread_id=thread,
        severity="high",
        score=3.0,
        at=1772442900.0,
        emitted_at=time.time(),
        summary=f"Negative comments on {thread} of {brand} run at 12/min.",
        drivers={"negative_per_min_now": 12.0, "negative_per_min_baseline": 0.5},
        samples=[],
    )


def _press_body(user: str, key: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "actions": [{"action_id": "stormwatch:acknowledge", "value": key, "type": "button"}],
    }
    return urlencode({"payload": orjson.dumps(payload).decode()}).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_serve(db: Path, slack: FakeSlack) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORMWATCH_", "SLACK_"))}
    env.update(
        SLACK_BOT_TOKEN=FakeSlack.TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.url,
        STORMWATCH_SLACK_CHANNEL="#alerts",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "stormwatch.cli", "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    while "listening on" not in line:
        if not line:
            raise RuntimeError("stormwatch serve exited before listening")
        line = proc.stderr.readline()
    # keep reading its log, so a full pipe never blocks the server
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc, f"http://127.0.0.1:{port}"


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def run_press_load(
    workdir: Path, *, presses: int = 2000, clients: int = 8, incidents: int = 50, replays: int = 40
) -> PressLoad:
    """Seed `incidents` posted incidents, press `presses` times from `clients` concurrent
    clients, wait for every refresh to reach Slack, stop the server with SIGTERM."""
    result = PressLoad(presses=presses, clients=clients)
    db = workdir / "buttons.sqlite3"
    keys = [incident_key(i) for i in range(incidents)]
    with IncidentStore.open(f"sqlite:///{db}") as store:
        for key in keys:
            store.record(_alert(key), targets=["slack"])
    with FakeSlack() as slack:
        proc, url = _start_serve(db, slack)
        try:
            with IncidentStore.open(f"sqlite:///{db}") as store:
                _wait(
                    lambda: all(store.get_incident(k).slack_ts for k in keys),  # type: ignore[union-attr]
                    60,
                    "the seeded incidents were not posted",
                )
                _press(url, result, keys, replays)
                answered = time.monotonic()
                _wait(
                    lambda: _delivered(store, keys, result),
                    300,
                    "the refreshes were not all delivered",
                )
                result.drain_seconds = time.monotonic() - answered
                _count(store, keys, result)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                result.server_exit = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return result


def _press(url: str, result: PressLoad, keys: list[str], replays: int) -> None:
    verifier = SignatureVerifier(SIGNING_SECRET)
    stamp = str(int(time.time()))
    work: queue.SimpleQueue[tuple[bytes, dict[str, str]]] = queue.SimpleQueue()
    for i in range(result.presses):  # signed before the clock starts
        body = _press_body(f"U{i:06d}", keys[i % len(keys)])
        signature = verifier.generate_signature(timestamp=stamp, body=body)
        work.put(
            (
                body,
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": signature,
                },
            )
        )
    lock = threading.Lock()
    replay_each = -(-replays // result.clients)
    start = threading.Barrier(result.clients + 1)

    def client() -> None:
        done: list[tuple[bytes, dict[str, str]]] = []
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        retries = accepted = 0
        with httpx.Client(base_url=url, timeout=30) as http:
            start.wait()
            while True:
                try:
                    body, headers = work.get_nowait()
                except queue.Empty:
                    break
                for _ in range(MAX_ATTEMPTS):
                    t0 = time.perf_counter()
                    try:
                        status = http.post("/slack/actions", content=body, headers=headers)
                        code = status.status_code
                    except httpx.TransportError:
                        code = 0
                    latencies.append(time.perf_counter() - t0)
                    statuses[code] += 1
                    if code == 200:
                        accepted += 1
                        done.append((body, headers))
                        break
                    if code not in (0, 500, 502, 503, 504):
                        break  # refused: Slack would not retry either
                    retries += 1
            refused = 0
            for body, headers in done[:replay_each]:
                code = http.post("/slack/actions", content=body, headers=headers).status_code
                refused += code == 401
        with lock:
            result.latencies.extend(latencies)
            result.statuses.update(statuses)
            result.retries += retries
            result.accepted += accepted
            result.replays_sent += min(replay_each, len(done))
            result.replays_refused += refused

    threads = [threading.Thread(target=client) for _ in range(result.clients)]
    for thread in threads:
        thread.start()
    start.wait()
    t0 = time.monotonic()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - t0


def _refreshes(store: IncidentStore, keys: list[str]) -> list[tuple[str, str]]:
    """(who, status) of every message refresh a press queued."""
    return [
        (str(d.payload.get("who")), d.status)
        for key in keys
        for d in store.deliveries(key)
        if d.payload.get("action") == "refresh" and d.payload.get("who")
    ]


def _delivered(store: IncidentStore, keys: list[str], result: PressLoad) -> bool:
    refreshes = _refreshes(store, keys)
    return len(refreshes) >= result.accepted and all(s == "sent" for _, s in refreshes)


def _count(store: IncidentStore, keys: list[str], result: PressLoad) -> None:
    acknowledged = Counter(a.who for key in keys for a in store.acknowledgements(key))
    refreshed = Counter(who for who, _ in _refreshes(store, keys))
    result.refreshes_sent = sum(refreshed.values())
    for i in range(result.presses):
        who = f"<@U{i:06d}>"
        if acknowledged[who] == 0 or refreshed[who] == 0:
            result.lost.append(who)
        elif acknowledged[who] > 1 or refreshed[who] > 1:
            result.doubled.append(who)

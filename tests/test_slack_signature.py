"""Slack request signatures: valid, forged, stale and replayed requests."""

from __future__ import annotations

import pytest

from stormwatch.alerts.slack_signature import SignatureVerifier, sign

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_800_000_000.0
BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def test_matches_slacks_documented_example() -> None:
    # https://api.slack.com/authentication/verifying-requests-from-slack (its sample request)
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert (
        sign(SECRET, "1531420618", body)
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_valid_request_passes_once() -> None:
    clock = Clock()
    verifier = SignatureVerifier(SECRET, clock=clock)
    ts = str(int(NOW))
    assert verifier.check(body=BODY, timestamp=ts, signature=sign(SECRET, ts, BODY)) is None
    again = verifier.check(body=BODY, timestamp=ts, signature=sign(SECRET, ts, BODY))
    assert again == "replayed request"


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (str(int(NOW)), sign("another secret", str(int(NOW)), BODY), "bad signature"),
        (str(int(NOW)), sign(SECRET, str(int(NOW)), BODY + b"x"), "bad signature"),
        (str(int(NOW) - 301), sign(SECRET, str(int(NOW) - 301), BODY), "stale timestamp"),
        (str(int(NOW) + 301), sign(SECRET, str(int(NOW) + 301), BODY), "stale timestamp"),
        (None, sign(SECRET, str(int(NOW)), BODY), "missing signature headers"),
        ("yesterday", "v0=00", "malformed timestamp"),
    ],
)
def test_forged_and_stale_requests_fail(timestamp, signature, reason) -> None:
    verifier = SignatureVerifier(SECRET, clock=Clock())
    assert verifier.check(body=BODY, timestamp=timestamp, signature=signature) == reason


def test_replay_memory_forgets_after_the_window() -> None:
    clock = Clock()
    verifier = SignatureVerifier(SECRET, clock=clock)
    for i in range(50):
        ts = str(int(NOW) + i)
        clock.now = NOW + i
        assert verifier.check(body=BODY, timestamp=ts, signature=sign(SECRET, ts, BODY)) is None
    clock.now = NOW + 1000
    ts = str(int(clock.now))
    assert verifier.check(body=BODY, timestamp=ts, signature=sign(SECRET, ts, BODY)) is None
    assert len(verifier._seen) == 1

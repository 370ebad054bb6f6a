"""Bounded load test of `POST /slack/actions` on 127.0.0.1: a real `stormwatch serve`
process with delivery on (a local Slack speaking the Web API, `tests/fake_slack.py`),
signed button presses from concurrent clients that retry like Slack.

    python benchmarks/slack_buttons_load.py [--presses 2000] [--clients 8] [--incidents 50]

Reports, as one JSON line: answers by status, p50/p99/max latency of every request,
presses per second, presses lost (no acknowledgement or refresh stored) and doubled
(stored twice), replays refused, and how long the delivery loop took to send every
refresh to Slack after the last answer. Exits 1 when a press is lost or doubled or p99
is 1 s or more. Stops by itself: SIGTERM to the server at the end (exit 0 expected).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fake_slack

from tests.slack_press_load import run_press_load  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--replays", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_press_load(
            Path(tmp),
            presses=args.presses,
            clients=args.clients,
            incidents=args.incidents,
            replays=args.replays,
        )
    summary = result.summary()
    summary["load_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(summary, sort_keys=True))
    ok = not result.lost and not result.doubled and result.percentile(0.99) < 1.0
    return 0 if ok and result.server_exit == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""A crowd's excitement is no storm: "This is sick!!! ❤️", "I'M SCREAMING 💀💀".

Independent case streams (2026-12-07): a Super Bowl halftime spike at its sponsor and a
brand's roast banter opened critical incidents on every seed, their words of excitement
read as outrage (`detectors/praise_slang.py`).
"""

from __future__ import annotations

import orjson

from stormwatch.alerts.sinks import MemoryAlertSink
from stormwatch.pipeline import Pipeline
from tests.seeded_runs import background_comments


def _halftime(texts: list[str], brand: str, seed: int) -> tuple[list[dict], float]:
    comments = background_comments(brand, 1500, 30, lang="en", seed=seed)
    start = comments[0]["created_at"] + 20 * 3600
    spike = [
        {"id": f"spike{i}", "brand": brand, "thread_id": f"{brand}-halftime", "lang": "en",
         "text": texts[i % len(texts)], "created_at": start + i * 2.0,
         "author_id": f"fan{i}"}
        for i in range(900)
    ]  # fmt: skip
    return sorted(comments + spike, key=lambda c: c["created_at"]), start


def _opened_after(comments: list[dict], start: float) -> list:
    memory = MemoryAlertSink()
    pipeline = Pipeline(sinks=[memory])
    for c in comments:
        pipeline.feed(orjson.dumps(c))
    pipeline.finish()
    return [e for e in memory.events if e.event == "opened" and e.at >= start]


def test_a_halftime_crowd_of_excitement_opens_no_incident() -> None:
    hype = [
        "This is sick!!! ❤️", "Crazy crazy crazy 🔥 I'M SCREAMING 💀💀!!!",
        "That drop was brutal ✨", "I'm crying, this is savage 😂", "best ad of the night",
        "DEAD I'M OBSESSED 🔥🔥🔥", "who else is here for the ad?",
    ]  # fmt: skip
    comments, start = _halftime(hype, "zestcola", seed=4)
    assert _opened_after(comments, start) == []
    # The same crowd angry at the brand is a storm.
    angry = [
        "This ad is disgusting", "Crazy crazy crazy, who approved this garbage",
        "That ad was awful, boycott", "I'm done with you, shame on you", "best ad of the night",
        "pull this ad now", "who else is here for the ad?",
    ]  # fmt: skip
    comments, start = _halftime(angry, "zestcola", seed=4)
    assert _opened_after(comments, start)

"""100,000 hostile records through `stormwatch run`'s reader and pipeline, seeded.

A mix of valid comments (many brands and threads, pseudonymised authors) and everything a
broken or malicious producer sends: invalid JSON and UTF-8, numbers past 64 bits, NaN
and infinities spelled as strings, wrong types, deep nesting, 50 KB unknown fields,
lines over the size limit (up to 2 MB), control characters in ids and thread ids,
redeliveries, timestamps far ahead, behind or out of range, empty lines, JSON that is not
an object. Checks: no crash, read = processed + dead-lettered (+ held), peak RSS under
`--max-rss-mb`; prints the figures.

    python benchmarks/hostile_records.py [--records 100000] [--seed 11] [--max-rss-mb 300]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator

import orjson

T0 = 1_772_438_400.0
KEY = "b1e0c9d87a6f5e4d3c2b1a0f9e8d7c6b"


def _valid(rng: random.Random, n: int) -> dict[str, object]:
    return {
        "id": f"c{n}",
        "text": rng.choice(
            ["love it", "terrible service, I hate this", "where can I buy this?", "awful!!"]
        ),
        "created_at": T0 + n * 0.6 + rng.uniform(-30, 30),
        "brand": f"brand{rng.randrange(300)}",
        "thread_id": f"t{rng.randrange(5000)}",
        "author_id": f"user{rng.randrange(20000)}",
        "author_followers": rng.randrange(10**6),
        "platform": rng.choice(["facebook", "instagram", "x", None]),
    }


def _hostile(rng: random.Random, n: int) -> bytes:
    base = _valid(rng, n)
    kind = rng.randrange(16)
    if kind == 0:
        return orjson.dumps(base)[: rng.randrange(1, 40)]  # cut off: invalid JSON
    if kind == 1:
        return b"\xff\xfe" + orjson.dumps(base)  # not UTF-8
    if kind == 2:
        raw = orjson.dumps(base).replace(b'"author_followers":', b'"author_followers":1e400,"x":')
        return raw.replace(b"1e400", rng.choice([b"1e20", b"18446744073709551616", b"-5"]))
    if kind == 3:
        return orjson.dumps({**base, "author_followers": rng.choice(["NaN", "inf", [1], {}])})
    if kind == 4:
        field = rng.choice(["id", "text", "brand"])
        return orjson.dumps({**base, field: rng.choice([1, None, []])})
    if kind == 5:
        depth = rng.randrange(100, 2000)
        return b"[" * depth + b"]" * depth
    if kind == 6:
        return orjson.dumps({**base, "blob": "x" * 50_000})  # unknown field near the limit
    if kind == 7 and rng.random() < 0.02:
        return b'{"id": "big", "text": "' + b"y" * rng.randrange(70_000, 2_000_000) + b'"}'
    if kind == 8:
        return orjson.dumps({**base, "id": f"a\u001fb{n}", "thread_id": "t\u001f1"})
    if kind == 9:
        return orjson.dumps({**base, "id": f"c{rng.randrange(max(1, n))}"})  # redelivery
    if kind == 10:
        shift = rng.choice([86400 * 400, -86400 * 400, 10**12, -(10**12), 3 * 3600])
        return orjson.dumps({**base, "created_at": T0 + n * 0.6 + shift})
    if kind == 11:
        return b""
    if kind == 12:
        return rng.choice([b"[]", b"1", b'"s"', b"null", b"true"])
    if kind == 13:
        return orjson.dumps({**base, "created_at": rng.choice(["yesterday", "", "9999-99-99"])})
    if kind == 14:
        return orjson.dumps({**base, "text": "\x00\u202e" * rng.randrange(1, 5000)})
    return orjson.dumps(base)


def records(count: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for n in range(count):
        if rng.random() < 0.5:
            yield orjson.dumps(_valid(rng, n))
        else:
            yield _hostile(rng, n).replace(b"\n", b" ")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(count: int, seed: int, *, log: Callable[[str], None] = print) -> dict[str, float]:
    os.environ.setdefault("STORMWATCH_PSEUDONYM_KEY", KEY)
    from stormwatch.config import Settings
    from stormwatch.ingest.file_source import FileSource
    from stormwatch.runtime import build_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hostile.jsonl")
        with open(path, "wb") as out:
            for raw in records(count, seed):
                out.write(raw + b"\n")
        size_mb = os.path.getsize(path) / 2**20
        pipeline = build_pipeline(
            Settings(pseudonymize_authors=True),
            dead_letter=os.path.join(tmp, "dead.jsonl"),  # type: ignore[arg-type]
            env={},
        )
        started = time.perf_counter()
        pipeline.feed_lines(FileSource(path).lines(), "hostile")
        stats = pipeline.finish()
        seconds = time.perf_counter() - started
    assert stats.read == count, (stats.read, count)
    assert stats.read == stats.processed + stats.dead_lettered + stats.held
    figures = {
        "records": stats.read,
        "processed": stats.processed,
        "dead_lettered": stats.dead_lettered,
        "held": stats.held,
        "duplicates": stats.duplicates,
        "file_mb": round(size_mb, 1),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    reasons = Counter(stats.dead_letter_reasons)
    log(" ".join(f"{k}={v}" for k, v in figures.items()))
    log("dead-letter reasons: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--max-rss-mb", type=float, default=300.0)
    args = parser.parse_args()
    figures = run(args.records, args.seed)
    if figures["peak_rss_mb"] >= args.max_rss_mb:
        print(f"FAIL: peak RSS {figures['peak_rss_mb']} MB >= {args.max_rss_mb} MB")
        sys.exit(1)
    print("ok: no crash, read = processed + dead-lettered + held, peak RSS within bound")


if __name__ == "__main__":
    main()

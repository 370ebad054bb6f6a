"""The garbage collector's thresholds for a stormwatch process.

A pipeline keeps a large heap for as long as it runs (each key's windows, baselines and
tests: hundreds of MB at thousands of brands) and allocates many short-lived objects
per comment. With CPython's default thresholds, (700, 10, 10), the collector's full
passes walk that whole heap every few seconds: over 100,000 comments on 20,000 brands,
15 full passes of up to 0.57 s each, 3.2 of the run's 19.6 s of CPU; in `serve` under
a 30-second ingest load, 17 of up to 0.49 s, each a pause in which no request is
answered (p99 of `POST /ingest` 344-372 ms). Reference cycles rarely outlive the young
generations here (the pipeline's memory grew by 168, 257 and 277 MB over 200,000
comments on 5 and 500 brands and 100,000 on 20,000, with full passes and within 1 MB of
that without them), so the young generations are collected less often
and a full pass comes after 100 of the middle one, not 10. The console script sets
this for every command; a program embedding the pipeline chooses for itself.
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["STREAMING_THRESHOLDS", "tune_for_streaming"]

STREAMING_THRESHOLDS: Final = (10_000, 10, 100)


def tune_for_streaming() -> None:
    """Set `STREAMING_THRESHOLDS` (process-wide)."""
    gc.set_threshold(*STREAMING_THRESHOLDS)

"""The `Retry-After` header (RFC 9110, 10.2.3): how long a server asks us to wait.

It comes in two forms, a number of seconds (`120`) or an HTTP-date
(`Fri, 31 Dec 1999 23:59:59 GMT`); proxies and PagerDuty-like services send the date.
Every client here (alert targets, Slack, the collectors posting to `/ingest`) reads it
through `retry_after_seconds`, so a date, a negative number or a year-long wait is
handled the same way everywhere: a date becomes the seconds until it, a wait is clamped
to `[0, longest]`, and anything unparsable gives the caller's default.
"""

from __future__ import annotations

import math
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TypeVar

__all__ = ["LONGEST_WAIT", "retry_after_seconds"]

LONGEST_WAIT = 3600.0  # seconds: beyond this a server's ask is a mistake, not a plan

D = TypeVar("D", float, None)


def retry_after_seconds(
    value: str | bytes | None,
    default: D,
    *,
    longest: float = LONGEST_WAIT,
    now: float | None = None,
) -> float | D:
    """Seconds to wait before asking again, clamped to `[0, longest]`; `default` when the
    header is absent or unparsable. `now` (epoch seconds) is for HTTP-dates.

    >>> retry_after_seconds("120", 1.0)
    120.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", 1.0, now=1445412480.0)
    30.0
    >>> retry_after_seconds("-5", 1.0), retry_after_seconds("99999999", 1.0)
    (0.0, 3600.0)
    >>> retry_after_seconds("soon", None) is None
    True
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value is None or not value.strip() or not value.isascii():
        return default
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return default
        if when.tzinfo is None:  # "-0000" and obsolete forms: HTTP-dates are always GMT
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return default
    return min(max(seconds, 0.0), longest)

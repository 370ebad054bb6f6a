"""Input contract decoding: one raw line or message in, a `Comment` or a `DeadLetter` out.

Decoding never raises on bad input: every record that is read leaves as exactly one of
the two, so a run can always account for `read = processed + dead-lettered`.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from stormwatch.model import Comment, DeadLetter, platform_name

MAX_RECORD_BYTES = 64 * 1024
# A dead letter keeps at most this much of a record (the original size is recorded).
DEAD_LETTER_BYTES = 4096
MAX_TEXT_CHARS = 20_000
MAX_FIELD_CHARS = 512
# The largest follower count accepted (the largest accounts have a few hundred million).
MAX_FOLLOWERS = 10**12
# Event times outside this range are data errors (milliseconds sent as seconds, zero dates).
MIN_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
MAX_EVENT_TIME = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
# A comment cannot be written in the future; one that says so (a wrong clock) is
# dead-lettered here. This only helps live: in a replay the clock is not the stream's
# time, so the window store also holds records far ahead of the stream's own event times
# (see stormwatch/far_ahead.py) and dead-letters them as `timestamp_outlier`.
MAX_AHEAD_OF_NOW = 3600.0

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1: Unicode's Cc
OPTIONAL_TEXT = ("thread_id", "parent_id", "platform", "author_id", "lang")


class Oversized(bytes):
    """The first bytes of a record that a reader stopped reading past its limit (see
    `FileSource`), with `size`, the whole record's length in bytes: dead-lettered as
    `too_large` without ever being held whole."""

    size: int

    def __new__(cls, prefix: bytes, size: int) -> Oversized:
        self = super().__new__(cls, prefix)
        self.size = size
        return self


def _dumps(obj: object) -> bytes:
    try:
        return orjson.dumps(obj)
    except TypeError:  # integers past 64 bits, keys that are not strings
        return repr(obj).encode("utf-8", "replace")


NOT_ENCODABLE = b"[not encodable]"  # a record neither encoder writes: `invalid_json`


def record_json(record: object, *, exact: bool = False) -> bytes:
    """A record as the bytes of one JSON line, for the decoder: the one encoder of
    collectors, webhooks and JSON-array bodies. orjson first; where it will not write
    the record, the standard library in ASCII: a lone surrogate (half an emoji, valid
    JSON as "\\ud83d", which failed a collector's whole page at every poll) stays an
    escape the decoder reads as U+FFFD, and an item nested past orjson's 255 levels (a
    500 for a whole `/ingest` batch) is written as it is. `exact`: straight to the
    standard library, which keeps integers past 64 bits (`_Inexact`). What neither can
    write (NaN, nesting past the interpreter's limit) becomes `NOT_ENCODABLE`."""
    try:
        if not exact:
            try:
                return orjson.dumps(record)
            except TypeError:
                pass
        return json.dumps(record, allow_nan=False, default=str).encode("ascii")
    except (TypeError, ValueError, RecursionError):
        return NOT_ENCODABLE


class _Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail


# "...T23:59:60[.fff][+hh:mm]": a leap second; group 1 up to the seconds, 2 the rest.
_LEAP_SECOND = re.compile(r"(\d{4}-?\d\d-?\d\d[T ]23:?59:?)60((?:[.,]\d+)?(?:[+-]\d\d:?\d\d)?)$")


def parse_event_time(value: object) -> float:
    """Epoch seconds from an ISO 8601 string or a number of epoch seconds."""
    if isinstance(value, bool):
        raise _Reject("wrong_type", "created_at must be an ISO 8601 string or epoch seconds")
    if isinstance(value, int | float):
        ts = float(value)
        if not math.isfinite(ts):
            raise _Reject("invalid_timestamp", "created_at is not a finite number")
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        leap = 0.0
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            # A leap second (23:59:60, valid RFC 3339) is second 59 plus one: Python's
            # datetime has no second 60. Asked only of what did not parse (hot path).
            leap_second = _LEAP_SECOND.match(text)
            parsed = None
            if leap_second is not None:
                leap = 1.0
                try:
                    parsed = datetime.fromisoformat(
                        leap_second.group(1) + "59" + leap_second.group(2)
                    )
                except ValueError:
                    pass
            if parsed is None:
                raise _Reject(
                    "invalid_timestamp", f"created_at {value[:40]!r} is not ISO 8601"
                ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ts = parsed.timestamp() + leap
    else:
        raise _Reject("wrong_type", "created_at must be an ISO 8601 string or epoch seconds")
    if not MIN_EVENT_TIME <= ts < MAX_EVENT_TIME:
        # Only a number can be milliseconds: a date string far ahead is just that.
        numeric = isinstance(value, int | float)
        hint = " (milliseconds instead of seconds?)" if numeric and ts > MAX_EVENT_TIME else ""
        raise _Reject("timestamp_out_of_range", f"created_at {value!r} is out of range{hint}")
    return ts


def _required_text(obj: dict, name: str, *, limit: int) -> str:
    value = obj.get(name)
    if value is None:
        raise _Reject("missing_field", f"field {name!r} is missing")
    if not isinstance(value, str):
        raise _Reject("wrong_type", f"field {name!r} must be a string")
    if len(value) > limit:
        raise _Reject("too_large", f"field {name!r} has {len(value)} characters (max {limit})")
    return value


def _optional_text(value: object, exact: bool = False) -> str | None:
    # Lenient on optional fields: numeric thread ids are common, a wrong type loses only
    # that field, never the comment.
    if value is None:
        return None
    if isinstance(value, str):
        return value[:MAX_FIELD_CHARS] if value else None
    if type(value) is float and not exact:
        raise _Inexact
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


class _Inexact(Exception):
    """A number in a text field that orjson read as a float: an integer past 64 bits
    comes so (two post ids of 21 digits both became "1e+20", and their posts one
    thread). `Decoder._decode` reads such a rare record again with the standard
    library's parser, which keeps integers exact; the common record pays nothing."""


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _with_lone_surrogates_replaced(raw: bytes) -> object | None:
    """A record holding an escaped lone surrogate ("\\ud83d"), which orjson refuses: a
    text cut inside an emoji by a producer counting UTF-16 units (JavaScript's
    `slice`), whose `JSON.stringify` writes the half it kept so. Read by the standard
    library, with each lone half as U+FFFD, rather than the comment lost. None when the
    record is not JSON for that parser either."""
    if b"\\u" not in raw:
        return None
    try:
        # NaN, Infinity and numbers past the double range stay refused, as orjson does.
        obj = json.loads(raw, parse_constant=_not_json, parse_float=_finite_float)
    except (ValueError, RecursionError):
        return None
    if type(obj) is dict:
        for key, value in obj.items():
            if type(value) is str and _LONE_SURROGATE.search(value):
                obj[key] = _LONE_SURROGATE.sub("\ufffd", value)
    return obj


def _not_json(constant: str) -> float:
    raise ValueError(f"{constant} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is past the double range")
    return value


class Decoder:
    """Turns raw records into comments; `brand_for_text` derives a missing brand.

    >>> d = Decoder()
    >>> c = d.decode(b'{"id": "1", "text": "hi", "created_at": 1700000000, "brand": "acme"}')
    >>> (c.id, c.brand, c.created_at)
    ('1', 'acme', 1700000000.0)
    >>> d.decode(b'{"id": "1"}').reason
    'missing_field'
    """

    __slots__ = ("brand_for_text", "max_record_bytes", "clock", "_latest_allowed")

    def __init__(
        self,
        *,
        brand_for_text: Callable[[str], str | None] | None = None,
        max_record_bytes: int = MAX_RECORD_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.brand_for_text = brand_for_text
        self.max_record_bytes = max_record_bytes
        self.clock = clock
        self._latest_allowed = clock() + MAX_AHEAD_OF_NOW

    def decode(self, raw: bytes, source: str = "") -> Comment | DeadLetter:
        if len(raw) > self.max_record_bytes or type(raw) is Oversized:
            size = raw.size if type(raw) is Oversized else len(raw)
            detail = f"record has {size} bytes (max {self.max_record_bytes})"
            return DeadLetter(raw[:DEAD_LETTER_BYTES], "too_large", detail, source, size)
        try:
            return self._decode(raw)
        except _Reject as reject:
            return DeadLetter(raw, reject.reason, reject.detail, source)
        except Exception as exc:  # noqa: BLE001 - a decoder bug must not stop a run either
            return DeadLetter(raw, "decode_error", f"{type(exc).__name__}: {exc}", source)

    def decode_object(
        self, obj: object, raw: bytes = b"", source: str = ""
    ) -> Comment | DeadLetter:
        """Decode an already-parsed JSON value (HTTP bodies holding a list of comments)."""
        try:
            try:
                return self._from_object(obj)
            except _Inexact:  # already parsed: the digits are gone, keep what is left
                return self._from_object(obj, exact=True)
        except _Reject as reject:
            return DeadLetter(raw or _dumps(obj), reject.reason, reject.detail, source)
        except Exception as exc:  # noqa: BLE001 - as in `decode`
            return DeadLetter(raw or _dumps(obj), "decode_error", f"{type(exc).__name__}", source)

    def _decode(self, raw: bytes) -> Comment:
        if not raw.strip():
            raise _Reject("empty", "empty record")
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _Reject("invalid_encoding", "record is not valid UTF-8") from None
            repaired = _with_lone_surrogates_replaced(raw)
            if repaired is None:
                raise _Reject("invalid_json", str(exc)[:200]) from None
            return self._from_object(repaired, exact=True)
        try:
            return self._from_object(obj)
        except _Inexact:
            return self._from_object(json.loads(raw), exact=True)

    def _from_object(self, obj: object, exact: bool = False) -> Comment:
        """`exact`: `obj` was read by a parser that keeps integers exact (`_Inexact`)."""
        if type(obj) is not dict:
            raise _Reject("not_an_object", f"record is a JSON {type(obj).__name__}, not an object")
        get = obj.get
        comment_id = get("id")
        if type(comment_id) is not str or not 0 < len(comment_id) <= MAX_FIELD_CHARS:
            comment_id = _required_text(obj, "id", limit=MAX_FIELD_CHARS)
            if not comment_id:
                raise _Reject("missing_field", "field 'id' is empty")
        text = get("text")
        if type(text) is not str or len(text) > MAX_TEXT_CHARS:
            text = _required_text(obj, "text", limit=MAX_TEXT_CHARS)
        raw_time = get("created_at")
        if raw_time is None:
            raise _Reject("missing_field", "field 'created_at' is missing")
        created_at = parse_event_time(raw_time)
        if created_at > self._latest_allowed:
            now = self.clock()
            self._latest_allowed = now + MAX_AHEAD_OF_NOW  # the clock moved on
            if created_at > self._latest_allowed:
                ahead = (created_at - now) / 3600.0
                raise _Reject(
                    "timestamp_in_future",
                    f"created_at {raw_time!r} is {ahead:.1f} h ahead of the clock "
                    f"({datetime.fromtimestamp(now, UTC):%Y-%m-%dT%H:%M:%SZ}; at most 1 h)",
                )
        brand = get("brand")
        if brand is None and self.brand_for_text is not None:
            brand = self.brand_for_text(text)
        if brand is None:
            matched = " and no watchlist matched" if self.brand_for_text is not None else ""
            raise _Reject("missing_field", f"field 'brand' is missing{matched}")
        if type(brand) is not str:
            raise _Reject("wrong_type", "field 'brand' must be a string")
        if not brand or len(brand) > MAX_FIELD_CHARS:
            raise _Reject("wrong_type", "field 'brand' must be a non-empty short string")
        if _CONTROL.search(brand) is not None:
            # Thread keys join brand and thread id with a control character; a brand that
            # holds one could share a window with another brand's thread.
            raise _Reject("wrong_type", "field 'brand' must not contain control characters")
        followers = get("author_followers")
        if followers is not None and type(followers) is not int:
            # A whole number sent as a float is truncated; a string or other type is a
            # mistyped optional field: dropped, not the comment.
            followers = followers if type(followers) is float else None
        if followers is not None and not 0 <= followers <= MAX_FOLLOWERS:
            # Not a count any account has (NaN and infinities fail this too): a broken
            # producer. Clamping would invent a reach; past 2^63 no store or JSON
            # encoder downstream could even hold it.
            raise _Reject(
                "out_of_range",
                f"author_followers {followers!r} is not a count from 0 to {MAX_FOLLOWERS:.0e}",
            )
        if followers is not None and type(followers) is float:
            followers = int(followers)
        # Optional text fields: strings pass as they are (the common case); anything
        # else goes through the lenient conversion.
        thread_id = get("thread_id")
        if thread_id is not None and (type(thread_id) is not str or not thread_id):
            thread_id = _optional_text(thread_id, exact)
        parent_id = get("parent_id")
        if parent_id is not None and (type(parent_id) is not str or not parent_id):
            parent_id = _optional_text(parent_id, exact)
        platform = get("platform")
        if platform is not None and (type(platform) is not str or not platform):
            platform = _optional_text(platform, exact)
        if platform is not None:
            # One platform whatever its spelling: dedupe keys on it, so "Facebook" and
            # "facebook" made a redelivered comment count twice.
            platform = platform_name(platform)
        if "\x00" in comment_id or (platform is not None and "\x00" in platform):
            # Dedupe joins platform and id with NUL (`dedupe_key`): one that holds it
            # could pass for another comment and drop it as a duplicate.
            raise _Reject("wrong_type", "fields 'id' and 'platform' must not contain NUL")
        author_id = get("author_id")
        if author_id is not None and (type(author_id) is not str or not author_id):
            author_id = _optional_text(author_id, exact)
        lang = get("lang")
        if lang is not None:
            lang = _optional_text(lang, exact)
            lang = lang.strip().lower()[:2] if lang else None  # " en" is English
            lang = lang or None
        return Comment(
            comment_id,
            text,
            created_at,
            brand,
            thread_id[:MAX_FIELD_CHARS] if thread_id else None,
            parent_id[:MAX_FIELD_CHARS] if parent_id else None,
            platform[:MAX_FIELD_CHARS] if platform else None,
            author_id[:MAX_FIELD_CHARS] if author_id else None,
            followers,
            lang,
            0.0,
            (),
        )

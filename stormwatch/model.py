"""The records that flow through the pipeline.

`Comment` is the decoded input contract (see README, "Input comment") plus the three
fields enrichment fills in. It is a slotted class, not a dict, because the hot path
creates one per comment and reads a handful of attributes from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Comment:
    id: str
    text: str
    created_at: float  # event time, epoch seconds UTC
    brand: str
    thread_id: str | None = None
    parent_id: str | None = None
    platform: str | None = None
    author_id: str | None = None
    author_followers: int | None = None
    lang: str | None = None  # ISO 639-1; detected when absent
    # Filled in by enrichment.
    negativity: float = 0.0  # 0 = not negative, 1 = very negative
    topics: tuple[str, ...] = ()
    # Unknown input fields are dropped by the decoder: a comment is held in windows for
    # hours, and whatever a producer adds to it must not grow that (no sink asks for them).


@dataclass(slots=True, frozen=True)
class DeadLetter:
    """An input line that could not become a `Comment`, with a machine-readable reason."""

    raw: bytes
    reason: str  # short code, e.g. "invalid_json", "missing_field"
    detail: str  # human text, e.g. "field 'brand' is missing"
    source: str = ""  # where it came from, e.g. "file:comments.jsonl:17"
    size: int | None = None  # bytes of the original record when `raw` is only its beginning
    # The record is left out (`raw` empty, `size` its length): privacy is on and an
    # author id in it could not be replaced (`pseudonymize_letter`).
    withheld: bool = False


def platform_name(raw: str) -> str | None:
    """A platform as stormwatch keeps it: lower case, without surrounding spaces (None
    when nothing is left). Dedupe keys on it, so "Facebook" and "facebook" are one.

    >>> platform_name(" Facebook "), platform_name("  ")
    ('facebook', None)
    """
    return raw.strip().casefold() or None


def dedupe_key(c: Comment) -> str:
    """What makes a delivery the same comment: its id, which is unique per platform
    (README, "Input comment"), so the same id on two platforms is two comments.

    The id alone when the platform is unknown (as every key was before platforms counted,
    so a checkpoint's ids still match those), else platform, NUL, id in one string: a
    (platform, id) tuple would cost ~70 bytes more per id remembered (a million at most).
    Two different comments' keys can only meet when a platform name or an id carries a
    NUL itself. The hot path builds the key inline; keep them alike."""
    platform = c.platform
    return c.id if platform is None else platform + "\x00" + c.id

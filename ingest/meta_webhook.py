"""Meta webhooks (Facebook Page feed, Instagram comments) → records in the input contract.

Checking the request is the service's job (`X-Hub-Signature-256` over the raw body, see
`verify_signature`); this module maps a verified payload.

- Facebook (`object: page`, field `feed`, `item: comment`, `verb: add`): `comment_id` →
  `id`, `post_id` → `thread_id`, `parent_id` → `parent_id` unless it is the post itself
  (a top-level comment), `message` → `text`, `created_time` → `created_at`.
- Instagram (`object: instagram`, field `comments`): `id`, `media.id` → `thread_id`,
  `parent_id` (replies only), `text`, the entry's `time` → `created_at`.
- The brand is the owner of the page or Instagram account (`entry.id`) in the watchlist;
  a page nobody watches is skipped and counted, not dead-lettered (Meta sends what the
  app subscribed to; that is configuration, not bad input).
- Edits, removals, likes and other fields are skipped; a comment without its id or text
  still goes on, so the decoder dead-letters it with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from stormwatch.ingest.watchlist import Watchlist


def verify_signature(app_secret: bytes, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, in constant time.

    >>> sig = "sha256=" + hmac.new(b"k", b"{}", hashlib.sha256).hexdigest()
    >>> verify_signature(b"k", b"{}", sig), verify_signature(b"k", b"{ }", sig)
    (True, False)
    """
    if not header or not header.isascii() or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


@dataclass(slots=True)
class Mapped:
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # why -> count


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _author(value: dict[str, Any]) -> str | None:
    author = value.get("from")
    return _str(author.get("id")) if isinstance(author, dict) else None


def map_payload(payload: Any, watchlist: Watchlist) -> Mapped:
    """The comments of one webhook delivery.

    >>> w = Watchlist.from_mapping({"brands": {"acme": {"pages": ["42"]}}})
    >>> m = map_payload({"object": "page", "entry": [{"id": "42", "time": 1700000000,
    ...   "changes": [{"field": "feed", "value": {"item": "comment", "verb": "add",
    ...   "comment_id": "42_7_9", "post_id": "42_7", "parent_id": "42_7_8",
    ...   "message": "awful", "created_time": 1700000000, "from": {"id": "u1"}}}]}]}, w)
    >>> [(r["id"], r["thread_id"], r["parent_id"], r["brand"]) for r in m.records]
    [('42_7_9', '42_7', '42_7_8', 'acme')]
    """
    mapped = Mapped()
    if not isinstance(payload, dict):
        mapped.skipped["not_an_object"] += 1
        return mapped
    kind = payload.get("object")
    entries = payload.get("entry")
    if kind not in ("page", "instagram") or not isinstance(entries, list):
        mapped.skipped["unsupported_object"] += 1
        return mapped
    for entry in entries:
        if not isinstance(entry, dict):
            mapped.skipped["bad_entry"] += 1
            continue
        owner = _str(entry.get("id"))
        changes = entry.get("changes")
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                mapped.skipped["bad_change"] += 1
                continue
            if kind == "page":
                record = _facebook(change.get("field"), value, mapped)
            else:
                record = _instagram(change.get("field"), value, entry.get("time"), mapped)
            if record is None:
                continue
            brand = watchlist.brand_of_page(owner)
            if brand is None:
                mapped.skipped["unwatched_page"] += 1
                continue
            mapped.records.append({**record, "brand": brand})
    return mapped


def _facebook(field_name: Any, value: dict[str, Any], mapped: Mapped) -> dict[str, Any] | None:
    if field_name != "feed" or value.get("item") != "comment":
        mapped.skipped["not_a_comment"] += 1
        return None
    if value.get("verb") != "add":
        mapped.skipped[f"verb_{value.get('verb')}"[:40]] += 1
        return None
    post = _str(value.get("post_id"))
    parent = _str(value.get("parent_id"))
    return {
        "id": _str(value.get("comment_id")),
        "text": value.get("message"),
        "created_at": value.get("created_time"),
        "thread_id": post,
        "parent_id": parent if parent != post else None,
        "platform": "facebook",
        "author_id": _author(value),
    }


def _instagram(
    field_name: Any, value: dict[str, Any], time: Any, mapped: Mapped
) -> dict[str, Any] | None:
    if field_name not in ("comments", "live_comments"):
        mapped.skipped["not_a_comment"] += 1
        return None
    media = value.get("media")
    return {
        "id": _str(value.get("id")),
        "text": value.get("text"),
        "created_at": time,
        "thread_id": _str(media.get("id")) if isinstance(media, dict) else None,
        "parent_id": _str(value.get("parent_id")),
        "platform": "instagram",
        "author_id": _author(value),
    }

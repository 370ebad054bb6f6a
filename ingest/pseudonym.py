"""Pseudonymous author ids: with privacy on, an author id is replaced on ingest by a keyed
hash (HMAC-SHA256), so detection still counts distinct accounts and alerts still name the
loudest ones, but nobody downstream sees who they are without the key.

The key is a secret and comes only from the environment (`STORMWATCH_PSEUDONYM_KEY`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

from stormwatch.model import Comment

CACHE_LIMIT = 200_000


class Pseudonymizer:
    """
    >>> p = Pseudonymizer(b"secret")
    >>> p("alice") == p("alice"), p("alice") == p("bob"), len(p("alice"))
    (True, False, 18)
    """

    __slots__ = ("_key", "_cache")

    def __init__(self, key: bytes) -> None:
        if len(key) < 6:
            raise ValueError("the pseudonym key must have at least 6 bytes")
        self._key = key
        self._cache: dict[str, str] = {}

    def __call__(self, author_id: str) -> str:
        cached = self._cache.get(author_id)
        if cached is not None:
            return cached
        digest = hmac.new(self._key, author_id.encode("utf-8"), hashlib.sha256).hexdigest()
        pseudonym = "p:" + digest[:16]
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()  # bounded; recomputing is cheap
        self._cache[author_id] = pseudonym
        return pseudonym


def pseudonymize_at_uris(c: Comment, pseudonymize: Callable[[str], str]) -> None:
    """With privacy on, the author a Bluesky post's URI names (at://DID/collection/key),
    in its id, thread and parent, becomes its pseudonym (as `author_id` does), before
    dedupe so that every copy gets the same id: samples showed the author's DID in
    clear beside the pseudonym of the same author."""
    if c.id.startswith("at://"):
        c.id = at_uri_pseudonym(c.id, pseudonymize)
    if c.thread_id is not None and c.thread_id.startswith("at://"):
        c.thread_id = at_uri_pseudonym(c.thread_id, pseudonymize)
    if c.parent_id is not None and c.parent_id.startswith("at://"):
        c.parent_id = at_uri_pseudonym(c.parent_id, pseudonymize)


# The authority of an at:// URI in a record's bytes (JSON: it ends at a slash or quote).
_AT_AUTHORITY = re.compile(rb'at://([^/"\\\s]+)')


def pseudonymize_at_uris_in(raw: bytes, pseudonymize: Callable[[str], str]) -> bytes:
    """`raw` with the author every at:// URI in it names replaced by its pseudonym, as
    `pseudonymize_at_uris` does to a comment's fields: a record held far ahead of the
    stream is kept as bytes, in the checkpoint too, and kept the DIDs in clear."""
    if b"at://" not in raw:
        return raw

    def replace(match: re.Match[bytes]) -> bytes:
        authority = match.group(1).decode("utf-8", "replace")
        if authority.startswith("p:"):
            return match.group(0)
        return b"at://" + pseudonymize(authority).encode()

    return _AT_AUTHORITY.sub(replace, raw)


def at_uri_pseudonym(uri: str, pseudonymize: Callable[[str], str]) -> str:
    """
    >>> at_uri_pseudonym("at://did:plc:abc/app.bsky.feed.post/3l2", lambda a: "p:" + a[-3:])
    'at://p:abc/app.bsky.feed.post/3l2'
    >>> at_uri_pseudonym("at://p:abc/app.bsky.feed.post/3l2", lambda a: "p:x")  # already
    'at://p:abc/app.bsky.feed.post/3l2'
    """
    authority, slash, path = uri[5:].partition("/")
    if not authority or authority.startswith("p:"):  # none, or a pseudonym already
        return uri
    return f"at://{pseudonymize(authority)}{slash}{path}"

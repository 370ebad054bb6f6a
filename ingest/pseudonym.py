"""Pseudonymous author ids: with privacy on, an author id is replaced on ingest by a keyed
hash (HMAC-SHA256), so detection still counts distinct accounts and alerts still name the
loudest ones, but nobody downstream sees who they are without the key.

The key is a secret and comes only from the environment (`STORMWATCH_PSEUDONYM_KEY`).
"""

from __future__ import annotations

import hashlib
import hmac

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

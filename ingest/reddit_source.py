"""Reddit submissions and comments (`praw`) → records in the input contract.

Streams: per subreddit its new comments (`/r/NAME/comments`) and new submissions
(`/r/NAME/new`); per search query the newest matching submissions (`/r/all/search`,
`sort=new`; Reddit's search finds submissions, not comments). Each poll reads a stream
newest first, page by page (`after`), down to what the previous poll read.

Rate limits: praw (prawcore) reads `x-ratelimit-remaining`/`-used`/`-reset` on every
answer and sleeps before the next request when the window is spent; a 429 is retried
here after `Retry-After` (else `x-ratelimit-reset`, else 1, 2, 4 ... s), a few times,
from the item the poll stopped at.

Cursor (`CursorFile`, committed by `commit()` after the caller delivered each page of up
to 100 items): per stream the newest `created_utc` read, the ids read recently, and the
item a poll is at, so a restart goes on from the last delivered page and neither re-reads
nor loses items.

Mapping: `id` ← the fullname (`t3_…` submission, `t1_…` comment), `text` ← title and
selftext, or the comment's body; `created_at` ← `created_utc`; `thread_id` ← the
submission's fullname; `parent_id` ← the comment replied to (replies to comments only);
`author_id` ← the author's name, `platform` ← `reddit`; `brand` ← `--brand`, else the
watchlist (the subreddit's owner, `channels: ["r/acme"]`, else by text: a comment naming
two brands counts for both). An item without a fullname or time, with a time that is not
a number, or without a brand is a dead letter with that reason.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stormwatch.exceptions import StormwatchError
from stormwatch.ingest.page_collector import CursorFile, Page, dead_letter_item
from stormwatch.ingest.watchlist import Watchlist
from stormwatch.retry_after import retry_after_seconds

SEEN_PER_STREAM = 5000
PAGE = 100  # items delivered (and committed) at a time, as Reddit pages them
RETRIES = 5
MAX_BACKOFF = 600.0
CLIENT_ID_ENV = "STORMWATCH_REDDIT_CLIENT_ID"
CLIENT_SECRET_ENV = "STORMWATCH_REDDIT_CLIENT_SECRET"
USER_AGENT_ENV = "STORMWATCH_REDDIT_USER_AGENT"
# Other endpoints (a proxy; the tests' server): the API and the token endpoint.
OAUTH_URL_ENV = "STORMWATCH_REDDIT_OAUTH_URL"
REDDIT_URL_ENV = "STORMWATCH_REDDIT_URL"
DEFAULT_USER_AGENT = "python:stormwatch-collector:0.1 (crisis early warning)"


class RedditError(StormwatchError):
    """Reddit refused or failed a request (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Stream:
    """One listing to follow: `comments`/`submissions` of a subreddit, or `search`."""

    kind: str
    target: str  # subreddit name, or the search query

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.target}"


def streams_for(subreddits: list[str], queries: list[str]) -> list[Stream]:
    """Comments and submissions of each subreddit, then each search.

    >>> [s.key for s in streams_for(["r/acme"], ["acme outage"])]
    ['comments:acme', 'submissions:acme', 'search:acme outage']
    """
    out = []
    for name in subreddits:
        name = name.strip().removeprefix("/").removeprefix("r/")
        out += [Stream("comments", name), Stream("submissions", name)]
    return out + [Stream("search", q) for q in queries]


def reddit_client(
    *,
    client_id: str,
    client_secret: str,
    user_agent: str,
    oauth_url: str | None = None,
    reddit_url: str | None = None,
    timeout: float = 30.0,
) -> Any:
    """The real praw client, read-only (application-only OAuth), no update check."""
    import praw

    urls = {}
    if oauth_url:
        urls["oauth_url"] = oauth_url.rstrip("/")
    if reddit_url:
        urls["reddit_url"] = reddit_url.rstrip("/")
    return praw.Reddit(
        client_id=client_id,
        client_secret=client_secret,
        user_agent=user_agent,
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"timeout": timeout},
        **urls,
    )


def _explain(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status_code} from {response.url.split('?')[0]}"
    return str(exc) or type(exc).__name__


class RedditCollector:
    def __init__(
        self,
        streams: list[Stream],
        cursor_path: Path,
        *,
        reddit: Any,
        brand: str | None = None,
        watchlist: Watchlist | None = None,
        page_size: int = PAGE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.streams = streams
        self.page_size = page_size
        self.cursor_path = cursor_path
        self.reddit = reddit
        self.brand = brand
        self.watchlist = watchlist
        self.sleep = sleep
        self.cursor_file = CursorFile(cursor_path)
        self.cursor = self.cursor_file.load()
        self.cursor.setdefault("streams", {})
        self._work = copy.deepcopy(self.cursor)  # the position as pages are read
        self.backoffs: list[float] = []  # seconds waited on 429s, in order

    def check(self) -> str:
        """A token, and each subreddit's about page: credentials and names are right."""
        import prawcore

        try:
            self.reddit.auth.scopes()  # the token request
            for stream in self.streams:
                if stream.kind != "comments":
                    continue
                try:
                    self.reddit.get(f"/r/{stream.target}/about")
                except (prawcore.NotFound, prawcore.Redirect, prawcore.Forbidden):
                    # Reddit sends a missing subreddit to its search page (302), or 404s
                    raise RedditError(
                        f"reddit: subreddit r/{stream.target} not found or private"
                    ) from None
        except prawcore.OAuthException as exc:
            raise RedditError(f"reddit: credentials refused ({exc.error_type})") from None
        except prawcore.ResponseException as exc:
            status = exc.response.status_code
            if status in (401, 403) and "access_token" in exc.response.url:
                raise RedditError(
                    f"reddit: credentials refused ({_explain(exc)}): check "
                    f"{CLIENT_ID_ENV} and {CLIENT_SECRET_ENV}"
                ) from None
            raise RedditError(f"reddit: {_explain(exc)}") from None
        except prawcore.PrawcoreException as exc:
            raise RedditError(f"reddit: {_explain(exc)}") from None
        subs = sum(s.kind == "comments" for s in self.streams)
        return f"reddit: credentials accepted, {subs} subreddit(s) found"

    def _listing(self, stream: Stream, after: str | None) -> Iterator[Any]:
        params: dict[str, str | int] = {"after": after} if after else {}
        if stream.kind == "search":
            return self.reddit.subreddit("all").search(
                stream.target, sort="new", limit=None, params=params
            )
        subreddit = self.reddit.subreddit(stream.target)
        if stream.kind == "comments":
            return subreddit.comments(limit=None, params=params)
        return subreddit.new(limit=None, params=params)

    def pages(self) -> Iterator[Page]:
        """New items of every stream, `page_size` at a time; the caller delivers each page,
        then `commit()`s."""
        self._work = copy.deepcopy(self.cursor)
        for stream in self.streams:
            yield from self._stream_pages(stream)

    def _stream_pages(self, stream: Stream) -> Iterator[Page]:
        import prawcore

        state = self._work["streams"].setdefault(stream.key, {"newest": None, "seen": []})
        seen_list: list[str] = state["seen"]
        seen = set(seen_list)
        boundary: float | None = state["newest"]
        scan = state.get("scan") or {"after": None, "top": None}
        state["scan"] = scan
        source = f"reddit:{stream.key}"
        out = Page()
        failures = 0
        while True:
            try:
                for item in self._listing(stream, scan["after"]):
                    failures = 0
                    data = vars(item)  # attributes as sent: no lazy fetch
                    name = data.get("name")
                    if not isinstance(name, str) or not name:
                        detail = f"{stream.kind} item without a name (fullname)"
                        out.dead_letters.append(
                            dead_letter_item(_sent(data), "missing_field", detail, source)
                        )
                        continue
                    created = data.get("created_utc")
                    when = float(created) if isinstance(created, int | float) else None
                    if when is not None and (scan["top"] is None or when > scan["top"]):
                        scan["top"] = when
                    if boundary is not None and when is not None and when < boundary:
                        break  # older than the last poll's newest: read before
                    if name not in seen:
                        seen.add(name)
                        seen_list.append(name)
                        self._map(stream, data, out, source)
                    scan["after"] = name
                    if len(out.records) + len(out.dead_letters) >= self.page_size:
                        del seen_list[:-SEEN_PER_STREAM]
                        yield out
                        out = Page()
                break
            except prawcore.TooManyRequests as exc:
                failures += 1
                if failures > RETRIES:
                    raise RedditError(f"reddit: still 429 after {RETRIES + 1} tries") from None
                self._back_off(exc.response, failures)
            except prawcore.ServerError as exc:  # prawcore retried twice already
                failures += 1
                if failures > RETRIES:
                    raise RedditError(f"reddit: {_explain(exc)}") from None
                self._back_off(exc.response, failures)
            except prawcore.PrawcoreException as exc:
                raise RedditError(f"reddit {stream.key}: {_explain(exc)}") from None
        if scan["top"] is not None and (boundary is None or scan["top"] > boundary):
            state["newest"] = scan["top"]
        del state["scan"]
        del seen_list[:-SEEN_PER_STREAM]
        yield out

    def _back_off(self, response: Any, failures: int) -> None:
        fallback = retry_after_seconds(
            response.headers.get("x-ratelimit-reset"), 2.0 ** (failures - 1), longest=MAX_BACKOFF
        )
        delay = retry_after_seconds(
            response.headers.get("retry-after"), fallback, longest=MAX_BACKOFF
        )
        self.backoffs.append(delay)
        self.sleep(delay)

    def _map(self, stream: Stream, data: dict[str, Any], out: Page, source: str) -> None:
        """The item's records (one per brand), or its dead letter with the reason."""
        name = data["name"]
        author = data.get("author")
        subreddit = str(data.get("subreddit") or (stream.target if stream.kind != "search" else ""))
        created = data.get("created_utc")
        if name.startswith("t1_"):
            text = data.get("body")
            parent = data.get("parent_id")
            thread = data.get("link_id")
        else:
            title, body = data.get("title") or "", data.get("selftext") or ""
            text = f"{title}\n\n{body}" if body else title
            parent, thread = None, name
        problem = None
        if created is None:
            problem = ("missing_field", f"{name} has no created_utc")
        elif not isinstance(created, int | float) or isinstance(created, bool):
            problem = ("wrong_type", f"{name}: created_utc {str(created)[:40]!r} is not a number")
        elif not isinstance(text, str):
            problem = ("wrong_type", f"{name}: its text is not a string")
        if problem is not None:
            out.dead_letters.append(dead_letter_item(_sent(data), *problem, source))
            return
        record: dict[str, Any] = {
            "id": name,
            "text": text,
            "created_at": created,
            "thread_id": thread,
            "author_id": str(author) if author is not None else None,
            "platform": "reddit",
        }
        if isinstance(parent, str) and parent.startswith("t1_"):
            record["parent_id"] = parent
        if self.brand is not None:
            out.records.append({**record, "brand": self.brand})
            return
        brands: list[str] = []
        if self.watchlist is not None:
            owned = f"r/{subreddit}" in self.watchlist.by_channel
            channel = f"r/{subreddit}" if owned else subreddit
            brands = self.watchlist.brands_for(channel_id=channel or None, text=text)
        if not brands:
            detail = f"r/{subreddit} is no brand's and the text names none"
            out.dead_letters.append(dead_letter_item(_sent(data), "no_brand", detail, source))
            return
        out.records.extend(self.watchlist.records_for(record, brands))  # type: ignore[union-attr]

    def commit(self) -> None:
        """Persist the position after the pages delivered so far (atomically)."""
        self.cursor = copy.deepcopy(self._work)
        self.cursor_file.save(self.cursor)


def _sent(data: dict[str, Any]) -> dict[str, Any]:
    """An item's fields as Reddit sent them (praw's objects as their names)."""
    return {k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in data.items() if not k.startswith("_")}  # fmt: skip

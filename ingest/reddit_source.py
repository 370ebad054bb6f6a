"""Reddit submissions and comments (`praw`) → records in the input contract.

Streams: per subreddit its new comments (`/r/NAME/comments`) and new submissions
(`/r/NAME/new`); per search query the newest matching submissions (`/r/all/search`,
`sort=new`) and the new comments under them. Each poll reads a stream newest first, page
by page (`after`), down to what the previous poll read.

Comments under search hits: Reddit's search finds submissions, not comments, so a search
stream follows the hits it found (those it could give a brand, outside the subreddits
followed with their own comment stream, which has their comments already): the newest
`threads_per_search` hits (default 50) no older than `thread_max_age` (default 48 h).
Each poll reads every followed hit's comment tree once, through praw's
`Submission.comments` with `comment_sort = "new"` and `comment_limit = 500`, i.e.
`GET /comments/{id}?sort=new&limit=500` (Reddit returns at most 500 in one read).
Reddit builds that tree newest first (the newest comments whose parents it holds) and
leaves what does not fit (beyond 500 comments, or deeper than 10 levels) as `more` stubs,
which are not expanded here (each would cost an `/api/morechildren` call on every poll):
new top-level comments and new replies to recent ones are in the tree, a new reply to an
old comment of a thread over 500 comments may not be.

Rate limits: praw (prawcore) reads `x-ratelimit-remaining`/`-used`/`-reset` on every
answer and sleeps before the next request when the window is spent; a 429 is retried
here after `Retry-After` (else `x-ratelimit-reset`, else 1, 2, 4 ... s), a few times,
from the item (or the hit's comment tree) the poll stopped at. A followed hit that answers
403 (private), 404 (removed) or 451 (withheld by law) is no longer followed.

Cursor (`CursorFile`, committed by `commit()` after the caller delivered each page of up
to 100 items): per stream the newest `created_utc` read, the ids read recently, and the
item a poll is at, so a restart goes on from the last delivered page and neither re-reads
nor loses items. Per followed hit: its subreddit, time, brands and the comment ids of its
last read (at most 500), so a comment is delivered the first time it shows up in its tree
and not again while it stays there (one that leaves the newest 500 and comes back, as when
newer ones are deleted, may be delivered again; the pipeline drops repeated ids).

Mapping: `id` ← the fullname (`t3_…` submission, `t1_…` comment), `text` ← title and
selftext, or the comment's body; `created_at` ← `created_utc`; `thread_id` ← the
submission's fullname; `parent_id` ← the comment replied to (replies to comments only);
`author_id` ← the author's name, `platform` ← `reddit`; `brand` ← `--brand`, else the
watchlist: the subreddit's owner (`channels: ["r/acme"]`) whatever the text says, else
the brands the text names (a comment naming two brands counts for both, one record each).
A search hit whose text names none counts for the brands its query names (Reddit matched
it on something else, such as its link). A comment under a search hit counts for the
hit's brands (the post the query found is about them, and their storm grows under it)
even where its own text names none, and also for any other brand its text names. An
item without a fullname or time, with a time that is not a number, or without a brand is
a dead letter with that reason.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stormwatch.exceptions import StormwatchError
from stormwatch.ingest.page_collector import CursorFile, Page, collected_text, dead_letter_item
from stormwatch.ingest.watchlist import Watchlist
from stormwatch.retry_after import retry_after_seconds

PLATFORM = "reddit"  # the `platform` of its records (a metrics label of its own)

SEEN_PER_STREAM = 5000
PAGE = 100  # items delivered (and committed) at a time, as Reddit pages them
# Search hits followed for their comments, per query. Every followed hit costs one request
# per poll and Reddit allows an app 100 requests a minute: 50 hits read every 2 minutes
# (`--every 120`) take a quarter of that per query, leaving room for a few queries and
# subreddits. A post gets most of its comments in its first day; 48 hours keep the tail
# of a storm that brings the post back up.
THREADS_PER_SEARCH = 50
THREAD_MAX_AGE = 48 * 3600.0
COMMENTS_PER_THREAD = 500  # the most comments Reddit returns in one read of a tree
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
    for given in subreddits:
        name = given.strip().removeprefix("/").removeprefix("r/").strip()
        if not name:  # praw refused it at the first poll, in a traceback, at every poll
            raise ValueError(f"subreddit {given!r} names no subreddit")
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
        threads_per_search: int = THREADS_PER_SEARCH,
        thread_max_age: float = THREAD_MAX_AGE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.streams = streams
        self.page_size = page_size
        self.threads_per_search = threads_per_search
        self.thread_max_age = thread_max_age
        self.clock = clock
        # hits in these subreddits are not followed: their comment streams read them
        self.subreddits = {s.target.casefold() for s in streams if s.kind == "comments"}
        self.cursor_path = cursor_path
        self.reddit = reddit
        self.brand = brand
        self.watchlist = watchlist
        # Subreddits the watchlist gives a brand ("r/acmebank"), by casefolded name:
        # Reddit names them with their creator's capitals ("AcmeBank").
        self._owned = (
            {c.casefold(): c for c in watchlist.by_channel if c.casefold().startswith("r/")}
            if watchlist is not None
            else {}
        )
        self.sleep = sleep
        self.cursor_file = CursorFile(cursor_path)
        self.cursor = self.cursor_file.load()
        self.cursor.setdefault("streams", {})
        self._work = copy.deepcopy(self.cursor)  # the position as pages are read
        self.backoffs: list[float] = []  # seconds waited on 429s, in order
        self.gone: list[str] = []  # followed hits dropped: 403, 404 or 451

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

        query_brands = self._query_brands(stream)
        state = self._work["streams"].setdefault(stream.key, {"newest": None, "seen": []})
        seen_list: list[str] = state["seen"]
        seen = set(seen_list)
        boundary: float | None = state["newest"]
        scan = state.get("scan") or {"after": None, "top": None}
        state["scan"] = scan
        source = f"reddit:{stream.key}"
        out = Page()
        failures = 0
        from_top = scan["after"] is None
        while True:
            try:
                listed = False
                for item in self._listing(stream, scan["after"]):
                    listed = True
                    failures = 0
                    data = vars(item)  # attributes as sent: no lazy fetch
                    name = _fullname(data, out, f"{stream.kind} item", source)
                    if name is None:
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
                        brands = self._map(stream, data, out, source, query_brands=query_brands)
                        if stream.kind == "search" and brands and name.startswith("t3_"):
                            self._follow(stream.key, state, data, brands)
                    scan["after"] = name
                    if len(out.records) + len(out.dead_letters) >= self.page_size:
                        del seen_list[:-SEEN_PER_STREAM]
                        yield out
                        out = Page()
                if not listed and not from_top:
                    # Reddit lists nothing after an item removed since (a moderator, the
                    # spam filter): the scan ended there and its older items were never
                    # read. Read again from the top down to the boundary; what was
                    # delivered is skipped by `seen`.
                    scan["after"], from_top = None, True
                    continue
                break
            except prawcore.PrawcoreException as exc:
                failures += 1
                self._wait_or_raise(exc, failures, stream.key)
        if scan["top"] is not None and (boundary is None or scan["top"] > boundary):
            state["newest"] = scan["top"]
        del state["scan"]
        del seen_list[:-SEEN_PER_STREAM]
        if stream.kind == "search":
            yield from self._thread_pages(stream, state, out)
        else:
            yield out

    def _query_brands(self, stream: Stream) -> list[str]:
        """The brands a search query names (none for other streams, or with `--brand`)."""
        if stream.kind != "search" or self.brand is not None or self.watchlist is None:
            return []
        return self.watchlist.brands_for(text=stream.target)

    def _follow(
        self, key: str, state: dict[str, Any], data: dict[str, Any], brands: list[str]
    ) -> None:
        """Remember a search hit to read its comments, unless a subreddit stream or another
        search already reads them."""
        name = data["name"]
        subreddit = str(data.get("subreddit") or "")
        if subreddit.casefold() in self.subreddits:
            return
        for other_key, other in self._work["streams"].items():
            if other_key != key and name in other.get("threads", {}):
                return
        threads = state.setdefault("threads", {})
        threads.setdefault(name, {"subreddit": subreddit, "created": float(data["created_utc"]),
                                  "brands": brands, "seen": []})  # fmt: skip
        self._bound_threads(threads)

    def _bound_threads(self, threads: dict[str, dict[str, Any]]) -> list[str]:
        """Drop hits older than `thread_max_age`, then all but the newest
        `threads_per_search`; returns the names kept, newest first."""
        oldest = self.clock() - self.thread_max_age
        for name in [n for n, t in threads.items() if t["created"] < oldest]:
            del threads[name]
        by_age = sorted(threads, key=lambda n: threads[n]["created"], reverse=True)
        keep = max(self.threads_per_search, 0)
        for name in by_age[keep:]:
            del threads[name]
        return by_age[:keep]

    def _thread_pages(self, stream: Stream, state: dict[str, Any], out: Page) -> Iterator[Page]:
        """The new comments under each followed hit, newest hit first, continuing `out`."""
        threads: dict[str, dict[str, Any]] = state.setdefault("threads", {})
        source = f"reddit:{stream.key}"
        for name in self._bound_threads(threads):
            thread = threads[name]
            comments = self._read_thread(stream, name)
            if comments is None:
                self.gone.append(name)
                del threads[name]
                continue
            seen_list: list[str] = thread["seen"]
            seen = set(seen_list)
            window = []  # the ids this read returned: what the next read is compared with
            for comment in comments:
                data = vars(comment)  # attributes as sent: no lazy fetch
                cname = _fullname(data, out, f"comment under {name}", source)
                if cname is None:
                    continue
                window.append(cname)
                if cname in seen:
                    continue
                seen.add(cname)
                seen_list.append(cname)
                self._map(stream, data, out, source, hit_brands=thread["brands"])
                if len(out.records) + len(out.dead_letters) >= self.page_size:
                    yield out
                    out = Page()
            thread["seen"] = window
        yield out

    def _read_thread(self, stream: Stream, name: str) -> list[Any] | None:
        """A hit's comments as one read of its tree returns them (one request; `more`
        stubs left out), or None when the hit is private (403), removed (404) or withheld
        (451): following it would fail every poll."""
        import prawcore
        from praw.models import MoreComments

        failures = 0
        while True:
            submission = self.reddit.submission(id=name.removeprefix("t3_"))
            submission.comment_sort = "new"
            submission.comment_limit = COMMENTS_PER_THREAD
            try:
                tree = submission.comments  # GET /comments/{id}?limit=500&sort=new
                return [c for c in tree.list() if not isinstance(c, MoreComments)]
            except (prawcore.Forbidden, prawcore.NotFound, prawcore.UnavailableForLegalReasons):
                return None
            except prawcore.PrawcoreException as exc:
                failures += 1
                self._wait_or_raise(exc, failures, f"{stream.key} {name}")

    def _wait_or_raise(self, exc: Exception, failures: int, what: str) -> None:
        """Wait before the next try of a 429 or a 5xx (prawcore retried 5xx twice already),
        a few times; any other failure, or one more, is a RedditError."""
        import prawcore

        if isinstance(exc, prawcore.TooManyRequests):
            if failures > RETRIES:
                raise RedditError(f"reddit: still 429 after {RETRIES + 1} tries") from None
        elif isinstance(exc, prawcore.ServerError):
            if failures > RETRIES:
                raise RedditError(f"reddit: {_explain(exc)}") from None
        else:
            raise RedditError(f"reddit {what}: {_explain(exc)}") from None
        self._back_off(exc.response, failures)  # type: ignore[attr-defined]

    def _back_off(self, response: Any, failures: int) -> None:
        fallback = retry_after_seconds(
            response.headers.get("x-ratelimit-reset"), 2.0 ** (failures - 1), longest=MAX_BACKOFF
        )
        delay = retry_after_seconds(
            response.headers.get("retry-after"), fallback, longest=MAX_BACKOFF
        )
        self.backoffs.append(delay)
        self.sleep(delay)

    def _map(
        self,
        stream: Stream,
        data: dict[str, Any],
        out: Page,
        source: str,
        *,
        query_brands: list[str] | None = None,
        hit_brands: list[str] | None = None,
    ) -> list[str]:
        """The item's records (one per brand), or its dead letter with the reason; its
        brands (none when dead-lettered). `query_brands`: those of a search hit whose text
        names none; `hit_brands`: those of the search hit a comment is under."""
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
            return []
        record: dict[str, Any] = {
            "id": name,
            "text": collected_text(text),
            "created_at": created,
            "thread_id": thread,
            "author_id": str(author) if author is not None else None,
            "platform": PLATFORM,
        }
        if isinstance(parent, str) and parent.startswith("t1_"):
            record["parent_id"] = parent
        if self.brand is not None:
            out.records.append({**record, "brand": self.brand})
            return [self.brand]
        brands: list[str] = []
        if self.watchlist is not None:
            configured = self._owned.get(f"r/{subreddit}".casefold())
            channel = configured if configured is not None else subreddit
            brands = self.watchlist.brands_for(channel_id=channel or None, text=text)
            owner = self.watchlist.by_channel.get(channel) if channel else None
            if owner is None and hit_brands:
                wanted = {*brands, *hit_brands}
                brands = [w.brand for w in self.watchlist.brands if w.brand in wanted]
            elif owner is None and not brands and query_brands:
                brands = list(query_brands)
        if not brands:
            searched = stream.kind == "search" and hit_brands is None
            names = "the text names none" + (" nor does the query" if searched else "")
            # A user's profile is a subreddit named after them (u_NAME): not in the detail,
            # which stays when the item is withheld for privacy.
            where = "a user's profile" if subreddit.lower().startswith("u_") else f"r/{subreddit}"
            detail = f"{where} is no brand's and {names}"
            out.dead_letters.append(dead_letter_item(_sent(data), "no_brand", detail, source))
            return []
        out.records.extend(self.watchlist.records_for(record, brands))  # type: ignore[union-attr]
        return brands

    def commit(self) -> None:
        """Persist the position after the pages delivered so far (atomically)."""
        self.cursor = copy.deepcopy(self._work)
        self.cursor_file.save(self.cursor)


def _fullname(data: dict[str, Any], out: Page, what: str, source: str) -> str | None:
    """The item's fullname; None, and a dead letter in `out`, when it has none."""
    name = data.get("name")
    if isinstance(name, str) and name:
        return name
    detail = f"{what} without a name (fullname)"
    out.dead_letters.append(dead_letter_item(_sent(data), "missing_field", detail, source))
    return None


def _sent(data: dict[str, Any]) -> dict[str, Any]:
    """An item's fields as Reddit sent them (praw's objects as their names)."""
    return {k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in data.items() if not k.startswith("_")}  # fmt: skip

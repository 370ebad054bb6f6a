"""YouTube comments (Data API v3, `google-api-python-client`) → records in the input contract.

Each poll lists a channel's newest uploads (`channels.list` once, for the uploads
playlist, then `playlistItems.list`), and for each video its comment threads newest first
(`commentThreads.list`, `order=time`, paged by `nextPageToken`) down to the newest thread
of the previous poll. A thread whose reply count changed gets its replies: those embedded
in the thread when they are all there, else every page of `comments.list(parentId=...)`.
Then the threads older than the pages read (which are the newest 100 threads of a video at
least) are re-checked: `commentThreads.list(id=...)`, 50 threads a call, asks for the
reply counts of the `RECHECK_THREADS` (200) most recently active threads the cursor
remembers whose newest comment read is at most `RECHECK_DAYS` (7) old, and a thread
whose count changed gets its replies as above. A thread the API no longer returns
(deleted) leaves that set. Replies under older threads outside it are not seen.

Quota: every call costs its documented units (each list call: 1) before it is sent,
counted per Pacific day (YouTube's quota resets at midnight Pacific time) in the cursor
file. When the configured daily quota is spent, or the API answers 403 `quotaExceeded`,
the poll stops where it is and the collector pauses until the reset (`resume_at`).
429s, 403 `rateLimitExceeded` and 5xx are retried after `Retry-After` (else 1, 2, 4 ...
seconds), a few times.

Cursor (`CursorFile`, committed by `commit()` after the caller delivered each page): per
video, its channel, the newest thread time read, the threads read (up to 500, with their
reply count, reply ids and newest comment time; a video forgets its longest-quiet thread
first), and the page a poll is at, so a restart goes on from the last delivered page and
neither re-reads nor loses comments. Each re-check call is a page of its own; a restart
asks those calls again, but a thread's replies delivered before are not read again. A video
no longer among the uploads a poll lists is forgotten once its newest comment read is more
than `RECHECK_DAYS` old (none of its threads would be re-checked then): it keeps only its
newest thread time and the ids of its threads at that time, so if it is listed again,
threads up to that time are not read again, nor replies under them, and newer ones are. Of
such videos the `FORGOTTEN_VIDEOS` (1,000) with the newest threads stay; an older one goes
whole and its channel's floor rises to its newest thread time: on a video the cursor does
not know, only threads after its channel's floor are read. So the cursor holds the listed
videos, those with a comment read in the last `RECHECK_DAYS`, at most 1,000 small ones and
a time per channel: it does not grow with the videos a channel has uploaded.

Mapping: `id` ← comment id, `text` ← its text (plain), `created_at` ← `publishedAt`,
`thread_id` ← the video id, `parent_id` ← the thread's comment id (replies only),
`author_id` ← the author's channel id, `platform` ← `youtube`; `brand` ← `--brand`, else
the watchlist (the channel's owner, else by text: a comment naming two brands counts for
both). An item without an id or time, with a time that is not ISO 8601, or without a
brand is a dead letter with that reason. Videos with comments disabled are skipped.
"""

from __future__ import annotations

import copy
import datetime as dt
import heapq
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stormwatch.exceptions import StormwatchError
from stormwatch.ingest.page_collector import CursorFile, Page, collected_text, dead_letter_item
from stormwatch.ingest.watchlist import Watchlist
from stormwatch.retry_after import retry_after_seconds

PLATFORM = "youtube"  # the `platform` of its records (a metrics label of its own)

# Units per call, as the API documents them (https://developers.google.com/youtube/v3/
# determine_quota_cost): every list call used here costs 1 (search.list would cost 100).
QUOTA_COST = {
    "channels.list": 1,
    "playlistItems.list": 1,
    "commentThreads.list": 1,
    "comments.list": 1,
}
DEFAULT_DAILY_QUOTA = 10_000  # a project's default allocation
THREADS_PER_VIDEO = 500  # threads remembered per video (reply counts, reply ids)
REPLIES_PER_THREAD = 2000
# Threads re-checked each poll by id, beyond the pages the poll read: those with a comment
# in the last RECHECK_DAYS, the RECHECK_THREADS most recently active. A storm under an
# older comment keeps a thread active, so it stays in; a week without a reply is quiet.
# 200 threads are at most 4 calls (1 unit each, 50 ids a call) per poll: polled every 5
# minutes, 1,152 units a day, under an eighth of the default quota, however many channels.
RECHECK_DAYS = 7.0
RECHECK_THREADS = 200
IDS_PER_CALL = 50  # commentThreads.list(id=...) takes a comma-separated list
# A video no longer among the newest uploads is forgotten once none of its threads could be
# re-checked (nothing read on it in RECHECK_DAYS): of its state only its newest thread time
# stays (about 150 bytes), for the FORGOTTEN_VIDEOS with the newest such time; older ones
# go whole and raise their channel's floor. See `_forget_quiet_videos`.
FORGOTTEN_VIDEOS = 1000
RETRIES = 5
RATE_LIMITED = ("rateLimitExceeded", "userRateLimitExceeded")  # per-second limits: retry
MAX_BACKOFF = 300.0
API_KEY_ENV = "STORMWATCH_YOUTUBE_API_KEY"
API_URL_ENV = "STORMWATCH_YOUTUBE_API_URL"  # another endpoint (a proxy; the tests' server)


class YouTubeError(StormwatchError):
    """The API refused or failed a call (the message says which and why)."""


class _QuotaSpent(Exception):
    """The day's quota is spent: stop the poll where it is."""


class _VideoUnavailable(Exception):
    """The video has comments disabled or is gone: skip it."""


def _pacific(now: float) -> dt.datetime:
    try:
        from zoneinfo import ZoneInfo

        zone: dt.tzinfo = ZoneInfo("America/Los_Angeles")
    except Exception:  # noqa: BLE001 - no tz database: standard time is close enough
        zone = dt.timezone(dt.timedelta(hours=-8))
    return dt.datetime.fromtimestamp(now, zone)


class QuotaBudget:
    """Units spent today (Pacific day) against the daily quota.

    >>> q = QuotaBudget(daily=2, state={}, clock=lambda: 1_700_000_000.0)
    >>> q.spend(1), q.spend(1), q.spend(1), q.used
    (True, True, False, 2)
    """

    def __init__(self, *, daily: int, state: dict[str, Any], clock: Callable[[], float]) -> None:
        self.daily = daily
        self.clock = clock
        self.day = str(state.get("day", ""))
        self.used = int(state.get("used", 0))

    def _roll(self) -> None:
        today = _pacific(self.clock()).date().isoformat()
        if today != self.day:
            self.day, self.used = today, 0

    def spend(self, units: int) -> bool:
        """Spend `units` if today's quota allows it."""
        self._roll()
        if self.used + units > self.daily:
            return False
        self.used += units
        return True

    def exhaust(self) -> None:
        """The API said the quota is spent (other users of the key count too)."""
        self._roll()
        self.used = max(self.used, self.daily)

    def reset_at(self) -> float:
        """When the quota resets: the next midnight, Pacific time."""
        now = _pacific(self.clock())
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), now.tzinfo)
        return midnight.timestamp()

    def state(self) -> dict[str, Any]:
        return {"day": self.day, "used": self.used}


def _error_reason(exc: Any) -> tuple[str, str]:
    """(reason, message) of an API error body: {"error": {"errors": [{"reason": ...}]}}."""
    import json

    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        reasons = [e.get("reason", "") for e in error.get("errors", [])]
        details = [d.get("reason", "") for d in error.get("details", []) if isinstance(d, dict)]
        return next((r for r in [*reasons, *details] if r), ""), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", ""


def _activity(thread: dict[str, Any]) -> dt.datetime:
    """When a remembered thread was last active (the earliest time when unknown)."""
    return _parse_time(thread.get("active")) or dt.datetime.min.replace(tzinfo=dt.UTC)


def _parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _newest_read(state: dict[str, Any]) -> tuple[str | None, list[str] | None]:
    """A video's newest thread time read (a scan under way counts) and the ids of its
    threads at that time; None for the ids when the cursor was written before it kept them."""
    newest: str | None = state.get("newest")
    named: list[str] | None = state.get("newest_ids") if newest is not None else []
    scan = state.get("scan") or {}
    top, top_named = scan.get("top"), scan.get("top_ids")
    top_time, newest_time = _parse_time(top), _parse_time(newest)
    if top_time is None:
        return newest, named
    if newest_time is None or top_time > newest_time:
        return top, top_named
    if top_time == newest_time:
        return newest, None if named is None or top_named is None else sorted({*named, *top_named})
    return newest, named


def _last_read(state: dict[str, Any]) -> dt.datetime | None:
    """The newest comment read on a video: its newest thread, or a reply under any."""
    times = [_newest_read(state)[0], *(t.get("active") for t in state["threads"].values())]
    return max((when for t in times if (when := _parse_time(t)) is not None), default=None)


def build_youtube_client(api_key: str, api_url: str | None = None, *, timeout: float = 30.0) -> Any:
    """The real API client, from the discovery document shipped with the library
    (no network at build time), pointed at `api_url` when given."""
    import httplib2
    from googleapiclient.discovery import build

    options = {"api_endpoint": api_url.rstrip("/") + "/"} if api_url else None
    return build(
        "youtube",
        "v3",
        developerKey=api_key,
        static_discovery=True,
        cache_discovery=False,
        client_options=options,
        http=httplib2.Http(timeout=timeout),
    )


class YouTubeCollector:
    def __init__(
        self,
        channels: list[str],
        cursor_path: Path,
        *,
        api_key: str,
        api_url: str | None = None,
        brand: str | None = None,
        watchlist: Watchlist | None = None,
        videos_per_channel: int = 10,
        daily_quota: int = DEFAULT_DAILY_QUOTA,
        recheck_threads: int = RECHECK_THREADS,
        recheck_days: float = RECHECK_DAYS,
        forgotten_videos: int = FORGOTTEN_VIDEOS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.channels = channels
        self.cursor_path = cursor_path
        self.brand = brand
        self.watchlist = watchlist
        self.videos_per_channel = videos_per_channel
        self.recheck_threads = recheck_threads
        self.recheck_days = recheck_days
        self.forgotten_videos = forgotten_videos
        self.clock = clock
        self.sleep = sleep
        self.api = build_youtube_client(api_key, api_url)
        self.cursor_file = CursorFile(cursor_path)
        self.cursor = self.cursor_file.load()
        self.cursor.setdefault("videos", {})
        self.cursor.setdefault("uploads", {})
        self.cursor.setdefault("floors", {})  # channel -> newest thread time of videos dropped
        self._work = copy.deepcopy(self.cursor)  # the position as pages are read
        self.quota = QuotaBudget(daily=daily_quota, state=self.cursor.get("quota", {}), clock=clock)
        self.resume_at: float | None = self.cursor.get("resume_at")
        self.unavailable: Counter[str] = Counter()  # videos skipped: commentsDisabled, ...
        self.backoffs: list[float] = []  # seconds waited on 429/5xx, in order
        self._read_this_poll: set[str] = set()  # threads on this poll's pages: counts fresh
        self._closed_this_poll: set[str] = set()  # videos refused this poll: not re-checked

    # -- calls -----------------------------------------------------------------------

    def _call(self, method: str, request: Callable[[], Any]) -> dict[str, Any]:
        """One API call, paid for first, retried on 429/rate limits/5xx."""
        import httplib2
        from googleapiclient.errors import HttpError

        for attempt in range(RETRIES + 1):
            if not self.quota.spend(QUOTA_COST[method]):
                raise _QuotaSpent
            try:
                return request().execute()
            except HttpError as exc:
                status = int(exc.resp.status)
                reason, message = _error_reason(exc)
                if reason in ("quotaExceeded", "dailyLimitExceeded"):
                    self.quota.exhaust()
                    raise _QuotaSpent from None
                if reason in ("commentsDisabled", "videoNotFound", "forbidden") and (
                    method == "commentThreads.list"
                ):
                    raise _VideoUnavailable(reason) from None
                retryable = status == 429 or status >= 500 or reason in RATE_LIMITED
                if not retryable:
                    raise YouTubeError(
                        f"{method}: HTTP {status} {reason or ''}: {message or exc.reason}".strip()
                    ) from None
                if attempt == RETRIES:
                    raise YouTubeError(
                        f"{method}: HTTP {status} {reason} after {RETRIES + 1} tries"
                    ) from None
                delay = retry_after_seconds(
                    exc.resp.get("retry-after"), 2.0**attempt, longest=MAX_BACKOFF
                )
                self.backoffs.append(delay)
                self.sleep(delay)
            except (OSError, httplib2.HttpLib2Error) as exc:
                raise YouTubeError(f"{method}: cannot reach the API: {exc}") from None
        raise AssertionError("unreachable")

    def check(self) -> str:
        """One cheap call (1 unit per channel) proving the key and the channels work."""
        for channel in self.channels:
            try:
                found = self._call(
                    "channels.list",
                    lambda c=channel: self.api.channels().list(part="id", id=c),
                )
            except _QuotaSpent:
                raise YouTubeError("the daily quota is spent; try after midnight Pacific") from None
            if not found.get("items"):
                raise YouTubeError(f"channel {channel!r} not found")
        return f"youtube: API key accepted, {len(self.channels)} channel(s) found"

    # -- polling ---------------------------------------------------------------------

    def pages(self) -> Iterator[Page]:
        """New comments of every channel's newest videos, one API page at a time; the
        caller delivers each page, then `commit()`s. A spent quota ends the poll where it
        is (the page read so far comes first) and sets `resume_at`."""
        if self.resume_at is not None:
            if self.clock() < self.resume_at:
                return
            self.resume_at = None
        self._work = copy.deepcopy(self.cursor)
        self._read_this_poll, self._closed_this_poll = set(), set()
        listed: set[str] = set()  # every channel's newest uploads, as this poll read them
        try:
            for channel in self.channels:
                videos = self._videos(channel)
                listed.update(videos)
                for video in videos:
                    try:
                        yield from self._video_pages(channel, video)
                    except _VideoUnavailable as exc:
                        self.unavailable[str(exc)] += 1
                        self._closed_this_poll.add(video)
            if self._forget_quiet_videos(listed):
                yield Page()  # nothing to deliver; its commit records what was forgotten
            yield from self._recheck_pages()
        except _QuotaSpent:
            self.resume_at = self.quota.reset_at()
            yield Page()  # nothing new, but its commit records the pause and the units spent

    def _videos(self, channel: str) -> list[str]:
        uploads = self._work["uploads"].get(channel)
        if uploads is None:
            found = self._call(
                "channels.list",
                lambda: self.api.channels().list(part="contentDetails", id=channel),
            )
            items = found.get("items") or []
            if not items:
                raise YouTubeError(f"channel {channel!r} not found")
            try:
                uploads = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]
            except (KeyError, TypeError, IndexError):
                raise YouTubeError(f"channel {channel!r} has no uploads playlist") from None
            self._work["uploads"][channel] = uploads
        page = self._call(
            "playlistItems.list",
            lambda: self.api.playlistItems().list(
                part="contentDetails",
                playlistId=uploads,
                maxResults=min(max(self.videos_per_channel, 1), 50),
            ),
        )
        videos = [
            video
            for item in page.get("items") or []
            if isinstance(item, dict)
            and isinstance(video := (item.get("contentDetails") or {}).get("videoId"), str)
            and video
        ]
        return videos[: self.videos_per_channel]

    def _video_pages(self, channel: str, video: str) -> Iterator[Page]:
        state = self._work["videos"].get(video)
        if state is None:
            state = self._work["videos"][video] = {"newest": None, "threads": {}}
            if (floor := self._work["floors"].get(channel)) is not None:
                state["floor"] = floor  # the videos this cursor dropped: not one of theirs again
        state["channel"] = channel  # the brand of a re-checked thread's replies
        threads: dict[str, dict[str, Any]] = state["threads"]
        boundary = _parse_time(state["newest"])
        named = set(state.get("newest_ids") or ())  # the threads read at `boundary`
        floor_time = _parse_time(state.get("floor"))
        scan = state.get("scan") or {"page": None, "top": None, "top_ids": []}
        scan.setdefault("top_ids", None if scan["top"] else [])  # None: a scan from before ids
        state["scan"] = scan
        source = f"youtube:{video}"
        while True:
            out = Page()
            try:
                answer = self._call(
                    "commentThreads.list",
                    lambda: self.api.commentThreads().list(
                        part="snippet,replies",
                        videoId=video,
                        order="time",
                        maxResults=100,
                        textFormat="plainText",
                        pageToken=scan["page"],
                    ),
                )
                reached_known = False
                for item in answer.get("items") or []:
                    thread_id = item.get("id") if isinstance(item, dict) else None
                    top = ((item.get("snippet") if isinstance(item, dict) else None) or {}).get(
                        "topLevelComment"
                    )
                    if not isinstance(thread_id, str) or not thread_id or not isinstance(top, dict):
                        out.dead_letters.append(
                            dead_letter_item(
                                item, "missing_field", "comment thread without id or comment",
                                source,
                            )
                        )  # fmt: skip
                        continue
                    when = _parse_time((top.get("snippet") or {}).get("publishedAt"))
                    read_before = when is not None and (
                        (boundary is not None and when < boundary)
                        or (floor_time is not None and when <= floor_time)
                    )
                    if when is not None:
                        top_time = _parse_time(scan["top"])
                        if top_time is None or when > top_time:
                            scan["top"], scan["top_ids"], top_time = when.isoformat(), [], when
                        at_top = scan["top_ids"]
                        if when == top_time and at_top is not None and thread_id not in at_top:
                            at_top.append(thread_id)
                        if read_before:
                            reached_known = True
                    if thread_id not in threads:
                        if read_before or thread_id in named:
                            continue  # read before, then forgotten (a quiet thread or video)
                        threads[thread_id] = {"n": 0, "replies": []}
                        self._map(channel, video, top, None, out)
                    self._read_this_poll.add(thread_id)
                    if when is not None and "active" not in threads[thread_id]:
                        threads[thread_id]["active"] = when.isoformat()
                    self._new_replies(channel, video, thread_id, item, threads, out)
                excess = len(threads) - THREADS_PER_VIDEO
                if excess > 0:
                    # The quietest threads go: those whose last activity is oldest (the
                    # first entered went before, and a scan enters the newest first, so
                    # a busy video's first read forgot its newest threads and the
                    # replies under them were never read).
                    for quiet in heapq.nsmallest(
                        excess, threads, key=lambda t: _activity(threads[t])
                    ):
                        del threads[quiet]
            except _QuotaSpent:
                if out.records or out.dead_letters:
                    yield out  # this page is read again next time; what it gave is known
                raise
            token = answer.get("nextPageToken")
            if token and not reached_known:
                scan["page"] = token
                yield out
                continue
            # The scan reached what the last one read: the next one stops at its top.
            state["newest"], newest_ids = _newest_read(state)
            if state["newest"] is not None and newest_ids is not None:
                state["newest_ids"] = newest_ids
            else:
                state.pop("newest_ids", None)
            del state["scan"]
            yield out
            return

    def _quiet_before(self) -> float:
        """Comments before this time are quiet: their threads are not re-checked."""
        return self.clock() - self.recheck_days * 86_400

    def _forget_quiet_videos(self, listed: set[str]) -> bool:
        """Forget the threads of each video this poll did not list whose newest comment read
        is older than `recheck_days`; it keeps its newest thread time and the ids of its
        threads at that time. Beyond `forgotten_videos` such videos, those with the oldest
        newest thread go whole and raise their channel's floor to that time. True if the
        cursor changed.

        Why forgetting delivers no comment twice, and what it gives up:
        - While a video is not listed, what it forgot would not be read: no page of its
          threads is, and `_recheck_candidates` takes only threads with a comment at or after
          `_quiet_before()`, which none of its threads has. That time only grows, and a
          thread's newest comment read changes only when something on it is read. So no
          video with a thread in the re-check set, or one that could enter it, is forgotten.
        - Every thread delivered on a video is at or before its newest thread time (the top
          of every scan, a half-done one's too), and those at that time are named. When a
          forgotten video is listed again, its scan skips an unknown thread older than that
          time or named, and reads replies only under threads it holds: nothing of before
          comes again. A newer thread was never delivered: it is read, replies and all.
        - A video dropped whole leaves its newest thread time in its channel's floor, and a
          video the cursor does not know skips threads at or before its channel's floor. So
          a dropped video listed again delivers only threads newer than anything of it read.
        Given up, all on a video that left the newest uploads and had nothing read on it for
        `recheck_days`, should it be listed again (its whole state would have read them):
        new replies under its threads at or before its newest thread (those on the pages its
        scan reads had their reply counts compared); threads a poll stopped by the quota
        had not reached when it left the uploads; once dropped, threads it had not read at
        or before its channel's floor. And on a video the cursor does not know (never
        listed, or listed before it had a comment), threads at or before its channel's
        floor: an old video listed late (a larger `videos_per_channel`, newer uploads
        deleted) after other videos of the channel were dropped.
        """
        since = self._quiet_before()
        videos: dict[str, dict[str, Any]] = self._work["videos"]
        changed = False
        for video, state in list(videos.items()):
            if video in listed or not isinstance(channel := state.get("channel"), str):
                continue  # listed now; or read before the cursor kept channels (a fixed set)
            newest, named = _newest_read(state)
            if newest is None:
                if not state["threads"]:
                    del videos[video]  # nothing read on it
                    changed = True
                continue  # else threads without a time (dead letters): none can be told apart
            if not state["threads"] and "scan" not in state:
                continue  # forgotten already
            last = _last_read(state)
            if last is not None and last.timestamp() >= since:
                continue  # a comment in the last `recheck_days`: its thread may be re-checked
            if named is None:  # a cursor from before the ids: every thread that may be at it
                named = sorted(
                    thread_id
                    for thread_id, known in state["threads"].items()
                    if (active := _parse_time(known.get("active"))) is None
                    or active >= _parse_time(newest)  # type: ignore[operator]
                )
            forgotten = {"channel": channel, "newest": newest, "newest_ids": named, "threads": {}}
            if "floor" in state:
                forgotten["floor"] = state["floor"]
            videos[video] = forgotten
            changed = True
        kept = sorted(
            (newest_time, video)
            for video, state in videos.items()
            if video not in listed
            and not state["threads"]
            and "scan" not in state
            and isinstance(state.get("channel"), str)
            and (newest_time := _parse_time(state.get("newest"))) is not None
        )
        floors: dict[str, str] = self._work["floors"]
        for newest_time, video in kept[: max(len(kept) - max(self.forgotten_videos, 0), 0)]:
            state = videos.pop(video)
            times = [newest_time, _parse_time(floors.get(state["channel"]))]
            times.append(_parse_time(state.get("floor")))  # no higher than the channel's
            floors[state["channel"]] = max(t for t in times if t is not None).isoformat()
            changed = True
        return changed

    def _recheck_candidates(self) -> list[tuple[str, str, str]]:
        """(thread, video, channel) of the threads worth re-checking: a comment in the last
        `recheck_days`, not on this poll's pages, the `recheck_threads` most recent."""
        since = self._quiet_before()
        candidates: list[tuple[float, str, str, str]] = []
        for video, state in self._work["videos"].items():
            channel = state.get("channel")
            if not isinstance(channel, str) or video in self._closed_this_poll:
                continue  # no channel: read before the cursor kept it; read again, it will
            for thread_id, known in state["threads"].items():
                active = _parse_time(known.get("active"))
                if active is None or thread_id in self._read_this_poll:
                    continue
                if (stamp := active.timestamp()) >= since:
                    candidates.append((stamp, thread_id, video, channel))
        newest = heapq.nlargest(max(self.recheck_threads, 0), candidates)
        return [(thread_id, video, channel) for _, thread_id, video, channel in newest]

    def _recheck_pages(self) -> Iterator[Page]:
        """Threads older than the pages read, re-read by id (50 a call): a grown reply
        count reads the new replies. One page per call; a thread not returned is gone
        and leaves the set (its reply ids stay, in case it shows again)."""
        candidates = self._recheck_candidates()
        for start in range(0, len(candidates), IDS_PER_CALL):
            batch = {t: (v, c) for t, v, c in candidates[start : start + IDS_PER_CALL]}
            ids = ",".join(batch)  # `maxResults`, `order`, `pageToken` do not go with `id`
            out = Page()
            try:
                answer = self._call(
                    "commentThreads.list",
                    lambda ids=ids: self.api.commentThreads().list(
                        part="snippet", id=ids, textFormat="plainText"
                    ),
                )
            except _VideoUnavailable as exc:
                self.unavailable[str(exc)] += 1
                continue  # these threads age out of the window unless a page shows them
            returned = {
                item["id"]: item
                for item in answer.get("items") or []
                if isinstance(item, dict) and item.get("id") in batch
            }
            try:
                for thread_id, (video, channel) in batch.items():
                    threads = self._work["videos"][video]["threads"]
                    if thread_id not in returned:
                        threads[thread_id].pop("active", None)
                        continue
                    self._new_replies(channel, video, thread_id, returned[thread_id], threads, out)
            except _QuotaSpent:
                if out.records or out.dead_letters:
                    yield out  # the threads read whole are known; the rest are asked again
                raise
            yield out

    def _new_replies(
        self,
        channel: str,
        video: str,
        thread_id: str,
        item: dict[str, Any],
        threads: dict[str, dict[str, Any]],
        out: Page,
    ) -> None:
        total = (item.get("snippet") or {}).get("totalReplyCount") or 0
        known = threads[thread_id]
        if not isinstance(total, int):
            return
        embedded = (item.get("replies") or {}).get("comments") or []
        if total == known["n"]:
            # The same count can hide a reply deleted and a new one written: the replies
            # the thread came with (free, a few) tell, where they are all of them.
            remembered = set(known["replies"])
            cut_at = _parse_time(known.get("cut_at"))  # delivered, no longer remembered

            def delivered(reply: Any) -> bool:
                if not isinstance(reply, dict) or reply.get("id") in remembered:
                    return True
                published = _parse_time((reply.get("snippet") or {}).get("publishedAt"))
                return cut_at is not None and published is not None and published <= cut_at

            if all(delivered(r) for r in embedded):
                return
        if len(embedded) >= total:
            replies = list(embedded)
        else:
            # All pages first: a quota stop in between must not leave half a thread read.
            replies, token = [], None
            while True:
                answer = self._call(
                    "comments.list",
                    lambda t=token: self.api.comments().list(
                        part="snippet",
                        parentId=thread_id,
                        maxResults=100,
                        textFormat="plainText",
                        pageToken=t,
                    ),
                )
                replies.extend(answer.get("items") or [])
                token = answer.get("nextPageToken")
                if not token:
                    break
        seen = set(known["replies"])
        fresh: list[str] = []
        active = _parse_time(known.get("active"))
        # Replies cut from the remembered ids (past `REPLIES_PER_THREAD`) were delivered
        # up to this time: every page is read again when the count changes, and they
        # came again, a few hundred at each change.
        cut_at = _parse_time(known.get("cut_at"))
        published: dict[str, dt.datetime] = {}
        for reply in replies:
            reply_id = reply.get("id") if isinstance(reply, dict) else None
            when = (
                _parse_time((reply.get("snippet") or {}).get("publishedAt"))
                if isinstance(reply, dict)
                else None
            )
            if isinstance(reply_id, str) and when is not None:
                published[reply_id] = when
            if reply_id in seen:
                continue
            if isinstance(reply_id, str) and reply_id:
                if cut_at is not None and when is not None and when <= cut_at:
                    continue  # delivered before, then cut from the ids
                seen.add(reply_id)
                fresh.append(reply_id)
                if when is not None and (active is None or when > active):
                    active = when
            self._map(channel, video, reply, thread_id, out)
        kept = known["replies"] + fresh
        for reply_id in kept[:-REPLIES_PER_THREAD]:
            when = published.get(reply_id)
            if when is not None and (cut_at is None or when > cut_at):
                cut_at = when
        del threads[thread_id]  # entered again, last: a video forgets its quietest threads first
        threads[thread_id] = {"n": total, "replies": kept[-REPLIES_PER_THREAD:]}
        if active is not None:
            threads[thread_id]["active"] = active.isoformat()
        if cut_at is not None:
            threads[thread_id]["cut_at"] = cut_at.isoformat()

    def _map(
        self,
        channel: str,
        video: str,
        comment: Any,
        parent_id: str | None,
        out: Page,
    ) -> None:
        """The comment's records (one per brand), or its dead letter with the reason."""
        source = f"youtube:{video}"
        snippet = (comment.get("snippet") if isinstance(comment, dict) else None) or {}
        ident = comment.get("id") if isinstance(comment, dict) else None
        text = snippet.get("textDisplay") or snippet.get("textOriginal") or ""
        published = snippet.get("publishedAt")
        problem = None
        if not isinstance(ident, str) or not ident:
            problem = ("missing_field", "comment without an id")
        elif not isinstance(text, str):
            problem = ("wrong_type", "comment text is not a string")
        elif published is None:
            problem = ("missing_field", "comment without publishedAt")
        elif _parse_time(published) is None:
            problem = ("invalid_timestamp", f"publishedAt {str(published)[:40]!r} is not ISO 8601")
        if problem is not None:
            out.dead_letters.append(dead_letter_item(comment, *problem, source))
            return
        record: dict[str, Any] = {
            "id": ident,
            "text": collected_text(text),
            "created_at": published,
            "thread_id": video,
            "author_id": (snippet.get("authorChannelId") or {}).get("value"),
            "platform": PLATFORM,
        }
        if parent_id is not None:
            record["parent_id"] = parent_id
        if self.brand is not None:
            out.records.append({**record, "brand": self.brand})
            return
        brands = self.watchlist.brands_for(channel_id=channel, text=text) if self.watchlist else []
        if not brands:
            detail = f"channel {channel} is no brand's and the text names none"
            out.dead_letters.append(dead_letter_item(comment, "no_brand", detail, source))
            return
        out.records.extend(self.watchlist.records_for(record, brands))  # type: ignore[union-attr]

    def commit(self) -> None:
        """Persist the position after the pages delivered so far, and the quota spent."""
        self.cursor = copy.deepcopy(self._work)
        self.cursor["quota"] = self.quota.state()
        self.cursor["resume_at"] = self.resume_at
        self.cursor_file.save(self.cursor)

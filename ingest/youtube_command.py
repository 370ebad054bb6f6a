"""`stormwatch collect youtube CHANNEL... --to FILE|-|URL`: comments of a channel's videos.

The API key comes only from STORMWATCH_YOUTUBE_API_KEY; `--check` spends one unit per
channel to prove the key and the channel ids before a long run. Each page is delivered
before its cursor is committed; a spent quota pauses the loop until midnight Pacific.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from stormwatch.exceptions import StormwatchError
from stormwatch.ingest.page_collector import poll_once
from stormwatch.ingest.platform_commands import DeadLetterOption, EveryOption, ToOption
from stormwatch.ingest.youtube_source import (
    API_KEY_ENV,
    API_URL_ENV,
    DEFAULT_DAILY_QUOTA,
    YouTubeCollector,
)

err = Console(stderr=True, soft_wrap=True, highlight=False)  # an error stays one line


def say_error(message: str) -> None:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)


def run_with_quota(
    collector: YouTubeCollector, destination: Any, *, dead_letter: Path | None, every: float
) -> int:
    """Poll until interrupted (or once when `every` is 0), waiting out a spent quota;
    the exit code: 1 when a poll failed and there is no next poll to retry it."""
    while True:
        try:
            err.print(escape(poll_once(collector, destination, dead_letter).line()))
        except StormwatchError as exc:
            say_error(str(exc))
            if not every:
                return 1
        resume_at = collector.resume_at
        if resume_at is not None and resume_at > time.time():
            when = dt.datetime.fromtimestamp(resume_at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            err.print(f"daily quota spent ({collector.quota.used} units): paused until {when}")
            if not every:
                return 0
            time.sleep(max(resume_at - time.time(), every))
            continue
        if not every:
            return 0
        time.sleep(every)


def youtube(
    channels: Annotated[
        list[str] | None, typer.Argument(help="YouTube channel ids (UC...).", show_default=False)
    ] = None,
    to: ToOption = None,
    cursor: Annotated[
        Path, typer.Option("--cursor", help="JSON file remembering what was read.")
    ] = Path("youtube-cursor.json"),
    brand: Annotated[
        str | None, typer.Option("--brand", help="Brand of every comment (else: the watchlist).")
    ] = None,
    watchlist: Annotated[
        Path | None,
        typer.Option("--watchlist", help="Watchlist YAML: brand by channel, else by text."),
    ] = None,
    videos: Annotated[
        int, typer.Option("--videos", min=1, max=50, help="Newest videos read per channel.")
    ] = 10,
    daily_quota: Annotated[
        int, typer.Option("--daily-quota", min=1, help="API units to spend per Pacific day.")
    ] = DEFAULT_DAILY_QUOTA,
    every: EveryOption = 0.0,
    dead_letter: DeadLetterOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Check the API key and channels, then exit.")
    ] = False,
) -> None:
    """Poll comments and replies of channels' newest videos (key: STORMWATCH_YOUTUBE_API_KEY)."""
    from stormwatch.ingest.collect_commands import Destination
    from stormwatch.ingest.watchlist import Watchlist

    channels = channels or []
    api_key = os.environ.get(API_KEY_ENV, "").strip()
    if not api_key:
        say_error(f"{API_KEY_ENV} is not set: the YouTube Data API needs an API key")
        raise typer.Exit(2)
    if not channels:
        say_error("give at least one channel id")
        raise typer.Exit(2)
    if not check:
        if to is None:
            say_error("give --to FILE, -, http://HOST:PORT/ingest or kafka://TOPIC")
            raise typer.Exit(2)
        if brand is None and watchlist is None:
            say_error("give --brand or --watchlist: every record needs a brand")
            raise typer.Exit(2)
    try:
        wl = Watchlist.load(watchlist) if watchlist is not None else None
        collector = YouTubeCollector(
            channels,
            cursor,
            api_key=api_key,
            api_url=os.environ.get(API_URL_ENV) or None,
            brand=brand,
            watchlist=wl,
            videos_per_channel=videos,
            daily_quota=daily_quota,
        )
    except Exception as exc:  # noqa: BLE001 - ConfigError, CollectorError, OSError: one line
        say_error(str(exc))
        raise typer.Exit(2) from None
    if check:
        try:
            err.print(escape(collector.check()))
        except Exception as exc:  # noqa: BLE001 - YouTubeError and the client's own
            say_error(str(exc))
            raise typer.Exit(1) from None
        finally:
            collector.commit()  # the units the check spent count against today's quota
        return
    try:
        destination = Destination(to)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - BadParameter, OSError, the broker's: one line
        say_error(str(exc))
        raise typer.Exit(2) from None
    try:
        code = run_with_quota(collector, destination, dead_letter=dead_letter, every=every)
    except KeyboardInterrupt:
        code = 0
    finally:
        destination.close()
    raise typer.Exit(code)

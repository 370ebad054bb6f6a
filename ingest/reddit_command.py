"""`stormwatch collect reddit --subreddit NAME --search QUERY --to FILE|-|URL`.

Credentials come only from the environment (STORMWATCH_REDDIT_CLIENT_ID, _CLIENT_SECRET,
_USER_AGENT); `--check` asks for a token and each subreddit's about page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from stormwatch.ingest.page_collector import run_page_collector
from stormwatch.ingest.platform_commands import DeadLetterOption, EveryOption, ToOption
from stormwatch.ingest.reddit_source import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    DEFAULT_USER_AGENT,
    OAUTH_URL_ENV,
    REDDIT_URL_ENV,
    USER_AGENT_ENV,
    RedditCollector,
    reddit_client,
    streams_for,
)

err = Console(stderr=True, soft_wrap=True, highlight=False)  # an error stays one line


def say_error(message: str) -> None:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)


def reddit(
    subreddit: Annotated[
        list[str] | None,
        typer.Option("--subreddit", help="Subreddit whose comments and submissions to read."),
    ] = None,
    search: Annotated[
        list[str] | None,
        typer.Option("--search", help="Search query (newest submissions, their comments)."),
    ] = None,
    to: ToOption = None,
    cursor: Annotated[
        Path, typer.Option("--cursor", help="JSON file remembering what was read.")
    ] = Path("reddit-cursor.json"),
    brand: Annotated[
        str | None, typer.Option("--brand", help="Brand of every item (else: the watchlist).")
    ] = None,
    watchlist: Annotated[
        Path | None,
        typer.Option("--watchlist", help="Watchlist YAML: brand by subreddit, else by text."),
    ] = None,
    every: EveryOption = 0.0,
    dead_letter: DeadLetterOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Check the credentials and subreddits, then exit.")
    ] = False,
) -> None:
    """Poll subreddits' comments and submissions and searches (praw; app credentials)."""
    from stormwatch.ingest.collect_commands import Destination
    from stormwatch.ingest.watchlist import Watchlist

    try:
        streams = streams_for(subreddit or [], search or [])
    except ValueError as exc:
        say_error(f"--subreddit: {exc}")
        raise typer.Exit(2) from None
    missing = [n for n in (CLIENT_ID_ENV, CLIENT_SECRET_ENV) if not os.environ.get(n, "").strip()]
    if missing:
        say_error(f"{' and '.join(missing)} not set: Reddit's API needs an app's credentials")
        raise typer.Exit(2)
    if not check:
        if not streams:
            say_error("give --subreddit or --search")
            raise typer.Exit(2)
        if to is None:
            say_error("give --to FILE, -, http://HOST:PORT/ingest or kafka://TOPIC")
            raise typer.Exit(2)
        if brand is None and watchlist is None:
            say_error("give --brand or --watchlist: every record needs a brand")
            raise typer.Exit(2)
    try:
        wl = Watchlist.load(watchlist) if watchlist is not None else None
        client = reddit_client(
            client_id=os.environ[CLIENT_ID_ENV].strip(),
            client_secret=os.environ[CLIENT_SECRET_ENV].strip(),
            user_agent=os.environ.get(USER_AGENT_ENV, "").strip() or DEFAULT_USER_AGENT,
            oauth_url=os.environ.get(OAUTH_URL_ENV) or None,
            reddit_url=os.environ.get(REDDIT_URL_ENV) or None,
        )
        collector = RedditCollector(streams, cursor, reddit=client, brand=brand, watchlist=wl)
    except Exception as exc:  # noqa: BLE001 - ConfigError, CollectorError, praw's: one line
        say_error(str(exc))
        raise typer.Exit(2) from None
    if check:
        try:
            err.print(escape(collector.check()))
        except Exception as exc:  # noqa: BLE001 - RedditError and the client's own
            say_error(str(exc))
            raise typer.Exit(1) from None
        return
    try:
        destination = Destination(to)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - BadParameter, OSError, the broker's: one line
        say_error(str(exc))
        raise typer.Exit(2) from None
    try:
        code = run_page_collector(
            collector, destination, dead_letter_path=dead_letter, every=every, console=err
        )
    except KeyboardInterrupt:
        code = 0
    finally:
        destination.close()
    raise typer.Exit(code)

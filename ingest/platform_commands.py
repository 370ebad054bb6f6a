"""`stormwatch collect mastodon` and `stormwatch collect bluesky`: the page collectors run
on their own, each page delivered to `--to` before its cursor is committed. `--check` asks
the server once instead (Mastodon: `verify_credentials`; Bluesky: the login and a search
for one post) and says in one line what is wrong.

Plain typer command functions, registered on `collect_app` by
`stormwatch.ingest.collect_commands`. Secrets come only from the environment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from stormwatch.exceptions import ConfigError, StormwatchError
from stormwatch.ingest.dead_letters import appendable
from stormwatch.ingest.page_collector import PageCollector, missing_client, run_page_collector

err = Console(stderr=True)
STREAMING_PAUSE_S = 0.01  # between a streaming window and the next poll

ToOption = Annotated[
    str | None,
    typer.Option(
        "--to", help="FILE, - (stdout), http://HOST:PORT/ingest or kafka://[HOST:PORT/]TOPIC."
    ),
]
BrandOption = Annotated[
    str | None, typer.Option("--brand", help="Brand of every record (else: the watchlist).")
]
WatchlistOption = Annotated[
    Path | None, typer.Option("--watchlist", help="Watchlist YAML: brand by account and text.")
]


def _every(value: float) -> float:
    """A pause `time.sleep` takes: -1, nan or inf ended the command in a traceback after
    its first poll."""
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"{value} is not a number of seconds (0 or more)")
    return value


def _dead_letter(path: Path | None) -> Path | None:
    """Checked before the first poll (`appendable`)."""
    if path is None:
        return None
    path = path.expanduser()
    try:
        return appendable(path)
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {path}: {exc.strerror or exc}") from None


EveryOption = Annotated[
    float,
    typer.Option("--every", help="Seconds between polls; 0 = poll once and exit.", callback=_every),
]
DeadLetterOption = Annotated[
    Path | None,
    typer.Option(
        "--dead-letter",
        help="Append items that could not be mapped here (JSONL).",
        callback=_dead_letter,
    ),
]
CheckOption = Annotated[
    bool,
    typer.Option("--check", help="Check the credentials and settings with the server, then exit."),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    """One line on stderr; exit 2 for what the command line or settings got wrong, 1 for
    what a platform or broker refused at run time."""
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


def _usage(message: str) -> typer.Exit:
    return _fail(message, 2)


def _run(
    build: Callable[[Any], PageCollector],
    *,
    to: str | None,
    brand: str | None,
    watchlist: Path | None,
    every: float,
    dead_letter: Path | None,
    check: bool = False,
) -> None:
    """Build the collector and the destination (errors: one line), then poll; with
    `check`, ask the server once instead (its refusal: exit 1)."""
    from stormwatch.ingest.collect_commands import Destination
    from stormwatch.ingest.watchlist import Watchlist

    if not check and to is None:
        raise _usage("give --to FILE, -, http://HOST:PORT/ingest or kafka://TOPIC")
    if not check and brand is None and watchlist is None:
        raise _usage("give --brand or --watchlist: every record needs a brand")
    try:
        wl = Watchlist.load(watchlist) if watchlist is not None else None
        collector = build(wl)
        destination = None if check else Destination(to)  # type: ignore[arg-type]
    except (typer.BadParameter, OSError, ConfigError) as exc:
        raise _usage(str(exc)) from None
    except StormwatchError as exc:  # a login refused, no broker answering
        raise _fail(str(exc), 1) from None
    except Exception as exc:  # noqa: BLE001 - the client library's own argument checks
        raise _usage(str(exc)) from None
    if destination is None:
        try:
            err.print(escape(collector.check()), soft_wrap=True, highlight=False)  # type: ignore[attr-defined]
        except StormwatchError as exc:
            raise _fail(str(exc), 1) from None
        finally:
            getattr(collector, "close", lambda: None)()
        return
    try:
        code = run_page_collector(
            collector, destination, dead_letter_path=dead_letter, every=every, console=err
        )
    except KeyboardInterrupt:
        code = 0
    finally:
        destination.close()
    if code:
        raise typer.Exit(code)


def mastodon(
    server: Annotated[
        str,
        typer.Option(
            "--server",
            envvar="STORMWATCH_MASTODON_SERVER",
            help="The Mastodon server, e.g. https://mastodon.social.",
        ),
    ],
    to: ToOption = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A hashtag timeline to follow (repeat).")
    ] = None,
    mentions: Annotated[
        bool, typer.Option("--mentions", help="Also the token's account's mentions.")
    ] = False,
    cursor: Annotated[
        Path, typer.Option("--cursor", help="JSON file remembering what was read.")
    ] = Path("mastodon-cursor.json"),
    brand: BrandOption = None,
    watchlist: WatchlistOption = None,
    every: EveryOption = 0.0,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="Between polls, take statuses from the streaming API as they are written "
            "(needs --every: the poll fills what a disconnected stream missed).",
        ),
    ] = False,
    dead_letter: DeadLetterOption = None,
    check: CheckOption = False,
) -> None:
    """Poll Mastodon hashtag timelines and mentions (token: STORMWATCH_MASTODON_TOKEN)."""
    from stormwatch.ingest.mastodon_source import TOKEN_ENV, MastodonCollector, MastodonStream

    if why := missing_client("mastodon"):
        raise _usage(why)
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise _usage(f"set {TOKEN_ENV} (an access token with read scope)")
    streams = [MastodonStream(t.removeprefix("#")) for t in tag or []]
    if mentions:
        streams.append(MastodonStream(None))
    if not streams:
        raise _usage("give at least one --tag or --mentions")
    if stream and every <= 0 and not check:
        raise _usage("--stream needs --every SECONDS: how often the poll catches up")

    def build(wl: Any) -> PageCollector:
        return MastodonCollector(
            server,
            token,
            streams,
            cursor,
            watchlist=wl,
            brand=brand,
            stream_seconds=every if stream else 0.0,
        )

    # Streaming, the time between polls is spent listening: no sleep of its own.
    pause = STREAMING_PAUSE_S if stream else every
    _run(
        build,
        to=to,
        brand=brand,
        watchlist=watchlist,
        every=pause,
        dead_letter=dead_letter,
        check=check,
    )


def bluesky(
    to: ToOption = None,
    query: Annotated[
        list[str] | None,
        typer.Option("--query", help="A search query (repeat); default: the watchlist's terms."),
    ] = None,
    server: Annotated[
        str,
        typer.Option(
            "--server",
            envvar="STORMWATCH_BLUESKY_SERVER",
            help="The account's PDS (or an entryway such as https://bsky.social).",
        ),
    ] = "https://bsky.social",
    cursor: Annotated[
        Path, typer.Option("--cursor", help="JSON file remembering what was read.")
    ] = Path("bluesky-cursor.json"),
    brand: BrandOption = None,
    watchlist: WatchlistOption = None,
    every: EveryOption = 0.0,
    dead_letter: DeadLetterOption = None,
    check: CheckOption = False,
) -> None:
    """Poll Bluesky searches for posts and replies.

    Logs in with STORMWATCH_BLUESKY_HANDLE and STORMWATCH_BLUESKY_APP_PASSWORD."""
    from stormwatch.ingest.bluesky_source import (
        HANDLE_ENV,
        PASSWORD_ENV,
        BlueskyCollector,
        queries_of,
    )

    if why := missing_client("atproto"):
        raise _usage(why)
    handle = os.environ.get(HANDLE_ENV, "").strip()
    password = os.environ.get(PASSWORD_ENV, "").strip()
    if not handle or not password:
        raise _usage(f"set {HANDLE_ENV} and {PASSWORD_ENV} (an app password)")

    def build(wl: Any) -> PageCollector:
        queries = list(query or []) or (queries_of(wl) if wl is not None else [])
        if not queries:
            raise ValueError("give --query, or a --watchlist with keywords or hashtags")
        return BlueskyCollector(
            server, handle, password, queries, cursor, watchlist=wl, brand=brand
        )

    _run(
        build,
        to=to,
        brand=brand,
        watchlist=watchlist,
        every=every,
        dead_letter=dead_letter,
        check=check,
    )

"""`stormwatch collect SOURCE ... --to FILE|-|http://HOST:PORT/ingest`: a collector on its
own, writing records in the input contract to a file, stdout or a `stormwatch serve`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from stormwatch.exceptions import StormwatchError
from stormwatch.ingest.decode import record_json
from stormwatch.ingest.kafka_destination import KafkaDestination
from stormwatch.ingest.platform_commands import EveryOption
from stormwatch.ingest.rss_source import Feed, FeedError, RssCollector
from stormwatch.ingest.watchlist import Watchlist
from stormwatch.retry_after import retry_after_seconds

collect_app = typer.Typer(help="Collectors: fetch comments from where they are written.")
err = Console(stderr=True)
BATCH = 500


class IngestRefused(StormwatchError):
    """`/ingest` did not take a batch (an error status, or no answer at all, as while
    `serve` restarts): the poll's cursor is not committed, and the next poll sends its
    records again. A `StormwatchError`, so a collector polling `--every` goes on."""


class Destination:
    """Where records go: JSONL appended to a file, stdout, POST /ingest of a server
    (bearer token from STORMWATCH_INGEST_TOKEN; 429 waits for Retry-After and resends),
    or a Kafka topic keyed by brand (`kafka://[HOST:PORT/]TOPIC`, see kafka_destination)."""

    def __init__(self, to: str, *, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        self.to = to
        self.client: Any = None
        self.out: IO[bytes] | None = None
        self.kafka: KafkaDestination | None = None
        if to.startswith(("http://", "https://")):
            import httpx

            token = env.get("STORMWATCH_INGEST_TOKEN")
            if not token:
                raise typer.BadParameter("--to http://... needs STORMWATCH_INGEST_TOKEN")
            self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30.0)
        elif to.startswith("kafka://"):
            self.kafka = KafkaDestination(to, env=env)
        elif to == "-":
            self.out = sys.stdout.buffer
        else:
            self.out = open(to, "ab")  # noqa: SIM115 - closed in close()

    def send(self, records: Sequence[dict[str, Any]]) -> None:
        if self.kafka is not None:
            self.kafka.send(records)  # ProduceError unless the broker acknowledged all
            return
        for i in range(0, len(records), BATCH):
            lines = [record_json(r) + b"\n" for r in records[i : i + BATCH]]
            if self.out is not None:
                self.out.write(b"".join(lines))
                self.out.flush()
                continue
            self._post(lines)

    def _post(self, lines: list[bytes]) -> None:
        """POST the lines as one body; a 413 (over `serve`'s `max_body_bytes` or its
        queue, or a proxy's limit) sends each half on its own: sent again whole, the page
        was refused at every poll, and nothing after it was ever delivered."""
        import httpx  # loaded with the client (`__init__`)

        while True:
            try:
                response = self.client.post(self.to, content=b"".join(lines))
            except httpx.HTTPError as exc:
                raise IngestRefused(f"{self.to}: {type(exc).__name__}: {exc}") from None
            if response.status_code == 429:
                time.sleep(retry_after_seconds(response.headers.get("retry-after"), 1.0))
                continue
            if response.status_code == 413 and len(lines) > 1:
                half = len(lines) // 2
                self._post(lines[:half])
                self._post(lines[half:])
                return
            if response.status_code != 202:
                raise IngestRefused(
                    f"{self.to} answered {response.status_code}: {response.text[:200]}"
                )
            return

    def close(self) -> None:
        if self.kafka is not None:
            self.kafka.close()
        if self.client is not None:
            self.client.close()
        if self.out is not None and self.out is not sys.stdout.buffer:
            self.out.close()


@collect_app.command("rss")
def rss(
    feeds: Annotated[list[str], typer.Argument(help="Feed URLs (RSS or Atom).")],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="FILE, - (stdout), http://HOST:PORT/ingest or kafka://[HOST:PORT/]TOPIC."
        ),
    ] = None,
    cursor: Annotated[
        Path, typer.Option("--cursor", help="JSON file remembering what was read.")
    ] = Path("rss-cursor.json"),
    brand: Annotated[
        str | None, typer.Option("--brand", help="Brand of every entry (else: the watchlist).")
    ] = None,
    watchlist: Annotated[
        Path | None, typer.Option("--watchlist", help="Watchlist YAML: brand by text.")
    ] = None,
    every: EveryOption = 0.0,
    check: Annotated[
        bool, typer.Option("--check", help="Fetch each feed once to check it, then exit.")
    ] = False,
) -> None:
    """Poll RSS/Atom feeds; new entries go to --to; the cursor survives restarts."""
    if not check and to is None:
        err.print(
            "[red]error:[/red] give --to FILE, -, http://HOST:PORT/ingest or kafka://TOPIC",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(2)
    if not check and brand is None and watchlist is None:
        err.print(
            "[red]error:[/red] give --brand or --watchlist: every record needs a brand",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(2)
    try:
        wl = Watchlist.load(watchlist) if watchlist is not None else None
        collector = RssCollector([Feed(u, brand) for u in feeds], cursor, watchlist=wl)
        destination = None if check else Destination(to)  # type: ignore[arg-type]
    except (FeedError, typer.BadParameter, OSError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    except Exception as exc:  # noqa: BLE001 - ConfigError of the watchlist and the like
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
    if destination is None:
        _check_feeds(collector)
        return
    try:
        while True:
            sent = 0
            try:
                for page in collector.pages():  # each feed delivered, then committed
                    destination.send(page.records)
                    collector.commit()
                    sent += len(page.records)
                err.print(f"{sent} new entries")
            except (FeedError, StormwatchError) as exc:  # a feed, or Kafka not acknowledging
                also = f" ({sent} new entries from the other feeds)" if sent else ""
                err.print(
                    f"[red]error:[/red] {escape(str(exc))}{also}", soft_wrap=True, highlight=False
                )
                if not every:
                    raise typer.Exit(1) from None
            if not every:
                return
            time.sleep(every)
    except KeyboardInterrupt:
        pass
    finally:
        destination.close()


def _check_feeds(collector: RssCollector) -> None:
    """`--check`: one line; exit 1 when a feed is refused, unreachable or not a feed."""
    try:
        err.print(escape(collector.check()), soft_wrap=True, highlight=False)
    except FeedError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None


def _api_collectors() -> None:
    # YouTube and Reddit: each command lives in its own module, beside its source.
    from stormwatch.ingest.reddit_command import reddit
    from stormwatch.ingest.youtube_command import youtube

    collect_app.command("youtube")(youtube)
    collect_app.command("reddit")(reddit)


_api_collectors()


def _platform_collectors() -> None:
    # Mastodon and Bluesky: page collectors, their commands in platform_commands.
    from stormwatch.ingest.platform_commands import bluesky, mastodon

    collect_app.command("mastodon")(mastodon)
    collect_app.command("bluesky")(bluesky)


_platform_collectors()

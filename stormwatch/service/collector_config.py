"""`[[collectors]]` of the config file: the collectors `stormwatch serve` runs itself.

Each table names a `source` (rss, mastodon, bluesky, youtube, reddit), its options (the
standalone command's, as TOML keys), a `cursor` file and a poll interval `every`.
Secrets come only from the environment, from the variables the standalone commands read
(`STORMWATCH_MASTODON_TOKEN`, ...). Everything is checked at start-up without asking any
platform: a wrong key, a missing secret or brand, an unreadable cursor file stops `serve`
with one line naming the setting. The collector itself is built by its thread (`build()`),
so a platform that is down or refuses a login at start-up is retried, not fatal.

```toml
[[collectors]]
source = "rss"
feeds = ["https://blog.example.com/comments/feed"]
brand = "acme"                   # else the [watchlist] file decides
cursor = "cursors/blog.json"     # relative to the config file
every = 300                      # seconds between polls
```
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stormwatch.alerts.config_section import SectionReader, config_path
from stormwatch.config import read_config_file
from stormwatch.exceptions import ConfigError
from stormwatch.ingest.dead_letters import appendable
from stormwatch.ingest.page_collector import CollectorError, CursorFile, PageCollector
from stormwatch.ingest.watchlist import Watchlist

SOURCES = ("rss", "mastodon", "bluesky", "youtube", "reddit")
COMMON_KEYS = {"source", "name", "cursor", "every", "brand", "dead_letter"}
SOURCE_KEYS = {
    "rss": {"feeds"},
    "mastodon": {"server", "tags", "mentions"},
    "bluesky": {"server", "queries"},
    "youtube": {"channels", "videos", "daily_quota"},
    "reddit": {"subreddits", "searches"},
}
DEFAULT_EVERY_S = 60.0
MIN_EVERY_S = 0.1


@dataclass(frozen=True, slots=True)
class CollectorSpec:
    """One configured collector: checked settings, and how to build it."""

    name: str
    source: str
    cursor: Path
    every: float
    dead_letter: Path | None
    build: Callable[[], PageCollector]


def load_collectors(
    path: str | Path | None,
    *,
    env: Mapping[str, str] | None = None,
    watchlist: Watchlist | None = None,
) -> list[CollectorSpec]:
    """The `[[collectors]]` tables (also `[[stormwatch.collectors]]`), checked; [] without."""
    env = os.environ if env is None else env
    chosen = config_path(path, env)
    if chosen is None:
        return []
    data = read_config_file(chosen)
    root = data if "collectors" in data else data.get("stormwatch", {})
    if not isinstance(root, dict):
        return []
    specs: list[CollectorSpec] = []
    for n, table in enumerate(SectionReader(root, "").tables("collectors")):
        spec = _spec(table, n, chosen.parent, env, watchlist)
        for other in specs:
            if other.name == spec.name:
                raise ConfigError(f"{table.name('name')}: {spec.name!r} is used twice")
            if other.cursor == spec.cursor:
                raise ConfigError(
                    f"{table.name('cursor')}: {spec.cursor} is also {other.name!r}'s cursor: "
                    "each collector needs its own"
                )
        specs.append(spec)
    return specs


def _spec(
    table: SectionReader, n: int, base: Path, env: Mapping[str, str], watchlist: Watchlist | None
) -> CollectorSpec:
    source = table.str("source")
    if source not in SOURCES:
        raise ConfigError(
            f"{table.name('source')} must be one of {', '.join(SOURCES)}, got {source!r}"
        )
    table.check_keys(COMMON_KEYS | SOURCE_KEYS[source])
    name = table.str("name") or f"{source}-{n}"
    cursor_name = table.str("cursor")
    if cursor_name is None:
        raise ConfigError(
            f"{table.name('cursor')} is missing: the JSON file remembering what was read"
        )
    cursor = _relative(base, cursor_name)
    try:
        CursorFile(cursor).load()  # a cursor that cannot be read stops start-up, not a poll
    except CollectorError as exc:
        raise ConfigError(f"{table.name('cursor')}: {exc}") from None
    dead = table.str("dead_letter")
    brand = table.str("brand")
    if brand is None and watchlist is None:
        raise ConfigError(
            f"{table.where}: give brand, or a [watchlist] file: every record needs a brand"
        )
    build = BUILDERS[source](table, cursor, brand, watchlist, env)
    return CollectorSpec(
        name=name,
        source=source,
        cursor=cursor,
        every=table.number("every", DEFAULT_EVERY_S, minimum=MIN_EVERY_S),
        dead_letter=_writable(_relative(base, dead), f"{table.where}.dead_letter")
        if dead
        else None,
        build=build,
    )


def _writable(path: Path, setting: str) -> Path:
    """A dead-letter file that can be appended to (`appendable`), else one line naming
    the setting."""
    try:
        return appendable(path)
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot write {path}: {exc.strerror or exc}") from None


def _relative(base: Path, name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else base / path


def _secret(table: SectionReader, env: Mapping[str, str], variable: str, what: str) -> str:
    value = env.get(variable, "").strip()
    if not value:
        raise ConfigError(f"{table.where} ({table.data['source']}): set {variable} ({what})")
    return value


def _nonempty(table: SectionReader, key: str) -> list[str]:
    values = list(table.str_list(key))
    if not values:
        raise ConfigError(f"{table.name(key)} is missing: give at least one")
    return values


def _client(table: SectionReader, module: str) -> None:
    from stormwatch.ingest.page_collector import missing_client

    if why := missing_client(module):
        raise ConfigError(f"{table.where} ({table.data['source']}): {why}")


def _rss(
    table: SectionReader, cursor: Path, brand: str | None, wl: Watchlist | None, env: Any
) -> Callable[[], PageCollector]:
    from stormwatch.ingest.rss_source import Feed, RssCollector

    feeds = [Feed(url, brand) for url in _nonempty(table, "feeds")]
    return lambda: RssCollector(feeds, cursor, watchlist=wl)


def _mastodon(
    table: SectionReader, cursor: Path, brand: str | None, wl: Watchlist | None, env: Any
) -> Callable[[], PageCollector]:
    from stormwatch.ingest.mastodon_source import TOKEN_ENV, MastodonCollector, MastodonStream

    _client(table, "mastodon")
    token = _secret(table, env, TOKEN_ENV, "an access token with read scope")
    server = table.str("server") or env.get("STORMWATCH_MASTODON_SERVER")
    if not server:
        raise ConfigError(f"{table.name('server')} is missing, e.g. https://mastodon.social")
    streams = [MastodonStream(t.removeprefix("#")) for t in table.str_list("tags")]
    if table.boolean("mentions", False):
        streams.append(MastodonStream(None))
    if not streams:
        raise ConfigError(f"{table.where} (mastodon): give tags, or mentions = true")
    return lambda: MastodonCollector(server, token, streams, cursor, watchlist=wl, brand=brand)


def _bluesky(
    table: SectionReader, cursor: Path, brand: str | None, wl: Watchlist | None, env: Any
) -> Callable[[], PageCollector]:
    from stormwatch.ingest.bluesky_source import (
        HANDLE_ENV,
        PASSWORD_ENV,
        BlueskyCollector,
        queries_of,
    )

    _client(table, "atproto")
    handle = _secret(table, env, HANDLE_ENV, "the account's handle")
    password = _secret(table, env, PASSWORD_ENV, "an app password")
    server = table.str("server") or env.get("STORMWATCH_BLUESKY_SERVER") or "https://bsky.social"
    queries = list(table.str_list("queries")) or (queries_of(wl) if wl is not None else [])
    if not queries:
        raise ConfigError(
            f"{table.name('queries')} is missing, and no watchlist has keywords or hashtags"
        )
    return lambda: BlueskyCollector(
        server, handle, password, queries, cursor, watchlist=wl, brand=brand
    )


def _youtube(
    table: SectionReader, cursor: Path, brand: str | None, wl: Watchlist | None, env: Any
) -> Callable[[], PageCollector]:
    from stormwatch.ingest.youtube_source import (
        API_KEY_ENV,
        API_URL_ENV,
        DEFAULT_DAILY_QUOTA,
        YouTubeCollector,
    )

    key = _secret(table, env, API_KEY_ENV, "a YouTube Data API key")
    channels = _nonempty(table, "channels")
    videos = int(table.number("videos", 10, minimum=1))
    if videos > 50:
        raise ConfigError(f"{table.name('videos')} must be <= 50, got {videos}")
    quota = int(table.number("daily_quota", DEFAULT_DAILY_QUOTA, minimum=1))
    api_url = env.get(API_URL_ENV) or None
    return lambda: YouTubeCollector(
        channels,
        cursor,
        api_key=key,
        api_url=api_url,
        brand=brand,
        watchlist=wl,
        videos_per_channel=videos,
        daily_quota=quota,
    )


def _reddit(
    table: SectionReader, cursor: Path, brand: str | None, wl: Watchlist | None, env: Any
) -> Callable[[], PageCollector]:
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

    client_id = _secret(table, env, CLIENT_ID_ENV, "a Reddit app's client id")
    secret = _secret(table, env, CLIENT_SECRET_ENV, "a Reddit app's client secret")
    try:
        streams = streams_for(list(table.str_list("subreddits")), list(table.str_list("searches")))
    except ValueError as exc:
        raise ConfigError(f"{table.where} (reddit): subreddits: {exc}") from None
    if not streams:
        raise ConfigError(f"{table.where} (reddit): give subreddits or searches")

    def build() -> PageCollector:
        client = reddit_client(
            client_id=client_id,
            client_secret=secret,
            user_agent=env.get(USER_AGENT_ENV, "").strip() or DEFAULT_USER_AGENT,
            oauth_url=env.get(OAUTH_URL_ENV) or None,
            reddit_url=env.get(REDDIT_URL_ENV) or None,
        )
        return RedditCollector(streams, cursor, reddit=client, brand=brand, watchlist=wl)

    return build


BUILDERS: dict[str, Callable[..., Callable[[], PageCollector]]] = {
    "rss": _rss,
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "youtube": _youtube,
    "reddit": _reddit,
}

"""Slack settings: secrets and endpoint from the environment, routing from `[slack]`.

```toml
[slack]
channel = "#social-alerts"          # default; STORMWATCH_SLACK_CHANNEL wins over it
update_interval_minutes = 30        # at most one thread reply per minor update per this
chart = true                        # PNG of the curve into the thread, where the token may

[[slack.routes]]                    # first match wins; no match: the default channel
brands = ["acme"]                   # empty or absent: any brand
min_severity = "high"
channel = "#acme-crisis"
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stormwatch.alerts.config_section import SectionReader, read_section
from stormwatch.alerts.event import SEVERITIES, route_matches
from stormwatch.exceptions import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_CHANNEL = "#stormwatch"


@dataclass(frozen=True, slots=True)
class SlackRoute:
    channel: str
    brands: frozenset[str] = frozenset()
    min_severity: str = "low"

    def accepts(self, brand: str, severity: str) -> bool:
        return route_matches(self.brands, self.min_severity, brand, severity)


@dataclass(frozen=True, slots=True)
class SlackConfig:
    token: str | None = None  # None: dry run, print what would be posted
    signing_secret: str | None = None
    api_url: str = DEFAULT_API_URL
    channel: str = DEFAULT_CHANNEL
    routes: tuple[SlackRoute, ...] = ()
    update_interval_minutes: float = 30.0
    chart: bool = True

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def channel_for(self, brand: str, severity: str) -> str:
        """Where an incident's message goes, chosen when it is first posted."""
        for route in self.routes:
            if route.accepts(brand, severity):
                return route.channel
        return self.channel


def load_slack_config(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None
) -> SlackConfig:
    """`[slack]` of the config file, then `SLACK_*`/`STORMWATCH_SLACK_CHANNEL` from `env`."""
    env = os.environ if env is None else env
    section = SectionReader(read_section("slack", path, env), "slack")
    section.check_keys({"channel", "routes", "update_interval_minutes", "chart"})
    routes = []
    for route in section.tables("routes"):
        route.check_keys({"brands", "min_severity", "channel"})
        channel = route.str("channel")
        if channel is None:
            raise ConfigError(f"{route.where}.channel is required")
        routes.append(
            SlackRoute(
                channel=channel,
                brands=frozenset(b.casefold() for b in route.str_list("brands")),
                min_severity=route.choice("min_severity", "low", SEVERITIES),
            )
        )
    channel = env.get("STORMWATCH_SLACK_CHANNEL") or section.str("channel") or DEFAULT_CHANNEL
    api_url = env.get("SLACK_API_URL") or DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    return SlackConfig(
        token=env.get("SLACK_BOT_TOKEN") or None,
        signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        api_url=api_url if api_url.endswith("/") else api_url + "/",
        channel=channel,
        routes=tuple(routes),
        update_interval_minutes=section.number("update_interval_minutes", 30.0),
        chart=section.boolean("chart", True),
    )

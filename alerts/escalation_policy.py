"""On-call escalation as configured in `[oncall]`: named targets, and policies per brand and
severity whose levels page targets after delays, within business hours or outside them,
held back in quiet hours unless the storm is severe enough.

```toml
[oncall]
timezone = "Europe/Berlin"
business_hours = "mon-fri 09:00-18:00"
quiet_hours = "22:00-07:00"          # pages wait until 07:00 ...
quiet_hours_override = "critical"    # ... unless the incident is this severe or worse

[oncall.targets.primary]
type = "pagerduty"                   # Events API v2; dedup_key = incident key
routing_key_env = "STORMWATCH_PAGERDUTY_KEY"
url = "https://events.pagerduty.com" # optional

[oncall.targets.am]
type = "alertmanager"                # API v2
url = "http://127.0.0.1:9093"

[oncall.targets.hook]
type = "webhook"                     # JSON, HMAC-SHA256 signed
url = "https://ops.example.com/stormwatch"
secret_env = "STORMWATCH_WEBHOOK_SECRET"

[[oncall.policies]]                  # first match wins; no match: Slack only
brands = ["acme"]                    # empty or absent: any brand
min_severity = "medium"
levels = [
  { after_minutes = 0,  targets = ["am"] },
  { after_minutes = 15, targets = ["primary"] },
  { after_minutes = 30, targets = ["hook"], when = "outside_business_hours" },
]
```
The Slack message itself is the first level ("notify the channel"); levels count from
the moment stormwatch recorded the incident (wall clock), and stop when someone
acknowledges, snoozes or resolves it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stormwatch.alerts.config_section import SectionReader, read_section
from stormwatch.alerts.event import SEVERITIES, route_matches, severity_rank
from stormwatch.exceptions import ConfigError

TARGET_TYPES = ("pagerduty", "alertmanager", "webhook")
WHEN = ("always", "business_hours", "outside_business_hours")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Local times [start, end); wraps midnight when end < start (quiet hours)."""

    start: time
    end: time
    days: frozenset[int] = frozenset(range(7))  # Monday = 0

    def contains(self, local: datetime) -> bool:
        t = local.time()
        if self.start == self.end:  # `00:00-24:00`, `09:00-09:00`: the whole day
            return local.weekday() in self.days
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= t < self.end
        if t >= self.start:
            return local.weekday() in self.days
        # after midnight: belongs to the previous day's range
        return (local.weekday() - 1) % 7 in self.days and t < self.end


def parse_time_range(text: str, where: str) -> TimeRange:
    """`09:00-18:00`, optionally after days: `mon-fri 09:00-18:00`, `sat,sun 10:00-14:00`;
    `00:00-24:00` is the whole day.

    >>> parse_time_range("mon-fri 09:00-18:00", "x").days == frozenset(range(5))
    True
    >>> parse_time_range("sat,sun 00:00-24:00", "x").contains(datetime(2026, 12, 5, 12))
    True
    """
    days_part, _, hours_part = text.strip().rpartition(" ")
    found = _HOURS.fullmatch(hours_part)
    if not found:
        raise ConfigError(f"{where} must look like 'mon-fri 09:00-18:00', got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        raise ConfigError(f"{where}: invalid time in {text!r}")
    days: set[int] = set()
    for part in filter(None, days_part.replace(" ", "").lower().split(",")):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ConfigError(f"{where}: unknown day in {text!r} (use {', '.join(DAYS)})")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    end = time(0) if h2 == 24 else time(h2, m2)
    return TimeRange(time(h1, m1), end, frozenset(days) if days else frozenset(range(7)))


@dataclass(frozen=True, slots=True)
class TargetConfig:
    name: str
    type: str
    url: str
    secret: str | None = None  # routing key (PagerDuty) or HMAC secret (webhook)

    @property
    def outbox_target(self) -> str:
        return f"oncall:{self.name}"


@dataclass(frozen=True, slots=True)
class Level:
    after_minutes: float
    targets: tuple[str, ...]
    when: str = "always"


@dataclass(frozen=True, slots=True)
class Policy:
    index: int
    levels: tuple[Level, ...]
    brands: frozenset[str] = frozenset()
    min_severity: str = "low"

    def accepts(self, brand: str, severity: str) -> bool:
        return route_matches(self.brands, self.min_severity, brand, severity)


@dataclass(frozen=True, slots=True)
class OncallConfig:
    targets: Mapping[str, TargetConfig]
    policies: tuple[Policy, ...] = ()
    timezone: ZoneInfo = ZoneInfo("UTC")
    business_hours: TimeRange | None = None
    quiet_hours: TimeRange | None = None
    quiet_hours_override: str = "critical"

    def policy_for(self, brand: str, severity: str) -> Policy | None:
        return next((p for p in self.policies if p.accepts(brand, severity)), None)

    def allows(self, level: Level, severity: str, now: float) -> bool:
        """Whether `level` may page at wall-clock `now` for an incident of `severity`."""
        local = datetime.fromtimestamp(now, self.timezone)
        in_business = self.business_hours is None or self.business_hours.contains(local)
        if level.when == "business_hours" and not in_business:
            return False
        if level.when == "outside_business_hours" and in_business:
            return False
        quiet = self.quiet_hours is not None and self.quiet_hours.contains(local)
        return not quiet or severity_rank(severity) >= severity_rank(self.quiet_hours_override)


def load_oncall_config(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None
) -> OncallConfig:
    """`[oncall]` of the config file; secrets named by `*_env` come from `env`."""
    env = os.environ if env is None else env
    section = SectionReader(read_section("oncall", path, env), "oncall")
    section.check_keys(
        {
            "timezone",
            "business_hours",
            "quiet_hours",
            "quiet_hours_override",
            "targets",
            "policies",
        }
    )
    try:
        zone = ZoneInfo(section.str("timezone", "UTC") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"oncall.timezone: unknown time zone {section.data['timezone']!r}"
        ) from None
    targets: dict[str, TargetConfig] = {}
    table = section.table("targets")
    for name in table.data:
        t = table.table(name)
        t.check_keys({"type", "url", "routing_key_env", "secret_env"})
        kind = t.choice("type", "", TARGET_TYPES) if "type" in t.data else None
        if kind is None:
            raise ConfigError(f"{t.where}.type is required ({', '.join(TARGET_TYPES)})")
        url = t.str("url", "https://events.pagerduty.com" if kind == "pagerduty" else None)
        if not _http_url(url):
            raise ConfigError(f"{t.where}.url must be an http(s) URL, got {url!r}")
        if "@" in urlsplit(str(url)).netloc:
            # urllib takes `user:pw@host` for the host name: every page was retried for
            # ever ("Name or service not known"), and the password sat in the file.
            raise ConfigError(
                f"{t.where}.url must not hold a user or password: the webhook's secret_env "
                "signs each request"
            )
        secret_key = {"pagerduty": "routing_key_env", "webhook": "secret_env"}.get(kind)
        secret = None
        if secret_key is not None:
            variable = t.str(secret_key)
            if variable is None:
                raise ConfigError(f"{t.where}.{secret_key} is required for a {kind} target")
            secret = env.get(variable)
            if not secret:
                raise ConfigError(f"{t.where}: environment variable {variable} is not set")
        # PagerDuty and Alertmanager get their API paths appended; a webhook's URL is
        # its receiver's route exactly as written (`/hook/` moved to `/hook` was
        # answered with a redirect, and the page was dead).
        url = str(url) if kind == "webhook" else str(url).rstrip("/")
        targets[name] = TargetConfig(name=name, type=kind, url=url, secret=secret)
    policies = []
    for i, p in enumerate(section.tables("policies")):
        p.check_keys({"brands", "min_severity", "levels"})
        levels = []
        for level in p.tables("levels"):
            level.check_keys({"after_minutes", "targets", "when"})
            names = level.str_list("targets")
            unknown = [n for n in names if n not in targets]
            if not names or unknown:
                raise ConfigError(
                    f"{level.where}.targets must name targets defined under [oncall.targets], "
                    f"unknown: {unknown or 'none given'}"
                )
            levels.append(
                Level(
                    after_minutes=level.number("after_minutes", 0.0),
                    targets=names,
                    when=level.choice("when", "always", WHEN),
                )
            )
        if not levels:
            raise ConfigError(f"{p.where}.levels must list at least one level")
        policies.append(
            Policy(
                index=i,
                levels=tuple(sorted(levels, key=lambda lv: lv.after_minutes)),
                brands=frozenset(b.casefold() for b in p.str_list("brands")),
                min_severity=p.choice("min_severity", "low", SEVERITIES),
            )
        )
    hours = section.str("business_hours")
    quiet = section.str("quiet_hours")
    return OncallConfig(
        targets=targets,
        policies=tuple(policies),
        timezone=zone,
        business_hours=parse_time_range(hours, "oncall.business_hours") if hours else None,
        quiet_hours=parse_time_range(quiet, "oncall.quiet_hours") if quiet else None,
        quiet_hours_override=section.choice("quiet_hours_override", "critical", SEVERITIES),
    )


def _http_url(url: str | None) -> bool:
    """http(s) with a host that parses: `http://[::1` passed a prefix check, and then
    every page crashed in the outbox and was retried for ever."""
    if url is None or not url.startswith(("http://", "https://")):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises only when read
    except ValueError:
        return False
    return bool(parts.hostname)

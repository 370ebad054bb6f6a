"""One component's section of the stormwatch TOML file (`[slack]`, `[oncall]`).

`stormwatch.config` reads the flat `[stormwatch]` settings and leaves sub-tables to the
components that own them; each component parses and validates its own section here, from
the same file (`--config` or `STORMWATCH_CONFIG`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stormwatch.config import config_section
from stormwatch.exceptions import ConfigError


def config_path(path: str | Path | None, env: Mapping[str, str] | None = None) -> Path | None:
    """The config file in use: the explicit path, else `STORMWATCH_CONFIG`, else none."""
    env = os.environ if env is None else env
    chosen = path or env.get("STORMWATCH_CONFIG")
    return Path(chosen) if chosen else None


def read_section(
    name: str, path: str | Path | None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The `[name]` table of the config file (also under `[stormwatch.name]`), or {}."""
    return config_section(name, path, env)


class SectionReader:
    """Typed access to one table with errors that name the setting (`slack.routes[1].channel`).

    Unknown keys are errors, so a typo never silently drops a route or a page.
    """

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def check_keys(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed))
            raise ConfigError(f"{self.where}: unknown setting {unknown[0]!r} (known: {known})")

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def str(self, key: str, default: str | None = None) -> str | None:
        raw = self.data.get(key, default)
        if raw is not None and not isinstance(raw, str):
            raise ConfigError(f"{self.name(key)} must be a string, got {raw!r}")
        if raw == "":
            raise ConfigError(f"{self.name(key)} must not be empty")
        return raw

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.data.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise ConfigError(f"{self.name(key)} must be a finite number, got {raw!r}")
        if raw < minimum:
            raise ConfigError(f"{self.name(key)} must be >= {minimum:g}, got {raw!r}")
        return float(raw)

    def boolean(self, key: str, default: bool) -> bool:
        raw = self.data.get(key, default)
        if not isinstance(raw, bool):
            raise ConfigError(f"{self.name(key)} must be true or false, got {raw!r}")
        return raw

    def str_list(self, key: str) -> tuple[str, ...]:
        raw = self.data.get(key, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
            raise ConfigError(f"{self.name(key)} must be a list of strings, got {raw!r}")
        return tuple(raw)

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        raw = self.str(key, default)
        if raw not in allowed:
            raise ConfigError(f"{self.name(key)} must be one of {', '.join(allowed)}, got {raw!r}")
        return raw

    def tables(self, key: str) -> list[SectionReader]:
        raw = self.data.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            raise ConfigError(f"{self.name(key)} must be an array of tables ([[{self.name(key)}]])")
        return [SectionReader(t, f"{self.name(key)}[{i}]") for i, t in enumerate(raw)]

    def table(self, key: str) -> SectionReader:
        raw = self.data.get(key, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{self.name(key)} must be a table")
        return SectionReader(raw, self.name(key))

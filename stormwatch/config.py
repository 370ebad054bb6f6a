"""Settings: one frozen object, from a TOML file and `STORMWATCH_*` environment variables
(the environment wins), validated at start-up with errors that name the setting.

Secrets (tokens) are never read from the file: only from the environment.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from stormwatch.exceptions import ConfigError

ENV_PREFIX = "STORMWATCH_"


def pseudonym_key(env: Mapping[str, str] | None = None) -> bytes:
    """The privacy key, from the environment only; a clear error when it is missing."""
    env = os.environ if env is None else env
    key = env.get(f"{ENV_PREFIX}PSEUDONYM_KEY", "")
    if len(key) < 6:
        raise ConfigError(
            "pseudonymize_authors is on but STORMWATCH_PSEUDONYM_KEY is not set "
            "(at least 6 characters)"
        )
    return key.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Settings:
    # Event time
    lateness_seconds: float = 120.0
    thread_idle_seconds: float = 3 * 3600.0
    # Enrichment
    negative_threshold: float = 0.5  # negativity at or above which a comment counts as negative
    negativity_en: str = "lexicon"  # negativity backend per language: "lexicon" or "model"
    negativity_de: str = "lexicon"
    negativity_model: str | None = None  # a retrained model file instead of the shipped one
    topics_file: str | None = None
    # Detection
    # Expected false alarms per brand and month: every test's threshold follows from it.
    false_alarms_per_month: float = 1.0
    min_accounts: int = 5  # distinct negative accounts a storm needs
    quiet_minutes: int = 30  # calm minutes in a row that resolve an incident
    update_minutes: int = 30
    # Storage and output
    database_url: str | None = None  # default: no store (embedded run) unless --db given
    playbooks_dir: str | None = None
    # Privacy: replace author ids by keyed hashes on ingest (key: STORMWATCH_PSEUDONYM_KEY)
    pseudonymize_authors: bool = False

    def __post_init__(self) -> None:
        checks = [
            (self.lateness_seconds >= 0, "lateness_seconds must be >= 0"),
            (self.thread_idle_seconds > 0, "thread_idle_seconds must be > 0"),
            (0.0 < self.negative_threshold < 1.0, "negative_threshold must be in (0, 1)"),
            (self.negativity_en in ("model", "lexicon"), "negativity_en must be model or lexicon"),
            (self.negativity_de in ("model", "lexicon"), "negativity_de must be model or lexicon"),
            (
                0.0 < self.false_alarms_per_month <= 1000.0,
                "false_alarms_per_month must be in (0, 1000]",
            ),
            (self.min_accounts >= 1, "min_accounts must be >= 1"),
            (self.quiet_minutes >= 1, "quiet_minutes must be >= 1"),
            (self.update_minutes >= 1, "update_minutes must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


def _coerce(name: str, raw: Any, annotation: str) -> Any:
    kind = annotation.replace(" | None", "")
    if raw is None or (isinstance(raw, str) and raw == "" and "None" in annotation):
        if "None" in annotation:
            return None
        raise ConfigError(f"{name} must not be empty")
    try:
        if kind == "float":
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
        if kind == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(raw)
        if kind == "str":
            return str(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).strip().lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a {kind}, got {raw!r}") from None
    raise ConfigError(f"{name}: unsupported type {annotation}")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The whole TOML config file, with errors that name it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None


def config_section(
    name: str, path: str | Path | None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The `[name]` table (also found under `[stormwatch.name]`) of the config file in use:
    `path`, else `STORMWATCH_CONFIG`; {} without a file or table."""
    env = os.environ if env is None else env
    chosen = path or env.get(f"{ENV_PREFIX}CONFIG")
    if not chosen:
        return {}
    data = read_config_file(chosen)
    section = data.get(name)
    if section is None:
        section = data.get("stormwatch", {}).get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"config file {chosen}: [{name}] must be a table")
    return section


def load_settings(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """File < environment < explicit overrides (command-line options).

    >>> load_settings(env={"STORMWATCH_FALSE_ALARMS_PER_MONTH": "0.5"}).false_alarms_per_month
    0.5
    """
    env = os.environ if env is None else env
    known = {f.name: str(f.type) for f in fields(Settings)}
    values: dict[str, Any] = {}
    path = path or env.get(f"{ENV_PREFIX}CONFIG")
    if path:
        data = read_config_file(path)
        section = data.get("stormwatch", data)
        for key, raw in section.items():
            if isinstance(raw, dict):
                continue  # other sections (slack, kafka, ...) belong to their components
            if key not in known:
                raise ConfigError(f"config file {path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, known[key])
    for name, annotation in known.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(ENV_PREFIX + name.upper(), raw, annotation)
    for name, raw in (overrides or {}).items():
        if raw is not None:
            values[name] = raw
    return dataclasses.replace(Settings(), **values)

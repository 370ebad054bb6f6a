"""Settings: one frozen object, from a TOML file and `STORMWATCH_*` environment variables
(the environment wins), validated at start-up with errors that name the setting.

Secrets (tokens) are never read from the file: only from the environment.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from stormwatch.exceptions import ConfigError, StormwatchError

ENV_PREFIX = "STORMWATCH_"


MIN_KEY_CHARS = 32
MIN_KEY_DISTINCT = 10


def pseudonym_key(env: Mapping[str, str] | None = None) -> bytes:
    """The privacy key, from the environment only; a clear error when it is missing or
    plainly weak.

    A key's randomness cannot be measured from the key, so this refuses what is
    obviously guessable: fewer than 32 characters (blanks around it not counted), fewer
    than 10 distinct characters, or a shorter pattern repeated (`abcabc...`). A key from
    `openssl rand -hex 32` (64 characters, 256 random bits) passes.

    >>> pseudonym_key({"STORMWATCH_PSEUDONYM_KEY": "0123456789abcdef" * 3})
    Traceback (most recent call last):
    ...
    stormwatch.exceptions.ConfigError: STORMWATCH_PSEUDONYM_KEY is a repeated pattern: ...
    """
    env = os.environ if env is None else env
    name = f"{ENV_PREFIX}PSEUDONYM_KEY"
    # Blanks around it are no part of it: a key file's newline gave every author other
    # pseudonyms than the same key without it (services stopped matching accounts).
    key = env.get(name, "").strip()
    hint = "generate one with `openssl rand -hex 32`"
    if not key:
        raise ConfigError(f"pseudonymize_authors is on but {name} is not set: {hint}")
    if len(key) < MIN_KEY_CHARS:
        raise ConfigError(f"{name} has {len(key)} characters (at least {MIN_KEY_CHARS}): {hint}")
    if len(set(key)) < MIN_KEY_DISTINCT:
        raise ConfigError(
            f"{name} has only {len(set(key))} distinct characters "
            f"(at least {MIN_KEY_DISTINCT}): {hint}"
        )
    n = len(key)
    if any(key == key[:p] * (n // p) + key[: n % p] for p in range(1, n // 2 + 1)):
        raise ConfigError(f"{name} is a repeated pattern: {hint}")
    return key.encode("utf-8")


# Variables read outside `Settings`, beside its fields and the Kafka ones.
OTHER_VARIABLES = frozenset(
    {
        "CONFIG",
        "PSEUDONYM_KEY",
        "SLACK_CHANNEL",
        "METRICS_PORT",
        "METRICS_HOST",
        "INGEST_TOKEN",
        "PAGERDUTY_KEY",
        "WEBHOOK_SECRET",
        "NAB_DIR",
        "REQUIRE_SERVICES",
        "PG_HOST_PORT",  # docker compose (deploy/compose.kafka.yaml)
        # collectors (`stormwatch collect`, `[[collectors]]` of serve): credentials, servers
        "MASTODON_TOKEN",
        "MASTODON_SERVER",
        "BLUESKY_HANDLE",
        "BLUESKY_APP_PASSWORD",
        "BLUESKY_SERVER",
        "YOUTUBE_API_KEY",
        "YOUTUBE_API_URL",
        "REDDIT_CLIENT_ID",
        "REDDIT_CLIENT_SECRET",
        "REDDIT_USER_AGENT",
        "REDDIT_OAUTH_URL",
        "REDDIT_URL",
    }
)
OPEN_PREFIXES = ("INGEST_TOKEN_",)  # per-source ingest tokens
# The three hours of closed minutes each key keeps (`key_window.HISTORY_MINUTES`): a
# minute held open longer could no longer take its late comments into its history.
MAX_LATENESS_SECONDS = 3 * 3600.0


def known_variables(config_path: str | Path | None = None) -> set[str]:
    """Every `STORMWATCH_*` variable stormwatch reads: the settings, the Kafka settings,
    the others above, and any the config file names (`*_env` secrets, `[ingest.tokens]`)."""
    from stormwatch.kafka.settings import ENV_PREFIX as KAFKA_PREFIX
    from stormwatch.kafka.settings import KafkaSettings

    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)}
    known |= {KAFKA_PREFIX + f.name.upper() for f in fields(KafkaSettings)}
    known |= {ENV_PREFIX + name for name in OTHER_VARIABLES}
    if config_path:
        stack: list[Any] = [read_config_file(config_path)]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
            elif isinstance(value, str) and value.startswith(ENV_PREFIX):
                known.add(value)
    return known


def check_environment(
    env: Mapping[str, str] | None = None, config_path: str | Path | None = None
) -> None:
    """Stop at start-up on a `STORMWATCH_*` variable nothing reads: a misspelling
    (`STORMWATCH_PSEUDONYMISE_AUTHORS`) would otherwise be ignored without a word."""
    import difflib

    env = os.environ if env is None else env
    config_path = config_path or env.get(f"{ENV_PREFIX}CONFIG")
    known = known_variables(config_path)
    open_prefixes = tuple(ENV_PREFIX + p for p in OPEN_PREFIXES)
    unknown = sorted(
        name
        for name in env
        if name.startswith(ENV_PREFIX) and name not in known and not name.startswith(open_prefixes)
    )
    if unknown:
        guesses = [
            f"{name} (did you mean {close[0]}?)"
            if (close := difflib.get_close_matches(name, known, n=1, cutoff=0.8))
            else name
            for name in unknown
        ]
        raise ConfigError(
            f"unknown environment variable{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(guesses)}; known ones: {', '.join(sorted(known))}, "
            f"{', '.join(p + '*' for p in open_prefixes)}"
        )


@dataclass(frozen=True, slots=True)
class Settings:
    # Event time
    lateness_seconds: float = 120.0
    thread_idle_seconds: float = 3 * 3600.0
    # Redelivered ids are recognised for this long of stream time (bounded: see pipeline.py).
    dedupe_hours: float = 7 * 24.0
    # Enrichment
    negative_threshold: float = 0.5  # negativity at or above which a comment counts as negative
    negativity_en: str = "model"  # negativity backend per language: "lexicon" or "model"
    negativity_de: str = "model"
    negativity_model: str | None = None  # a retrained model file instead of the shipped one
    topics_file: str | None = None
    # Detection
    # Expected false alarms per brand and month: every test's threshold follows from it.
    false_alarms_per_month: float = 1.0
    min_accounts: int = 5  # distinct negative accounts a storm needs
    quiet_minutes: int = 30  # calm minutes in a row that resolve an incident (at least)
    update_minutes: int = 30
    # Storage and output
    database_url: str | None = None  # default: no store (embedded run) unless --db given
    # `run --db` and `serve` checkpoint the pipeline's state to the store this often (wall
    # clock), and at the end of the input or at stop; a restart resumes from it.
    checkpoint_seconds: float = 60.0
    playbooks_dir: str | None = None
    # Privacy: replace author ids by keyed hashes on ingest (key: STORMWATCH_PSEUDONYM_KEY)
    pseudonymize_authors: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number, got {value}")
        checks = [
            (
                0 <= self.lateness_seconds <= MAX_LATENESS_SECONDS,
                f"lateness_seconds must be in [0, {MAX_LATENESS_SECONDS:.0f}]",
            ),
            (self.thread_idle_seconds > 0, "thread_idle_seconds must be > 0"),
            (0 < self.dedupe_hours <= 24 * 366, "dedupe_hours must be in (0, 8784]"),
            (self.checkpoint_seconds > 0, "checkpoint_seconds must be > 0"),
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
            if isinstance(raw, bool) or not math.isfinite(value := float(raw)):
                raise ValueError
            return value
        if kind == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(raw)
        if kind == "str":
            if not isinstance(raw, str):  # a TOML number, list or boolean
                raise ValueError
            return raw
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).strip().lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {KIND_NAMES.get(kind, kind)}, got {raw!r}") from None
    raise ConfigError(f"{name}: unsupported type {annotation}")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The whole TOML config file, with errors that name it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))  # BOM or none
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None


# How a setting's type is named to the person who wrote the wrong one.
KIND_NAMES = {
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "bool": "true or false (or 1/0, yes/no, on/off)",
}


def stormwatch_table(data: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The `[stormwatch]` table of a config file, or the whole file without one. With the
    table, a setting outside it is refused: it would be ignored without a word."""
    section = data.get("stormwatch")
    if section is None:
        return data
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: stormwatch must be a table ([stormwatch])")
    stray = sorted(key for key, value in data.items() if not _is_table(value))
    if stray:
        raise ConfigError(
            f"config file {path}: {', '.join(stray)} outside the [stormwatch] table "
            "(put settings inside it)"
        )
    return section


# The tables of a config file, each read by its component (`config_section`).
COMPONENT_TABLES = frozenset({"slack", "oncall", "kafka", "ingest", "watchlist", "collectors"})


def check_tables(data: dict[str, Any], path: str | Path) -> None:
    """Every table of the file is one a component reads: a misspelt `[oncal]` or
    `[stormwach]` was skipped without a word, and nobody was paged or privacy stayed
    off, while a misspelt key stopped the start."""
    top = COMPONENT_TABLES | {"stormwatch"}
    inner = data.get("stormwatch")
    found = [(key, top, "") for key, value in data.items() if _is_table(value)]
    if isinstance(inner, dict):
        found += [
            (key, COMPONENT_TABLES, "stormwatch.")
            for key, value in inner.items()
            if _is_table(value)
        ]
    for name, known, prefix in found:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean [{prefix}{close[0]}]?)" if close else ""
            raise ConfigError(f"config file {path}: unknown table [{prefix}{name}]{hint}")


def _is_table(value: Any) -> bool:
    """A table or an array of tables (`[slack]`, `[[collectors]]`): a component's own."""
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(t, dict) for t in value)
    )


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
        section = stormwatch_table(data, chosen).get(name, {})
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
    check_environment(env, path)
    if path:
        values.update(file_settings(path))
    for name, annotation in known.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(ENV_PREFIX + name.upper(), raw, annotation)
    for name, raw in (overrides or {}).items():
        if raw is not None:
            values[name] = raw
    settings = dataclasses.replace(Settings(), **values)
    check_setting_files(settings)
    return settings


def file_settings(path: str | Path) -> dict[str, Any]:
    """The `[stormwatch]` settings of the config file at `path`, checked with the rest of
    the file: every table one a component reads (`check_tables`), every setting known
    and of its type. Commands that read one table only (`produce`, `collect`) check the
    file through this too, so a file one command refuses no other takes."""
    known = {f.name: str(f.type) for f in fields(Settings)}
    values: dict[str, Any] = {}
    data = read_config_file(path)
    check_tables(data, path)
    for key, raw in stormwatch_table(data, path).items():
        if _is_table(raw):
            continue  # other sections (slack, kafka, [[collectors]]) are their components
        if key not in known:
            raise ConfigError(f"config file {path}: unknown setting {key!r}")
        values[key] = _coerce(key, raw, known[key])
    return values


def check_setting_files(settings: Settings) -> None:
    """The files the settings name are read once at start-up, so a missing or broken one
    stops it with one line naming the setting (`topics_file`, `negativity_model`) instead
    of a traceback from deep inside the first component that opens it."""
    if settings.topics_file:
        from stormwatch.detectors.topics import load_vocabulary

        try:
            load_vocabulary(settings.topics_file)
        except OSError as exc:
            raise ConfigError(
                f"topics_file {settings.topics_file}: {exc.strerror or exc}"
            ) from None
        except StormwatchError as exc:  # not valid YAML, or not a vocabulary
            raise ConfigError(f"topics_file: {_one_line(exc)}") from None
    uses_model = "model" in (settings.negativity_en, settings.negativity_de)
    if settings.negativity_model and uses_model:
        from stormwatch.detectors.negativity_model import load_model

        path = Path(settings.negativity_model)
        if not path.is_file():
            raise ConfigError(f"negativity_model {path}: no such file")
        try:
            models = load_model(path).models
        except StormwatchError as exc:  # load_model's own words name the path
            raise ConfigError(f"negativity_model: {_one_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - whatever the file is, it is no model
            raise ConfigError(
                f"negativity_model {path}: not a negativity model file ({type(exc).__name__})"
            ) from None
        for lang, backend in (("en", settings.negativity_en), ("de", settings.negativity_de)):
            if backend == "model" and lang not in models:
                raise ConfigError(
                    f"negativity_model {path}: has no {lang!r} model, but negativity_{lang} "
                    "is model"
                )


def _one_line(exc: BaseException) -> str:
    """An error message on one line (a YAML error spans several)."""
    return " ".join(str(exc).split())

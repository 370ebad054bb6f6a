"""Kafka settings for `stormwatch produce` and `stormwatch worker`: one frozen object.

Sources, later wins: the `[kafka]` section of the TOML config file, `STORMWATCH_KAFKA_*`
environment variables, then command-line options. Client settings for real clusters
(security protocol, SASL, TLS files) pass through to kafka-python unchanged; the SASL
password and user name come only from the environment, like every other secret.

```toml
[kafka]
bootstrap = "broker-1:9093,broker-2:9093"
topic = "comments"
group = "stormwatch"
partitions = 12                 # only used when the topic is created
replication_factor = 3
security_protocol = "SASL_SSL"
sasl_mechanism = "SCRAM-SHA-512"
ssl_cafile = "/etc/stormwatch/ca.pem"
```

Environment variables: STORMWATCH_KAFKA_BOOTSTRAP, STORMWATCH_KAFKA_TOPIC,
STORMWATCH_KAFKA_GROUP, STORMWATCH_KAFKA_ALERTS_TOPIC,
STORMWATCH_KAFKA_DEAD_LETTER_TOPIC, STORMWATCH_KAFKA_CHANGELOG_TOPIC,
STORMWATCH_KAFKA_CREATE_TOPICS, STORMWATCH_KAFKA_PARTITIONS,
STORMWATCH_KAFKA_REPLICATION_FACTOR, STORMWATCH_KAFKA_CHECKPOINT_SECONDS,
STORMWATCH_KAFKA_MAX_POLL_RECORDS, STORMWATCH_KAFKA_SESSION_TIMEOUT_MS,
STORMWATCH_KAFKA_HEARTBEAT_INTERVAL_MS, STORMWATCH_KAFKA_OUTBOX_LEASE_SECONDS,
STORMWATCH_KAFKA_CLIENT_ID, STORMWATCH_KAFKA_SECURITY_PROTOCOL,
STORMWATCH_KAFKA_SASL_MECHANISM, STORMWATCH_KAFKA_SASL_PLAIN_USERNAME,
STORMWATCH_KAFKA_SASL_PLAIN_PASSWORD, STORMWATCH_KAFKA_SSL_CAFILE,
STORMWATCH_KAFKA_SSL_CERTFILE, STORMWATCH_KAFKA_SSL_KEYFILE.

>>> s = load_kafka_settings(
...     env={"STORMWATCH_KAFKA_BOOTSTRAP": "k1:9092", "STORMWATCH_KAFKA_TOPIC": "c"}
... )
>>> (s.bootstrap, s.dead_letter_topic, s.changelog_topic)
('k1:9092', 'c-dlq', 'stormwatch-c-changelog')
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from stormwatch.config import KIND_NAMES, config_section, file_settings
from stormwatch.exceptions import ConfigError

ENV_PREFIX = "STORMWATCH_KAFKA_"
SECRETS = frozenset({"sasl_plain_username", "sasl_plain_password"})
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")
_LEGAL_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")  # Kafka's own rule for topic names


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    bootstrap: str = ""
    topic: str = "comments"
    group: str = "stormwatch"
    alerts_topic: str = "stormwatch-alerts"
    dead_letter_topic: str = ""  # "" = the input topic with "-dlq" appended
    changelog_topic: str = ""  # "" = f"{group}-{topic}-changelog"
    # Topic creation (only when a topic is missing; existing topics are left as they are).
    create_topics: bool = True
    partitions: int = 6
    replication_factor: int = 1
    # Worker behaviour.
    checkpoint_seconds: float = 5.0  # how often state is checkpointed and offsets committed
    max_poll_records: int = 2000
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    outbox_lease_seconds: float = 30.0  # a crashed worker's unsent alerts return after this
    client_id: str = "stormwatch"
    # Passed through to kafka-python for real clusters.
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_plain_username: str | None = None  # environment only
    sasl_plain_password: str | None = None  # environment only
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def __post_init__(self) -> None:
        if not self.dead_letter_topic:
            object.__setattr__(self, "dead_letter_topic", f"{self.topic}-dlq")
        if not self.changelog_topic:
            object.__setattr__(self, "changelog_topic", f"{self.group}-{self.topic}-changelog")
        checks = [
            (bool(self.topic), "kafka topic must not be empty"),
            (bool(self.group), "kafka group must not be empty"),
            (self.partitions >= 1, "kafka partitions must be >= 1"),
            (self.replication_factor >= 1, "kafka replication_factor must be >= 1"),
            (self.checkpoint_seconds > 0, "kafka checkpoint_seconds must be > 0"),
            (self.max_poll_records >= 1, "kafka max_poll_records must be >= 1"),
            (
                self.heartbeat_interval_ms < self.session_timeout_ms,
                "kafka heartbeat_interval_ms must be below session_timeout_ms",
            ),
            (self.outbox_lease_seconds > 0, "kafka outbox_lease_seconds must be > 0"),
            (
                self.security_protocol in SECURITY_PROTOCOLS,
                f"kafka security_protocol must be one of {SECURITY_PROTOCOLS}",
            ),
            (
                self.sasl_mechanism is None or self.sasl_mechanism in SASL_MECHANISMS,
                f"kafka sasl_mechanism must be one of {SASL_MECHANISMS}",
            ),
            (
                self.sasl_mechanism is None or self.security_protocol.startswith("SASL"),
                "kafka sasl_mechanism needs security_protocol SASL_PLAINTEXT or SASL_SSL",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        topics = {
            "topic": self.topic,
            "alerts_topic": self.alerts_topic,
            "dead_letter_topic": self.dead_letter_topic,
            "changelog_topic": self.changelog_topic,
        }
        for name, value in topics.items():
            if not _LEGAL_TOPIC.fullmatch(value) or value in (".", ".."):
                derived = " (made from the group)" if name == "changelog_topic" else ""
                raise ConfigError(
                    f"kafka {name} {value!r}{derived} is not a legal topic name: "
                    "1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-'"
                )
        seen: dict[str, str] = {}
        for name, value in topics.items():
            if value in seen:
                # A dead-letter topic equal to the input read each bad record back and
                # dead-lettered it again, for ever; a changelog fed checkpoints in.
                raise ConfigError(f"kafka {name} must differ from {seen[value]} ({value!r})")
            seen[value] = name
        for server in self.bootstrap.split(",") if self.bootstrap else ():
            _check_server(server.strip())
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ConfigError(f"kafka {name}: file {path} not found")

    def require_bootstrap(self) -> str:
        """The broker list; a clear error naming both ways to set it when it is missing."""
        if not self.bootstrap:
            raise ConfigError(
                "kafka bootstrap servers are not set: use --bootstrap HOST:PORT, "
                f"{ENV_PREFIX}BOOTSTRAP or `bootstrap` in the [kafka] section"
            )
        return self.bootstrap

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments every kafka-python client here gets (connection and security)."""
        options: dict[str, Any] = {
            "bootstrap_servers": [s.strip() for s in self.require_bootstrap().split(",")],
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
        }
        for name in (
            "sasl_mechanism",
            "sasl_plain_username",
            "sasl_plain_password",
            "ssl_cafile",
            "ssl_certfile",
            "ssl_keyfile",
        ):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        return options


def _check_server(server: str) -> None:
    """`host`, `host:port` or `[v6-address]:port`: kafka-python raises a bare ValueError
    deep in the first connection on anything else."""
    if server.startswith("["):
        host, bracket, rest = server[1:].partition("]")
        colon, port = rest[:1], rest[1:]
        ok = bool(host and bracket) and (rest == "" or colon == ":")
    elif server.count(":") > 1:  # a bare IPv6 address, no port
        host, colon, port, ok = server, "", "", True
    else:
        host, colon, port = server.partition(":")
        ok = bool(host)
    if not ok or (colon and not (port.isdigit() and 1 <= int(port) <= 65535)):
        raise ConfigError(
            f"kafka bootstrap server {server!r} must be HOST or HOST:PORT (port 1-65535)"
        )


def _coerce(name: str, raw: Any, annotation: str) -> Any:
    kind = annotation.replace(" | None", "")
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(raw)
        if kind == "float":
            if isinstance(raw, bool) or not math.isfinite(value := float(raw)):
                raise ValueError
            return value
        if not isinstance(raw, str):  # a TOML list (`bootstrap = [...]`), number or boolean
            raise ValueError
        return raw
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {KIND_NAMES.get(kind, kind)}, got {raw!r}") from None


def load_kafka_settings(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> KafkaSettings:
    """File `[kafka]` < `STORMWATCH_KAFKA_*` environment < overrides (options; None = unset)."""
    env = os.environ if env is None else env
    known = {f.name: str(f.type) for f in fields(KafkaSettings)}
    values: dict[str, Any] = {}
    whole = path or env.get("STORMWATCH_CONFIG")
    if whole:
        file_settings(whole)  # a misspelt table or setting stops here as in every command
    section = config_section("kafka", path, env)
    if section:
        path = path or env.get("STORMWATCH_CONFIG")
        for key, raw in section.items():
            if key not in known:
                raise ConfigError(f"config file {path}: unknown [kafka] setting {key!r}")
            if key in SECRETS:
                raise ConfigError(
                    f"config file {path}: [kafka] {key} is a secret; "
                    f"set {ENV_PREFIX}{key.upper()} in the environment instead"
                )
            values[key] = _coerce(f"[kafka] {key}", raw, known[key])
    for name, annotation in known.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(ENV_PREFIX + name.upper(), raw, annotation)
    for name, raw in (overrides or {}).items():
        if name not in known:
            raise ConfigError(f"unknown kafka setting {name!r}")
        if raw is not None:
            values[name] = raw
    return KafkaSettings(**values)

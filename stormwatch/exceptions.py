"""One base exception for stormwatch; each subpackage raises its own subclasses."""

from __future__ import annotations


class StormwatchError(Exception):
    """Base of every error stormwatch raises on purpose."""


class ConfigError(StormwatchError):
    """Configuration is invalid; the message names the setting and what is wrong."""

"""Errors raised by `stormwatch.alerts`: one base class, one subclass per failure family."""

from __future__ import annotations

from stormwatch.exceptions import StormwatchError


class AlertsError(StormwatchError):
    """Base class of every error raised by `stormwatch.alerts`."""


class StoreError(AlertsError):
    """The incident store cannot be opened, migrated or written: bad URL, unreachable
    database, schema newer than this code, unknown incident or delivery."""


class StoreUrlError(StoreError):
    """The store's URL is wrong (unparsable, an unsupported database, its driver not
    installed): a wrong usage, where a store that does not answer is a failure."""

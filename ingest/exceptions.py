"""Errors raised by `stormwatch.ingest`: one base class, one subclass per failure family."""

from __future__ import annotations

from stormwatch.exceptions import StormwatchError


class IngestError(StormwatchError):
    """Base class of every error raised by `stormwatch.ingest`."""


class BrokerUnavailable(IngestError):
    """No Kafka broker answered at the bootstrap address (or it refused us)."""


class TopicError(IngestError):
    """A topic is missing and may not be created, or exists with an unusable layout."""


class ProduceError(IngestError):
    """The broker did not acknowledge records: they may not have been written."""

"""Errors raised by `stormwatch.kafka` talking to the broker: one base class, one subclass
per failure family."""

from __future__ import annotations

from stormwatch.exceptions import StormwatchError


class BrokerError(StormwatchError):
    """Base class of every broker error raised by `stormwatch.kafka`."""


class BrokerUnavailable(BrokerError):
    """No Kafka broker answered at the bootstrap address (or it refused us)."""


class TopicError(BrokerError):
    """A topic is missing and may not be created, or exists with an unusable layout."""


class ProduceError(BrokerError):
    """The broker did not acknowledge records: they may not have been written."""

"""Errors raised by `stormwatch.detectors`."""

from __future__ import annotations

from stormwatch.exceptions import StormwatchError


class DetectorError(StormwatchError):
    """Base class for every error this subpackage raises (a `StormwatchError`, so a
    command reports it in one line, never as a traceback)."""


class VocabularyError(DetectorError, ValueError):
    """A topic vocabulary is malformed; the message says where and why."""

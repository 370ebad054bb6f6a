"""Errors raised by `stormwatch.detectors`."""

from __future__ import annotations


class DetectorError(Exception):
    """Base class for every error this subpackage raises."""


class VocabularyError(DetectorError, ValueError):
    """A topic vocabulary is malformed; the message says where and why."""

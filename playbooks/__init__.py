"""Playbooks: what to do, who to call and what to say when a storm of a given kind starts.

YAML files in this package are the shipped defaults; a user directory may add playbooks
or replace a default by reusing its id. `load_playbooks` validates everything up front
(errors name file and line), and `PlaybookSet.match` picks one playbook per incident.
"""

from __future__ import annotations

from stormwatch.playbooks.exceptions import PlaybookError, RenderError
from stormwatch.playbooks.loader import DEFAULTS_DIR, check, load_playbooks
from stormwatch.playbooks.matcher import PlaybookSet
from stormwatch.playbooks.model import ROLES, SEVERITIES, MatchRule, Playbook, Step
from stormwatch.playbooks.templates import PLACEHOLDERS, topic_label

__all__ = [
    "DEFAULTS_DIR",
    "PLACEHOLDERS",
    "ROLES",
    "SEVERITIES",
    "MatchRule",
    "Playbook",
    "PlaybookError",
    "PlaybookSet",
    "RenderError",
    "Step",
    "check",
    "load_playbooks",
    "topic_label",
]

"""Seeded, labelled synthetic comment streams for the demo, end-to-end tests and evaluation.

A scenario is data (`ScenarioSpec`: brands with background traffic, plus events such as
firestorms or benign spikes) and `generate` is a pure function of it, so the same spec
and seed always give the same stream. The comments follow the public input contract
(the README, Input comment) and carry nothing that gives the answer away; the answers live apart in
`Scenario.labels` (one `EventLabel` per event) and `Scenario.tones` (per comment).

Why synthetic at all: real firestorms are rare, unlabelled and cannot be redistributed.
What matters for a detector is reproduced on purpose: daily rhythm, thread popularity
decay, heavy-tailed authors, out-of-order delivery, both `created_at` forms, and the
benign look-alikes (viral praise, launches, bots, one angry customer) that must not alert,
and what collectors do to a stream (`DeliverySpec`: late, twice, a wrong clock).

Every source (a brand's background, each event) draws from its own random streams
derived from the seed and its name, so adding an event does not change anything else.

Modules: `spec` (the scenario as data and its labels), `domains`, `vocabulary_en`,
`vocabulary_de` and `texts` (comment texts), `variation` (how copied texts differ),
`traffic` (daily rhythm, posts, authors, background comments), `events` (one generator
per event kind), `generator` (`generate` and the collector's delivery), `files` (JSONL
on disk).
"""

from stormwatch.evaluation.scenario.domains import DOMAINS
from stormwatch.evaluation.scenario.files import read_labels, write_brands, write_jsonl
from stormwatch.evaluation.scenario.generator import generate
from stormwatch.evaluation.scenario.spec import (
    BREAKOUT_FACTOR,
    COLLECTOR_DELIVERY,
    DEFAULT_START,
    EVIDENCE_NEGATIVES,
    KINDS,
    MUST_ALERT,
    TOPICS,
    BrandSpec,
    DeliverySpec,
    EventLabel,
    EventSpec,
    Scenario,
    ScenarioSpec,
)
from stormwatch.evaluation.scenario.texts import TEXT_KINDS, sample_text
from stormwatch.evaluation.scenario.traffic import activity_profile

__all__ = [
    "BREAKOUT_FACTOR",
    "COLLECTOR_DELIVERY",
    "DEFAULT_START",
    "DOMAINS",
    "EVIDENCE_NEGATIVES",
    "KINDS",
    "MUST_ALERT",
    "TEXT_KINDS",
    "TOPICS",
    "BrandSpec",
    "DeliverySpec",
    "EventLabel",
    "EventSpec",
    "Scenario",
    "ScenarioSpec",
    "activity_profile",
    "generate",
    "read_labels",
    "sample_text",
    "write_brands",
    "write_jsonl",
]

"""The decision on one key and minute, and its severity band.

`Assessment` is what the judge hands to incidents: the evidence of the sequential tests
(1.0 = both at their threshold), whether it alerts, why a guard objected, and how far
the negative stream runs above the brand's normal. Severity says how far: `low` below
5x, `medium` from 5x, `high` from 10x (the breakout of a firestorm) and `critical` from
30x.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITY_BANDS: tuple[tuple[float, str], ...] = (
    (30.0, "critical"),
    (10.0, "high"),
    (5.0, "medium"),
    (0.0, "low"),
)


def severity_for(ratio: float) -> str:
    """
    >>> severity_for(3.2), severity_for(12), severity_for(45)
    ('low', 'high', 'critical')
    """
    for floor, name in SEVERITY_BANDS:
        if ratio >= floor:
            return name
    return "low"


@dataclass(slots=True, frozen=True)
class Assessment:
    score: float  # evidence: the smaller of rate and share test over their thresholds
    raw_score: float  # the rate test alone: what a count-only detector would see
    ratio: float  # recent negative rate / the brand's normal negative rate (severity)
    key_ratio: float  # recent negative rate / this key's normal (brand, or one thread)
    growth: float
    volume: float  # volume test over its threshold (a driver: volume alone never pages)
    benign: str | None  # guard reason when the surge is benign
    alerting: bool
    campaign: bool = False  # near-identical texts from many different accounts
    volume_ratio: float = 0.0  # recent comments per minute / the key's normal
    normal_rate: float = 0.0  # the brand's normal negatives per minute (0: not known)
    # `ratio` as far as enough comments support it (`features.supported_span`); None:
    # `ratio` itself (its last five minutes hold enough)
    severity_ratio: float | None = None
    # The newest minute the assessment counted: past the closed minute it was made at
    # when it counted the minutes still open (what its explanation must count too).
    upto: int = -1
    # Whether the tests alone would alert (`benign` then names the guard that held it
    # back); False with `benign` set: only the rate test is over, which a count-only
    # detector would page on.
    candidate: bool = False

    @property
    def severity_basis(self) -> float:
        """The ratio severity is read from."""
        return self.ratio if self.severity_ratio is None else self.severity_ratio

    @property
    def severity(self) -> str:
        return severity_for(self.severity_basis)

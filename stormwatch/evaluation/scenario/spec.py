"""A scenario as data: brands with their normal traffic, events, and the labels that are
the ground truth of a generated stream."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from stormwatch.evaluation.scenario.domains import DOMAINS

DEFAULT_START = 1772409600.0  # Monday 2026-03-02 00:00:00 UTC
BREAKOUT_FACTOR = 10.0  # breakout: event negative rate >= this x the brand's normal one
EVIDENCE_NEGATIVES = 10  # `EventLabel.evidence_at`: the event's own negatives so far

MUST_ALERT: dict[str, bool] = {
    "firestorm": True,
    "spreading_firestorm": True,
    "viral_positive": False,
    "product_launch": False,
    "bot_burst": False,
    "angry_customer": False,
    "slow_swell": True,
    "campaign": True,
}
KINDS = frozenset(MUST_ALERT)
TOPICS = (
    "censorship",
    "boycott",
    "environment",
    "labor",
    "health",
    "misconduct",
    "greenwashing",
    "prices",
)
LANGS = ("en", "de", "mixed")
PLATFORMS = ("facebook", "instagram", "twitter", "youtube", "blog")
DAY = 86400.0

# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class BrandSpec:
    """A watched brand and its normal traffic.

    `history_days` is how long before the brand's first event its traffic starts
    (clipped to the scenario start); `inf` means "from the scenario start", 0 means the
    brand is brand-new and its first comments come with its first event, which is the
    cold-start case for a detector. `domain` picks the product vocabulary of the texts.
    """

    name: str
    comments_per_day: float
    lang: str = "en"
    negative_share: float = 0.08
    threads_per_day: float = 20.0
    history_days: float = math.inf
    tz_offset_h: float = 0.0
    domain: str = "retail"
    display_name: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", self.name):
            raise ValueError(f"brand name {self.name!r}: use lower-case [a-z0-9_.-]")
        if self.comments_per_day <= 0 or self.threads_per_day <= 0:
            raise ValueError(f"brand {self.name}: rates must be positive")
        if self.lang not in LANGS:
            raise ValueError(f"brand {self.name}: lang must be one of {LANGS}")
        if not 0.0 <= self.negative_share <= 0.5:
            raise ValueError(f"brand {self.name}: negative_share must be in [0, 0.5]")
        if self.history_days < 0:
            raise ValueError(f"brand {self.name}: history_days must be >= 0")
        if self.domain not in DOMAINS:
            raise ValueError(f"brand {self.name}: domain must be one of {sorted(DOMAINS)}")

    @property
    def label(self) -> str:
        """How people write the brand in comments."""
        return self.display_name or self.name.capitalize()

    @property
    def rate_per_min(self) -> float:
        """Daily-average comments per minute."""
        return self.comments_per_day / 1440.0

    @property
    def negative_rate_per_min(self) -> float:
        """Daily-average negative comments per minute: the breakout yardstick."""
        return self.rate_per_min * self.negative_share


@dataclass(frozen=True)
class EventSpec:
    """One event on a brand. Zero or empty knobs mean "the kind's default".

    Rates are the event's own comments per minute (all tones); the event's negative
    rate is `negative_share` times that. Rate-driven kinds (firestorm,
    spreading_firestorm, viral_positive, product_launch) grow from `start_rate_per_min`
    with `doubling_time_s` up to `peak_rate_per_min`, hold it for `plateau_s`, then decay
    with `decay_half_life_s`. bot_burst and angry_customer post exactly `n_comments`.
    slow_swell (a brand's negativity rising over hours across many posts) and campaign
    (templated outrage from many accounts) are rate-driven too. `variation` is how
    bot_burst copies differ: "punctuation" (the default: punctuation, digits, one emoji)
    or "rewrite" (inserted words, reordered phrases, emoji, links, as campaigns do).
    """

    kind: str
    brand: str
    start: float  # seconds after the scenario start
    duration_s: float
    lang: str = ""  # "" = the brand's language
    name: str = ""  # "" = f"{brand}-{kind}-{index}"
    peak_rate_per_min: float = 0.0
    start_rate_per_min: float = 0.0
    doubling_time_s: float = 0.0
    plateau_s: float = -1.0
    decay_half_life_s: float = 0.0
    negative_share: float = -1.0
    n_threads: int = 0
    topics: tuple[str, ...] = ()
    n_accounts: int = 0
    n_comments: int = 0
    reply_share: float = -1.0
    product: str = ""  # product_launch: what is launched
    variation: str = ""  # bot_burst: "punctuation" (default) or "rewrite"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"event kind {self.kind!r}: must be one of {sorted(KINDS)}")
        if self.duration_s <= 0 or self.start < 0:
            raise ValueError(f"event {self.name or self.kind}: bad start/duration")
        if self.lang and self.lang not in LANGS:
            raise ValueError(f"event {self.name or self.kind}: lang must be one of {LANGS}")
        if self.name and not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
            raise ValueError(f"event name {self.name!r}: use [A-Za-z0-9_.-]")
        unknown = set(self.topics) - set(TOPICS)
        if unknown:
            raise ValueError(f"event {self.name or self.kind}: unknown topics {unknown}")
        if self.negative_share > 1.0:
            raise ValueError(f"event {self.name or self.kind}: negative_share > 1")
        if self.kind == "angry_customer" and self.n_threads > 2:
            raise ValueError("angry_customer: one or two threads")
        if self.variation not in ("", "punctuation", "rewrite"):
            raise ValueError(f"event {self.name or self.kind}: variation must be "
                             "'punctuation' or 'rewrite'")  # fmt: skip


@dataclass(frozen=True)
class DeliverySpec:
    """How a collector hands the comments over: late, twice, or with a wrong clock.

    `late_share` of the comments arrive up to `late_max_s` late (uniform);
    `very_late_share` more arrive between `late_max_s` and `very_late_max_s` late (a
    collector catching up after an outage); `duplicate_share` are delivered a second time
    (same id, same content) seconds to minutes later; `misstamped` records per scenario
    carry a wrong but valid `created_at`, `misstamp_min_s` to `misstamp_max_s` ahead or
    behind, and are delivered at their true time (a device or proxy with a bad clock).
    The default is a clean collector: 2 % of comments up to 90 s late, nothing else.
    """

    late_share: float = 0.02
    late_max_s: float = 90.0
    very_late_share: float = 0.0
    very_late_max_s: float = 2400.0
    duplicate_share: float = 0.0
    misstamped: int = 0
    misstamp_min_s: float = 3600.0
    misstamp_max_s: float = 3 * 86400.0

    def __post_init__(self) -> None:
        shares = (self.late_share, self.very_late_share, self.duplicate_share)
        if not all(0.0 <= x <= 1.0 for x in shares) or sum(shares[:2]) > 1.0:
            raise ValueError("delivery shares must be in [0, 1]")
        if not 0.0 < self.late_max_s <= self.very_late_max_s:
            raise ValueError("delivery: need 0 < late_max_s <= very_late_max_s")
        if self.misstamped < 0 or not 0.0 < self.misstamp_min_s <= self.misstamp_max_s:
            raise ValueError("delivery: bad misstamp settings")


# What real collectors do (polling APIs, webhooks retried, a proxy with a wrong clock):
# ~15 % of comments late by seconds to minutes, 2 % by up to 40 minutes, 0.5 % twice.
COLLECTOR_DELIVERY = DeliverySpec(
    late_share=0.15, late_max_s=240.0, very_late_share=0.02, very_late_max_s=2400.0,
    duplicate_share=0.005, misstamped=4,
)  # fmt: skip


@dataclass(frozen=True)
class ScenarioSpec:
    """A whole scenario: brands, events, time span and seed."""

    name: str
    start: float = DEFAULT_START
    duration_s: float = DAY
    brands: tuple[BrandSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    seed: int = 0
    delivery: DeliverySpec = DeliverySpec()

    def __post_init__(self) -> None:
        if self.seed < 0 or self.duration_s <= 0:
            raise ValueError("seed must be >= 0 and duration_s > 0")
        names = [b.name for b in self.brands]
        if len(set(names)) != len(names):
            raise ValueError("brand names must be unique")
        for ev in self.events:
            if ev.brand not in names:
                raise ValueError(f"event {ev.name or ev.kind}: unknown brand {ev.brand!r}")
            if ev.start >= self.duration_s:
                raise ValueError(f"event {ev.name or ev.kind}: starts after the scenario")
        resolved = self.event_names()
        if len(set(resolved)) != len(resolved) or set(resolved) & set(names):
            raise ValueError("event names must be unique and differ from brand names")

    def event_names(self) -> list[str]:
        """Event names with the defaults filled in, in `events` order."""
        return [ev.name or f"{ev.brand}-{ev.kind}-{i}" for i, ev in enumerate(self.events)]


@dataclass(frozen=True)
class EventLabel:
    """Ground truth for one event.

    `breakout` is when the event's own negative rate (from its rate function, not the
    sample) first reaches `BREAKOUT_FACTOR` x the brand's daily-average negative rate;
    None when it never does or when the event must not alert. `evidence_at` is when the
    event's own comments (their true times, not as delivered) first held
    `EVIDENCE_NEGATIVES` negative ones: before it, what tells the event from everyday
    talk is a handful of comments, so how far it lies before the breakout bounds the
    lead of a detector that needs ten. None when the event must not alert or never had that
    many (and in label files written before it). Times are epoch seconds.
    """

    name: str
    kind: str
    brand: str
    thread_id: str | None
    must_alert: bool
    onset: float
    breakout: float | None
    end: float
    lang: str
    evidence_at: float | None = None


@dataclass
class Scenario:
    """A generated stream: contract dicts in delivery order, labels, per-comment tones."""

    spec: ScenarioSpec
    comments: list[dict[str, Any]]
    labels: list[EventLabel]
    tones: dict[str, str] = field(default_factory=dict)  # id -> negative/positive/...
    # Delivery faults by kind ("very_late", "duplicate", "misstamped") -> ids they hit.
    faults: dict[str, list[str]] = field(default_factory=dict)

    def source_of(self, comment: dict[str, Any]) -> str:
        """The event name, or the brand name for background traffic."""
        return str(comment["id"]).rsplit("#", 1)[0]

    def event_comments(self, name: str) -> list[dict[str, Any]]:
        """The comments an event produced, in delivery order."""
        return [c for c in self.comments if c["id"].rsplit("#", 1)[0] == name]

    def label(self, name: str) -> EventLabel:
        """The label of one event by name."""
        for lab in self.labels:
            if lab.name == name:
                return lab
        raise KeyError(name)

"""Seeded, labelled synthetic comment streams for the demo, end-to-end tests and evaluation.

A scenario is data (`ScenarioSpec`: brands with background traffic, plus events such as
firestorms or benign spikes) and `generate` is a pure function of it, so the same spec
and seed always give the same stream. The comments follow the public input contract
(see DESIGN.md) and carry nothing that gives the answer away; the answers live apart in
`Scenario.labels` (one `EventLabel` per event) and `Scenario.tones` (per comment).

Why synthetic at all: real firestorms are rare, unlabelled and cannot be redistributed.
What matters for a detector is reproduced on purpose: daily rhythm, thread popularity
decay, heavy-tailed authors, out-of-order delivery, both `created_at` forms, and the
benign look-alikes (viral praise, launches, bots, one angry customer) that must not alert.

Every source (a brand's background, each event) draws from its own random streams
derived from the seed and its name, so adding an event does not change anything else.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

__all__ = [
    "BREAKOUT_FACTOR",
    "DEFAULT_START",
    "DOMAINS",
    "KINDS",
    "MUST_ALERT",
    "TEXT_KINDS",
    "TOPICS",
    "BrandSpec",
    "EventLabel",
    "EventSpec",
    "Scenario",
    "ScenarioSpec",
    "activity_profile",
    "generate",
    "read_labels",
    "sample_text",
    "write_jsonl",
]

DEFAULT_START = 1772409600.0  # Monday 2026-03-02 00:00:00 UTC
BREAKOUT_FACTOR = 10.0  # breakout: event negative rate >= this x the brand's normal one

MUST_ALERT: dict[str, bool] = {
    "firestorm": True,
    "spreading_firestorm": True,
    "viral_positive": False,
    "product_launch": False,
    "bot_burst": False,
    "angry_customer": False,
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
_PLATFORM_WEIGHTS = np.array([0.36, 0.26, 0.2, 0.12, 0.06])
_DAY = 86400.0


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


@dataclass(frozen=True)
class ScenarioSpec:
    """A whole scenario: brands, events, time span and seed."""

    name: str
    start: float = DEFAULT_START
    duration_s: float = _DAY
    brands: tuple[BrandSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    seed: int = 0

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
    None when it never does or when the event must not alert. Times are epoch seconds.
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


@dataclass
class Scenario:
    """A generated stream: contract dicts in delivery order, labels, per-comment tones."""

    spec: ScenarioSpec
    comments: list[dict[str, Any]]
    labels: list[EventLabel]
    tones: dict[str, str] = field(default_factory=dict)  # id -> negative/positive/...

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


# ------------------------------------------------------------------- daily rhythm

# Relative activity per local hour (00:00..23:00): night trough around 03:00-04:00,
# a lunch peak and a higher evening peak. Smoothed by keeping 4 Fourier harmonics,
# which also keeps the daily mean at exactly 1 (so comments_per_day is honoured).
_HOURLY_SHAPE = np.array(
    [0.62, 0.42, 0.3, 0.26, 0.26, 0.32, 0.47, 0.7, 0.9, 1.0, 1.15, 1.4]
    + [1.65, 1.55, 1.25, 1.1, 1.15, 1.35, 1.7, 2.0, 2.05, 1.75, 1.3, 0.9]
)
_HARMONICS = np.fft.rfft(_HOURLY_SHAPE / _HOURLY_SHAPE.mean())[1:5] / 24.0
_WEEKEND_SHIFT_H = 1.5  # people start later on Saturday and Sunday ...
_WEEKEND_LEVEL = 0.9  # ... and comment a little less


def _hour_profile(hours: np.ndarray) -> np.ndarray:
    out = np.ones_like(hours, dtype=float)
    for k, coef in enumerate(_HARMONICS, start=1):
        angle = 2.0 * np.pi * k * hours / 24.0
        out += 2.0 * (coef.real * np.cos(angle) - coef.imag * np.sin(angle))
    return out


def activity_profile(t: np.ndarray | float, tz_offset_h: float = 0.0) -> np.ndarray:
    """Relative comment activity at epoch times `t` (weekday daily mean 1, ~0.2..~2)."""
    local = np.asarray(t, dtype=float) + tz_offset_h * 3600.0
    hours = (local % _DAY) / 3600.0
    weekday = (np.floor(local / _DAY).astype(np.int64) + 3) % 7  # 1970-01-01: Thursday
    weekend = weekday >= 5
    prof = _hour_profile(np.where(weekend, hours - _WEEKEND_SHIFT_H, hours))
    return np.where(weekend, _WEEKEND_LEVEL * prof, prof)


# -------------------------------------------------------------------------- texts
#
# Hand-written template grammars: a rule is a list of alternatives, "{slot}" expands
# another rule or a per-sentence bound value (the product, the brand, the city ...;
# bound once so that German articles and verbs agree within the sentence). Negative
# texts always carry unambiguous negative words so that lexicon scorers agree with
# the tone; neutral ones avoid sentiment words altogether.

# German nouns carry their gender so articles come out right: (gender, noun).
DOMAINS: dict[str, dict[str, dict[str, Any]]] = {
    "food": {
        "en": {
            "products": [
                "chocolate bar", "cereal", "instant coffee", "baby formula", "frozen pizza",
                "bottled water", "protein bar", "cocoa", "noodle cup", "yogurt",
                "ice cream", "granola", "hazelnut spread", "oat drink",
            ],
            "place": ["supermarket", "store", "shop"],
            "customer": "customer",
        },
        "de": {
            "products": [
                ("f", "Schokolade"), ("n", "Müsli"), ("m", "Instantkaffee"),
                ("f", "Babynahrung"), ("f", "Tiefkühlpizza"), ("n", "Mineralwasser"),
                ("m", "Proteinriegel"), ("m", "Kakao"), ("m", "Joghurt"), ("n", "Eis"),
                ("f", "Nudelsuppe"), ("f", "Nusscreme"), ("m", "Haferdrink"),
            ],
            "place": [("f", "Filiale", "in der Filiale"), ("m", "Supermarkt", "im Supermarkt")],
            "customer": "einen Kunden",
        },
    },
    "retail": {
        "en": {
            "products": [
                "online order", "TV", "pair of jeans", "vacuum cleaner", "grocery delivery",
                "pickup order", "air fryer", "winter jacket", "laptop", "mattress",
                "toy set", "coffee maker", "garden chair", "phone case",
            ],
            "place": ["store", "supercenter", "shop"],
            "customer": "customer",
        },
        "de": {
            "products": [
                ("m", "Fernseher"), ("f", "Jeans"), ("m", "Staubsauger"),
                ("f", "Heißluftfritteuse"), ("f", "Winterjacke"), ("m", "Laptop"),
                ("f", "Matratze"), ("f", "Onlinebestellung"), ("f", "Kaffeemaschine"),
                ("m", "Gartenstuhl"), ("f", "Handyhülle"), ("n", "Spielzeug"),
            ],
            "place": [("f", "Filiale", "in der Filiale"), ("m", "Markt", "im Markt")],
            "customer": "einen Kunden",
        },
    },
    "coffee": {
        "en": {
            "products": [
                "latte", "cold brew", "cappuccino", "flat white", "croissant",
                "oat milk latte", "espresso", "chai latte", "caramel macchiato", "muffin",
                "iced mocha", "matcha latte", "banana bread", "hot chocolate",
            ],
            "place": ["café", "store", "drive-thru"],
            "customer": "customer",
        },
        "de": {
            "products": [
                ("m", "Latte"), ("m", "Cappuccino"), ("m", "Cold Brew"), ("n", "Croissant"),
                ("m", "Espresso"), ("m", "Chai Latte"), ("m", "Muffin"),
                ("m", "Flat White"), ("m", "Matcha Latte"), ("f", "heiße Schokolade"),
                ("n", "Bananenbrot"), ("m", "Iced Mocha"),
            ],
            "place": [("n", "Café", "im Café"), ("f", "Filiale", "in der Filiale")],
            "customer": "einen Kunden",
        },
    },
    "rail": {
        "en": {
            "products": [
                "train", "express train", "connection", "ticket", "seat reservation",
                "night train", "regional train", "booking app", "rail card", "sleeper car",
                "dining car", "bike ticket",
            ],
            "place": ["station", "ticket office", "travel centre"],
            "customer": "passenger",
        },
        "de": {
            "products": [
                ("m", "Zug"), ("m", "ICE"), ("f", "Verbindung"), ("n", "Ticket"),
                ("f", "Sitzplatzreservierung"), ("m", "Nachtzug"), ("m", "Regionalexpress"),
                ("f", "App"), ("f", "Rabattkarte"), ("m", "Speisewagen"),
                ("n", "Fahrradticket"), ("m", "Schlafwagen"),
            ],
            "place": [("m", "Bahnhof", "am Bahnhof"), ("n", "Reisezentrum", "im Reisezentrum")],
            "customer": "einen Fahrgast",
        },
    },
    "bikes": {
        "en": {
            "products": [
                "e-bike", "city bike", "cargo bike", "bike repair", "bike service",
                "helmet", "bike lock", "battery", "kids bike", "gravel bike",
            ],
            "place": ["workshop", "shop"],
            "customer": "customer",
        },
        "de": {
            "products": [
                ("n", "E-Bike"), ("n", "Stadtrad"), ("n", "Lastenrad"), ("f", "Reparatur"),
                ("f", "Inspektion"), ("m", "Helm"), ("n", "Schloss"), ("m", "Akku"),
                ("n", "Kinderrad"), ("n", "Gravelbike"),
            ],
            "place": [("f", "Werkstatt", "in der Werkstatt"), ("m", "Laden", "im Laden")],
            "customer": "einen Kunden",
        },
    },
}  # fmt: skip

_EN_RULES: dict[str, list[str]] = {
    # --- shared pieces
    "pos_adj": [
        "great", "amazing", "excellent", "fantastic", "wonderful", "perfect", "awesome",
        "lovely", "brilliant", "superb", "outstanding",
    ],
    "thanks": ["thank you", "thanks", "thanks a lot", "many thanks"],
    "pos_emo": ["", "", "", "", " ❤️", " 😍", " 👍", " 🙌", " 😊", "!"],
    "neg_emo": ["", "", "", "", " 😡", " 🤬", " 👎", " 😤", "!!", "!"],
    "quick": ["really fast", "a day early", "right on time", "super quickly"],
    "city": [
        "London", "Manchester", "Chicago", "Boston", "Dallas", "Toronto", "Seattle",
        "Denver", "Atlanta", "Dublin", "Austin", "Leeds", "Phoenix", "Glasgow",
    ],
    "friend": [
        "anna_k", "mike.j", "sarah88", "tom_b", "jess.r", "lucas.m", "emma_rose",
        "dan_w", "priya.s", "olli", "kate_m", "ben.t",
    ],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "country": ["Canada", "Ireland", "the UK", "Australia", "the US", "Germany", "Spain"],
    "payment": ["cash", "PayPal", "debit cards", "Amex", "contactless"],
    "post": ["post", "video", "ad", "photo", "story"],
    "minutes": ["20", "25", "30", "40", "45", "50", "60"],
    # --- positive
    "pos": ["{pos_core}{pos_emo}", "{pos_open} {pos_core}{pos_emo}", "{pos_core}. {pos_extra}"],
    "pos_open": ["Wow,", "Honestly,", "Just wanted to say", "Big shoutout!", "Love it!", "Yes!"],
    "pos_core": [
        "I love your {P}",
        "I really love the {P}",
        "the {P} was {pos_adj} as always",
        "{pos_adj} {P} today, {thanks} {B}",
        "{B} is simply the best",
        "best {P} I've had in ages",
        "super friendly staff at the {place} in {city}",
        "got my {P} {quick} and it's {pos_adj}",
        "thanks for the {pos_adj} service, you made my day",
        "really happy with my {P}",
        "five stars for the {P}, {pos_adj} quality",
        "you guys are {pos_adj}, keep it up",
        "the team at the {place} in {city} is {pos_adj}",
        "my kids love the {P}",
        "{pos_adj} experience with {B} again",
        "so glad I tried the {P}, {pos_adj} value",
        "the {P} is a real winner",
        "what a {pos_adj} {P}",
        "{B} has the best {P}, hands down",
        "the {P} makes me happy every single time",
    ],
    "pos_extra": [
        "Highly recommended!", "Will buy again!", "Keep up the great work!",
        "Happy customer here!", "Love this brand!", "Best decision ever!",
    ],
    # --- neutral: questions, tags, plain statements, no sentiment words
    "neu": ["{neu_core}", "{neu_core}", "{neu_open} {neu_core}"],
    "neu_open": ["Quick question:", "Hey {B},", "@{B}", "Question:", "Hello,"],
    "neu_core": [
        "is the {P} available in {city}?",
        "what are the opening hours of the {place} in {city} on {weekday}?",
        "does anyone know if the {P} is sold online?",
        "@{friend} look at this",
        "@{friend} did you see this?",
        "ordered the {P} on {weekday}, it should arrive on {weekday2}",
        "how long does delivery to {city} take?",
        "just saw the {post} about the {P}",
        "any news about the {P} in {country}?",
        "is the {place} in {city} open on {weekday}?",
        "first time trying the {P} today",
        "will the {P} come back next month?",
        "where can I find the {P} in {city}?",
        "does the {P} come in other sizes?",
        "do you take {payment} at the {place}?",
        "picked up a {P} on the way to work",
        "the {P} is back in stock in {city}",
        "what is the price of the {P} in {country}?",
        "is this the same {P} as last year?",
        "which {place} in {city} has the {P}?",
        "@{friend} we should get the {P} on {weekday}",
        "I usually get the {P} on {weekday}s",
    ],
    # --- ordinary negative: everyday complaints
    "neg": ["{neg_core}{neg_emo}", "{neg_open} {neg_core}{neg_emo}", "{neg_core}. {neg_extra}"],
    "neg_open": ["Seriously,", "Ugh,", "Again?!", "Come on {B},", "Sigh,", "Not happy:"],
    "neg_core": [
        "my {P} arrived {late} again, {neg_feel}",
        "prices went up again, {rip}",
        "still waiting for my refund, {bad_adj} customer service",
        "the {P} was {bad_adj} today",
        "your app keeps crashing, {neg_feel}",
        "worst {P} I've ever had",
        "why does nobody answer my emails? {neg_feel_cap}",
        "waited {minutes} minutes at the {place} in {city}, {neg_feel}",
        "really disappointed with the {P}",
        "the staff at the {place} in {city} was so rude",
        "the quality of the {P} got so bad lately",
        "{bad_adj} experience at the {place} in {city}",
        "paid for my {P} and received an empty box, {rip}",
        "the {P} is overpriced and {bad_adj}",
        "{domain_complaint}",
        "{domain_complaint}",
    ],
    "late": ["two days late", "damaged", "broken", "half empty", "late", "in terrible shape"],
    "neg_feel": [
        "really annoying", "so frustrating", "not acceptable", "very disappointing",
        "what a mess", "I am so annoyed", "terrible",
    ],
    "neg_feel_cap": ["Really annoying.", "So frustrating.", "Disappointing.", "Unacceptable."],
    "rip": [
        "this is ridiculous", "absolutely ridiculous", "what a scam", "shameful",
        "greedy as always",
    ],
    "bad_adj": [
        "terrible", "awful", "horrible", "useless", "pathetic", "bad", "disgusting", "lousy",
    ],
    "neg_extra": [
        "Very disappointed.", "Not acceptable.", "Worst service ever.",
        "I want my money back, terrible.", "Disappointed customer here.",
        "Terrible, never again.",
    ],
    # --- mixed
    "mixed": ["{mixed_pos}, but {mixed_neg}", "{mixed_neg}, but {mixed_pos}"],
    "mixed_pos": [
        "I love the {P}", "the staff in {city} is great", "the {P} tastes great",
        "the new app looks nice", "delivery was fast", "the {P} is excellent",
    ],
    "mixed_neg": [
        "the prices are ridiculous now", "customer service is terrible",
        "the checkout is useless", "the wait was awful", "the packaging is a disaster",
        "the {P} broke after a week, annoying",
    ],
    # --- firestorm: crisis talk per topic
    "outrage": [
        "Shame on you!", "Disgusting.", "Pathetic.", "Liars!", "Absolutely shameful.",
        "Disgusting liars!", "What a scandal.", "You should be ashamed.", "Unacceptable!",
        "Boycott now!", "Sick of this.", "Outrageous!", "What a disgrace.",
        "Liars, never again.", "Horrible company.", "Greedy and dishonest.",
        "I am furious.", "This is evil.", "Disgusting hypocrites.", "Shameful!",
    ],
    "call": [
        "", "", "", " Share this everywhere.", " Everyone needs to see this.",
        " Sign the petition.", " Spread the word.",
    ],
    "claim_censorship": [
        "stop deleting our comments, {B}",
        "deleting critical comments won't make the problem go away",
        "why are you deleting every critical comment?",
        "deleting our comments only makes us louder, shameless",
        "another comment deleted. Cowardly censorship",
        "censoring your own customers now, {B}?",
        "my comment got deleted within minutes",
        "stop censoring people who ask critical questions, shameless",
        "blocking critics instead of answering them",
        "deleting comments is not a communication strategy",
        "screenshots of every deleted comment are already everywhere",
        "what are you hiding, {B}? Answer instead of deleting",
    ],
    "tag_censorship": ["#StopCensorship", "#DeletedComments", "#{B}Censorship", ""],
    "claim_boycott": [
        "boycott {B} until they change",
        "I'm done with {B}, not buying your {P} anymore",
        "never buying anything from {B} again",
        "our family is boycotting {B} from today",
        "tell everyone you know to boycott {B}",
        "cancelled my {B} account today",
        "throwing out every {P} from {B} in my house",
        "{B} lost a customer for life",
        "switching to any other brand, bye {B}",
        "not one more cent for {B}",
    ],
    "tag_boycott": ["#Boycott{B}", "#Boycott", "#NeverAgain{B}", ""],
    "claim_environment": [
        "your palm oil is destroying the rainforest",
        "killing orangutans for cheap {P}",
        "rainforests burn so you can sell more junk",
        "deforestation for money, that's your business model",
        "your supply chain is wrecking entire ecosystems",
        "polluting rivers and lying about it",
        "stealing water from poor communities",
        "plastic waste from your {P} is choking our oceans",
        "orangutans are dying for your palm oil",
        "you are burning forests for money",
    ],
    "tag_environment": ["#SaveTheRainforest", "#PalmOil", "#Orangutans", ""],
    "claim_labor": [
        "pay your workers a living wage",
        "exploiting workers while the CEO gets millions, sickening",
        "underpaid staff, unsafe warehouses, record earnings",
        "union busting is disgusting",
        "firing workers for organizing is cowardly",
        "your employees need food stamps while you post record earnings",
        "treating your staff as garbage, sickening",
    ],
    "tag_labor": ["#FairWages", "#PayYourWorkers", "#{B}Strike", ""],
    "claim_health": [
        "contaminated {P} made my kids sick",
        "recall the {P} now, people are getting sick",
        "you knew about the contamination and kept quiet",
        "dangerous {P} still on the shelves",
        "poisoning customers to save money",
    ],
    "tag_health": ["#RecallNow", "#FoodSafety", ""],
    "claim_misconduct": [
        "your staff humiliated a {customer} in front of everyone",
        "watch the video, that employee was racist and aggressive",
        "throwing a crying child out in the cold is cruel",
        "guards attacking a {customer} and {B} stays silent",
        "not a single word of apology from {B}",
        "that employee abused a disabled {customer}",
    ],
    "tag_misconduct": ["#JusticeNow", "#{B}Scandal", ""],
    "claim_greenwashing": [
        "your climate claims are a shameless fraud",
        "fake eco labels on every {P}",
        "carbon neutral? All lies",
        "green marketing, dirty business",
    ],
    "tag_greenwashing": ["#Greenwashing", "#ClimateLies", ""],
    "claim_prices": [
        "record earnings and you raise prices again",
        "price gouging in a crisis, greedy",
        "smaller packs, same price, what a scam",
        "ripping off families who can barely pay rent",
    ],
    "tag_prices": ["#Greedflation", "#RipOff", ""],
    # --- firestorm bystanders
    "defend_neu": [
        "let's wait for the facts before judging",
        "can someone explain what happened?",
        "where can I read the full story?",
        "is this about the {post} from {weekday}?",
        "what exactly did they delete?",
        "source?",
        "@{friend} have you seen this thread?",
        "is there an official statement yet?",
        "which {post} is everyone talking about?",
    ],
    "defend_pos": [
        "I still love {B}, everyone calm down",
        "honestly I've always had great experiences with {B}",
        "the staff at my local {place} are wonderful, don't blame them",
        "I'll keep buying the {P}, it's great",
        "thanks {B} for answering so quickly, appreciated",
    ],
    # --- viral praise of one post
    "viral": ["{viral_core}{pos_emo}", "{viral_core}. {viral_extra}"],
    "viral_neu": ["@{friend} {viral_tag}", "@{friend} {viral_tag}", "{viral_tag_alone}"],
    "viral_core": [
        "this is the best thing I've seen all day",
        "so beautiful, who else got emotional watching this?",
        "amazing story, well done {B}",
        "give that employee a raise, what a hero",
        "wholesome content, love it",
        "this made my whole week, so happy",
        "faith in humanity restored",
        "happy tears right now, so sweet",
        "the kindness in this video is beautiful",
        "best ad {B} ever made",
        "proud to be a {B} customer today",
        "sharing this with everyone, so heartwarming",
        "that smile at the end is priceless",
        "pure joy, thank you for this",
        "this is why I love {B}",
        "absolutely adorable, thank you",
    ],
    "viral_extra": ["Love this!", "Brilliant!", "So sweet!", "Beautiful!", "Made my day!"],
    "viral_tag": ["you have to see this", "this is so you", "look at this!", "watch till the end"],
    "viral_tag_alone": ["Who filmed this?", "Which store is this?", "Here from {B}'s story"],
    # --- product launch
    "launch_pos": [
        "{launch_pos_core}{pos_emo}",
        "{pos_open} {launch_pos_core}",
        "{launch_pos_core}. {pos_extra}",
    ],
    "launch_neu": ["{launch_neu_core}", "{launch_neu_core}", "{neu_open} {launch_neu_core}"],
    "launch_neg": ["{launch_neg_core}{neg_emo}", "{neg_open} {launch_neg_core}{neg_emo}"],
    "launch_pos_core": [
        "can't wait to try the {L}, so excited!",
        "finally! So happy the {L} is here",
        "the {L} looks amazing",
        "just tried the {L}, love it",
        "great job {B}, the {L} is fantastic",
        "the {L} is a brilliant game changer",
        "ordered the {L} already, so excited",
        "the {L} is exactly what I wanted, perfect",
    ],
    "launch_neu_core": [
        "when does the {L} come to {city}?",
        "what's the price of the {L}?",
        "is the {L} available online?",
        "how is the {L} different from the old one?",
        "@{friend} the {L} is out, try it on {weekday}?",
        "does the {L} come in other sizes?",
        "will the {L} be sold in {country}?",
        "is the {L} in stores yet?",
    ],
    "launch_neg_core": [
        "the {L} is way too expensive, disappointing",
        "why change the old one? The {L} looks worse",
        "sold out in minutes again, annoying",
        "another overpriced launch, no thanks, ridiculous",
        "the {L} is a disappointment",
    ],
    # --- one angry customer
    "angry": ["{angry_core}{neg_emo}", "{angry_open} {angry_core}{neg_emo}"],
    "angry_open": ["Hello??", "{B}!!", "Again:", "Still waiting.", "Day {day_n}:"],
    "angry_core": [
        "order {order_no} never arrived and your service is terrible",
        "this is my {nth} message and you keep ignoring me, ridiculous",
        "I want my money back for order {order_no}, this is unacceptable",
        "{B}, answer me! Worst customer service ever",
        "weeks and no refund, you are thieves",
        "I will report you to consumer protection, shameful",
        "nobody cares about customers here, pathetic",
        "still waiting, still ignored, this is awful",
        "your hotline hung up on me again, useless",
        "I'm telling everyone how terrible {B} is",
        "disgusting. Order {order_no}: paid, never arrived, no reply",
        "how hard is it to answer one email? Pathetic",
    ],
}  # fmt: skip

_EN_DOMAIN_COMPLAINTS: dict[str, list[str]] = {
    "food": [
        "found plastic in my {P}, disgusting",
        "the {P} tastes awful since you changed the recipe",
        "smaller pack, same price, what a scam",
        "the {P} was already expired, terrible",
    ],
    "retail": [
        "self-checkout broken again, so annoying",
        "online order cancelled without explanation, terrible",
        "out of stock for weeks, ridiculous and annoying",
        "the returns process is a nightmare, awful",
    ],
    "coffee": [
        "wrong order again, so annoying",
        "my {P} was cold and bitter, awful",
        "waited {minutes} minutes for a {P}, ridiculous",
        "the app lost my rewards again, frustrating",
    ],
    "rail": [
        "train cancelled again, zero information, terrible",
        "delayed by {minutes} minutes again, useless",
        "air conditioning broken again, awful trip",
        "missed my connection because of your delays, furious",
        "overcrowded train, disgusting conditions",
    ],
    "bikes": [
        "my {P} broke after two weeks, terrible quality",
        "waiting three weeks for a repair, ridiculous",
        "the battery died again, so frustrating",
    ],
}

_DE_RULES: dict[str, list[str]] = {
    "pos_adj": [
        "super", "toll", "prima", "klasse", "fantastisch", "wunderbar", "hervorragend",
        "perfekt", "spitze", "genial", "ausgezeichnet",
    ],
    "thanks": ["danke", "vielen Dank", "herzlichen Dank", "merci"],
    "pos_emo": ["", "", "", "", " ❤️", " 😍", " 👍", " 🙌", " 😊", "!"],
    "neg_emo": ["", "", "", "", " 😡", " 🤬", " 👎", " 😤", "!!", "!"],
    "quick": ["super schnell", "einen Tag früher", "pünktlich", "blitzschnell"],
    "city": [
        "Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Leipzig",
        "Dresden", "Düsseldorf", "Bremen", "Hannover", "Nürnberg", "Mainz", "Freiburg",
    ],
    "friend": [
        "lena_m", "jonas.k", "sophie93", "max_b", "marie.w", "felix.h", "laura_s",
        "paul_w", "mia.k", "tim_r", "hannah.b", "nico",
    ],
    "weekday": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "country": ["Österreich", "der Schweiz", "Deutschland", "Luxemburg", "Italien"],
    "payment": ["Apple Pay", "Kreditkarten", "PayPal", "Gutscheine"],
    "post_acc": ["den Beitrag", "das Video", "die Werbung", "das Foto", "die Story"],
    "minutes": ["20", "25", "30", "40", "45", "50", "60"],
    # --- positive
    "pos": ["{pos_core}{pos_emo}", "{pos_open} {pos_core}{pos_emo}", "{pos_core}. {pos_extra}"],
    "pos_open": ["Wow,", "Ehrlich,", "Einfach toll!", "Ich muss sagen:", "Daumen hoch!", "Juhu!"],
    "pos_core": [
        "ich liebe {N_acc}, einfach {pos_adj}",
        "{N} war heute wieder {pos_adj}",
        "der Service war {pos_adj}, {thanks} {B}",
        "{B} ist einfach {pos_adj}",
        "{N} ist einfach {pos_adj}",
        "super freundliches Personal {place_in} in {city}",
        "meine Bestellung kam {quick} an, {pos_adj}",
        "vielen Dank für den tollen Service, ihr habt meinen Tag gerettet",
        "total zufrieden, {N} ist {pos_adj}",
        "fünf Sterne, {N} ist {pos_adj}",
        "macht weiter so, ihr seid {pos_adj}",
        "das Team {place_in} in {city} ist {pos_adj}",
        "meine Kinder lieben {N_acc}",
        "wieder eine {pos_adj} Erfahrung mit {B}",
        "{N} ist jeden Cent wert, {pos_adj}",
        "ich freue mich jedes Mal auf {N_acc}, {pos_adj}",
        "{B} hat {N_acc} einfach perfekt gemacht",
        "{N} macht mich jedes Mal glücklich",
    ],
    "pos_extra": [
        "Absolut empfehlenswert!", "Gerne wieder, super!", "Weiter so, toll!", "Sehr zufrieden!",
        "Ein großes Lob an das Team!", "Danke für alles!",
    ],
    # --- neutral
    "neu": ["{neu_core}", "{neu_core}", "{neu_open} {neu_core}"],
    "neu_open": ["Kurze Frage:", "Hallo {B},", "@{B}", "Frage:", "Hallo,"],
    "neu_core": [
        "gibt es {N_acc} auch in {city}?",
        "wie lange hat {place_nom} in {city} am {weekday} geöffnet?",
        "weiß jemand, ob es {N_acc} auch online gibt?",
        "@{friend} schau mal",
        "@{friend} hast du das gesehen?",
        "habe {N_acc} am {weekday} bestellt, Lieferung soll am {weekday2} kommen",
        "wann kommt die Lieferung nach {city}?",
        "gerade {post_acc} gesehen",
        "gibt es schon Infos zum Preis in {country}?",
        "hat {place_nom} in {city} am {weekday} geöffnet?",
        "heute zum ersten Mal {N_acc} probiert",
        "kommt {N} nächsten Monat wieder?",
        "wo finde ich {N_acc} in {city}?",
        "gibt es {N_acc} auch in anderen Größen?",
        "nimmt {place_nom} in {city} auch {payment}?",
        "auf dem Weg zur Arbeit noch {N_acc} geholt",
        "{N} ist in {city} wieder verfügbar",
        "was kostet {N} in {country}?",
        "ist das {N_same} vom letzten Jahr?",
        "gilt das auch {place_in} in {city}?",
        "@{friend} holen wir uns am {weekday} {N_acc}?",
        "ich hole mir {N_acc} meistens am {weekday}",
    ],
    # --- ordinary negative
    "neg": ["{neg_core}{neg_emo}", "{neg_open} {neg_core}{neg_emo}", "{neg_core}. {neg_extra}"],
    "neg_open": ["Ernsthaft,", "Mal wieder:", "Im Ernst?!", "Hallo {B},", "Leute,", "Ärgerlich:"],
    "neg_core": [
        "meine Bestellung kam {late} an, {neg_feel}",
        "alles ist schon wieder teurer, {rip}",
        "warte immer noch auf meine Erstattung, der Kundenservice ist {bad_adj}",
        "{N} war heute {bad_adj}",
        "eure App stürzt ständig ab, {neg_feel}",
        "warum antwortet niemand auf meine Mails? {neg_feel_cap}",
        "{minutes} Minuten gewartet {place_in} in {city}, {neg_feel}",
        "total enttäuscht, {N} war {bad_adj}",
        "das Personal {place_in} in {city} war so unfreundlich, {neg_feel}",
        "die Ware wird immer schlechter, {neg_feel}",
        "die Erfahrung {place_in} in {city} war {bad_adj}",
        "{N} ist überteuert und {bad_adj}",
        "bezahlt und einen leeren Karton bekommen, {rip}",
        "{domain_complaint}",
        "{domain_complaint}",
    ],
    "late": ["schon wieder zu spät", "beschädigt", "kaputt", "unvollständig", "drei Tage zu spät"],
    "neg_feel": [
        "so ärgerlich", "frustrierend und schlecht", "inakzeptabel", "sehr enttäuschend",
        "einfach nur schlecht", "nervig und ärgerlich", "schrecklich",
    ],
    "neg_feel_cap": [
        "So ärgerlich.", "Frustrierend und schlecht.", "Enttäuschend.", "Unverschämt.",
    ],
    "rip": [
        "eine Frechheit", "unverschämt", "reine Abzocke, dreist", "so ärgerlich",
        "dreist und gierig",
    ],
    "bad_adj": [
        "schlecht", "schrecklich", "widerlich", "katastrophal", "ekelhaft", "miserabel",
        "enttäuschend", "furchtbar",
    ],
    "neg_extra": [
        "Sehr enttäuscht.", "Inakzeptabel.", "Schlechter Service, ärgerlich.",
        "Ich will mein Geld zurück, eine Frechheit.", "Nie wieder, echt schlecht.",
        "So nicht, einfach schlecht.",
    ],
    # --- mixed
    "mixed": ["{mixed_pos}, aber {mixed_neg}", "{mixed_neg}, aber {mixed_pos}"],
    "mixed_pos": [
        "ich liebe {N_acc}", "das Personal in {city} ist super", "{N} schmeckt toll",
        "die neue App sieht gut aus", "die Lieferung war schnell", "{N} ist klasse",
    ],
    "mixed_neg": [
        "die Preise sind eine Frechheit", "der Kundenservice ist schrecklich",
        "die App ist nutzlos", "die Wartezeit war furchtbar",
        "die Verpackung ist eine Katastrophe", "nach einer Woche kaputt, ärgerlich",
    ],
    # --- firestorm
    "outrage": [
        "Schämt euch, widerlich!", "Widerlich.", "Erbärmlich.", "Lügner, verlogen!",
        "Eine Frechheit!", "Was für ein Skandal, einfach widerlich!", "Einfach nur widerlich.",
        "Unfassbar schlecht!", "Boykott!", "Nie wieder, eine Schande!", "Ich bin wütend.",
        "Eine Schande!", "Skandalös!", "Unverschämt!", "Ekelhaft.", "Heuchler, verlogen!",
        "Gierig und verlogen.", "Peinlich und feige.", "Absolut inakzeptabel!", "Frechheit!",
        "Empörend!", "Verantwortungslos!", "Lügner, erbärmlich!",
    ],
    "call": [
        "", "", "", " Teilt das überall.", " Alle sollen das sehen.",
        " Unterschreibt die Petition.", " Sagt es weiter.",
    ],
    "claim_censorship": [
        "hört auf, unsere Kommentare zu löschen, {B}",
        "kritische Kommentare zu löschen ist feige",
        "ihr könnt löschen, wir bleiben trotzdem wütend",
        "schon wieder ein Kommentar gelöscht, Zensur pur",
        "warum werden hier alle kritischen Fragen gelöscht?",
        "statt zu antworten, blockiert ihr Kritiker",
        "Zensur ist keine Antwort, {B}",
        "mein Kommentar wurde nach fünf Minuten gelöscht",
        "was habt ihr zu verbergen, {B}? Antworten statt löschen",
        "Screenshots von allen gelöschten Kommentaren sind längst überall",
    ],
    "tag_censorship": ["#Zensur", "#GelöschteKommentare", "#{B}Zensur", ""],
    "claim_boycott": [
        "Boykott {B}, bis sich etwas ändert",
        "ich kaufe nie wieder bei {B}",
        "unsere Familie boykottiert {B} ab heute",
        "sagt allen, dass sie {B} boykottieren sollen",
        "habe heute mein Kundenkonto bei {B} gekündigt",
        "{B} hat mich als Kunden für immer verloren",
        "nie wieder {P} von {B}",
        "keinen Cent mehr für {B}",
    ],
    "tag_boycott": ["#Boykott{B}", "#Boykott", "#NieWieder{B}", ""],
    "claim_environment": [
        "euer Palmöl zerstört den Regenwald",
        "Orang-Utans sterben für eure Produkte",
        "Regenwald abholzen für Profit, das ist euer Geschäftsmodell",
        "ihr verschmutzt Flüsse und lügt darüber",
        "ihr nehmt ganzen Dörfern das Wasser weg",
        "euer Plastikmüll landet im Meer",
        "für euren Profit brennen die Wälder",
    ],
    "tag_environment": ["#Regenwald", "#Palmöl", "#Umweltzerstörung", ""],
    "claim_labor": [
        "eure Mitarbeiter werden mies bezahlt",
        "Mitarbeiter ausbeuten, während der Vorstand Millionen kassiert",
        "unterbezahltes Personal und Rekordgewinne",
        "Betriebsräte verhindern ist widerlich",
        "Leute feuern, weil sie sich organisieren, wie feige",
        "ihr behandelt euer Personal wie Dreck",
    ],
    "tag_labor": ["#FaireLöhne", "#Streik", ""],
    "claim_health": [
        "verunreinigte Produkte haben meine Kinder krank gemacht",
        "ruft die Produkte sofort zurück, Menschen werden krank",
        "ihr wusstet von der Verunreinigung und habt geschwiegen",
        "gefährliche Ware liegt immer noch in den Regalen",
    ],
    "tag_health": ["#Rückruf", "#Lebensmittelskandal", ""],
    "claim_misconduct": [
        "euer Personal hat {customer} vor allen gedemütigt",
        "seht euch das Video an, der Mitarbeiter war rassistisch und aggressiv",
        "ein weinendes Kind bei Kälte rauszuwerfen ist grausam",
        "Sicherheitsleute greifen {customer} an und {B} schweigt",
        "keine Reaktion von {B}, feige",
        "der Mitarbeiter hat {customer} im Rollstuhl beleidigt",
    ],
    "tag_misconduct": ["#{B}Skandal", "#Schande", ""],
    "claim_greenwashing": [
        "eure Klimaziele sind gelogen, reines Greenwashing",
        "falsche Öko-Siegel auf jedem Produkt",
        "klimaneutral? Was für eine Lüge",
        "grünes Marketing, dreckiges Geschäft",
    ],
    "tag_greenwashing": ["#Greenwashing", "#Klimalüge", ""],
    "claim_prices": [
        "Rekordgewinne und trotzdem wieder Preiserhöhungen",
        "Preistreiberei in der Krise, einfach gierig",
        "kleinere Packung, gleicher Preis, Abzocke",
        "ihr zockt Familien ab, die kaum die Miete zahlen können",
    ],
    "tag_prices": ["#Abzocke", "#Gierflation", ""],
    "defend_neu": [
        "wartet doch erst mal die Fakten ab",
        "kann mir jemand erklären, was passiert ist?",
        "wo kann man die ganze Geschichte nachlesen?",
        "geht es um {post_acc} vom {weekday}?",
        "was genau wurde denn gelöscht?",
        "Quelle?",
        "@{friend} hast du den Thread gesehen?",
        "gibt es schon eine offizielle Stellungnahme?",
    ],
    "defend_pos": [
        "ich mag {B} trotzdem, beruhigt euch mal",
        "ich hatte mit {B} immer gute Erfahrungen, alles super",
        "das Personal bei mir vor Ort ist super, die können nichts dafür",
        "ich kaufe {N_acc} weiter, ist einfach gut",
        "danke {B} für die schnelle Antwort, prima",
    ],
    "viral": ["{viral_core}{pos_emo}", "{viral_core}. {viral_extra}"],
    "viral_neu": ["@{friend} {viral_tag}", "@{friend} {viral_tag}", "{viral_tag_alone}"],
    "viral_core": [
        "das ist so schön, das Beste, was ich heute gesehen habe",
        "so rührend, wer hatte auch Freudentränen?",
        "tolle Geschichte, gut gemacht {B}",
        "gebt der Mitarbeiterin eine Gehaltserhöhung, einfach super",
        "wie herzlich, einfach wunderschön",
        "das hat meine ganze Woche gerettet, bin so glücklich",
        "der Glaube an die Menschheit ist wiederhergestellt, wunderbar",
        "so niedlich, pure Freude",
        "die Freundlichkeit in dem Video ist wunderschön",
        "die beste Werbung, die {B} je gemacht hat, genial",
        "heute bin ich stolz, {B} Kunde zu sein",
        "teile ich sofort, so schön",
        "das Lächeln am Ende ist herrlich",
        "pure Freude, vielen Dank dafür",
        "genau deshalb lieben wir {B}, toll",
    ],
    "viral_extra": ["Liebe es!", "Super!", "So schön!", "Herrlich!", "Wunderschön!", "Toll!"],
    "viral_tag": ["das musst du sehen", "das bist so du", "schau mal!", "bis zum Ende schauen"],
    "viral_tag_alone": ["Wer hat das gefilmt?", "Welche Filiale ist das?", "Komme von der Story"],
    "launch_pos": [
        "{launch_pos_core}{pos_emo}",
        "{pos_open} {launch_pos_core}",
        "{launch_pos_core}. {pos_extra}",
    ],
    "launch_neu": ["{launch_neu_core}", "{launch_neu_core}", "{neu_open} {launch_neu_core}"],
    "launch_neg": ["{launch_neg_core}{neg_emo}", "{neg_open} {launch_neg_core}{neg_emo}"],
    "launch_pos_core": [
        "kann es kaum erwarten, {L} zu probieren, bin begeistert!",
        "endlich! {L} ist da, super",
        "{L} sieht toll aus",
        "gerade {L} probiert, einfach klasse",
        "super gemacht {B}, {L} ist fantastisch",
        "{L} ist ein echter Gewinn, perfekt",
        "{L} schon bestellt, bin total begeistert",
        "{L} ist genau richtig, hervorragend",
    ],
    "launch_neu_core": [
        "wann gibt es {L} in {city}?",
        "was kostet {L}?",
        "gibt es {L} auch online?",
        "was ist neu an {L}?",
        "@{friend} {L} ist neu, probieren wir es am {weekday}?",
        "gibt es {L} auch in anderen Größen?",
        "kommt {L} auch nach {country}?",
        "ist {L} schon im Handel?",
    ],
    "launch_neg_core": [
        "{L} ist viel zu teuer, enttäuschend",
        "warum das Alte ändern? {L} sieht schlecht aus",
        "schon wieder nach Minuten ausverkauft, ärgerlich",
        "noch ein überteuertes Produkt, nein danke, lächerlich",
        "{L} ist eine Enttäuschung",
    ],
    "angry": ["{angry_core}{neg_emo}", "{angry_open} {angry_core}{neg_emo}"],
    "angry_open": ["Hallo??", "{B}!!", "Nochmal:", "Ich warte immer noch.", "Tag {day_n}:"],
    "angry_core": [
        "Bestellung {order_no} immer noch nicht geliefert, der Service ist miserabel",
        "das ist meine {nth} Nachricht und ihr ignoriert mich, lächerlich",
        "ich will mein Geld für Bestellung {order_no} zurück, eine Frechheit",
        "{B}, antwortet endlich! Der Kundenservice ist miserabel",
        "seit Wochen keine Erstattung, ihr Betrüger, unverschämt",
        "ich melde euch bei der Verbraucherzentrale, unverschämt",
        "Kunden sind euch hier egal, erbärmlich",
        "immer noch warten, immer noch ignoriert, furchtbar",
        "eure Hotline hat schon wieder aufgelegt, nutzlos",
        "ich erzähle allen, wie schlecht {B} ist",
        "widerlich. Bestellung {order_no}: bezahlt, nie angekommen, keine Antwort",
        "wie schwer ist es, eine Mail zu beantworten? Erbärmlich",
    ],
}  # fmt: skip

_DE_DOMAIN_COMPLAINTS: dict[str, list[str]] = {
    "food": [
        "habe Plastik im Essen gefunden, widerlich",
        "seit der neuen Rezeptur schmeckt es furchtbar",
        "kleinere Packung, gleicher Preis, reine Abzocke",
        "Haltbarkeitsdatum schon abgelaufen, unmöglich",
    ],
    "retail": [
        "Selbstbedienungskasse schon wieder kaputt, nervig",
        "Onlinebestellung ohne Grund storniert, schlecht",
        "seit Wochen ausverkauft, ärgerlich",
        "die Rücksendung ist ein Albtraum, furchtbar",
    ],
    "coffee": [
        "schon wieder die falsche Bestellung, ärgerlich",
        "{N} war kalt und bitter, schrecklich",
        "{minutes} Minuten auf einen Kaffee gewartet, lächerlich",
        "die App hat meine Punkte gelöscht, frustrierend und ärgerlich",
    ],
    "rail": [
        "Zug schon wieder ausgefallen, keine Info, katastrophal",
        "{minutes} Minuten Verspätung, unfassbar schlecht",
        "Klimaanlage wieder kaputt, furchtbare Fahrt",
        "Anschluss verpasst wegen eurer Verspätung, ich bin sauer",
        "völlig überfüllter Zug, eine Zumutung",
    ],
    "bikes": [
        "{N} ist nach zwei Wochen kaputt, miese Qualität",
        "drei Wochen warten auf die Werkstatt, lächerlich",
        "der Akku ist schon wieder leer, nervig",
    ],
}

# Crisis talk: a claim about the topic plus outrage, in varying order, sometimes with a
# hashtag or a call to share; the same frames for every topic and both languages. The
# claims and the tag are bound per text (two different claims when a frame has two).
_CRISIS_FRAMES = [
    "{C1}. {outrage}{neg_emo}",
    "{C1}! {outrage} {TAG}",
    "{outrage} {C1}{neg_emo}",
    "{C1}. {outrage}{call}",
    "{C1}, {C2}. {outrage}",
    "{C1}!! {outrage} {TAG}",
]
_EN_RULES["crisis"] = _DE_RULES["crisis"] = _CRISIS_FRAMES

# Text kinds a caller may ask for, and the tone each one has.
TEXT_KINDS: dict[str, str] = {
    "pos": "positive",
    "neu": "neutral",
    "neg": "negative",
    "mixed": "mixed",
    "defend_neu": "neutral",
    "defend_pos": "positive",
    "viral": "positive",
    "viral_neu": "neutral",
    "launch_pos": "positive",
    "launch_neu": "neutral",
    "launch_neg": "negative",
    "angry": "negative",
    **{f"crisis_{t}": "negative" for t in TOPICS},
}

_SLOT = re.compile(r"\{([A-Za-z0-9_]+)\}")
_BOUND = frozenset(
    {"B", "P", "N", "N_acc", "N_same", "place", "place_nom", "place_in", "customer", "L"}
    | {"weekday2", "order_no", "nth", "day_n", "C1", "C2", "TAG"}
)


class _Grammar:
    """A compiled template grammar for one language and product domain."""

    def __init__(self, rules: dict[str, list[str]]) -> None:
        self._rules: dict[str, list[tuple[tuple[bool, str], ...]]] = {}
        for name, alternatives in rules.items():
            self._rules[name] = [self._compile(alt) for alt in alternatives]
        for name, alternatives in self._rules.items():
            for parts in alternatives:
                for is_slot, text in parts:
                    if is_slot and text not in self._rules and text not in _BOUND:
                        raise ValueError(f"rule {name!r} uses unknown slot {text!r}")

    @staticmethod
    def _compile(template: str) -> tuple[tuple[bool, str], ...]:
        pieces = _SLOT.split(template)  # literal, slot, literal, slot, ...
        return tuple((i % 2 == 1, p) for i, p in enumerate(pieces) if p or i % 2)

    def expand(self, symbol: str, rng: random.Random, bound: dict[str, str]) -> str:
        alternatives = self._rules[symbol]
        parts = alternatives[int(rng.random() * len(alternatives))]
        out = []
        for is_slot, text in parts:
            if not is_slot:
                out.append(text)
            elif text in bound:
                out.append(bound[text])
            else:
                out.append(self.expand(text, rng, bound))
        return "".join(out)


_SPACES = re.compile(r"\s+")
_DOUBLE_STOP = re.compile(r"([.!?])\.+")
_STOP_BANG = re.compile(r"\.([!?])")
_SENTENCE_START = re.compile(r"(^|[.!?] )([a-zäöü])")


def _tidy(text: str) -> str:
    """Fix what template joins leave behind: spaces, doubled stops, lower-case starts."""
    if "  " in text or text[-1:] == " ":
        text = _SPACES.sub(" ", text).strip()
    if "." in text:
        text = _STOP_BANG.sub(r"\1", _DOUBLE_STOP.sub(r"\1", text))
    text = text.replace("?,", "?")
    return _SENTENCE_START.sub(_upper_start, text)


def _upper_start(m: re.Match[str]) -> str:
    return m[1] + m[2].upper()


_ARTICLES = {"m": ("der", "den"), "f": ("die", "die"), "n": ("das", "das")}
_SAME = {"m": "derselbe", "f": "dieselbe", "n": "dasselbe"}
_GRAMMARS: dict[tuple[str, str], _Grammar] = {}


def _grammar(lang: str, domain: str) -> _Grammar:
    key = (lang, domain)
    if key not in _GRAMMARS:
        base = _EN_RULES if lang == "en" else _DE_RULES
        complaints = (_EN_DOMAIN_COMPLAINTS if lang == "en" else _DE_DOMAIN_COMPLAINTS)[domain]
        _GRAMMARS[key] = _Grammar({**base, "domain_complaint": complaints})
    return _GRAMMARS[key]


class _TextMaker:
    """Writes comment texts for one brand, language mix and random stream."""

    def __init__(self, rng: random.Random, domain: str, brand_label: str) -> None:
        self.rng = rng
        self.domain = domain
        self.brand_label = brand_label
        self._vocab = DOMAINS[domain]

    def _bound(self, lang: str, extra: dict[str, str] | None) -> dict[str, str]:
        rng = self.rng
        vocab = self._vocab[lang]
        brand = self.brand_label if rng.random() < 0.8 else "@" + self.brand_label.lower()
        bound = {"B": brand, "customer": vocab["customer"]}
        if lang == "en":
            bound["P"] = rng.choice(vocab["products"])
            bound["place"] = rng.choice(vocab["place"])
            bound["weekday2"] = rng.choice(_EN_RULES["weekday"])
        else:
            gender, noun = rng.choice(vocab["products"])
            nom, acc = _ARTICLES[gender]
            bound["P"] = noun
            bound["N"] = f"{nom} {noun}"
            bound["N_acc"] = f"{acc} {noun}"
            bound["N_same"] = f"{_SAME[gender]} {noun}"
            p_gender, p_noun, p_in = rng.choice(vocab["place"])
            bound["place_nom"] = f"{_ARTICLES[p_gender][0]} {p_noun}"
            bound["place_in"] = p_in
            bound["weekday2"] = rng.choice(_DE_RULES["weekday"])
        if extra:
            bound.update(extra)
        return bound

    def text(self, kind: str, lang: str, extra: dict[str, str] | None = None) -> str:
        """One comment text of `kind` (see TEXT_KINDS) in `lang` ("en" or "de")."""
        grammar = _grammar(lang, self.domain)
        bound = self._bound(lang, extra)
        if kind.startswith("crisis_"):
            topic = kind.removeprefix("crisis_")
            bound["C1"] = grammar.expand(f"claim_{topic}", self.rng, bound)
            for _ in range(3):
                bound["C2"] = grammar.expand(f"claim_{topic}", self.rng, bound)
                if bound["C2"] != bound["C1"]:
                    break
            bound["TAG"] = grammar.expand(f"tag_{topic}", self.rng, bound)
            kind = "crisis"
        return _tidy(grammar.expand(kind, self.rng, bound))


def sample_text(
    kind: str,
    lang: str,
    rng: random.Random,
    *,
    domain: str = "retail",
    brand: str = "Brand",
    extra: dict[str, str] | None = None,
) -> str:
    """One synthetic comment text; for tests of scorers and for hand-made fixtures.

    >>> sample_text("crisis_boycott", "en", random.Random(1), domain="food", brand="Nestor")
    "Absolutely shameful. I'm done with Nestor, not buying your oat drink anymore 😡"
    >>> sample_text("crisis_censorship", "de", random.Random(2), brand="Bahnwerk")
    'Schon wieder ein Kommentar gelöscht, Zensur pur!! Was für ein Skandal, einfach widerlich!'
    """
    if kind not in TEXT_KINDS:
        raise ValueError(f"text kind {kind!r}: must be one of {sorted(TEXT_KINDS)}")
    defaults = {"L": "new model", "order_no": "#48213", "nth": "3rd", "day_n": "3"}
    if lang == "de":
        defaults["nth"] = "3."
    return _TextMaker(rng, domain, brand).text(kind, lang, {**defaults, **(extra or {})})


# ----------------------------------------------------------------------- generator

_TONE_KIND = {"negative": "neg", "positive": "pos", "neutral": "neu", "mixed": "mixed"}
_MIXED_SHARE = 0.02  # background comments that praise and complain at once


def _rngs(seed: int, source: str) -> tuple[np.random.Generator, random.Random]:
    """Independent random streams per source, so one source never shifts another."""
    key = zlib.crc32(source.encode())
    return np.random.default_rng([seed, key]), random.Random(f"{seed}:{source}")


def _hex_id(*parts: object, size: int = 5) -> str:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=size).hexdigest()


@dataclass
class _Thread:
    id: str
    created: float
    platform: str
    lang: str
    popularity: float
    tau: float  # seconds: how fast interest in the post fades


@dataclass
class _Rows:
    """One source's comments in time order, column-wise."""

    source: str
    brand: str
    t: np.ndarray
    thread: list[str]
    parent: np.ndarray  # index of the parent row in this source, -1 = top level
    platform: list[str]
    author: list[str]
    followers: list[int]
    lang: list[str]
    text: list[str]
    tone: list[str]


class _Brand:
    """Per-brand state shared by its background and its events: threads and authors."""

    def __init__(self, spec: ScenarioSpec, brand: BrandSpec, traffic_start: float) -> None:
        self.spec = spec
        self.brand = brand
        self.traffic_start = traffic_start
        self.end = spec.start + spec.duration_s
        self._rng, _ = _rngs(spec.seed, f"{brand.name}/threads")
        self.threads: list[_Thread] = []
        self._make_threads()
        # Authors: a Zipf-like pool with a flattened head (a few regulars, a long tail
        # of one-off commenters), reach log-normal with a sprinkle of influencers.
        arng, _ = _rngs(spec.seed, f"{brand.name}/authors")
        size = int(max(300, 2 * brand.comments_per_day))
        weights = 1.0 / (np.arange(size) + 50.0)
        self.author_p = weights / weights.sum()
        followers = arng.lognormal(math.log(150), 1.4, size)
        followers[arng.random(size) < 0.01] *= 50
        self.author_followers = followers.astype(np.int64)
        self._author_ids: dict[int, str] = {}

    def author_id(self, k: int) -> str:
        aid = self._author_ids.get(k)
        if aid is None:
            aid = self._author_ids[k] = "u" + _hex_id(self.spec.seed, self.brand.name, k)
        return aid

    def _thread_lang(self) -> str:
        if self.brand.lang == "mixed":
            return "de" if self._rng.random() < 0.55 else "en"
        return self.brand.lang

    def new_thread(self, created: float, platform: str | None = None) -> _Thread:
        rng = self._rng
        th = _Thread(
            id=f"{self.brand.name}_{_hex_id(self.spec.seed, self.brand.name, len(self.threads))}",
            created=created,
            platform=platform or str(rng.choice(PLATFORMS, p=_PLATFORM_WEIGHTS)),
            lang=self._thread_lang(),
            popularity=float(rng.lognormal(0.0, 1.0)),
            tau=float(6 * 3600 * rng.lognormal(0.0, 0.5)),
        )
        self.threads.append(th)
        return th

    def _make_threads(self) -> None:
        """Posts appear with the daily rhythm; an established brand has posts from the
        day before, so the stream does not start with an empty page."""
        brand = self.brand
        new_brand = brand.history_days == 0
        t0 = self.traffic_start - (0.0 if new_brand else _DAY)
        self.new_thread(self.traffic_start if new_brand else self.traffic_start - 3600.0)
        edges = np.arange(t0, self.end, 3600.0)
        expected = brand.threads_per_day / 24.0 * activity_profile(edges + 1800, brand.tz_offset_h)
        counts = self._rng.poisson(expected)
        created = np.sort(np.repeat(edges, counts) + self._rng.random(counts.sum()) * 3600.0)
        for c in created:
            self.new_thread(float(c))
        self.threads.sort(key=lambda th: th.created)

    def recent_threads(self, at: float, n: int, rng: np.random.Generator) -> list[_Thread]:
        """`n` distinct posts that are live at `at`, busier ones more likely."""
        cands = [th for th in self.threads if at - 3 * _DAY <= th.created <= at - 300.0]
        picked: list[_Thread] = []
        if cands:
            w = np.array([th.popularity * math.exp(-(at - th.created) / th.tau) for th in cands])
            w = w + 1e-3 * w.max() + 1e-12
            k = min(n, len(cands))
            idx = rng.choice(len(cands), size=k, replace=False, p=w / w.sum())
            picked = [cands[i] for i in idx]
        while len(picked) < n:
            created = max(self.traffic_start, at - float(rng.uniform(600.0, 6 * 3600.0)))
            picked.append(self.new_thread(min(created, at)))
        return picked


def _assign_threads(rng: np.random.Generator, t: np.ndarray, threads: list[_Thread]) -> np.ndarray:
    """Thread index per comment: live posts weighted by popularity x exponential decay."""
    created = np.array([th.created for th in threads])
    pop = np.array([th.popularity for th in threads])
    tau = np.array([th.tau for th in threads])
    out = np.zeros(len(t), dtype=np.int64)
    for lo in range(0, len(t), 8192):
        tc = t[lo : lo + 8192]
        # Only posts created before the chunk ends and not faded out by its start.
        live = np.flatnonzero((created <= tc[-1]) & (tc[0] - created < 12 * tau))
        if live.size == 0:
            live = np.array([int(np.argmin(created))])
        age = tc[:, None] - created[live][None, :]
        w = np.where(age >= 0, pop[live] * np.exp(-np.maximum(age, 0) / tau[live]), 0.0)
        cum = np.cumsum(w, axis=1)
        total = cum[:, -1]
        u = rng.random(len(tc)) * total
        pick = np.minimum((cum < u[:, None]).sum(axis=1), live.size - 1)
        # A comment before every live post (cannot happen after _make_threads, but keep
        # the invariant explicit) goes to the oldest one.
        pick[total <= 0] = 0
        out[lo : lo + 8192] = live[pick]
    return out


def _reply_parents(
    rng: np.random.Generator, group: np.ndarray, share: float, window: int = 30
) -> np.ndarray:
    """Parent row per comment (-1 = top level): a recent earlier comment in its thread."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), group))  # by thread, then time
    g = group[order]
    first = np.r_[True, g[1:] != g[:-1]]
    pos = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0))
    is_reply = (rng.random(n) < share) & (pos > 0)
    back = 1 + (rng.random(n) * np.minimum(pos, window)).astype(np.int64)
    parent_sorted = np.where(is_reply, order[np.clip(np.arange(n) - back, 0, n - 1)], -1)
    parents = np.empty(n, dtype=np.int64)
    parents[order] = parent_sorted
    return parents


@dataclass(frozen=True)
class _Curve:
    """An event's comments/min over time: exponential growth from `start` with a doubling
    time up to `peak`, a plateau, then exponential decay. Pure, so the breakout label
    can be computed from it exactly rather than from the noisy sample."""

    start: float
    peak: float
    doubling_s: float
    plateau_s: float
    half_life_s: float

    @property
    def growth_s(self) -> float:
        """Seconds from onset to the peak."""
        return (
            self.doubling_s * math.log2(self.peak / self.start) if self.peak > self.start else 0.0
        )

    def scaled(self, factor: float) -> _Curve:
        return _Curve(
            self.start * factor, self.peak * factor, self.doubling_s, self.plateau_s,
            self.half_life_s,
        )  # fmt: skip

    def __call__(self, tau: np.ndarray) -> np.ndarray:
        t_peak = self.growth_s
        growth = self.start * np.exp2(np.minimum(tau, t_peak) / self.doubling_s)
        after = np.maximum(tau - t_peak - self.plateau_s, 0.0)
        decay = self.peak * np.exp2(-after / self.half_life_s)
        rate = np.where(
            tau < t_peak, growth, np.where(tau < t_peak + self.plateau_s, self.peak, decay)
        )
        return np.where(tau >= 0, rate, 0.0)


def _sample_times(
    rng: np.random.Generator,
    onset: float,
    length_s: float,
    rate: Callable[[np.ndarray], np.ndarray],
    bin_s: float = 10.0,
) -> np.ndarray:
    """Inhomogeneous Poisson arrivals in [onset, onset + length_s) for a rate per minute."""
    if length_s <= 0:
        return np.zeros(0)
    edges = np.arange(0.0, length_s, bin_s)
    widths = np.minimum(bin_s, length_s - edges)
    counts = rng.poisson(rate(edges + widths / 2) * widths / 60.0)
    tau = np.repeat(edges, counts) + rng.random(counts.sum()) * np.repeat(widths, counts)
    return np.sort(onset + tau)


def _expected_count(rate: Callable[[np.ndarray], np.ndarray], length_s: float) -> float:
    tau = np.arange(0.0, max(length_s, 1.0), 10.0) + 5.0
    return float(rate(tau).sum() * 10.0 / 60.0)


def _breakout(
    onset: float, length_s: float, negative_rate: Callable[[np.ndarray], np.ndarray], thr: float
) -> float | None:
    """First second at which the event's negative rate function reaches `thr`."""
    tau = np.arange(0.0, length_s, 1.0)
    hit = np.flatnonzero(negative_rate(tau) >= thr)
    return onset + float(tau[hit[0]]) if hit.size else None


def _langs(rng: random.Random, lang: str, n: int, other_share: float = 0.0) -> list[str]:
    """Per-comment language: 'mixed' means half and half."""
    if lang == "mixed":
        return ["de" if rng.random() < 0.5 else "en" for _ in range(n)]
    other = "en" if lang == "de" else "de"
    return [other if rng.random() < other_share else lang for _ in range(n)]


def _rows(
    source: str,
    brand: _Brand,
    t: np.ndarray,
    threads: Sequence[_Thread],
    thread_idx: np.ndarray,
    parents: np.ndarray,
    authors: list[str],
    followers: Iterable[int],
    langs: list[str],
    texts: list[str],
    tones: list[str],
) -> _Rows:
    return _Rows(
        source=source,
        brand=brand.brand.name,
        t=t,
        thread=[threads[i].id for i in thread_idx],
        parent=parents,
        platform=[threads[i].platform for i in thread_idx],
        author=authors,
        followers=[int(f) for f in followers],
        lang=langs,
        text=texts,
        tone=tones,
    )


def _background(brand: _Brand) -> _Rows:
    """The brand's normal day: Poisson arrivals following the daily rhythm."""
    spec, b = brand.spec, brand.brand
    rng, prng = _rngs(spec.seed, f"{b.name}/background")
    start, end = brand.traffic_start, brand.end
    edges = np.arange(start, end, 60.0)
    widths = np.minimum(60.0, end - edges)
    expected = b.rate_per_min * activity_profile(edges + widths / 2, b.tz_offset_h) * widths / 60
    counts = rng.poisson(expected)
    t = np.sort(np.repeat(edges, counts) + rng.random(counts.sum()) * np.repeat(widths, counts))
    n = len(t)
    thread_idx = _assign_threads(rng, t, brand.threads)
    parents = _reply_parents(rng, thread_idx, 0.25)
    u = rng.random(n)
    neg, mixed = b.negative_share, b.negative_share + _MIXED_SHARE
    pos = mixed + 0.5 * (1.0 - mixed)
    tones = np.where(u < neg, "negative", np.where(u < mixed, "mixed", "positive"))
    tones = np.where(u >= pos, "neutral", tones).tolist()
    k = rng.choice(len(brand.author_p), size=n, p=brand.author_p)
    other_share = {"en": 0.0, "de": 0.03, "mixed": 0.1}[b.lang]
    langs = []
    for i in thread_idx:
        lang = brand.threads[i].lang
        if prng.random() < other_share:
            lang = "en" if lang == "de" else "de"
        langs.append(lang)
    maker = _TextMaker(prng, b.domain, b.label)
    texts = [maker.text(_TONE_KIND[tone], lang) for tone, lang in zip(tones, langs, strict=True)]
    return _rows(
        b.name, brand, t, brand.threads, thread_idx, parents,
        [brand.author_id(int(a)) for a in k], brand.author_followers[k], langs, texts, tones,
    )  # fmt: skip


class _Event:
    """Resolved knobs and random streams for generating one event."""

    def __init__(self, spec: ScenarioSpec, ev: EventSpec, name: str, brand: _Brand) -> None:
        self.spec, self.ev, self.name, self.brand = spec, ev, name, brand
        self.b = brand.brand
        self.onset = spec.start + ev.start
        self.end = min(self.onset + ev.duration_s, spec.start + spec.duration_s)
        self.length = self.end - self.onset
        self.lang = ev.lang or self.b.lang
        self.rng, self.prng = _rngs(spec.seed, name)
        self.maker = _TextMaker(self.prng, self.b.domain, self.b.label)
        self.threshold = BREAKOUT_FACTOR * self.b.negative_rate_per_min

    def knob(self, value: float, default: float) -> float:
        return value if value > 0 else default

    def share(self, default: float) -> float:
        return self.ev.negative_share if self.ev.negative_share >= 0 else default

    def curve(
        self, peak: float, start: float, doubling: float, plateau: float, half_life: float
    ) -> _Curve:
        """The event's rate curve: the spec's knobs where set, else these defaults."""
        ev = self.ev
        return _Curve(
            start=self.knob(ev.start_rate_per_min, start),
            peak=self.knob(ev.peak_rate_per_min, peak),
            doubling_s=self.knob(ev.doubling_time_s, doubling),
            plateau_s=ev.plateau_s if ev.plateau_s >= 0 else plateau,
            half_life_s=self.knob(ev.decay_half_life_s, half_life),
        )

    def outsiders(
        self, n: int, pool: int, skew: float, brand_share: float
    ) -> tuple[list[str], list[int]]:
        """Authors from outside the brand's regulars (activists, passers-by), plus some
        regulars; high-reach accounts join in at a few percent."""
        rng = self.rng
        w = 1.0 / (np.arange(pool) + 3.0) ** skew
        k = rng.choice(pool, size=n, p=w / w.sum())
        followers = rng.lognormal(math.log(250), 1.5, pool)
        high = rng.random(pool) < 0.03
        followers[high] = rng.lognormal(math.log(50_000), 1.0, int(high.sum()))
        regular = rng.random(n) < brand_share
        rk = rng.choice(len(self.brand.author_p), size=n, p=self.brand.author_p)
        ids, fol = [], []
        for i in range(n):
            if regular[i]:
                ids.append(self.brand.author_id(int(rk[i])))
                fol.append(int(self.brand.author_followers[rk[i]]))
            else:
                ids.append("u" + _hex_id(self.spec.seed, self.name, int(k[i])))
                fol.append(int(followers[k[i]]))
        return ids, fol

    def tones(self, n: int, negative_share: float) -> list[str]:
        u = self.rng.random(n)
        return ["negative" if x < negative_share else "other" for x in u]

    def pick(self, choices: Sequence[tuple[str, float]]) -> str:
        x = self.prng.random() * sum(w for _, w in choices)
        for kind, w in choices:
            x -= w
            if x < 0:
                return kind
        return choices[-1][0]


def _firestorm(e: _Event) -> tuple[_Rows, str | None, float | None]:
    """One post, many distinct angry authors, growth with a doubling time."""
    rate = e.curve(peak=40.0, start=0.5, doubling=600.0, plateau=1200.0, half_life=2400.0)
    share = e.share(0.8)
    t = _sample_times(e.rng, e.onset, e.length, rate)
    n = len(t)
    (thread,) = e.brand.recent_threads(e.onset, 1, e.rng)
    topics = e.ev.topics or ("censorship", "boycott", "environment")
    expected = _expected_count(rate, e.length)
    authors, followers = e.outsiders(n, int(max(200, 0.8 * expected)), 0.7, 0.12)
    t_peak = max(60.0, rate.growth_s)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            # The trigger topic first; the others join as the storm spreads.
            progress = min(1.0, (t[i] - e.onset) / t_peak)
            kind = "crisis_" + e.pick([(topics[0], 1.0)] + [(x, progress) for x in topics[1:]])
        else:
            kind = e.pick([("defend_neu", 0.4), ("defend_pos", 0.25), ("neu", 0.15), ("pos", 0.2)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i]))
    idx = np.zeros(n, dtype=np.int64)
    parents = _reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.3)
    rows = _rows(
        e.name, e.brand, t, [thread], idx, parents, authors, followers, langs, texts, tones
    )
    breakout = _breakout(e.onset, e.length, lambda tau: share * rate(tau), e.threshold)
    return rows, thread.id, breakout


def _spreading_firestorm(e: _Event) -> tuple[_Rows, str | None, float | None]:
    """Negativity over many posts at once; no single post stands out."""
    rate = e.curve(peak=50.0, start=1.0, doubling=900.0, plateau=1800.0, half_life=3600.0)
    share = e.share(0.75)
    t = _sample_times(e.rng, e.onset, e.length, rate)
    n = len(t)
    n_threads = e.ev.n_threads or 25
    threads = e.brand.recent_threads(e.onset, n_threads, e.rng)
    # Each post joins at some point during the growth phase, then keeps its share.
    joins = np.sort(e.rng.uniform(0.0, 0.6 * max(rate.growth_s, 600.0), n_threads))
    joins[0] = 0.0
    weights = e.rng.dirichlet(np.full(n_threads, 4.0))
    tau = t - e.onset
    w = np.where(tau[:, None] >= joins[None, :], weights[None, :], 0.0)
    cum = np.cumsum(w, axis=1)
    u = e.rng.random(n) * cum[:, -1]
    idx = np.minimum((cum < u[:, None]).sum(axis=1), n_threads - 1)
    topics = e.ev.topics or ("labor", "prices", "boycott")
    expected = _expected_count(rate, e.length)
    authors, followers = e.outsiders(n, int(max(300, 0.8 * expected)), 0.7, 0.2)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            kind = "crisis_" + e.prng.choice(topics)
        else:
            kind = e.pick([("defend_neu", 0.3), ("defend_pos", 0.2), ("neu", 0.25), ("pos", 0.25)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i]))
    parents = _reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.3)
    rows = _rows(e.name, e.brand, t, threads, idx, parents, authors, followers, langs, texts, tones)
    breakout = _breakout(e.onset, e.length, lambda tau: share * rate(tau), e.threshold)
    return rows, None, breakout


def _viral_positive(e: _Event) -> tuple[_Rows, str | None, float | None]:
    """One new post draws a flood of praise: volume explodes, negativity does not."""
    base = e.b.rate_per_min
    rate = e.curve(
        peak=max(20.0, 20.0 * base), start=max(0.2, 0.5 * base),
        doubling=300.0, plateau=1800.0, half_life=2400.0,
    )  # fmt: skip
    share = e.share(0.5 * e.b.negative_share)
    t = _sample_times(e.rng, e.onset, e.length, rate)
    n = len(t)
    platform = str(e.rng.choice(["instagram", "facebook", "twitter", "youtube"]))
    thread = e.brand.new_thread(e.onset - 60.0, platform)
    expected = _expected_count(rate, e.length)
    authors, followers = e.outsiders(n, int(max(300, 1.2 * expected)), 0.3, 0.1)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            kind = "neg"
        else:
            kind = e.pick([("viral", 0.7), ("viral_neu", 0.2), ("pos", 0.05), ("neu", 0.05)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i]))
    idx = np.zeros(n, dtype=np.int64)
    parents = _reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.2)
    rows = _rows(
        e.name, e.brand, t, [thread], idx, parents, authors, followers, langs, texts, tones
    )
    return rows, thread.id, None


def _product_launch(e: _Event) -> tuple[_Rows, str | None, float | None]:
    """A campaign of new posts, staggered; lots of curiosity, a little grumbling."""
    base = e.b.rate_per_min
    n_threads = e.ev.n_threads or 4
    peak = max(8.0, 8.0 * base)
    # Rates in the spec are totals over all launch posts; each post gets its share.
    rate = e.curve(peak=peak, start=0.05 * peak, doubling=240.0, plateau=1800.0, half_life=3600.0)
    offsets = np.r_[0.0, np.cumsum(e.rng.uniform(300.0, 1200.0, n_threads - 1))]
    weights = e.rng.dirichlet(np.full(n_threads, 2.0))
    platforms = e.rng.permutation(np.array(PLATFORMS[:4] * 3))[:n_threads]
    threads = [
        e.brand.new_thread(e.onset + float(o), str(p))
        for o, p in zip(offsets, platforms, strict=True)
    ]
    parts = []
    for j in range(n_threads):
        shape = rate.scaled(float(weights[j]))
        tj = _sample_times(e.rng, e.onset + offsets[j], e.length - offsets[j], shape)
        parts.append((tj, np.full(len(tj), j)))
    t = np.concatenate([p[0] for p in parts])
    order = np.argsort(t, kind="stable")
    t, idx = t[order], np.concatenate([p[1] for p in parts])[order]
    n = len(t)
    share = e.share(min(1.0, 1.3 * e.b.negative_share))
    product = e.ev.product or f"{e.b.label} One"
    authors, followers = e.outsiders(n, int(max(200, 0.5 * n)), 0.5, 0.5)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            kind = e.pick([("launch_neg", 0.6), ("neg", 0.4)])
        else:
            kind = e.pick([("launch_pos", 0.5), ("launch_neu", 0.35), ("pos", 0.08), ("neu", 0.07)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i], {"L": product}))
    parents = _reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.25)
    rows = _rows(e.name, e.brand, t, threads, idx, parents, authors, followers, langs, texts, tones)
    return rows, threads[0].id if n_threads == 1 else None, None


_BOT_EMOJI = ["😡", "🤬", "👎", "😤", "💩", "‼️"]


def _bot_variant(base: str, i: int, rng: random.Random) -> str:
    """Copy-paste with a tiny change, the way spam scripts dodge exact-duplicate filters."""
    r = rng.random()
    if r < 0.25:
        return f"{base} #{i + 1}"
    if r < 0.5:
        return base.rstrip(".!?") + rng.choice(["!", "!!", "!!!", ".", " !!", "?!"])
    if r < 0.75:
        return f"{base} {rng.choice(_BOT_EMOJI)}"
    if r < 0.85:
        return base.replace(" ", "  ", 1)
    if r < 0.93:
        return f"{base} {i + 1}"
    return base


def _bot_burst(e: _Event) -> tuple[_Rows, str | None, float | None]:
    """A few accounts paste the same accusation hundreds of times within minutes."""
    n = e.ev.n_comments or 300
    n_accounts = e.ev.n_accounts or 5
    threads = e.brand.recent_threads(e.onset, e.ev.n_threads or 1, e.rng)
    t = np.sort(e.onset + e.rng.uniform(0.0, e.length, n))
    lang = e.lang if e.lang != "mixed" else e.prng.choice(["en", "de"])
    topics = e.ev.topics or ("boycott",)
    bases = [e.maker.text("crisis_" + e.prng.choice(topics), lang) for _ in range(2)]
    texts = [_bot_variant(bases[int(e.prng.random() < 0.3)], i, e.prng) for i in range(n)]
    accounts = ["u" + _hex_id(e.spec.seed, e.name, k) for k in range(n_accounts)]
    acc_followers = e.rng.integers(0, 40, n_accounts)
    who = e.rng.integers(0, n_accounts, n)
    idx = e.rng.integers(0, len(threads), n)
    rows = _rows(
        e.name, e.brand, t, threads, idx, np.full(n, -1, dtype=np.int64),
        [accounts[k] for k in who], acc_followers[who], [lang] * n, texts, ["negative"] * n,
    )  # fmt: skip
    return rows, threads[0].id if len(threads) == 1 else None, None


def _ordinal_en(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _angry_customer(e: _Event) -> tuple[_Rows, str | None, float | None]:
    """One customer, one grievance, many messages: loud but not a crisis."""
    n = e.ev.n_comments or 25
    threads = e.brand.recent_threads(e.onset, e.ev.n_threads or 1, e.rng)
    t = np.sort(e.onset + e.rng.uniform(0.0, e.length, n))
    t[0] = e.onset
    pool = len(e.brand.author_p)
    k = int(e.rng.integers(min(100, pool - 1), pool))  # an ordinary customer, not a regular
    author = e.brand.author_id(k)
    followers = int(e.rng.integers(5, 400))
    lang = e.lang if e.lang != "mixed" else e.prng.choice(["en", "de"])
    order_no = f"#{e.prng.randint(100000, 999999)}"
    texts = []
    for i in range(n):
        nth = _ordinal_en(i + 2) if lang == "en" else f"{i + 2}."
        extra = {"order_no": order_no, "nth": nth, "day_n": str(1 + i // 8)}
        texts.append(e.maker.text("angry", lang, extra))
    idx = np.where(e.rng.random(n) < 0.75, 0, e.rng.integers(0, len(threads), n))
    parents = np.full(n, -1, dtype=np.int64)
    last: dict[int, int] = {}
    for i in range(n):
        j = int(idx[i])
        if j in last and e.rng.random() < 0.4:  # replying to their own earlier comment
            parents[i] = last[j]
        last[j] = i
    rows = _rows(
        e.name, e.brand, t, threads, idx, parents,
        [author] * n, [followers] * n, [lang] * n, texts, ["negative"] * n,
    )  # fmt: skip
    return rows, threads[0].id if len(threads) == 1 else None, None


_EVENT_GENERATORS: dict[str, Callable[[_Event], tuple[_Rows, str | None, float | None]]] = {
    "firestorm": _firestorm,
    "spreading_firestorm": _spreading_firestorm,
    "viral_positive": _viral_positive,
    "product_launch": _product_launch,
    "bot_burst": _bot_burst,
    "angry_customer": _angry_customer,
}


def _traffic_start(spec: ScenarioSpec, brand: BrandSpec) -> float:
    starts = [ev.start for ev in spec.events if ev.brand == brand.name]
    if not starts or math.isinf(brand.history_days):
        return spec.start
    return max(spec.start, spec.start + min(starts) - brand.history_days * _DAY)


def _to_dicts(
    spec: ScenarioSpec, sources: list[_Rows]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Contract dicts in delivery order. Format choices are drawn per source so that a
    source's comments look the same whatever else is in the scenario."""
    ts, keys, fields = [], [], []
    for rows in sources:
        n = len(rows.t)
        if n == 0:
            continue
        rng, _ = _rngs(spec.seed, f"{rows.source}/delivery")
        late = rng.random(n) < 0.02  # real streams deliver a few comments late
        delay = np.where(late, rng.uniform(0.0, 90.0, n), 0.0)
        ts.append(rows.t)
        keys.append(rows.t + delay)
        fields.append((rows, rng.random((n, 4))))
    if not ts:
        return [], {}
    t_all = np.concatenate(ts)
    iso = np.datetime_as_string(np.floor(t_all).astype(np.int64).astype("datetime64[s]"))
    order = np.argsort(np.concatenate(keys), kind="stable")
    flat: list[tuple[_Rows, int, np.ndarray]] = []
    for rows, draws in fields:
        flat.extend((rows, i, draws[i]) for i in range(len(rows.t)))
    comments: list[dict[str, Any]] = []
    tones: dict[str, str] = {}
    width = {rows.source: max(6, len(str(len(rows.t)))) for rows, _ in fields}
    for g in order:
        rows, i, (u_time, u_lang, u_followers, u_parent) = flat[g]
        w = width[rows.source]
        cid = f"{rows.source}#{i:0{w}d}"
        t = float(t_all[g])
        # ~90% ISO 8601, the rest epoch seconds (half int, half float).
        if u_time < 0.9:
            created: str | int | float = str(iso[g]) + "Z"
        elif u_time < 0.95:
            created = int(t)
        else:
            created = round(t, 3)
        c: dict[str, Any] = {
            "id": cid,
            "text": rows.text[i],
            "created_at": created,
            "brand": rows.brand,
            "thread_id": rows.thread[i],
        }
        p = int(rows.parent[i])
        if p >= 0:
            c["parent_id"] = f"{rows.source}#{p:0{w}d}"
        elif u_parent < 0.1:
            c["parent_id"] = None
        c["platform"] = rows.platform[i]
        c["author_id"] = rows.author[i]
        if u_followers < 0.93:
            c["author_followers"] = rows.followers[i]
        elif u_followers < 0.96:
            c["author_followers"] = None
        if u_lang < 0.6:  # many platforms tag a language, many do not
            c["lang"] = rows.lang[i]
        elif u_lang < 0.63:
            c["lang"] = None
        comments.append(c)
        tones[cid] = rows.tone[i]
    return comments, tones


def generate(spec: ScenarioSpec) -> Scenario:
    """Generate the scenario's comment stream and labels; a pure function of `spec`."""
    brands = {b.name: _Brand(spec, b, _traffic_start(spec, b)) for b in spec.brands}
    sources = [_background(brand) for brand in brands.values()]
    labels = []
    for ev, name in zip(spec.events, spec.event_names(), strict=True):
        e = _Event(spec, ev, name, brands[ev.brand])
        rows, thread_id, breakout = _EVENT_GENERATORS[ev.kind](e)
        sources.append(rows)
        must_alert = MUST_ALERT[ev.kind]
        labels.append(
            EventLabel(
                name=name,
                kind=ev.kind,
                brand=ev.brand,
                thread_id=thread_id,
                must_alert=must_alert,
                onset=e.onset,
                breakout=breakout if must_alert else None,
                end=e.end,
                lang=e.lang,
            )
        )
    comments, tones = _to_dicts(spec, sources)
    return Scenario(spec=spec, comments=comments, labels=labels, tones=tones)


# ---------------------------------------------------------------------------- files


def write_jsonl(
    scenario: Scenario, comments_path: str | Path, labels_path: str | Path | None = None
) -> None:
    """Write the comments (input contract, delivery order) and labels as JSONL."""
    with open(comments_path, "wb") as fh:
        for c in scenario.comments:
            fh.write(orjson.dumps(c) + b"\n")
    if labels_path is not None:
        with open(labels_path, "wb") as fh:
            for lab in scenario.labels:
                fh.write(orjson.dumps(asdict(lab)) + b"\n")


def read_labels(path: str | Path) -> list[EventLabel]:
    """Labels written by `write_jsonl`."""
    with open(path, "rb") as fh:
        return [EventLabel(**orjson.loads(line)) for line in fh if line.strip()]

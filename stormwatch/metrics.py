"""Prometheus metrics: every metric stormwatch exports, defined once, on one registry.

Names follow Prometheus conventions (`stormwatch_` prefix, base units, `_total` for
counters) so that `promtool check metrics` is clean. Labels are bounded on purpose: a
platform is folded into a fixed set plus "other", a dead-letter reason into the
decoder's codes plus "other"; per-brand series carry only `brand`. Threads, authors and
comments never become label values: a firestorm must not become a cardinality storm.

`MetricsObserver` is the pipeline's `PipelineObserver`. Its per-comment hook runs on the
hot path, so it touches only pre-built label children (one dict lookup, one increment).
Everything per brand is set when a minute closes and the pipeline shows the brand: every
minute it is judged, and a resting brand's minutes when its figures change
(`window_minutes`). A brand's series are removed once its 10-minute window has held no
comment for an hour (they return with its next comment), and at most `MAX_BRAND_SERIES`
brands have series at a time: past that, a brand without series takes the place of the
one quiet the longest only when it expects `DISPLACE_RATIO` times its comments, and
otherwise waits for a place (the totals count it; its late comments are counted per
brand only while it has series). The cap is on those window series: a brand's incident
series are made at its first incident event, series or not, and a brand that has had an
incident keeps them (one per severity) for the life of the process. A brand waiting for
a place has no zero to start its counters from, so its first incident shows in the
counter's value, not in `increase()`.

>>> from prometheus_client import CollectorRegistry
>>> registry = CollectorRegistry()
>>> metrics = StormwatchMetrics(registry)
>>> metrics.set_consumer_lag(3, 1200)
>>> registry.get_sample_value("stormwatch_kafka_consumer_lag_messages", {"partition": "3"})
1200.0
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from stormwatch import __version__
from stormwatch.alerts.event import SEVERITIES, AlertEvent
from stormwatch.detectors.crisis import Assessment
from stormwatch.model import Comment, DeadLetter

if TYPE_CHECKING:
    from stormwatch.alerts.incidents import Incident

__all__ = [
    "DEAD_LETTER_REASONS",
    "DELIVERY_OUTCOMES",
    "COMMENT_OUTCOMES",
    "PLATFORMS",
    "MetricsObserver",
    "StormwatchMetrics",
    "platform_label",
    "reason_label",
]

PLATFORMS = (
    "facebook",
    "instagram",
    "twitter",
    "youtube",
    "tiktok",
    "reddit",
    "mastodon",
    "bluesky",
    "blog",
    "news",
)
OTHER = "other"
UNKNOWN = "unknown"  # the comment named no platform
COMMENT_OUTCOMES = ("processed", "late", "duplicate")
DEAD_LETTER_REASONS = (
    "invalid_json",
    "invalid_encoding",
    "empty",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "invalid_timestamp",
    "timestamp_out_of_range",
    "timestamp_in_future",
    "timestamp_outlier",
    "too_large",
    "out_of_range",
    "decode_error",
    "processing_error",
)
DELIVERY_OUTCOMES = ("delivered", "failed", "retried", "dropped")
_TARGET = re.compile(r"[a-z][a-z0-9_]{0,31}")
_PLATFORM_ALIASES = {"x": "twitter", "fb": "facebook", "ig": "instagram", "yt": "youtube"}

# `*_created` series double the series count and no dashboard or rule here reads them.
disable_created_metrics()

# Ingest → decision spans the allowed lateness (minutes by default), so buckets reach 10 min.
LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180, 300, 600)
LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 24 * 3600)
INCIDENT_BUCKETS = (60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 86400)


def platform_label(platform: str | None) -> str:
    """Fold a free-text platform into a fixed label set.

    >>> platform_label("YouTube"), platform_label("X"), platform_label("myspace")
    ('youtube', 'twitter', 'other')
    """
    if platform is None:
        return UNKNOWN
    p = platform.strip().lower()
    p = _PLATFORM_ALIASES.get(p, p)
    return p if p in PLATFORMS else OTHER


def reason_label(reason: str) -> str:
    return reason if reason in DEAD_LETTER_REASONS else OTHER


class CommentTally(Collector):
    """`stormwatch_comments_total{platform, outcome}` as plain integers.

    A prometheus-client counter increment takes a lock (0.3-0.5 us here), which is half
    the per-comment budget. Each observer instead owns a dict of platform label ->
    [processed, late, duplicate] that only its pipeline thread writes; a scrape sums them.
    """

    def __init__(self) -> None:
        self._owners: list[dict[str, list[int]]] = []

    def new_rows(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        self._owners.append(rows)
        return rows

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> list[Metric]:
        # Every platform from the first scrape, at 0: before any comment decoded (a
        # producer that changed its format) the ingest-stalled and dead-letter-ratio
        # rules had no series to compute on, and could not fire.
        totals = {p: [0] * len(COMMENT_OUTCOMES) for p in (*PLATFORMS, OTHER, UNKNOWN)}
        for rows in list(self._owners):
            for platform, counts in list(rows.items()):
                total = totals.setdefault(platform, [0] * len(COMMENT_OUTCOMES))
                for i, n in enumerate(counts):
                    total[i] += n
        family = self._family()
        for platform in sorted(totals):
            for outcome, n in zip(COMMENT_OUTCOMES, totals[platform], strict=True):
                family.add_metric([platform, outcome], n)
        return [family]

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily(
            "stormwatch_comments",
            "Comments decoded, by platform and outcome (processed on time, late, duplicate).",
            labels=["platform", "outcome"],
        )


class StormwatchMetrics:
    """All metric families, registered on `registry` (a fresh one per test)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        r = registry
        # -- ingest ------------------------------------------------------------------
        self.comments = CommentTally()
        registry.register(self.comments)
        self.dead_letters = Counter(
            "stormwatch_dead_letters_total",
            "Input records that could not be decoded, by reason.",
            ["reason"],
            registry=r,
        )
        self.late_comments = Counter(
            "stormwatch_late_comments_total",
            "Comments older than the watermark (in their own minute while it is kept), by brand.",
            ["brand"],
            registry=r,
        )
        self.processing_latency = Histogram(
            "stormwatch_processing_latency_seconds",
            "Wall time from the arrival of a minute's last comment to that minute's decision.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.event_time_lag = Histogram(
            "stormwatch_event_time_lag_seconds",
            "Wall clock minus event time of the newest comment, sampled per closed minute.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.newest_event = Gauge(
            "stormwatch_newest_event_timestamp_seconds",
            "Event time of the newest comment seen.",
            registry=r,
        )
        self.windows_closed = Counter(
            "stormwatch_windows_closed_total",
            "Event-time minutes closed by the watermark and assessed.",
            registry=r,
        )
        self.consumer_lag = Gauge(
            "stormwatch_kafka_consumer_lag_messages",
            "Messages between the worker's read position and the end of each assigned "
            "partition (below the group's committed lag by what awaits a checkpoint).",
            ["partition"],
            registry=r,
        )
        self.tracked_brands = Gauge(
            "stormwatch_tracked_brands", "Brand windows held in memory.", registry=r
        )
        self.tracked_threads = Gauge(
            "stormwatch_tracked_threads", "Thread windows held in memory.", registry=r
        )
        self.evicted_keys = Counter(
            "stormwatch_evicted_keys_total", "Idle window keys evicted.", registry=r
        )
        # -- per brand, set when a minute closes (10-minute window, event time) ---------
        self.brand_comments_rate = Gauge(
            "stormwatch_brand_comments_per_second",
            "Comments per second over the last 10 event-time minutes.",
            ["brand"],
            registry=r,
        )
        self.brand_expected_comments_rate = Gauge(
            "stormwatch_brand_expected_comments_per_second",
            "Seasonal baseline of comments per second for this hour of day.",
            ["brand"],
            registry=r,
        )
        self.brand_negative_rate = Gauge(
            "stormwatch_brand_negative_comments_per_second",
            "Negative comments per second over the last 10 event-time minutes.",
            ["brand"],
            registry=r,
        )
        self.brand_expected_negative_rate = Gauge(
            "stormwatch_brand_expected_negative_comments_per_second",
            "Baseline of negative comments per second for this hour of day.",
            ["brand"],
            registry=r,
        )
        self.brand_negative_share = Gauge(
            "stormwatch_brand_negative_share_ratio",
            "Share of negative comments over the last 10 event-time minutes (0..1).",
            ["brand"],
            registry=r,
        )
        self.brand_expected_negative_share = Gauge(
            "stormwatch_brand_expected_negative_share_ratio",
            "The brand's usual share of negative comments (0..1).",
            ["brand"],
            registry=r,
        )
        self.brand_crisis_score = Gauge(
            "stormwatch_brand_crisis_score",
            "Evidence of the brand's negative surge: tests over thresholds (alarm at 1).",
            ["brand"],
            registry=r,
        )
        self.brand_surge_ratio = Gauge(
            "stormwatch_brand_surge_ratio",
            "Recent negative rate divided by the baseline negative rate.",
            ["brand"],
            registry=r,
        )
        self.brand_window_end = Gauge(
            "stormwatch_brand_window_end_timestamp_seconds",
            "Event time at the end of the last closed minute the brand's figures were "
            "computed for (a resting brand's only when they change).",
            ["brand"],
            registry=r,
        )
        # -- incidents -------------------------------------------------------------------
        self.incidents_open = Gauge(
            "stormwatch_incidents_open",
            "Incidents currently open, by brand and severity.",
            ["brand", "severity"],
            registry=r,
        )
        self.incidents_opened = Counter(
            "stormwatch_incidents_opened_total",
            "Incidents opened, by brand and opening severity.",
            ["brand", "severity"],
            registry=r,
        )
        self.incidents_escalated = Counter(
            "stormwatch_incidents_escalated_total",
            "Incident escalations, by brand and the severity escalated to.",
            ["brand", "severity"],
            registry=r,
        )
        self.incidents_resolved = Counter(
            "stormwatch_incidents_resolved_total",
            "Incidents resolved, by brand and final severity.",
            ["brand", "severity"],
            registry=r,
        )
        self.time_to_acknowledge = Histogram(
            "stormwatch_incident_time_to_acknowledge_seconds",
            "Wall time from an incident's first notification to its acknowledgement.",
            ["severity"],
            buckets=INCIDENT_BUCKETS,
            registry=r,
        )
        self.time_to_resolve = Histogram(
            "stormwatch_incident_time_to_resolve_seconds",
            "Event time from an incident's opening to its resolution.",
            ["severity"],
            buckets=INCIDENT_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "stormwatch_deliveries_total",
            "Notification deliveries, by target (slack, pagerduty, ...) and outcome.",
            ["target", "outcome"],
            registry=r,
        )
        # -- the collectors `stormwatch serve` runs (label: the name in the config file) ----
        self.collector_polls = Counter(
            "stormwatch_collector_polls_total",
            "Polls of serve's collectors, by collector and outcome (ok, failed).",
            ["collector", "outcome"],
            registry=r,
        )
        self.collector_records = Counter(
            "stormwatch_collector_records_total",
            "Records serve's collectors handed to the pipeline, by collector.",
            ["collector"],
            registry=r,
        )
        self.collector_intake_waits = Counter(
            "stormwatch_collector_intake_waits_total",
            "Pages a collector offered to a full intake and offered again later, by collector.",
            ["collector"],
            registry=r,
        )
        self.build_info = Info("stormwatch_build", "Version of stormwatch and Python.", registry=r)
        self.build_info.info(
            {"version": __version__, "python": ".".join(map(str, sys.version_info[:3]))}
        )
        # Pre-create the fixed label sets so that dashboards and rate() see zeros, not gaps.
        for reason in (*DEAD_LETTER_REASONS, OTHER):
            self.dead_letters.labels(reason)

    # -- methods for code outside the pipeline (Kafka worker, Slack, delivery) -------------

    def set_consumer_lag(self, partition: int, lag: int) -> None:
        """Called by the Kafka worker after each poll for each assigned partition."""
        if lag < 0:
            raise ValueError(f"consumer lag must be >= 0, got {lag}")
        self.consumer_lag.labels(str(int(partition))).set(lag)

    def forget_partition(self, partition: int) -> None:
        """A partition was revoked in a rebalance: its lag is another worker's now."""
        try:
            self.consumer_lag.remove(str(int(partition)))
        except KeyError:
            pass

    def observe_time_to_acknowledge(self, severity: str, seconds: float) -> None:
        self.time_to_acknowledge.labels(_severity(severity)).observe(_non_negative(seconds))

    def collector_poll(self, collector: str, *, ok: bool, records: int, waits: int) -> None:
        """One poll of a collector of serve; `waits`: offers refused by a full intake."""
        self.collector_polls.labels(collector, "ok" if ok else "failed").inc()
        self.collector_records.labels(collector).inc(records)
        self.collector_intake_waits.labels(collector).inc(waits)

    def delivery(self, target: str, outcome: str) -> None:
        """One delivery attempt of an alert event to a target (slack, pagerduty, jsonl ...)."""
        if outcome not in DELIVERY_OUTCOMES:
            raise ValueError(
                f"delivery outcome must be one of {DELIVERY_OUTCOMES}, got {outcome!r}"
            )
        if not _TARGET.fullmatch(target):
            raise ValueError(f"delivery target must be a short lower-case name, got {target!r}")
        self.deliveries.labels(target, outcome).inc()


def _severity(severity: str) -> str:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    return severity


def _non_negative(seconds: float) -> float:
    if not seconds >= 0:
        raise ValueError(f"a duration must be >= 0, got {seconds}")
    return seconds


MAX_BRAND_SERIES = 1000  # brands with per-brand series at a time
# At the cap a brand without series takes the place of the least recently active one
# only when it expects this many times that one's comments: 2,000 brands that speak
# about once an hour each took another's place at almost every comment, a third of
# the metrics' cost, and no dashboard shows a series that lives for an hour.
DISPLACE_RATIO = 2.0
# Minutes after the last minute a brand was shown with comments in its 10-minute window
# before its series go (a brand at rest was last shown so the minute after it spoke).
BRAND_IDLE_MINUTES = 60


class MetricsObserver:
    """Feeds `StormwatchMetrics` from the pipeline (implements `PipelineObserver`).

    Its brand gauges read the last `window_minutes` of a brand's comments, so the
    pipeline shows it every minute of a brand it judges, a resting brand's minutes only
    when its figures change, and such a brand once more an hour after its window
    emptied, when its series go (`BRAND_IDLE_MINUTES`)."""

    window_minutes = 10

    def __init__(
        self,
        metrics: StormwatchMetrics,
        *,
        clock: Callable[[], float] = time.time,
        key_gauges: bool = True,
    ) -> None:
        self.metrics = metrics
        self.clock = clock
        # False where several pipelines share the observer (a Kafka worker's partitions):
        # each would set the tracked-key gauges to its own count; the worker sums them.
        self.key_gauges = key_gauges
        self.newest_event = 0.0
        # platform as written -> [processed, late, duplicate] counts of its label. Bounded:
        # raw spellings beyond the first 64 share the row of their label without a cache entry.
        self._rows = metrics.comments.new_rows()
        self._counts: dict[str | None, list[int]] = {}
        self._arrivals: dict[int, float] = {}  # event minute -> wall time the stream left it
        self._minute = -1
        self._closed_minute = -1
        self._late: dict[str, object] = {}
        # brand -> its gauges' children, least recently active first
        self._brand_children: dict[str, tuple] = {}
        self._brand_volume: dict[str, float] = {}  # brand with series -> expected/min
        self._brand_active: dict[str, int] = {}  # brand -> last minute with comments
        self._open: dict[str, tuple[str, str, float]] = {}  # incident -> brand, severity, at
        self._told: set[str] = set()  # brands whose incident counters moved from 0

    # -- hot path ------------------------------------------------------------------------

    def comment(self, c: Comment, *, duplicate: bool, late: bool) -> None:
        counts = self._counts.get(c.platform)
        if counts is None:
            counts = self._platform_counts(c.platform)
        if duplicate:
            counts[2] += 1
            return
        if late:
            counts[1] += 1
            if c.brand in self._brand_children:  # per brand only where it has series
                self._late_child(c.brand).inc()
        else:
            counts[0] += 1
        created = c.created_at
        if created > self.newest_event:
            self.newest_event = created
        minute = int(created // 60)
        if minute != self._minute:
            # The stream just left `self._minute`: that is when its last comment arrived,
            # give or take one gap. Reading the clock only here keeps it off most comments.
            self._arrivals[self._minute] = self.clock()
            self._minute = minute

    def _platform_counts(self, platform: str | None) -> list[int]:
        label = platform_label(platform)
        counts = self._rows.get(label)
        if counts is None:
            counts = self._rows[label] = [0] * len(COMMENT_OUTCOMES)
        if len(self._counts) < 64:
            self._counts[platform] = counts
        return counts

    def _late_child(self, brand: str):  # type: ignore[no-untyped-def]
        child = self._late.get(brand)
        if child is None:
            child = self._late[brand] = self.metrics.late_comments.labels(brand)
        return child

    # -- once per record that failed to decode ------------------------------------------

    def dead_letter(self, letter: DeadLetter) -> None:
        self.metrics.dead_letters.labels(reason_label(letter.reason)).inc()

    # -- once per brand and closed minute -------------------------------------------------

    def minute_closed(self, brand: str, minute: int, x: dict[str, float], a: Assessment) -> None:
        m = self.metrics
        if minute > self._closed_minute:
            self._closed_minute = minute
            self._minute_decided(minute)
        active = self._brand_active
        held = self._brand_children
        children = held.get(brand)
        if x["n_10"] > 0:
            active[brand] = minute
            if children is not None:  # to the end: `held` runs from the quietest brand
                del held[brand]
                held[brand] = children
        elif minute - active.get(brand, minute - BRAND_IDLE_MINUTES - 1) > BRAND_IDLE_MINUTES:
            if children is not None:
                self._remove_brand(brand)
            else:
                active.pop(brand, None)  # one that waited for a place and went idle
            return
        volume = x["expected_volume_per_min"]
        if children is None:
            if len(held) >= MAX_BRAND_SERIES:
                quietest = next(iter(held))
                if volume < DISPLACE_RATIO * self._brand_volume[quietest]:
                    return  # no place for it: the totals count it
                self._remove_brand(quietest)
            children = held[brand] = (
                m.brand_comments_rate.labels(brand),
                m.brand_expected_comments_rate.labels(brand),
                m.brand_negative_rate.labels(brand),
                m.brand_expected_negative_rate.labels(brand),
                m.brand_negative_share.labels(brand),
                m.brand_expected_negative_share.labels(brand),
                m.brand_crisis_score.labels(brand),
                m.brand_surge_ratio.labels(brand),
                m.brand_window_end.labels(brand),
            )
            # The incident counters from 0 while the brand has series: a series born at
            # 1 has no increase() to see, and the dashboards missed every brand's first
            # incident (and the first after each restart).
            for counter in (m.incidents_opened, m.incidents_escalated, m.incidents_resolved):
                for severity in SEVERITIES:
                    counter.labels(brand, severity)
        self._brand_volume[brand] = volume
        rate, expected_rate, neg, expected_neg, share, expected_share, score, ratio, end = children
        rate.set(x["n_10"] / 600.0)
        expected_rate.set(volume / 60.0)
        neg.set(x["neg_10"] / 600.0)
        expected_neg.set(x["expected_neg_per_min"] / 60.0)
        share.set(x["neg_share_10"])
        expected_share.set(x["base_neg_share"])
        score.set(a.score)
        ratio.set(a.ratio)
        end.set((minute + 1) * 60.0)

    def _remove_brand(self, brand: str) -> None:
        m = self.metrics
        del self._brand_children[brand]
        del self._brand_volume[brand]
        self._brand_active.pop(brand, None)
        for gauge in (
            m.brand_comments_rate,
            m.brand_expected_comments_rate,
            m.brand_negative_rate,
            m.brand_expected_negative_rate,
            m.brand_negative_share,
            m.brand_expected_negative_share,
            m.brand_crisis_score,
            m.brand_surge_ratio,
            m.brand_window_end,
        ):
            gauge.remove(brand)
        if self._late.pop(brand, None) is not None:
            m.late_comments.remove(brand)
        if brand not in self._told:  # its zero incident counters go with its series
            for counter in (m.incidents_opened, m.incidents_escalated, m.incidents_resolved):
                for severity in SEVERITIES:
                    try:
                        counter.remove(brand, severity)
                    except KeyError:
                        pass

    def _minute_decided(self, minute: int) -> None:
        m = self.metrics
        m.windows_closed.inc()
        now = self.clock()
        arrivals = self._arrivals
        done = [k for k in arrivals if k <= minute]
        if done:
            last = max(arrivals[k] for k in done)
            for k in done:
                del arrivals[k]
            m.processing_latency.observe(max(0.0, now - last))
        if self.newest_event:
            m.newest_event.set(self.newest_event)
            m.event_time_lag.observe(max(0.0, now - self.newest_event))

    # -- incidents --------------------------------------------------------------------------

    def alert(self, event: AlertEvent) -> None:
        m = self.metrics
        brand, severity = event.brand, event.severity
        self._told.add(brand)
        if event.event == "opened":
            self._open[event.incident] = (brand, severity, event.at)
            m.incidents_opened.labels(brand, severity).inc()
            m.incidents_open.labels(brand, severity).inc()
        elif event.event == "escalated":
            previous = self._open.get(event.incident)
            if previous is not None:
                m.incidents_open.labels(brand, previous[1]).dec()
            opened_at = previous[2] if previous is not None else event.at
            self._open[event.incident] = (brand, severity, opened_at)
            m.incidents_open.labels(brand, severity).inc()
            m.incidents_escalated.labels(brand, severity).inc()
        elif event.event == "resolved":
            previous = self._open.pop(event.incident, None)
            if previous is not None:
                m.incidents_open.labels(brand, previous[1]).dec()
                m.time_to_resolve.labels(severity).observe(max(0.0, event.at - previous[2]))
            m.incidents_resolved.labels(brand, severity).inc()

    def incidents_held(self, incidents: Iterable[Incident]) -> None:
        """Open incidents a restored checkpoint brought (a resumed run, a restarted service,
        a partition a worker took over): they are open here now, though no `opened` event
        of this process said so."""
        for incident in incidents:
            if incident.key not in self._open:
                opened_at = incident.opened_at if incident.opened_at is not None else 0.0
                self._open[incident.key] = (incident.brand, incident.severity, opened_at)
                self.metrics.incidents_open.labels(incident.brand, incident.severity).inc()

    def stream_restored(self, *, newest_event: float, brands: int, threads: int) -> None:
        """A restored checkpoint's stream: its newest event time and the keys it holds."""
        if math.isfinite(newest_event) and newest_event > self.newest_event:
            self.newest_event = newest_event
            self.metrics.newest_event.set(newest_event)
        if self.key_gauges:
            self.metrics.tracked_brands.set(brands)
            self.metrics.tracked_threads.set(threads)

    def incidents_let_go(self, incidents: Iterable[Incident]) -> None:
        """Open incidents of a partition this worker gave up: its new owner counts them."""
        for incident in incidents:
            held = self._open.pop(incident.key, None)
            if held is not None:
                self.metrics.incidents_open.labels(held[0], held[1]).dec()

    def minute_done(self, minute: int) -> None:
        """Every closed minute, after its brands (`minute_closed` is called only for the
        brands whose figures changed, and in some minutes for none)."""
        if minute > self._closed_minute:
            self._closed_minute = minute
            self._minute_decided(minute)

    def keys(self, *, brands: int, threads: int, evicted: int) -> None:
        m = self.metrics
        if self.key_gauges:
            m.tracked_brands.set(brands)
            m.tracked_threads.set(threads)
        m.evicted_keys.inc(evicted)

    def brands_let_go(self, brands: Iterable[str]) -> None:
        """Brands of a partition this worker gave up: their series go (the new owner
        exports them); kept, they stayed at their last figures, a storm that never ended
        on the dashboards beside the new owner's line."""
        for brand in brands:
            if brand in self._brand_children:
                self._remove_brand(brand)
            else:
                self._brand_active.pop(brand, None)

"""Judging closed minutes: every active key's tests, guards and severity.

One `Judge` per pipeline holds what detection knows: a `BrandState` per brand (its
baseline, its own tests, its volume test) and a `KeyMonitor` per thread that has
something to remember. Per comment it only notes negatives (`note`); per closed minute
it steps the keys that had comments or have something building, and returns an
`Assessment` for every key worth a decision. The others rest: their quiet minutes
cannot alarm, and are taken in closed form when the key speaks again.

Threads are judged against a thread's normal: the brand's normal negative rate times the
share its busiest thread usually draws. Brands are judged against their own baseline,
and note how much of their recent excess one thread carries (`dominated`), so a storm
on one post is that thread's incident rather than the brand's.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from stormwatch.detectors.accounts import AccountProfile
from stormwatch.detectors.baseline import BrandBaseline, Expectation
from stormwatch.detectors.crisis import Assessment
from stormwatch.detectors.features import thin_span
from stormwatch.detectors.monitor import (
    _FAST,
    _SLOW,
    RECENT_FAST,
    TOLERANCE,
    KeyMonitor,
    ThresholdTable,
    normal_negatives,
)
from stormwatch.detectors.sliding_profile import SlidingProfile
from stormwatch.detectors.volume import MIN_VOLUME, VolumeTest
from stormwatch.key_window import KeyWindow, thread_key

NORMAL_TEXTS = 400  # recent normal comments per brand, the background for top terms
WARMUP_MINUTES = 60  # a brand's first hour: only the share test, against a prior share
LEARN_BELOW = 1.0  # baselines learn minutes whose evidence stays below the threshold
GUARD_MINUTES = 30  # the guards look at the negatives of the excursion, at least this long
GUARD_MINUTES_MAX = 1440  # ... and at most this long (a slow swell over a day)
# A bot burst is also judged on the last this many minutes alone (`_assess`): the half
# hour before it holds a busy brand's everyday complaints, each from its own account.
BURST_GUARD_MINUTES = 10
BRAND_MIN_RATIO = 3.0  # a brand-wide storm runs at least this many times the brand's normal
# ... or this many, where that is a crowd (`_crowd_rate`, `_brand_min_rate`)
BRAND_BUSY_RATIO = 2.0
CROWD_MINUTES = 5.0  # a crowd: `Judge.crowd` negatives over normal in this long
STORM_TAIL_MINUTES = 120  # after a brand's storm, this long over a quarter hour only
THREAD_MIN_RATIO = 1.0  # a thread storm carries at least the brand's normal negative rate
KEY_MIN_RATIO = 2.0  # ... and any storm at least twice its key's normal right now
SHARE_MIN_LIFT = 1.5  # ... with a negative share right now at least 1.5x the usual
THREAD_GUARD_MINUTES_MAX = 120
# A key's last hour holds back an excursion this long at most: a launch's complaints
# come in clusters of minutes, a storm's excursion goes on (`_assess`).
HOUR_GUARD_MINUTES = 30
RATE_LED_SHARE = 0.5  # the rate test over its threshold leads a share test this far to its own
SHARE_LED_RATE = 0.25  # the share test over its threshold leads a rate test this far to its own
SHARE_FREEZE = 0.5  # either test this far to its threshold: the usual share stands still
SHARE_FREEZE_MAX_MINUTES = 1440
# A brand's minutes not learned in a row (an incident of it open, or its tests over
# their thresholds) before what runs is taken as lasting and learned all the same.
UNLEARNED_MAX_MINUTES = 1440
RESTING_HEAP_MAX = 256  # resting-thread entries per brand before stale ones are swept
_LOG_FAST = math.log(_FAST)
_LOG_SLOW = math.log(_SLOW)
WAKES_NEVER = 1 << 62  # a resting brand with no comments in yet
RESET_REASONS = frozenset({"bot_burst", "single_account"})  # evidence explained away


class BrandState:
    """What detection knows about one brand."""

    __slots__ = (
        "baseline",
        "monitor",
        "volume",
        "volume_evidence",
        "share_frozen",
        "normal_texts",
        "last_minute",
        "last_active",
        "top_thread",
        "top_thread_rate",
        "_expectation",
        "_expectation_minute",
        "order",
        "asleep_since",
        "rest",
        "resting_threads",
        "resting_limit",
        "wakes_at",
        "noted",
        "first_noted",
        "last_noted",
        "thread_building",
        "calm_volume",
        "storm_ended",
        "unlearned",
    )

    def __init__(self, order: int = 0) -> None:
        self.order = order  # creation order: brands are judged in it
        # First minute not taken while at rest (-1: awake; named when resting was called
        # sleeping, and checkpoints keep the name).
        self.asleep_since = -1
        # At rest: the expectation its quiet minutes are taken at, and the dispersion of
        # its comment counts then.
        self.rest: tuple[Expectation, float] | None = None
        # Its threads at rest that still count for its top thread (`_rest_thread`).
        self.resting_threads: list[tuple[float, int, str, int, KeyMonitor]] = []
        self.resting_limit = RESTING_HEAP_MAX  # its size at which stale entries go
        self.baseline = BrandBaseline()
        self.monitor = KeyMonitor()
        self.volume = VolumeTest()  # volume alone never pages: a driver
        self.volume_evidence = 0.0
        self.share_frozen = 0  # minutes the usual share has stood still
        self.normal_texts: deque[str] = deque(maxlen=NORMAL_TEXTS)
        self.last_minute = -1
        self.last_active = -1  # the newest minute that had comments (-1: none yet)
        self.top_thread: str | None = None  # the thread carrying most negatives lately
        self.top_thread_rate = 0.0
        self._expectation: Expectation | None = None
        self._expectation_minute = -1
        # At rest: the earliest minute it has comments in for and is queued to wake at
        # (`Judge.waking`); WAKES_NEVER: none queued.
        self.wakes_at = WAKES_NEVER
        # Comments noted, and the first and last minute they were for: while the brand
        # warms up, the volume it shows (`share_volume`).
        self.noted = 0
        self.first_noted = -1
        self.last_noted = -1
        # The last minute one of its threads had a test half-way to its threshold.
        self.thread_building = -1
        # Its expected comments per minute when its comments last did not surge (-1.0:
        # not yet): what extra comments are counted from while they do (`normal_volume`).
        self.calm_volume = -1.0
        # The minute its last open incident resolved (-1: none yet): a storm's tail
        # (`STORM_TAIL_MINUTES`).
        self.storm_ended = -1
        # Minutes in a row its baseline did not learn (`UNLEARNED_MAX_MINUTES`).
        self.unlearned = 0

    def __setstate__(self, state: tuple[None, dict] | dict) -> None:
        # A checkpoint from before a slot existed: its default (pickle keeps slots as
        # (None, {slot: value})).
        slots = state[1] if isinstance(state, tuple) else state
        slots.setdefault("order", 0)
        slots.setdefault("asleep_since", -1)
        slots.setdefault("rest", None)  # asleep then meant every test at zero
        slots.setdefault("resting_threads", [])
        slots.setdefault("resting_limit", RESTING_HEAP_MAX)
        slots.setdefault("last_active", slots.get("last_minute", -1))
        slots.setdefault("wakes_at", WAKES_NEVER)
        slots.setdefault("noted", 0)
        slots.setdefault("first_noted", -1)
        slots.setdefault("last_noted", -1)
        slots.setdefault("thread_building", -1)
        slots.setdefault("calm_volume", -1.0)
        slots.setdefault("storm_ended", -1)
        slots.setdefault("unlearned", 0)
        # Its last hour was its own before its monitor kept one for every key.
        surge, last_hour = slots.pop("surge", 0.0), slots.pop("last_hour", None)
        for name, value in slots.items():
            setattr(self, name, value)
        if last_hour is not None and not any(self.monitor.hour):
            self.monitor.hour = (surge, *last_hour)

    @property
    def warming_up(self) -> bool:
        return self.baseline.minutes < WARMUP_MINUTES

    def share_volume(self, normal: Expectation) -> float:
        """Comments per minute the brand's share tests are calibrated at: its normal
        volume, or what the last hour brought when more. A share test's threshold allows
        one false alarm per the comments a month brings (half the budget); a launch or a
        viral post brings a month of a small brand's comments in hours, and at its usual
        share the test would get a month's chances to wander over its threshold in those
        hours. Calibrated at the volume that comes, false alarms stay per month. An
        hour, not minutes: a storm's own first comments barely move it, so its early
        minutes are judged at the normal threshold.

        While it warms up there is no normal yet, and the last hour is the few minutes
        seen: it is calibrated at the comments per minute noted so far, open minutes
        included. A stream's first minute is judged after two empty ones are learned
        (its windows open before its first comment): at 200,000 comments a day, one
        post's first three minutes, 13 negatives of 54 comments, met a threshold for a
        brand of no volume and opened a firestorm (`tests/test_large_brand.py`)."""
        volume = max(normal.volume_per_min, self.monitor.hour_volume())
        if self.baseline.minutes < WARMUP_MINUTES:
            return max(volume, self.shown_volume())
        return volume

    def shown_volume(self) -> float:
        """Comments per minute noted while it warms up (0.0: none yet)."""
        if not self.noted:
            return 0.0
        return self.noted / (self.last_noted - self.first_noted + 1)

    def normal_volume(self, normal: Expectation) -> float:
        """Its comments per minute as its excursions count extra comments from them:
        `normal`'s, or while its comments surge (its volume test half-way or signalled)
        what was normal before, if less. The level learns a launch's volume within the
        hour (its tests must measure against what runs now), and a launch's comments
        then no longer counted as extra (`KeyMonitor.excursion_mostly_not_negative`).
        Holding the level itself still instead pinned a brand's rate test at its
        ceiling for a night after a viral post, and a stray negative then opened an
        incident."""
        volume = normal.volume_per_min
        if self.calm_volume < 0.0 or not self.volume.surging:
            self.calm_volume = volume
            return volume
        return min(volume, self.calm_volume)

    def expected(self, minute: int) -> Expectation:
        if self._expectation_minute != minute or self._expectation is None:
            self._expectation = self.baseline.expected(minute)
            self._expectation_minute = minute
        return self._expectation


@dataclass(slots=True)
class BrandVerdict:
    brand: str
    window: KeyWindow | None
    assessment: Assessment
    dominated: bool  # one thread carries most of the brand's excess
    n: int
    neg: int
    evidence: float
    rate_evidence: float = 0.0
    share_evidence: float = 0.0
    rested: bool = False  # a resting brand's minute, for an observer: nothing taken
    top_thread_rate: float = 0.0  # recent negatives per minute of its busiest thread
    # Of `neg`, those the tests did not count: an account's past its cap (`ACCOUNT_CAP`
    # in 30 minutes). Its baseline learns without them (`Judge.learn`).
    capped: int = 0


@dataclass(slots=True)
class _ThreadNorm:
    """A brand's threads' normal at one minute, and their thresholds at it."""

    state: BrandState
    normal: Expectation
    lam: float  # a thread's normal negatives per minute
    h_rate: float
    h_share: float
    # The part of the normal volume its excursions count extra comments from (1.0 but
    # while the brand's comments surge: `BrandState.normal_volume`).
    calm: float = 1.0


class Judge:
    def __init__(self, *, false_alarms_per_month: float = 1.0, min_accounts: int = 5) -> None:
        self.table = ThresholdTable(false_alarms_per_month)
        self.min_accounts = min_accounts
        self.brands: dict[str, BrandState] = {}
        self.threads: dict[str, KeyMonitor] = {}  # only threads with something to remember
        # Thread keys with comments since the last close. A dict, not a set: keys are
        # judged in the order their comments came, so a run never depends on the
        # process's hash seed (ties between threads and the order incidents open).
        self.live: dict[str, None] = {}
        # Thread monitors stepped every minute even without comments: those with
        # something building (`_building`) or an open incident. A resting one cannot
        # alarm without new comments, so it waits and catches up in closed form when its
        # thread speaks again (at 200,000 threads almost all rest).
        self.stepping: dict[str, None] = {}
        # Brands judged each minute. One with no comments, nothing open and nothing
        # building rests: its quiet minutes are taken in closed form when it speaks again
        # (`_catch_up`). An observer that wants every brand's minute (`lazy` False) gets
        # a resting brand's as it rests, and nothing is taken for it. `rests` False:
        # never (minutes not judged are not quiet ones, as between NAB's 5-minute rows).
        self.lazy = True
        self.rests = True
        # Steps that provably change nothing are skipped: a brand's test at zero looks up
        # no threshold, a key with nothing open, nothing ahead and both tests under their
        # thresholds is not assessed (`_assess` would say None). False: every key looks
        # its thresholds up and is assessed every minute (the tests' reference).
        self.shortcuts = True
        self.awake: dict[str, BrandState] = {}
        self._created = 0
        self._topped: list[BrandState] = []  # brands whose top thread was set last minute
        # Resting brands with comments in for a later minute: (that minute, order, brand).
        self.waking: list[tuple[int, int, str]] = []
        # The minute the next close judges (unknown before the first: WAKES_NEVER, and a
        # resting brand that speaks is woken at once).
        self.next_close = WAKES_NEVER
        # The closed minute of the last early look, and the thread norms it looked up.
        self._early_norms: tuple[int, dict[str, _ThreadNorm]] = (-1, {})
        # Per resting brand, the thread norm of its rest (`_thread_norm`): what its
        # threads are judged against stands still while it rests, and at 500 brands of
        # a few hundred comments a day three in four thread norms were a resting brand's,
        # each looked up again every minute. Not checkpointed (made again when asked).
        self._rest_norms: dict[str, tuple[float, float, int, _ThreadNorm]] = {}
        # Account profiles of keys whose guards look at their excursion (by window key):
        # kept as the span slides, not recounted each minute. Not checkpointed (they
        # start afresh at the next look).
        self._profiles: dict[str, SlidingProfile] = {}
        # The same over the last GUARD_MINUTES of an excursion that is longer
        # (`AccountProfile.burst_reason`).
        self._bursts: dict[str, SlidingProfile] = {}

    # -- per comment -------------------------------------------------------------------

    def note(
        self,
        brand: str,
        thread_id: str | None,
        author: str,
        minute: int,
        negative: bool,
        key: str | None = None,
    ) -> None:
        """`key`: the thread's key when the caller has built it already."""
        state = self.brands.get(brand)
        if state is None:
            state = self._new_state(brand)
        elif state.asleep_since >= 0:
            if minute <= self.next_close:
                self.awake[brand] = state  # catches up when the next minute closes
            elif minute < state.wakes_at:
                # Its comment is for a minute the stream has not closed yet (typically the
                # lateness ahead): it rests until that minute closes, not through the
                # empty minutes before it, judged one by one.
                self._queue_wake(brand, state, minute)
        if state.baseline.minutes < WARMUP_MINUTES:  # what it shows before it has a normal
            if not state.noted:
                state.first_noted = state.last_noted = minute
            elif minute > state.last_noted:
                state.last_noted = minute
            elif minute < state.first_noted:
                state.first_noted = minute
            state.noted += 1
        if thread_id is not None:
            if key is None:
                key = thread_key(brand, thread_id)
            self.live[key] = None
            if negative:
                monitor = self.threads.get(key)
                if monitor is None:
                    monitor = self.threads[key] = KeyMonitor()
                monitor.note_negative(author, minute)
        if negative:
            state.monitor.note_negative(author, minute)
            # A storm key whose counted minutes this comment joins counts afresh.
            for profiles in (self._profiles, self._bursts):
                profile = profiles.get(brand)
                if profile is not None:
                    profile.mark_stale(minute)
                profile = profiles.get(key) if key is not None else None
                if profile is not None:
                    profile.mark_stale(minute)

    def brand_state(self, brand: str) -> BrandState:
        state = self.brands.get(brand)
        if state is None:
            state = self._new_state(brand)
        return state

    def _new_state(self, brand: str) -> BrandState:
        self._created += 1
        state = self.brands[brand] = self.awake[brand] = BrandState(self._created)
        return state

    def _wake(self, brand: str, state: BrandState, minute: int) -> None:
        """A resting brand is judged again from `minute` on: caught up to it first."""
        self.awake[brand] = state
        if state.asleep_since >= 0:
            self._catch_up(state, minute)
            state.asleep_since = -1

    def _queue_wake(self, brand: str, state: BrandState, minute: int) -> None:
        """A resting brand wakes when `minute` closes (`judge_brands` pops the queue)."""
        state.wakes_at = minute
        heapq.heappush(self.waking, (minute, state.order, brand))

    def _catch_up(self, state: BrandState, minute: int) -> None:
        """Take a resting brand through its quiet minutes up to `minute` (exclusive), in
        closed form. It stays at rest.

        A brand rests only with nothing building (`_may_rest`), so none of those minutes
        could alarm or be assessed: each would only lower its tests by what a normal
        minute brings, decay the recent rates and teach the baseline a zero minute. The
        tests fall by the sum of those minutes' expectations, each as the baseline would
        have expected it after learning the zeros before it (`quiet_totals`), at the
        dispersions the brand came to rest with. Stepping them one by one would cost a
        step per brand and minute for nothing that can alarm: at a brand that expects one
        negative a day, a single one keeps a test above zero for half a day."""
        first = state.asleep_since
        if first < 0 or minute <= first:
            return
        state.asleep_since = minute
        minutes = minute - first
        monitor, test, baseline = state.monitor, state.volume, state.baseline
        if state.rest is None or not (monitor.rate.statistic or test.cusum.statistic):
            dispersion = volume_dispersion = 1.0
            volume_total = negative_total = 0.0  # every test at zero stays there
        else:
            dispersion = state.rest[0].dispersion
            volume_dispersion = state.rest[1]
            # Summed only as far as the tests need: past what takes both to zero, more
            # changes nothing.
            enough = (
                test.cusum.quiet_total_to_zero(volume_dispersion) / (1.0 + TOLERANCE),
                monitor.rate.quiet_total_to_zero(dispersion) / (1.0 + TOLERANCE),
            )
            volume_total, negative_total = baseline.quiet_totals(first, minutes, MIN_VOLUME, enough)
        # The excursion's expected comments at the rest's expectation: the level sinks a
        # little over zeros, so this errs towards fewer comments over normal.
        rest_volume = rest_negatives = 0.0
        if state.rest is not None:
            rest = state.rest[0]
            rest_volume = rest.volume_per_min * minutes
            rest_negatives = (
                normal_negatives(rest.neg_per_min, rest.volume_per_min, rest.neg_share) * minutes
            )
        monitor.quiet(minutes, negative_total, dispersion, rest_volume, rest_negatives)
        if monitor.share.statistic == 0.0:
            monitor.rising_since = minute - 1
        if test.cusum.statistic:
            test.cusum.decay_quiet(volume_total * (1.0 + TOLERANCE), volume_dispersion)
        test.rested(minute - 1)
        state.volume_evidence = 0.0  # under half its threshold: set anew when it is judged
        state.share_frozen = 0
        state.last_minute = minute - 1
        baseline.learn_quiet(first, minutes)

    def rested_verdict(
        self, brand: str, minute: int, window: KeyWindow | None
    ) -> BrandVerdict | None:
        """A resting brand's minute as `_rested` gives it (None: the brand is not known
        or not at rest), for an observer that looks at resting brands itself."""
        state = self.brands.get(brand)
        if state is None or state.asleep_since < 0:
            return None
        return self._rested(brand, state, window, minute)

    def _rested(self, brand: str, state: BrandState, window: KeyWindow | None, minute: int
                ) -> BrandVerdict:  # fmt: skip
        """A resting brand's minute, for an observer: nothing is taken (the brand catches
        up when it speaks again, as without an observer), its tests as they came to rest
        (what they show now, or less) against the expectation it rests at."""
        normal, _ = state.rest or (state.expected(minute), 1.0)
        lam = normal.neg_per_min
        monitor = state.monitor
        rate = share = 0.0
        if monitor.rate.statistic:
            h_rate = self.table.rate(lam * (1.0 + TOLERANCE), normal.dispersion, thread=False)
            rate = monitor.rate.statistic / h_rate
        if monitor.share.statistic:
            share = monitor.share.statistic / self.table.share(
                state.share_volume(normal), normal.neg_share
            )
        evidence = share if state.warming_up else min(rate, share)
        return BrandVerdict(
            brand, window, _quiet(monitor, lam), False, 0, 0, evidence, rate, share, rested=True
        )

    # -- per closed minute -------------------------------------------------------------

    def judge_threads(
        self,
        minute: int,
        windows: dict[str, KeyWindow],
        open_keys: set[str] | dict,
        brand_windows: Mapping[str, KeyWindow] | None = None,
    ) -> Iterator[tuple[KeyWindow, Assessment]]:
        """Steps every thread with comments or evidence; yields those worth a decision:
        alerting, vetoed by a guard, or with an open incident. `brand_windows`: what a
        thread's guards look at beside its own negatives (`_assess`)."""
        keys = self.live
        for key in self.stepping:
            keys[key] = None
        self.live = {}
        stepping: dict[str, None] = {}
        self.stepping = stepping
        for state in self._topped:
            state.top_thread = None
            state.top_thread_rate = 0.0
        topped: list[BrandState] = []
        self._topped = topped
        # Per brand, what all its threads are judged against this minute: looked up once
        # (nothing its baseline learns changes before the minute's brands are learned).
        norms: dict[str, _ThreadNorm] = {}
        for key in keys:
            window = windows.get(key)
            if window is None:
                self.threads.pop(key, None)
                continue
            n = 0
            if minute in window.open or window.late_pending:
                closed = window.close(minute)
                n = closed.n + closed.late  # late comments were noted as they came
            if window.open:
                self.live[key] = None  # comments already wait in a later minute
            monitor = self.threads.get(key)
            if monitor is None:
                if n == 0 or key not in open_keys:
                    continue  # comments but no negatives: nothing to test yet
                monitor = self.threads[key] = KeyMonitor()
            norm = norms.get(window.brand)
            if norm is None:
                norm = norms[window.brand] = self._thread_norm(window.brand, minute)
            state, normal, lam = norm.state, norm.normal, norm.lam
            gap = minute - 1 - monitor.last_minute
            if gap > 0 and monitor.last_minute >= 0:
                # A resting monitor speaks again: its quiet minutes in closed form.
                monitor.quiet(gap, lam * gap, normal.dispersion, lam * gap / normal.neg_share)
            monitor.step(
                minute, n=n, lam=lam, dispersion=normal.dispersion, share=normal.neg_share,
                volume=lam / normal.neg_share * norm.calm,
            )  # fmt: skip
            monitor.clip_at(norm.h_rate, norm.h_share)
            rate = monitor.recent_slow()
            if rate > state.top_thread_rate and monitor.fast >= RECENT_FAST:
                if state.top_thread is None:
                    topped.append(state)
                state.top_thread_rate = rate
                state.top_thread = key
            is_open = key in open_keys
            if monitor.idle and not is_open:
                del self.threads[key]
                continue
            if monitor.share.statistic >= SHARE_FREEZE * norm.h_share or (
                monitor.rate.statistic >= SHARE_FREEZE * norm.h_rate and not state.warming_up
            ):
                # Its brand's usual share stands still (`learn`); not for the rate test
                # while the brand warms up, as for the brand's own.
                state.thread_building = minute
            if is_open or _building(monitor, norm):
                stepping[key] = None
            else:
                # Nothing building: it rests until its thread speaks again (quiet minutes
                # only lower its tests); its part in its brand's top thread goes on.
                _rest_thread(state, key, monitor, minute)
            if (
                self.shortcuts
                and not is_open
                and not monitor.may_reach(minute, norm.h_rate, norm.h_share)
            ):
                continue  # `_assess` would return None (see there)
            a = self._assess(
                monitor,
                window,
                minute,
                normal,
                lam,
                norm.h_rate,
                norm.h_share,
                thread=True,
                warming=state.warming_up,
                is_open=is_open,
                brand_window=brand_windows.get(window.brand) if brand_windows else None,
            )
            if a is not None:
                if state.asleep_since >= 0:
                    # Its brand is judged this minute too, as when nothing rests (an
                    # incident opening on the thread keeps the brand's minute unlearned).
                    self.awake[window.brand] = state
                yield window, a

    def _thread_norm(self, brand: str, minute: int) -> _ThreadNorm:
        """What a thread of `brand` is judged against at `minute`."""
        state = self.brand_state(brand)
        rest = state.rest
        if state.asleep_since >= 0 and rest is not None:
            # The threads of a resting brand are judged against the expectation it rests
            # at; it rests on unless one of them needs a decision. Past its warm-up
            # nothing else that goes into the norm moves while it rests (its baseline
            # learns when it catches up, its monitor is stepped when it wakes), so the
            # norm is made once per rest; the checks below only guard that.
            normal = rest[0]
            cached = self._rest_norms.get(brand)
            hour = state.monitor.hour[0]
            if (
                cached is not None
                and cached[3].normal is normal
                and cached[3].state is state
                and cached[0] == hour
                and cached[1] == state.calm_volume
                and cached[2] == state.baseline.minutes
            ):
                return cached[3]
            norm = self._make_thread_norm(state, normal)
            if not state.warming_up:  # warming: its share volume moves with each comment
                self._rest_norms[brand] = (hour, state.calm_volume, state.baseline.minutes, norm)
            return norm
        self._catch_up(state, minute)
        return self._make_thread_norm(state, state.expected(minute))

    def _make_thread_norm(self, state: BrandState, normal: Expectation) -> _ThreadNorm:
        """The thread norm of `state` at the expectation `normal`."""
        lam = normal.neg_per_min * state.baseline.typical_thread_share()
        table = self.table
        volume = normal.volume_per_min
        calm = state.calm_volume
        return _ThreadNorm(
            state,
            normal,
            lam,
            table.rate(lam * (1.0 + TOLERANCE), normal.dispersion, thread=True),
            table.share(state.share_volume(normal), normal.neg_share),
            min(1.0, calm / volume) if calm >= 0.0 and volume > 0.0 else 1.0,
        )

    def judge_brands(
        self, minute: int, windows: dict[str, KeyWindow], open_keys: set[str] | dict
    ) -> Iterator[BrandVerdict]:
        awake = self.awake
        waking = self.waking
        self.next_close = minute + 1
        while waking and waking[0][0] <= minute:
            brand = heapq.heappop(waking)[2]
            state = self.brands.get(brand)
            if state is not None:
                state.wakes_at = WAKES_NEVER
                if state.asleep_since >= 0:
                    awake[brand] = state
        if not self.lazy or len(awake) == len(self.brands):
            judged = list(self.brands.items())
        else:
            judged = sorted(awake.items(), key=lambda item: item[1].order)
        for brand, state in judged:
            window = windows.get(brand)
            if state.asleep_since >= 0:
                if brand not in awake and not (
                    window is not None and (minute in window.open or window.late_pending)
                ):
                    # At rest, and an observer wants every brand's minute.
                    yield self._rested(brand, state, window, minute)
                    continue
                self._wake(brand, state, minute)
            summary = window.close(minute) if window is not None else None
            # Late comments (for minutes judged before) count now: they were noted into
            # the tests as they came, so the volume they belong with must come too.
            n = summary.n + summary.late if summary is not None else 0
            neg = summary.neg + summary.late_neg if summary is not None else 0
            state.last_minute = minute
            if n:
                state.last_active = minute
            normal = state.expected(minute)
            lam = normal.neg_per_min
            monitor = state.monitor
            calm = state.normal_volume(normal)
            effective = monitor.step(
                minute, n=n, lam=lam, dispersion=normal.dispersion, share=normal.neg_share,
                volume=calm,
            )  # fmt: skip
            is_open = brand in open_keys
            # A test at zero needs no threshold (its evidence is zero, nothing to cap),
            # unless the assessment below will want it; most brand-minutes are quiet.
            wanted = not self.shortcuts or (
                window is not None and (is_open or bool(monitor.pending))
            )
            h_rate = h_share = 0.0
            rate_evidence = share_evidence = 0.0
            if wanted or monitor.rate.statistic:
                h_rate = self.table.rate(lam * (1.0 + TOLERANCE), normal.dispersion, thread=False)
                monitor.clip_rate(h_rate)
                rate_evidence = monitor.rate.statistic / h_rate
            if wanted or monitor.share.statistic:
                h_share = self.table.share(state.share_volume(normal), normal.neg_share)
                monitor.clip_share(h_share)
                share_evidence = monitor.share.statistic / h_share
            state.volume_evidence = state.volume.step(
                n,
                expected=normal.volume_per_min,
                dispersion=state.baseline.burst_dispersion(),
                table=self.table,
                minute=minute,
            )
            warming = state.warming_up
            evidence = share_evidence if warming else min(rate_evidence, share_evidence)
            excess = monitor.recent_slow() - lam
            top = _top_thread_rate(state, self.threads, minute)
            dominated = top > 0 and top >= 0.5 * excess
            a = None
            # `_assess` of a key with nothing open, nothing ahead and both tests under
            # their thresholds returns None: it is called only when it may say more.
            if window is not None and (wanted or evidence >= 1.0 or rate_evidence >= 1.0):
                if not h_rate:
                    h_rate = self.table.rate(
                        lam * (1.0 + TOLERANCE), normal.dispersion, thread=False
                    )
                if not h_share:
                    h_share = self.table.share(state.share_volume(normal), normal.neg_share)
                a = self._assess(
                    monitor,
                    window,
                    minute,
                    normal,
                    lam,
                    h_rate,
                    h_share,
                    thread=False,
                    warming=warming,
                    is_open=is_open,
                    volume=state.volume_evidence,
                )
            yield BrandVerdict(
                brand,
                window,
                a or _quiet(monitor, lam, normal, state if warming else None),
                dominated,
                n,
                neg,
                evidence,
                rate_evidence,
                share_evidence,
                top_thread_rate=top,
                capped=max(0, neg - effective),
            )

    def _may_lead(self, monitor: KeyMonitor, brand: str, *, thread: bool) -> bool:
        """Whether one test may lead the other (`_rate_leads`, `_share_leads`): the
        key's excursion mostly negative (a busier day's extra comments are mostly not
        negative), with more than ten negatives over normal (a small brand's everyday
        clusters of complaints are over a rate test's threshold now and then), and the
        brand's comments not surging, unless the key's last hour too is mostly negative
        over normal, as a launch's is not (29-34 % in the family's launches). While the
        comments surge more negatives may come with more talk (a launch's first
        complaints made a share test's eight-hour excursion 75 % negative over normal),
        and the share test is the one that can tell. A storm that is most of a small
        brand's talk makes its comments surge: on real volume, with a model that reads
        half of its snippets as negative, share tests stopped at 0.97 of their threshold
        while the rate tests stood over theirs for two hours (CVS seed 19, PFE seed 17;
        their hours were about half negative over normal).
        A thread's normal is its brand's busiest post's, more than most posts ever draw,
        so a post's excursion is counted over the minutes its share test read
        (`KeyMonitor.excursion_read_mostly_negative`); a brand's normal is its own, and
        its quiet minutes count (at a brand of 250 a day, a storm's minutes each
        expected a comment's worth of normal talk given that they held one, and its
        brand-wide lead came 12 minutes later: real volume, PFE seed 50)."""
        at_least = self.crowd
        storm_like = (
            monitor.excursion_read_mostly_negative(at_least)
            if thread
            else monitor.excursion_mostly_negative(at_least)
        )
        return storm_like and (
            not self.brands[brand].volume.surging or monitor.hour_mostly_negative(at_least)
        )

    def _spread_bots(self, brand_window: KeyWindow, minute: int, upto: int) -> str | None:
        """Whether the last `GUARD_MINUTES` of a thread's brand are a bot burst
        (`AccountProfile.burst_reason`): "bot_burst", else None. Bots that paste over
        several posts write two comments or fewer on each in their first minutes, and a
        post's own accounts then look like five people: six accounts wrote 24 negatives
        on three posts of a brand of 58 comments a day within three minutes, and one
        post's share of them, 8 from 5 accounts, opened a firestorm there (fresh seed
        2705). The brand's own window counts them together, in the profile its own
        guards use."""
        profile = _sliding(self._bursts, brand_window.key).profile(
            brand_window, minute, GUARD_MINUTES, upto
        )
        reason = profile.burst_reason(min_accounts=self.min_accounts)
        return reason if reason == "bot_burst" else None

    def _may_fire_early(
        self, window: KeyWindow, minute: int, rate: float, share: float, h_rate: float,
        h_share: float,
    ) -> bool:  # fmt: skip
        """Firing early counts the first seconds of what comes next; of a bot burst
        those look like a crowd (a few accounts, one comment each so far). So it needs
        enough negatives from enough people in the open minutes to tell a crowd from a
        few accounts, or the closed minutes' evidence half-way already and less than
        half of the open minutes' negatives from accounts that wrote several: a bot
        burst's first seconds at a brand of a hundred a day, four negatives from three
        accounts, tipped a test that four ordinary complaints of the hours before had
        brought half-way. Enough people is also less than half of those negatives from
        accounts that wrote several: at a brand of 4,717 a day the first minutes of six
        bots rewording their texts, three to two negatives each beside a few people's,
        made ten accounts and opened a firestorm; at the close two minutes later the
        guards read a bot burst (fresh seed 3242). Half-way is half of what a rate-led
        alert needs: the rate test's threshold and `RATE_LED_SHARE` of the share test's
        (with half of both thresholds, a storm with its rate test at 0.6 and its share
        test at 0.4 waited for the close: on the tuning seeds 1-4, three crises at brands
        of 500-5,000 a day alerted 0.3-1.8 minutes later)."""
        if not window.open:
            return True
        top = max(window.open)
        authors: Counter[str] = Counter()
        for m in window.negatives_since(top, top - minute):
            authors[m.author] += 1
        repeats = sum(n for n in authors.values() if n > 1)
        crowd_like = 2 * repeats < authors.total()
        if len(authors) >= self.crowd:
            return crowd_like
        if rate / h_rate < 0.5 or share / h_share < 0.5 * RATE_LED_SHARE:
            return False
        return crowd_like

    def _excursion_profile(
        self, window: KeyWindow, monitor: KeyMonitor, minute: int, thread: bool
    ) -> tuple[AccountProfile, int, int]:
        """Who wrote the key's negatives over its excursion: the profile, the minutes
        back it spans (`_guard_span`) and the newest minute it saw. Judged on every
        comment in, the minutes still open too, whether or not the tests count them: at
        a close a bot burst's first minute alone (three accounts' six negatives beside
        two people's) looks like five people, while the open minutes behind it already
        hold the same three accounts' next twenty."""
        seen = max(minute, max(window.open)) if window.open else minute
        span = _guard_span(monitor, minute, thread)
        profile = _sliding(self._profiles, window.key).profile(window, minute, span, seen)
        return profile, span, seen

    def _assess(
        self,
        monitor: KeyMonitor,
        window: KeyWindow,
        minute: int,
        normal: Expectation,
        lam: float,
        h_rate: float,
        h_share: float,
        *,
        thread: bool,
        warming: bool,
        is_open: bool,
        volume: float = 0.0,
        provisional: bool = False,
        brand_window: KeyWindow | None = None,
    ) -> Assessment | None:
        """`h_rate`, `h_share`: the key's thresholds at `lam` and `normal`;
        `brand_window`: a thread's brand's window (`_spread_bots`).
        `provisional`: a look between closes (`judge_early`), which changes nothing and
        says nothing (None) unless early firing counts the open minutes: otherwise it
        would say what the last close said."""
        if self.shortcuts and not is_open and not monitor.may_reach(minute, h_rate, h_share):
            # Both tests under their thresholds, and what is in for the open minutes
            # cannot bring either there: no evidence, no lead (both ask for a test at
            # its threshold at the close), nothing spent, nothing to say. Most keys
            # with a negative waiting are such, and the look ahead below cost more
            # than the rest of their minute. (Without `shortcuts`, the tests'
            # reference, every key is read to the end.)
            return None
        rate_stat, share_stat = monitor.rate.statistic, monitor.share.statistic
        closed_rate_evidence = rate_stat / h_rate
        k_ahead = monitor.ahead(minute)
        if (
            k_ahead
            and not is_open
            and not self._may_fire_early(window, minute, rate_stat, share_stat, h_rate, h_share)
        ):
            k_ahead = 0  # fmt: skip
        if provisional and not k_ahead:
            return None
        if k_ahead:
            # Fire early: what already came in for the minutes still open counts now,
            # in the tests and (once the brand has warmed up) in the guards' idea of
            # what runs now. Not while it warms up: a new stream's first minutes are all
            # still open, and against the prior share they look like a sudden excess.
            later = sorted((m, b.n) for m, b in window.open.items() if m > minute)
            rate_stat, share_stat = monitor.peek(
                minute, dict(later), lam=lam, dispersion=normal.dispersion,
                share=normal.neg_share,
            )  # fmt: skip
        recent = monitor.recent_rate()
        recent_volume, recent_slow = monitor.recent_volume(), monitor.recent_slow()
        if k_ahead and not warming:
            now, now_volume, now_slow = monitor.recent_with(later)
            if now >= recent:  # (the open minutes are only partly in: never less)
                recent, recent_volume = now, now_volume
            recent_slow = max(recent_slow, now_slow)
        rate_evidence = rate_stat / h_rate
        share_evidence = share_stat / h_share
        evidence = share_evidence if warming else min(rate_evidence, share_evidence)
        # The rate test's evidence the judge has explained already is spent
        # (`KeyMonitor.spend_rate`; only what it gains anew may lead, `_rate_leads`):
        # over its threshold while the share test stood at zero, it read more talk at
        # the usual share; a launch's kept a brand's slow design over its threshold for
        # eleven hours, and a later cluster of complaints rode on it. (Spent while the
        # share test was under half-way, a storm's own first evidence went at busy
        # brands of real volume.) Spent too while the brand's comments surge and the
        # key's extra comments are mostly not negative: a launch a little more negative
        # than the brand's usual talk kept its share test over zero for 7.5 hours, and
        # 31 minutes after it the rate test, at its threshold on the launch's evidence,
        # led a gust of the next negatives to a firestorm (fresh seed 3193). (Spent
        # whenever the brand's comments surged, three crises of fresh seeds 3201-3210
        # opened later, two swells by 46 and 104 minutes: a swell brings its own talk.)
        if (
            not provisional
            and closed_rate_evidence >= 1.0
            and (
                monitor.share.statistic == 0.0
                or (
                    self.brands[window.brand].volume.surging
                    and monitor.excursion_mostly_not_negative()
                )
            )
        ):
            monitor.spend_rate()
        # One test over its threshold may lead the other part of the way there, on an
        # excursion that is a storm's and not a launch's, or a templated campaign's.
        leads = (
            not warming
            and evidence < 1.0
            and (
                _rate_leads(monitor, closed_rate_evidence, rate_evidence, share_evidence, h_rate)
                or _share_leads(monitor, rate_evidence, share_evidence, h_share)
            )
        )
        looked = None
        if leads and not self._may_lead(monitor, window.brand, thread=thread):
            # Copies of a few messages from many people, about one each, may lead where
            # a crowd's varied complaints may not: the model reads every copy of a
            # message alike, so a campaign whose message it half reads as negative
            # leaves its excursion about 40 % negative, under the half a storm's lead
            # asks for, while a launch's complaints are each their own (real volume,
            # seed 4: a campaign at a brand of 104 a day, 31 negatives of its 69
            # copies, its rate test over its threshold for an hour and its share test
            # at 0.71, never opened).
            looked = self._excursion_profile(window, monitor, minute, thread)
            profile, span, seen = looked
            leads = _campaign_without_guards(profile, self.min_accounts)
            if not leads and span > GUARD_MINUTES:
                # Or the last `GUARD_MINUTES` on their own: a campaign is a burst of
                # copies, and at a small brand the share test's slow design can stay
                # over zero for a day, its excursion holding whatever came before. A
                # campaign at a brand of 250 a day, 79 copies read 37 % negative, its
                # rate test over its threshold for 90 minutes, was judged with the day
                # before it: an angry customer's 35 comments, who wrote 43 % of the
                # negatives, then 22 hours of everyday talk, diluting its copies (real
                # volume, PFE seed 31).
                burst = _sliding(self._bursts, window.key).profile(
                    window, minute, GUARD_MINUTES, seen
                )
                if _campaign_without_guards(burst, self.min_accounts):
                    leads = True
                    looked = (burst, GUARD_MINUTES, seen)
        candidate = evidence >= 1.0 or leads
        naive = rate_evidence >= 1.0 and not warming
        if not (candidate or naive or is_open):
            return None
        benign = None
        campaign = False
        if candidate:
            if looked is None:
                profile, span, seen = self._excursion_profile(window, monitor, minute, thread)
                benign = profile.benign_reason(min_accounts=self.min_accounts)
            else:  # a campaign's lead, which asked that no guard object to its authors
                profile, span, seen = looked
            # Copy-paste a few accounts wrote much of is theirs, not a campaign's.
            campaign = profile.campaign and benign != "bot_burst"
            if benign is None and span > GUARD_MINUTES:
                # A burst inside a longer excursion, judged on its own minutes too: the
                # negatives of the hours before (four people's) made a bot burst's first
                # twelve comments, from five accounts, look like a crowd of nine.
                burst = _sliding(self._bursts, window.key).profile(
                    window, minute, GUARD_MINUTES, seen
                )
                benign = burst.burst_reason(min_accounts=self.min_accounts)
                if benign is not None:
                    campaign = False
            if benign is None:
                # A bot burst's first minutes at a busy brand, judged with the everyday
                # complaints of the half hour before (one account each), looked like a
                # crowd: at a brand of 5,427 a day, six accounts three minutes into
                # pasting, the half hour read 32 negatives from 23 accounts, 56 % of the
                # texts distinct, and an incident opened (fresh seed 3554); its last ten
                # minutes read 21 from 12 accounts, 4 of them writing 62 %. Only a bot
                # burst counts here: a crowd's, a campaign's or a few people's minutes
                # are judged on the whole span.
                last = AccountProfile.of_mentions(
                    window.negatives_since(seen, BURST_GUARD_MINUTES + seen - minute)
                )
                if last.burst_reason(min_accounts=self.min_accounts) == "bot_burst":
                    benign, campaign = "bot_burst", False
            if benign is None and thread and brand_window is not None:
                benign = self._spread_bots(brand_window, minute, seen)
                if benign is not None:
                    campaign = False
            if benign in RESET_REASONS and not provisional:
                monitor.reset()
        elif naive:
            benign = "not_negative"  # more negatives, but no more negative than usual
        brand_lam = normal.neg_per_min
        volume_normal = normal.volume_per_min * (lam / brand_lam)
        if candidate and benign is None:
            if recent < KEY_MIN_RATIO * lam:
                benign = "past_surge"  # the evidence is of minutes ago; nothing runs now
            elif recent < SHARE_MIN_LIFT * normal.neg_share * recent_volume:
                benign = "not_negative"  # busy, but no more negative than usual right now
            elif not warming and (
                monitor.excursion_mostly_not_negative()
                or (
                    monitor.hour_mostly_not_negative()
                    and monitor.evidence_minutes(minute) < HOUR_GUARD_MINUTES
                )
                or (
                    thread
                    and self.brands[window.brand].monitor.excursion_mostly_not_negative()
                    and not monitor.excursion_mostly_negative(at_least=self.crowd)
                )
            ):
                # Many more comments, few of them negative: a launch or a viral post, a
                # little more negative than everyday talk. A post of such a surge is
                # judged with it: a launch post of a small brand drew 9 negatives in its
                # first 24 comments, 22 % of its 73 over the launch. Unless the post's own
                # excursion is a storm's, mostly negative: during a real news burst at a
                # brand of 5,130 a day (its excursion 31 % negative over normal) a
                # storm's post, 103 negatives of its 226 comments where 199 comments and
                # 26 negatives were expected, was held to the end (real volume, FB seed
                # 19). Even with more other talk than its normal: a storm's texts that
                # the model reads as not negative are talk too (IBM seed 20: a post with
                # 67 comments, 31 negative, where 21 and 3 were expected, both its tests
                # over their thresholds, was held in a brand surge 30 % negative). Not
                # while the brand warms up: it has no normal volume yet to count extra
                # comments from.
                # A key's last hour holds its own alerts back, not its threads': at a
                # large brand a slow storm's post, 381 negatives of its 499 comments, was
                # held back two minutes by its brand's hour, twice the usual comments.
                # And for the first half hour of an excursion only: on a busy day (real
                # traffic three times the brand's normal, 10 % negative) a storm's own
                # excursion was 36-44 % negative over normal, the hour with the busy
                # morning in it 21-25 %, and the hour held the storm for two hours.
                benign = "not_negative"
            elif thread and recent < self._thread_min_rate(brand_lam, lam):
                # A post carrying less than the brand's whole normal negative talk is not
                # a storm for the brand yet (at a large brand: an ordinary busy post),
                # unless it is a crowd over the post's normal (`_thread_min_rate`).
                benign = "small_rise"
            elif not thread and self._brand_rate_now(
                window.brand, minute, recent, recent_slow
            ) < self._brand_min_rate(brand_lam):
                # Day-to-day variation of a brand's talk, not a storm: the tests are sure
                # the rate is up, but not by enough, over the last five minutes or a
                # quarter of an hour, to matter brand-wide. Either: a storm's rate over a
                # quarter of an hour lags its growth (a campaign at a brand of 3,475 a
                # day was held four minutes at 4.9x its normal over five minutes). Not
                # five minutes within two hours of the brand's last storm: its tail
                # comes in gusts (one at 4x, 11 minutes after a post's storm resolved).
                # Not enough is a ratio at a small brand, a count at a large one
                # (`_brand_min_rate`).
                benign = "small_rise"
        calm_normal = (
            _calm_normal(brand_lam, normal, self.brands[window.brand]) if warming else brand_lam
        )
        severity_ratio = None
        upto = max(minute, max(window.open)) if k_ahead and window.open else minute
        if candidate or is_open:
            # The rate stands on a crowd: when the last five minutes' negatives come from
            # fewer than `min_accounts` accounts, on the shortest span back whose do
            # (what the alert's summary reports).
            thin = thin_span(window, upto, self.min_accounts, with_open=upto > minute)
            if thin is not None:
                span, negatives = thin[0], thin[1]
                severity_ratio = min(recent, negatives / span) / calm_normal
                if candidate and benign is None and thin[3] < self.min_accounts:
                    # Not even the longest span the alert could report holds a crowd:
                    # its rate stands on a few people, however many the excursion's
                    # guards counted over a day. At a brand of 55 a day, a share test
                    # over zero all day let a day of single misread comments pass for
                    # a crowd, and one comment from one account opened an incident
                    # ("1 in the last 3 hours ... from 1 accounts").
                    benign = "few_accounts"
        return Assessment(
            score=evidence,
            raw_score=rate_evidence,
            ratio=recent / calm_normal,
            key_ratio=recent / max(lam, 1e-9),
            growth=0.0,
            volume=volume,
            benign=benign,
            alerting=candidate and benign is None,
            campaign=campaign,
            volume_ratio=recent_volume / max(volume_normal, 1e-6),
            normal_rate=calm_normal,
            severity_ratio=severity_ratio,
            upto=upto,
            candidate=candidate,
        )

    # -- between closes ----------------------------------------------------------------

    def judge_early(
        self,
        minute: int,
        brands: Iterable[str],
        thread_keys: Iterable[str],
        brand_windows: Mapping[str, KeyWindow],
        thread_windows: Mapping[str, KeyWindow],
        open_brands: set[str],
    ) -> tuple[list[tuple[KeyWindow, Assessment]], list[BrandVerdict]]:
        """Keys with new negatives since `minute` closed, judged on what is in for the
        minutes still open, as the close of the next minute will judge them (its early
        firing, `_assess`), but now: those counts only grow with late data, so a test
        they push over its threshold already decides. Nothing is learned or stepped; a
        resting key is looked at through a copy taken through its quiet minutes. Returns the
        alerting threads and brands of brands with nothing open: an open incident is
        updated, escalated or joined at closes only."""
        threads: list[tuple[KeyWindow, Assessment]] = []
        verdicts: list[BrandVerdict] = []
        if self._early_norms[0] != minute:
            # A brand's thread norm stands until the next close: looked up once per
            # closed minute however often its threads are looked at.
            self._early_norms = (minute, {})
        norms = self._early_norms[1]
        for key in thread_keys:
            window = thread_windows.get(key)
            monitor = self.threads.get(key)
            if window is None or monitor is None or window.brand in open_brands:
                continue
            if not self._may_say_more(monitor, window, minute):
                continue
            norm = norms.get(window.brand)
            if norm is None:
                norm = norms[window.brand] = self._thread_norm(window.brand, minute + 1)
            gap = minute - monitor.last_minute
            if gap > 0 and monitor.last_minute >= 0:
                monitor = monitor.caught_up(gap, norm.lam * gap, norm.normal.dispersion)
            a = self._assess(monitor, window, minute, norm.normal, norm.lam, norm.h_rate,
                             norm.h_share, thread=True, warming=norm.state.warming_up,
                             is_open=False, provisional=True,
                             brand_window=brand_windows.get(window.brand))  # fmt: skip
            if a is not None and a.alerting:
                threads.append((window, a))
        for brand in brands:
            state = self.brands.get(brand)
            window = brand_windows.get(brand)
            if state is None or window is None or brand in open_brands:
                continue
            monitor = state.monitor
            if not self._may_say_more(monitor, window, minute):
                continue
            if state.asleep_since >= 0 and state.rest is not None:
                # At rest until its comments' minute closes: looked at through a copy
                # taken through its quiet minutes, at the expectation it rests at (a
                # look changes nothing; the close catches it up).
                normal = state.rest[0]
                gap = minute + 1 - state.asleep_since
                if gap > 0:
                    monitor = monitor.caught_up(gap, normal.neg_per_min * gap, normal.dispersion)
            else:
                self._catch_up(state, minute + 1)
                normal = state.expected(minute + 1)
            lam = normal.neg_per_min
            h_rate = self.table.rate(lam * (1.0 + TOLERANCE), normal.dispersion, thread=False)
            h_share = self.table.share(state.share_volume(normal), normal.neg_share)
            a = self._assess(monitor, window, minute, normal, lam, h_rate, h_share,
                             thread=False, warming=state.warming_up, is_open=False,
                             volume=state.volume_evidence, provisional=True)  # fmt: skip
            if a is None or not a.alerting:
                continue
            top = _top_thread_rate(state, self.threads, minute)
            excess = monitor.recent_slow() - lam
            dominated = top > 0 and top >= 0.5 * excess
            verdict = BrandVerdict(brand, window, a, dominated, 0, 0, a.score, a.raw_score)
            verdict.top_thread_rate = top
            verdicts.append(verdict)
        return threads, verdicts

    def _may_say_more(self, monitor: KeyMonitor, window: KeyWindow, minute: int) -> bool:
        """Whether an early look at the key could fire, before any threshold is looked
        up: negatives in for the open minutes, and either both closed tests above zero
        or at least as many negatives there as `_may_fire_early` wants people."""
        if not monitor.ahead(minute):
            return False
        if monitor.rate.statistic and monitor.share.statistic:
            return True
        enough = self.crowd
        return window.count_negatives_since(minute, enough) >= enough

    # -- learning ----------------------------------------------------------------------

    def learn(self, verdict: BrandVerdict, minute: int, *, disturbed: bool) -> None:
        """Learns an undisturbed minute into the brand's baseline: no incident of the
        brand open and the tests below their thresholds, winsorised. Not stricter: a
        baseline that skips every minute with a few negatives in it learns the quiet
        minutes only, and its normal sinks until ordinary talk looks like a storm. Not
        longer than a day: after `UNLEARNED_MAX_MINUTES` minutes in a row not learned,
        what runs has lasted and is learned all the same."""
        if verdict.rested:
            return  # learned when the brand catches up
        state = self.brands[verdict.brand]
        baseline = state.baseline
        quiet = verdict.evidence < LEARN_BELOW or (
            state.warming_up and not verdict.assessment.alerting
        )
        # Without the negatives an account wrote past its cap, which the tests leave out
        # too, in the minute's comments and negatives alike: a bot burst leaves no trace
        # in the baseline. Learned, five accounts' bot burst (325 comments in
        # half an hour, at a brand of 558 a day, its tests at zero throughout) lifted the
        # usual negative share from 9 % to 42 %, and the next morning a campaign of 280
        # people read as no more negative than usual (held-out seed 4, 2026-12-07).
        n, neg = verdict.n - verdict.capped, verdict.neg - verdict.capped
        if disturbed or not quiet:
            if state.unlearned < UNLEARNED_MAX_MINUTES:
                state.unlearned += 1
                baseline.skip(minute)
                return
            # A day without a minute learned: what runs now has lasted, and is learned
            # (winsorised, the usual share too) as a lasting change is. Unbounded, an
            # incident opened while a brand's usual share was still near the prior
            # never closed: at an airline whose talk is 45 % complaints it opened in the
            # brand's first night against a usual share of 0.26, the baseline stood
            # still from then on, and three days later everyday talk read "31x" and the
            # real storm came as updates of that incident (case streams, 2026-12-07).
            state.share_frozen = 0
            baseline.learn(minute, n=n, neg=neg)
            return
        state.unlearned = 0
        # The usual share stands still while either test is half-way to its threshold,
        # or one of its threads' (`thread_building`): a swell over a day would otherwise
        # become its own normal before it alarms, and a storm growing on one post for
        # hours the brand's. A lasting change is learned after a day all the same. Not
        # the rate test while the brand warms up: it does not count yet, and its rate
        # comes from the very share being learned, so a brand more negative than the
        # prior locked its share (and a rate test half-way to its threshold) in place for
        # a day.
        rate_building = 0.0 if state.warming_up else verdict.rate_evidence
        building = (
            max(rate_building, verdict.share_evidence) >= SHARE_FREEZE
            or state.thread_building == minute
        )
        if building and state.share_frozen < SHARE_FREEZE_MAX_MINUTES:
            state.share_frozen += 1
            baseline.learn(minute, n=n, neg=neg, share=False)
        else:
            state.share_frozen = 0
            baseline.learn(minute, n=n, neg=neg)
        brand_rate = state.monitor.recent_slow()
        if brand_rate >= 0.1:
            baseline.learn_thread_share(min(1.0, verdict.top_thread_rate / brand_rate))
        elif self.rests and _may_rest(state, verdict):
            # Nothing building and nothing to judge until it speaks again (disturbed
            # brands, which have an incident open, returned above): its quiet minutes
            # wait for `_catch_up`, at the expectation of the next one. Comments already
            # in for a later minute wake it when that minute closes.
            state.rest = (state.expected(minute + 1), baseline.burst_dispersion())
            state.asleep_since = minute + 1
            del self.awake[verdict.brand]
            window = verdict.window
            if window is not None and window.open:
                self._queue_wake(verdict.brand, state, min(window.open))

    def _drop_profiles(self, key: str) -> None:
        """The key's account profiles (its excursion's and its last half hour's)."""
        self._profiles.pop(key, None)
        self._bursts.pop(key, None)

    def _brand_min_rate(self, normal: float) -> float:
        """The least negative rate a brand-wide storm runs at, for a brand whose normal
        is `normal` negatives a minute: `BRAND_MIN_RATIO` times it, or down to
        `BRAND_BUSY_RATIO` times it where that is a crowd, `crowd` negatives over
        normal in `CROWD_MINUTES` (`_crowd_rate`). At a brand of a few hundred comments a
        day twice the normal is a handful of complaints: a cluster on a launch post, at
        2-3x its brand's normal over five minutes with both tests at their thresholds
        (family seed 1303), is such. At a large one it is dozens of people: a campaign at
        a brand of 13,815 a day (2.5 negatives a minute normal) was held back six
        minutes with both tests over their thresholds, its negatives 2-3x the normal
        (tuning seed 6)."""
        return max(
            BRAND_BUSY_RATIO * normal, min(BRAND_MIN_RATIO * normal, self._crowd_rate(normal))
        )

    def _thread_min_rate(self, brand_normal: float, normal: float) -> float:
        """The least negative rate a post's storm runs at: its brand's whole normal
        (`THREAD_MIN_RATIO` times it), or `crowd` negatives over the post's
        own `normal` in `CROWD_MINUTES` when that is less (`_crowd_rate`). At a brand of 37,621
        a day (5.9 negatives a minute normal, its busiest post's 0.73) a fast storm's
        post had both tests over their thresholds for eight minutes, held back until
        it carried the brand's whole normal (tuning seed 4)."""
        return min(THREAD_MIN_RATIO * brand_normal, self._crowd_rate(normal))

    @property
    def crowd(self) -> int:
        """Negatives over normal that are more than a handful of people's: twice
        `min_accounts` (the bar for a lead, an early look and a crowd's rate)."""
        return 2 * self.min_accounts

    def _crowd_rate(self, normal: float) -> float:
        """A key's negative rate when `crowd` negatives over its `normal`
        come in `CROWD_MINUTES`: more than a handful of people, whatever the key's size."""
        return normal + self.crowd / CROWD_MINUTES

    def _brand_rate_now(self, brand: str, minute: int, recent: float, slow: float) -> float:
        """The brand's negative rate that a brand-wide storm is measured by: the larger of
        the last five minutes (`recent`) and the last quarter hour (`slow`), the quarter
        hour only within `STORM_TAIL_MINUTES` of its last storm's end."""
        ended = self.brands[brand].storm_ended
        if ended >= 0 and minute - ended < STORM_TAIL_MINUTES:
            return slow
        return max(recent, slow)

    def forget(self, key: str) -> None:
        """An incident on `key` resolved: its evidence is spent."""
        self._drop_profiles(key)
        monitor = self.threads.get(key)
        if monitor is not None:
            monitor.reset()
        state = self.brands.get(key)
        if state is not None:
            state.monitor.reset()

    def forget_brand(self, brand: str, minute: int) -> None:
        """The brand's last open incident resolved (at `minute`): the evidence its other
        keys gathered meanwhile (the brand's own test under a thread storm, threads
        inside a brand-wide one) is that storm's, spent too; else the same storm opens
        again on another key the minute its incident resolves. Rare (once per
        incident), so a scan is fine."""
        state = self.brands.get(brand)
        if state is not None:
            state.monitor.reset()
            state.storm_ended = max(state.storm_ended, minute)
        prefix = thread_key(brand, "")
        for key, monitor in self.threads.items():
            if key.startswith(prefix):
                monitor.reset()

    def forget_thresholds(self) -> None:
        """Drops the thresholds kept between minutes, after `table` changed (a restore
        under another false-alarm budget)."""
        self._early_norms = (-1, {})
        self._rest_norms = {}

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_profiles"] = {}
        state["_bursts"] = {}
        state["_rest_norms"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        # A checkpoint from before resting monitors: every monitor is stepped again.
        state.setdefault("stepping", dict.fromkeys(state.get("threads", ())))
        state.setdefault("_profiles", {})
        state.setdefault("_bursts", {})
        state.setdefault("shortcuts", True)
        state.setdefault("rests", True)
        state.setdefault("waking", [])
        state.setdefault("next_close", WAKES_NEVER)
        state.setdefault("_early_norms", (-1, {}))
        state.setdefault("_rest_norms", {})
        self.__dict__.update(state)

    def drop_threads(self, keys: list[str]) -> None:
        """Thread keys whose windows were evicted: their monitors go too."""
        for key in keys:
            self._drop_profiles(key)
            if self.threads.pop(key, None) is not None:
                self.stepping.pop(key, None)

    def evict(self, brands: list[str]) -> None:
        for b in brands:
            self.brands.pop(b, None)
            self.awake.pop(b, None)
            self._rest_norms.pop(b, None)
            self._drop_profiles(b)


def _rate_leads(
    monitor: KeyMonitor,
    closed_rate_evidence: float,
    rate_evidence: float,
    share_evidence: float,
    h_rate: float,
) -> bool:
    """The rate test over its threshold (at the close and now, on evidence not spent:
    `KeyMonitor.rate_gain`) leads a share test half-way there (`RATE_LED_SHARE`): a
    storm's posts draw defenders too, which slows the share test and not the rate
    test. On the closed minutes' rate test: the first seconds of a bot burst, counted
    early, look like a crowd (four bots on a post whose excursion held fifteen people's
    negatives from the hours before). Not while the key's last hour was a launch's
    (`hour_mostly_not_negative`), surging or not: two hours into a launch at a brand of
    53 a day its volume test had learned the launch's level, and a cluster of
    complaints let the rate test lead to a firestorm while the hour held 161 comments
    where 71 were expected, 27 % of the extra ones negative (fresh seed 3296)."""
    return (
        closed_rate_evidence >= 1.0
        and monitor.rate_gain() >= h_rate
        and rate_evidence >= 1.0
        and share_evidence >= RATE_LED_SHARE
        and not monitor.hour_mostly_not_negative()
    )


def _share_leads(
    monitor: KeyMonitor, rate_evidence: float, share_evidence: float, h_share: float
) -> bool:
    """The share test over its threshold (at the close and now) leads a rate test a
    quarter of the way to its own (`SHARE_LED_RATE`) when the excursion brought no more
    talk that is not negative than usual. A slow storm's post at a brand of 1,107 a day
    had its share test over for 13 minutes before the breakout while its rate test stood
    at half of its own: at the usual volume the negatives a rate test needs come later
    than the share they make (fresh seed 3154). On a new post, whose normal is the
    brand's busiest post's, more so: a storm's post at a brand of 3,282 a day of real
    volume had its share test over from 7 minutes before the breakout, its rate test a
    quarter of the way 9 minutes after it and half-way 17 minutes after; it opened 18.5
    minutes after the breakout when half-way was asked, 11.6 now (seed 52). A launch
    post draws more of everything, and its complaints alone lift its share (seed 1303:
    159 comments where 100 were expected, 45 negative;
    without that condition it opened a firestorm)."""
    return (
        monitor.share.statistic >= h_share
        and share_evidence >= 1.0
        and rate_evidence >= SHARE_LED_RATE
        and monitor.excursion_without_more_talk()
    )


def _campaign_without_guards(profile: AccountProfile, min_accounts: int) -> bool:
    """Copies of a few messages from many people, about one each, and no guard
    objecting to who wrote them: a templated campaign."""
    return profile.campaign and profile.benign_reason(min_accounts=min_accounts) is None


def _guard_span(monitor: KeyMonitor, minute: int, thread: bool) -> int:
    """The minutes back whose accounts the guards judge: the whole excursion (a slow
    swell at a small brand gathers its different people over hours, not within half an
    hour), at least `GUARD_MINUTES`, at most the longest a key of its kind keeps."""
    longest = THREAD_GUARD_MINUTES_MAX if thread else GUARD_MINUTES_MAX
    return min(longest, max(GUARD_MINUTES, monitor.evidence_minutes(minute)))


def _sliding(profiles: dict[str, SlidingProfile], key: str) -> SlidingProfile:
    """The key's profile in `profiles`, made with its first look."""
    sliding = profiles.get(key)
    if sliding is None:
        sliding = profiles[key] = SlidingProfile()
    return sliding


def _building(monitor: KeyMonitor, norm: _ThreadNorm) -> bool:
    """Negatives waiting, or a test half-way to its threshold: stepped every minute."""
    return bool(
        monitor.pending
        or monitor.rate.statistic >= SHARE_FREEZE * norm.h_rate
        or monitor.share.statistic >= SHARE_FREEZE * norm.h_share
    )


def _rest_thread(state: BrandState, key: str, monitor: KeyMonitor, minute: int) -> None:
    """A thread comes to rest at `minute`. While it had negatives lately (`RECENT_FAST`)
    it still counts for its brand's top thread, as if stepped: all resting threads'
    recent rates decay alike, so their order stands and a heap keeps the largest on top
    (by the log of the rate it would have at minute 0; entries go stale when the thread
    is stepped again, dropped, or its recent negatives fade)."""
    fast = monitor.fast
    if fast < RECENT_FAST:
        return
    heap = state.resting_threads
    if len(heap) >= state.resting_limit:
        heap[:] = [e for e in heap if e[4].last_minute == e[3] and minute < e[1]]
        heapq.heapify(heap)
        # Many valid ones (a brand with thousands of threads): sweep again only once it
        # has doubled, so a push costs a logarithm on average.
        state.resting_limit = max(RESTING_HEAP_MAX, 2 * len(heap))
    # The first minute its recent negatives (as stepping would decay them) fall short.
    fades = minute + int(math.log(RECENT_FAST / fast) / _LOG_FAST) + 1
    rank = -(math.log(monitor.slow) - minute * _LOG_SLOW)
    heapq.heappush(heap, (rank, fades, key, minute, monitor))


def _top_thread_rate(state: BrandState, threads: dict[str, KeyMonitor], minute: int) -> float:
    """The recent negatives per minute of the brand's busiest thread: stepped this
    minute, or at rest and decayed since."""
    top = state.top_thread_rate
    heap = state.resting_threads
    while heap:
        _, fades, key, since, monitor = heap[0]
        if minute >= fades or monitor.last_minute != since or threads.get(key) is not monitor:
            heapq.heappop(heap)
            continue
        resting = monitor.slow * _SLOW ** (minute - since) * (1.0 - _SLOW)
        return resting if resting > top else top
    return top


def _may_rest(state: BrandState, verdict: BrandVerdict) -> bool:
    """Nothing waiting and every test under half its threshold (nothing building: the
    usual share is learned, the volume test is armed): no minute without comments can
    alarm, be assessed or change what is learned, so the brand may skip them. Past its
    first hour the share test may stand half-way: a minute without comments does not
    move it, the evidence is the smaller of the two tests (the rate's under half and
    falling), and zero minutes leave the usual share as it is whether it is frozen or
    not. One negative comment at a brand of a few a day holds its share test there for
    hours, and the brand was judged every minute of them."""
    return (
        not state.monitor.pending
        and verdict.rate_evidence < SHARE_FREEZE
        and (verdict.share_evidence < SHARE_FREEZE or not state.warming_up)
        and not state.volume.surging
    )


def _quiet(
    monitor: KeyMonitor,
    lam: float,
    normal: Expectation | None = None,
    no_normal: BrandState | None = None,
) -> Assessment:
    """`no_normal`: the brand's state while it has no normal yet (`normal`: its
    expectation now)."""
    if no_normal is not None and normal is not None:
        lam = _calm_normal(lam, normal, no_normal)
    ratio = monitor.recent_rate() / lam
    return Assessment(0.0, 0.0, ratio, ratio, 0.0, 0.0, None, False, normal_rate=lam)


def _calm_normal(lam: float, normal: Expectation, state: BrandState) -> float:
    """The normal negatives per minute that severity and calm are measured against at a
    brand that warms up. It has no normal rate yet, and while an incident of its is open
    it learns none (its minutes are not learned): its normal is then its usual (at first
    the prior) share of the comments it has shown per minute. Else an incident opened in
    a brand's first minutes (monitoring started during a storm) compared every later
    minute with the floor of one negative a day and never resolved."""
    return max(lam, normal.neg_share * state.shown_volume())

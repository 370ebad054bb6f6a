"""Window features of one key at one closed minute: the `x` the detectors learn and score.

Plain dicts of floats, river-style, so any river detector can consume them. The growth
blocks (`eff_block_*`) count an account at most twice, so one angry customer or a bot
repeating itself does not read as a storm doubling.
"""

from __future__ import annotations

import math
from collections import Counter

from stormwatch.detectors.baseline import Expectation
from stormwatch.key_window import KeyWindow

WINDOWS = (5, 10, 30)
AUTHOR_CAP = 2


_QUIET = {
    **{f"{kind}_{w}": 0 for kind in ("n", "neg") for w in WINDOWS},
    "neg_share_10": 0.0,
    "neg_share_5": 0.0,
    "reach_neg_10": 0.0,
    "neg_prev_10": 0,
    "neg_authors_30": 0,
    "neg_authors_10": 0,
    "top_author_share_30": 0.0,
    "top3_author_share_30": 0.0,
    "distinct_text_share_30": 1.0,
    "top_thread_share_30": 0.0,
    "top_thread_neg_30": 0,
    "eff_block_0": 0,
    "eff_block_1": 0,
    "eff_block_2": 0,
}


def quiet_features(normal: Expectation) -> dict[str, float]:
    """The features of a key without a comment in the last 30 minutes: what
    `window_features` would return, without walking the window (most brands, most
    minutes, on a platform with thousands of brands)."""
    x = _normal_features(normal)
    x.update(_QUIET)
    return x


def _normal_features(normal: Expectation, key_share: float = 1.0) -> dict[str, float]:
    """What every key's features say of its normal (`key_share`: see `window_features`)."""
    return {
        "expected_volume_per_min": normal.volume_per_min,
        "expected_neg_per_min": normal.neg_per_min * key_share,
        "brand_neg_per_min": normal.neg_per_min,
        "base_neg_share": normal.neg_share,
        "dispersion": normal.dispersion,
        "minutes_seen": normal.minutes_seen,
    }


def window_counts(window: KeyWindow | None, minute: int, normal: Expectation, width: int
                  ) -> dict[str, float]:  # fmt: skip
    """The part of `window_features` an observer of a key's last `width` minutes reads
    (`PipelineObserver.window_minutes`): the expectation, and the comments, negatives and
    negative share of those minutes, as `n_{width}`, `neg_{width}`, `neg_share_{width}`.
    The rest walks the key's negatives of half an hour, at every brand judged."""
    n = neg = 0
    if window is not None:
        for s in window.recent(minute, width):
            n += s.n
            neg += s.neg
    x = _normal_features(normal)
    x[f"n_{width}"] = n
    x[f"neg_{width}"] = neg
    x[f"neg_share_{width}"] = neg / n if n else 0.0
    return x


def window_features(
    window: KeyWindow,
    minute: int,
    normal: Expectation,
    key_share: float = 1.0,
    *,
    with_open: bool = False,
) -> dict[str, float]:
    """`key_share` scales the brand's normal to the key: the share of a brand's negative
    comments that one thread usually gets (1 for the brand itself). `with_open`: count
    the open minutes up to `minute` as they stand (explaining an early decision)."""
    x = _normal_features(normal, key_share)
    n = dict.fromkeys(WINDOWS, 0)
    neg = dict.fromkeys(WINDOWS, 0)
    reach_neg_10 = 0.0
    neg_prev_10 = 0
    blocks = [0, 0, 0]  # negatives in the last three 5-minute blocks, newest first
    for s in window.recent(minute, 30, with_open=with_open):
        age = minute - s.minute
        for w in WINDOWS:
            if age < w:
                n[w] += s.n
                neg[w] += s.neg
        if age < 10:
            reach_neg_10 += s.reach_neg
        elif age < 20:
            neg_prev_10 += s.neg
    for w in WINDOWS:
        x[f"n_{w}"] = n[w]
        x[f"neg_{w}"] = neg[w]
    x["neg_share_10"] = neg[10] / n[10] if n[10] else 0.0
    x["neg_share_5"] = neg[5] / n[5] if n[5] else 0.0
    x["reach_neg_10"] = reach_neg_10
    x["neg_prev_10"] = neg_prev_10

    mentions = window.negatives_since(minute, 30)
    per_author: dict[str, int] = {}
    signatures: set[int] = set()
    per_thread: dict[str | None, int] = {}
    authors_10 = 0
    # Newest first: an account's first mentions are its most recent ones.
    for m in mentions:
        age = minute - m.minute
        author = m.author
        a = per_author.get(author, 0) + 1
        per_author[author] = a
        signatures.add(m.signature)
        thread = m.thread_id
        per_thread[thread] = per_thread.get(thread, 0) + 1
        if a == 1 and age < 10:
            authors_10 += 1
        # Growth counts an account at most `AUTHOR_CAP` times, so one account pasting
        # faster is not a storm doubling; copies of one text from many accounts count
        # in full (capping them per text read a campaign of 150 people at 10 a minute
        # as flat).
        if age < 15 and a <= AUTHOR_CAP:
            blocks[age // 5] += 1
    total = len(mentions)
    x["neg_authors_30"] = len(per_author)
    x["neg_authors_10"] = authors_10
    if total:
        counts = sorted(per_author.values(), reverse=True)
        x["top_author_share_30"] = counts[0] / total
        x["top3_author_share_30"] = sum(counts[:3]) / total
        x["distinct_text_share_30"] = len(signatures) / total
        threads = [c for t, c in per_thread.items() if t is not None]
        x["top_thread_share_30"] = max(threads) / total if threads else 0.0
        x["top_thread_neg_30"] = max(threads) if threads else 0
    else:
        x["top_author_share_30"] = 0.0
        x["top3_author_share_30"] = 0.0
        x["distinct_text_share_30"] = 1.0
        x["top_thread_share_30"] = 0.0
        x["top_thread_neg_30"] = 0
    x["eff_block_0"], x["eff_block_1"], x["eff_block_2"] = blocks
    return x


def negatives_off(
    window: KeyWindow, minute: int, posts: set[str | None] | None = None
) -> tuple[int, int]:
    """Negatives of the window in its last 30 and 120 minutes that are not on `posts`
    (None: not on its busiest post of the 120): what a storm's spread off its posts
    is made of. Two hours as well as half an hour: a slow swell at a small brand puts
    one or two negatives an hour on each of several posts."""
    mentions = window.negatives_since(minute, 120)
    if posts is None:
        busiest = Counter(m.thread_id for m in mentions if m.thread_id is not None)
        posts = {thread for thread, _ in busiest.most_common(1)}
    off_30 = off_120 = 0
    for m in mentions:
        if m.thread_id not in posts:
            off_120 += 1
            if minute - m.minute < 30:
                off_30 += 1
    return off_30, off_120


RATE_SPANS = (5, 15, 30, 60, 120, 180)  # minutes: up to the window's history


def supported_span(
    window: KeyWindow, minute: int, least: int, *, with_open: bool = False
) -> tuple[int, int, int, int]:
    """(minutes, negatives, comments, accounts) of the shortest of `RATE_SPANS` back from
    `minute` whose negative comments come from at least `least` accounts (else the
    longest): a rate a crowd, not one or two people, supports. Over the last five
    minutes, one negative at a brand of a few a day read as 58 times its normal
    (`critical`), and the alerts of small brands, whose tests gather their evidence
    over hours, reported minutes that held next to none of it: 18 of the 130 openings
    of fresh seeds 2601-2610 said "0.0/min" or named fewer than five accounts ("0% of
    comments are negative, from 1 accounts"). `with_open`: `minute` is an open minute,
    and the open minutes up to it count as they stand."""
    spans = RATE_SPANS
    i = negatives = 0
    authors: set[str] = set()
    found = False
    for m in reversed(window.negatives):  # newest first
        if m.minute > minute:
            continue
        age = minute - m.minute
        if age >= spans[-1]:
            break
        while age >= spans[i]:
            if len(authors) >= least:
                found = True
                break
            i += 1
        if found:
            break
        authors.add(m.author)
        negatives += 1
    span = spans[i] if len(authors) >= least else spans[-1]
    comments = sum(s.n for s in window.recent(minute, span, with_open=with_open))
    return span, negatives, max(comments, negatives), len(authors)


def thin_span(
    window: KeyWindow, minute: int, least: int, *, with_open: bool = False
) -> tuple[int, int, int, int] | None:
    """`supported_span` when the negatives of the last `RATE_SPANS[0]` minutes come
    from fewer than `least` accounts, else None (their rate stands as it is). Stops at
    the `least`-th account: at a busy key most looks end within a few mentions."""
    authors: set[str] = set()
    for m in reversed(window.negatives):  # newest first
        if m.minute > minute:
            continue
        if minute - m.minute >= RATE_SPANS[0]:
            break
        authors.add(m.author)
        if len(authors) >= least:
            return None
    return supported_span(window, minute, least, with_open=with_open)


def growth_log2(x: dict[str, float]) -> float:
    """Is the negative stream still growing? log2 of the last 5 minutes' effective
    negatives over the 5 before, plus a bonus when growth itself speeds up.

    >>> growth_log2({"eff_block_0": 15, "eff_block_1": 7, "eff_block_2": 3})
    1.5
    """
    c, b, a = x["eff_block_0"], x["eff_block_1"], x["eff_block_2"]
    growth = math.log2((c + 1.0) / (b + 1.0))
    accelerating = (c - b) > (b - a) > 0
    return growth + (0.5 if accelerating else 0.0)


def doubling_minutes(x: dict[str, float]) -> float | None:
    """Minutes the negative stream takes to double at its current growth, if it grows
    by more than a standard deviation of the two counts' difference (as Poisson counts):
    a flat storm's one comment more in the last five minutes, 20 after 19, read
    "doubling every 67 min".

    >>> doubling_minutes({"eff_block_0": 20, "eff_block_1": 10})
    5.0
    >>> doubling_minutes({"eff_block_0": 20, "eff_block_1": 19}) is None
    True
    """
    c, b = x["eff_block_0"], x["eff_block_1"]
    if b <= 0 or c - b <= math.sqrt(c + b):
        return None
    return 5.0 / math.log2(c / b)

"""What an alert says: a one-sentence summary, the drivers behind it and the most telling
comments. Built from a key's window when an incident event is emitted, never per comment.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import regex

from stormwatch.detectors.crisis import Assessment
from stormwatch.detectors.explain import distinctive_terms, near_duplicate_share
from stormwatch.detectors.features import doubling_minutes, growth_log2, thin_span
from stormwatch.key_window import KeyWindow, NegativeMention

SAMPLE_COUNT = 5
ACCOUNT_COUNT = 5
TEXT_LIMIT = 280
# More than this share of a key's negatives without an author id: the account guards
# cannot tell one person, a few bots and a crowd apart (each such comment counts as an
# account of its own), so the alert says so and does not claim a campaign.
AUTHORS_UNKNOWN_MOST = 0.5


def cut_text(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut between two grapheme clusters and marked
    with "…": cut anywhere, a family emoji of seven code points became one man, with no
    sign that anything was cut. (`regex`'s \\X, as the standard library has no
    grapheme segmentation.)

    >>> cut_text("abc", 3), cut_text("abcdef", 4)
    ('abc', 'abc…')
    >>> cut_text("ok 👨‍👩‍👧‍👦 then", 5)
    'ok …'
    """
    if len(text) <= limit:
        return text
    end = 0
    for cluster in _GRAPHEME.finditer(text):
        if cluster.end() > limit - 1:
            break
        end = cluster.end()
    return text[:end] + "…"


_GRAPHEME = regex.compile(r"\X")


def authors_unknown_share(mentions: Sequence[NegativeMention]) -> float:
    """The share of `mentions` whose comment came without an author id."""
    if not mentions:
        return 0.0
    return sum(1 for m in mentions if m.comment.author_id is None) / len(mentions)


def top_accounts(mentions: Sequence[NegativeMention]) -> list[dict]:
    """The accounts that wrote the most of `mentions`; comments without an author id
    are nobody's (their window counts each under its comment id)."""
    mentions = [m for m in mentions if m.comment.author_id is not None]
    counts = Counter(m.author for m in mentions)
    followers: dict[str, int] = {}
    for m in mentions:
        followers[m.author] = max(followers.get(m.author, 0), m.comment.author_followers or 0)
    ranked = sorted(counts, key=lambda a: (-counts[a], -followers[a], a))[:ACCOUNT_COUNT]
    return [{"author_id": a, "comments": counts[a], "followers": followers[a]} for a in ranked]


def telling_samples(mentions: Sequence[NegativeMention]) -> list[dict]:
    """The most negative comments with the widest reach, one per text and author."""
    ranked = sorted(
        mentions,
        key=lambda m: (
            -(m.comment.negativity * (1.0 + math.log1p(m.comment.author_followers or 0))),
            m.comment.id,
        ),
    )
    seen_sigs: set[int] = set()
    seen_authors: set[str] = set()
    out: list[dict] = []
    for m in ranked:
        if m.signature in seen_sigs or m.author in seen_authors:
            continue
        seen_sigs.add(m.signature)
        seen_authors.add(m.author)
        c = m.comment
        out.append(
            {
                "id": c.id,
                "text": cut_text(c.text, TEXT_LIMIT),
                "author_id": c.author_id,
                "followers": c.author_followers,
                "thread_id": c.thread_id,
                # with the id, which comment it is (ids are unique per platform only)
                "platform": c.platform,
                "negativity": round(c.negativity, 3),
                # the language it was read in: a person's label on it teaches that
                # language's correction of the brand (`negativity_feedback`)
                "lang": c.lang,
            }
        )
        if len(out) >= SAMPLE_COUNT:
            break
    return out


def top_topics(mentions: Sequence[NegativeMention], top: int = 4) -> list[str]:
    counts = Counter(t for m in mentions for t in m.comment.topics)
    return [t for t, _ in counts.most_common(top)]


def top_threads(mentions: Sequence[NegativeMention], top: int = 5) -> list[dict]:
    counts = Counter(m.thread_id for m in mentions if m.thread_id is not None)
    return [{"thread_id": t, "negative_comments": c} for t, c in counts.most_common(top)]


def build_content(
    window: KeyWindow,
    minute: int,
    event: str,
    a: Assessment,
    x: dict[str, float],
    normal_texts: Sequence[str],
    least: int = 5,
    *,
    with_open: bool = False,
) -> tuple[str, dict, list[dict], list[str]]:
    """Returns (summary, drivers, samples, topics) for one incident event. `least`: the
    fewest accounts a rate in the summary stands on (the judge's `min_accounts`): when
    the last five minutes' negatives come from fewer, it reports the shortest span back
    whose negatives come from that many (`thin_span`), the span a small brand's tests
    gathered their evidence over, and the span its severity reads. `with_open`:
    `minute` is the newest open minute of a decision taken early, whose comments are
    counted as they stand."""
    mentions = window.negatives_since(minute, 30)
    texts = [m.comment.text for m in mentions[:300]]
    terms = distinctive_terms(texts, normal_texts) if event != "resolved" else []
    topics = top_topics(mentions)
    # What came in: the same counts the curves show (the detectors' per-account cap is
    # for telling a crowd from a few people, which the accounts below show).
    now = x["neg_5"] / 5.0
    normal = x["expected_neg_per_min"]
    doubling = doubling_minutes(x)
    unknown = authors_unknown_share(mentions)
    anonymous = unknown > AUTHORS_UNKNOWN_MOST
    drivers = {
        # Rates to four significant figures: a small brand's normal of 7.4 a day,
        # rounded to 0.005/min, read 7.2/day on the card beside the summary's 7.4.
        "negative_per_min_now": _figures4(now),
        "negative_per_min_baseline": _figures4(normal),
        "negative_per_min_brand_baseline": _figures4(x["brand_neg_per_min"]),
        "ratio_to_baseline": round(a.severity_basis, 1),  # what its severity reads
        "ratio_to_key_baseline": round(a.key_ratio, 1),
        "growth_log2_per_5min": round(growth_log2(x), 2),
        "doubling_minutes": round(doubling, 1) if doubling else None,
        "negative_share": round(x["neg_share_10"], 3),
        "negative_share_baseline": round(x["base_neg_share"], 3),
        "volume_per_min_now": round(x["n_10"] / 10.0, 2),
        "volume_per_min_baseline": round(x["expected_volume_per_min"], 2),
        "volume_anomaly": round(a.volume, 2),
        "evidence": round(a.score, 2),
        "campaign": a.campaign and not anonymous,
        "negative_comments_30min": int(x["neg_30"]),
        "distinct_accounts_30min": int(x["neg_authors_30"]),
        "authors_unknown_share": round(unknown, 3),
        "near_duplicate_share": near_duplicate_share(texts[:200]),
        "reach_weighted_negativity_10min": round(x["reach_neg_10"], 1),
        "top_terms": terms,
        "topics": topics,
        "top_accounts": top_accounts(mentions),
    }
    if window.thread_id is None:
        drivers["top_threads"] = top_threads(mentions)
    platforms = Counter(m.comment.platform for m in mentions if m.comment.platform)
    drivers["platform"] = platforms.most_common(1)[0][0] if platforms else None
    volume, negative = window.curve(minute, with_open=with_open)
    drivers["volume_per_min_curve"] = volume
    drivers["negative_per_min_curve"] = negative
    # Where the curves end: the minute explained, which is not the event's time (the
    # newest negative) once the key has been quiet a while; drawn at the event's time,
    # a storm's minutes moved twelve minutes early on the chart.
    drivers["curve_end"] = minute * 60
    where = f"thread {window.thread_id} of {window.brand}" if window.thread_id else window.brand
    about = f" about {', '.join(topics)}" if topics else ""
    usual = "a busy thread's usual" if window.thread_id else "the normal"
    thin = None if event == "resolved" else thin_span(window, minute, least, with_open=with_open)
    if event == "resolved":
        running = (
            f"{rate_text(now, like=normal)} negative comments" if now else "no negative comment"
        )
        summary = (
            f"Calm again on {where}: {running} in the last five minutes, against "
            f"{rate_text(normal)} normally."
        )
    elif thin is not None:
        span, negatives, comments, accounts = thin
        drivers["rate_span_minutes"] = span
        drivers["negative_comments_in_span"] = negatives
        drivers["comments_in_span"] = comments
        rate = negatives / span
        brand_rate = x["brand_neg_per_min"]
        brand_wide = (
            f" ({rate / brand_rate:.1f}x the brand's {rate_text(brand_rate)})"
            if window.thread_id and brand_rate > 0
            else ""
        )
        times = f"{ratio_text(rate / normal)} " if normal > 0 else ""
        share = f"{negatives / comments:.0%}" if comments else "none"
        summary = (
            f"Negative comments{about} on {where}: {negatives} in the last "
            f"{_span_text(span)}, {rate_text(rate)}, {times}{usual} {rate_text(normal)}"
            f"{brand_wide}{_growing(doubling)}; {share} of the comments in that time are "
            f"negative, from {accounts} accounts."
        )
    else:
        brand_wide = (
            f" ({ratio_text(a.ratio)} the brand's {rate_text(x['brand_neg_per_min'])})"
            if window.thread_id
            else ""
        )
        # The ratio of the two rates the sentence names (the key's decayed ratio set
        # beside the five-minute rate read "1.0/min, 20x the usual 0.04/min"); rates in
        # the unit they read in ("0.00/min" at a small brand).
        times = f"{ratio_text(now / normal)} " if normal > 0 else ""
        summary = (
            f"Negative comments{about} on {where} run at {rate_text(now, like=normal)}, "
            f"{times}{usual} {rate_text(normal)}{brand_wide}{_growing(doubling)}; "
            f"{x['neg_share_10']:.0%} of comments are negative, from "
            f"{int(x['neg_authors_30'])} accounts."
        )
    if anonymous and event != "resolved":
        summary += (
            f" {unknown:.0%} of the negative comments came without an author id: whether"
            " one person, a few bots or many people wrote them cannot be told."
        )
    return summary, drivers, telling_samples(mentions), topics


def _span_text(minutes: int) -> str:
    """
    >>> _span_text(30), _span_text(60), _span_text(180)
    ('30 minutes', 'hour', '3 hours')
    """
    if minutes < 60:
        return f"{minutes} minutes"
    return "hour" if minutes == 60 else f"{minutes // 60} hours"


def _figures4(value: float) -> float:
    """
    >>> _figures4(0.0051234), _figures4(12.345678), _figures4(0.0)
    (0.005123, 12.35, 0.0)
    """
    return float(f"{value:.4g}")


def rate_text(rate_per_min: float, like: float | None = None) -> str:
    """A rate per minute, per hour below one a minute, per day below one an hour; in
    the unit `like` would take, when given (two rates side by side).

    >>> rate_text(2.5), rate_text(0.15), rate_text(0.004), rate_text(0.8, like=1.3)
    ('2.5/min', '9.0/hour', '5.8/day', '0.8/min')
    """
    scale = rate_per_min if like is None else like
    if scale >= 1.0:
        return f"{rate_per_min:.1f}/min"
    if scale * 60 >= 1.0:
        return f"{rate_per_min * 60:.1f}/hour"
    return f"{rate_per_min * 1440:.1f}/day"


def _growing(doubling: float | None) -> str:
    return f", doubling every {doubling:.0f} min" if doubling else ""


def ratio_text(ratio: float) -> str:
    """
    >>> ratio_text(0.3), ratio_text(4.26), ratio_text(16.4), ratio_text(1880.4)
    ('0.3x', '4.3x', '16x', '1880x')
    """
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"

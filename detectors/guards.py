"""Guards against benign surges: each names why a surge of comments is not a firestorm.

A firestorm is many different people, in many different words, turning negative. Each
guard checks one way a surge can fail that description. They run only on keys that
already surge, and they explain themselves: the reason ends up in the run report.
"""

from __future__ import annotations

BENIGN_REASONS: dict[str, str] = {
    "not_negative": "volume surge with a normal negative share (positive virality, a launch)",
    "single_account": "one account writes most of the negative comments",
    "bot_burst": "near-identical comments from a few accounts",
    "few_accounts": "too few different people",
    "dismissed_before": "people marked a surge like this a false alarm before",
}


def required_negative_share(base_share: float) -> float:
    """The negative share a surge must reach: double the usual or 15 points above it,
    whichever is more, but never more than halfway from the usual share to 100 %.

    >>> required_negative_share(0.08), required_negative_share(0.3)
    (0.23, 0.6)
    """
    return round(min(base_share + max(0.15, base_share), base_share + 0.5 * (1.0 - base_share)), 6)


def benign_reason(x: dict[str, float], *, min_authors: int = 5) -> str | None:
    """Why the surge in `x` is benign, or None when it looks like a real storm.

    >>> storm = {"neg_share_10": 0.7, "base_neg_share": 0.08, "neg_authors_30": 40,
    ...          "top_author_share_30": 0.05, "top3_author_share_30": 0.12,
    ...          "distinct_text_share_30": 0.95}
    >>> benign_reason(storm) is None
    True
    >>> benign_reason({**storm, "distinct_text_share_30": 0.1, "top3_author_share_30": 0.8})
    'bot_burst'
    >>> benign_reason({**storm, "neg_share_10": 0.1})
    'not_negative'
    """
    few = x["neg_authors_30"] < min_authors
    duplicated = x["distinct_text_share_30"] < 0.5
    concentrated = x["top3_author_share_30"] > 0.6
    if duplicated and (few or concentrated):
        return "bot_burst"
    if x["top_author_share_30"] > 0.35:
        return "single_account"
    if few:
        return "few_accounts"
    if duplicated:
        return "bot_burst"
    share = max(x["neg_share_10"], x.get("neg_share_5", 0.0))
    if share < required_negative_share(x["base_neg_share"]):
        return "not_negative"
    return None

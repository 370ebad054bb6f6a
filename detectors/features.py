"""Window features of one key at one closed minute: the `x` the detectors learn and score.

Plain dicts of floats, river-style, so any river detector can consume them. The
"effective" negative count caps what one account can add (two comments per window) and
what one text can add (near-duplicates count twice at most): one angry customer or a bot
repeating itself cannot look like a crowd.
"""

from __future__ import annotations

from stormwatch.detectors.baseline import Expectation
from stormwatch.windows import KeyWindow

WINDOWS = (5, 10, 30)
AUTHOR_CAP = 2
SIGNATURE_CAP = 2


def window_features(window: KeyWindow, minute: int, normal: Expectation) -> dict[str, float]:
    x: dict[str, float] = {
        "expected_volume_per_min": normal.volume_per_min,
        "expected_neg_per_min": normal.neg_per_min,
        "base_neg_share": normal.neg_share,
        "dispersion": normal.dispersion,
        "minutes_seen": normal.minutes_seen,
    }
    n = dict.fromkeys(WINDOWS, 0)
    neg = dict.fromkeys(WINDOWS, 0)
    reach_neg_10 = 0.0
    blocks = [0, 0, 0]  # negatives in the last three 5-minute blocks, newest first
    for s in window.recent(minute, 30):
        age = minute - s.minute
        for w in WINDOWS:
            if age < w:
                n[w] += s.n
                neg[w] += s.neg
        if age < 10:
            reach_neg_10 += s.reach_neg
    for w in WINDOWS:
        x[f"n_{w}"] = n[w]
        x[f"neg_{w}"] = neg[w]
    x["neg_share_10"] = neg[10] / n[10] if n[10] else 0.0
    x["neg_share_5"] = neg[5] / n[5] if n[5] else 0.0
    x["reach_neg_10"] = reach_neg_10

    mentions = window.negatives_since(minute, 30)
    per_author: dict[str, int] = {}
    per_sig: dict[int, int] = {}
    per_thread: dict[str | None, int] = {}
    eff = dict.fromkeys(WINDOWS, 0)
    sig_eff = dict.fromkeys(WINDOWS, 0)
    authors_at = {}
    # Newest first: counts accumulate as the window widens.
    for m in mentions:
        age = minute - m.minute
        a = per_author.get(m.author, 0) + 1
        per_author[m.author] = a
        g = per_sig.get(m.signature, 0) + 1
        per_sig[m.signature] = g
        per_thread[m.thread_id] = per_thread.get(m.thread_id, 0) + 1
        block = age // 5
        for w in WINDOWS:
            if age < w:
                if a <= AUTHOR_CAP:
                    eff[w] += 1
                if g <= SIGNATURE_CAP:
                    sig_eff[w] += 1
        if a == 1:
            authors_at[m.author] = age
        if block < 3 and a <= AUTHOR_CAP and g <= SIGNATURE_CAP:
            blocks[block] += 1
    for w in WINDOWS:
        x[f"eff_{w}"] = min(eff[w], sig_eff[w])
    total = len(mentions)
    x["neg_authors_30"] = len(per_author)
    x["neg_authors_10"] = sum(1 for age in authors_at.values() if age < 10)
    if total:
        counts = sorted(per_author.values(), reverse=True)
        x["top_author_share_30"] = counts[0] / total
        x["top3_author_share_30"] = sum(counts[:3]) / total
        x["distinct_text_share_30"] = len(per_sig) / total
        threads = [c for t, c in per_thread.items() if t is not None]
        x["top_thread_share_30"] = max(threads) / total if threads else 0.0
    else:
        x["top_author_share_30"] = 0.0
        x["top3_author_share_30"] = 0.0
        x["distinct_text_share_30"] = 1.0
        x["top_thread_share_30"] = 0.0
    x["eff_block_0"], x["eff_block_1"], x["eff_block_2"] = blocks
    return x

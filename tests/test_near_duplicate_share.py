"""The near-duplicate share of an explanation, computed on each distinct text once,
equals the share computed over every copy (the plain pairwise computation below):
through exact copies, near-copies, texts without any character n-gram, and samples
longer than the 400 it looks at."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer

from stormwatch.detectors.explain import near_duplicate_share


def plain_share(texts: Sequence[str], threshold: float = 0.9) -> float:
    if len(texts) < 2:
        return 0.0
    sample = list(texts[:400])
    vectors = HashingVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False
    ).transform(sample)
    sims = (vectors @ vectors.T).toarray()
    np.fill_diagonal(sims, 0.0)
    return round(float((sims.max(axis=1) >= threshold).mean()), 3)


_TEXTS = st.sampled_from(
    (
        "Boycott now!!! #1",
        "Boycott now!!! #2",
        "Boycott now!!!",
        "I am so angry",
        "never again, deleting my account",
        "Nie wieder, ekelhaft",
        "",
        "  ",
        "ok",
        "This is a scandal and you know it",
    )
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXTS, max_size=40), st.lists(st.text(max_size=30), max_size=8))
def test_counting_each_distinct_text_once_changes_nothing(
    common: list[str], other: list[str]
) -> None:
    texts = common + other
    assert near_duplicate_share(texts) == plain_share(texts)


def test_only_the_first_400_texts_count_as_before() -> None:
    texts = [f"storm comment number {i % 37}" for i in range(450)] + ["x"] * 50
    assert near_duplicate_share(texts) == plain_share(texts)

"""Who is behind a key's negatives: the profile counted in C equals the plain one."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from stormwatch.detectors.accounts import AccountProfile

_PAIRS = st.lists(
    st.tuples(st.sampled_from("abcdefgh"), st.integers(min_value=0, max_value=6)), max_size=60
)


@given(_PAIRS)
def test_a_profile_of_mentions_is_the_profile_of_their_pairs(
    pairs: list[tuple[str, int]],
) -> None:
    mentions = [SimpleNamespace(author=a, signature=s) for a, s in pairs]
    assert AccountProfile.of_mentions(mentions) == AccountProfile.of(pairs)


def test_a_campaign_and_a_bot_burst_are_told_apart_by_comments_per_account() -> None:
    campaign = [SimpleNamespace(author=f"u{i}", signature=i % 3) for i in range(300)]
    bots = [SimpleNamespace(author=f"b{i % 4}", signature=i % 3) for i in range(300)]
    assert AccountProfile.of_mentions(campaign).benign_reason() is None
    assert AccountProfile.of_mentions(campaign).campaign
    assert AccountProfile.of_mentions(bots).benign_reason() == "bot_burst"

"""Who is behind a surge of negative comments: a crowd, a campaign, bots or one person.

A firestorm is many different people turning negative. When the tests alarm on a key,
this looks at the accounts and texts of its recent negative comments:

- **campaign**: many near-identical texts from many different accounts (about one
  comment each). That is what the Greenpeace campaign on Nestlé's page looked like:
  thousands of real people posting the same outrage. It alerts, and says so.
- **bot burst**: near-identical texts from few accounts, each posting many of them.
  Left alone.
- **single account** / **few accounts**: one person, or a handful, writing most of it.
  Left alone: one angry customer is a support case, not a crisis.

The near-duplicate signature (`near_duplicates.text_signature`) ignores order, filler
words, emoji and links, so bots cannot dodge it with small variations; telling a
campaign from bots does not rest on it alone but on how many comments each account
posts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Protocol

BENIGN_REASONS: dict[str, str] = {
    "single_account": "one account writes most of the negative comments",
    "bot_burst": "near-identical comments from a few accounts",
    "few_accounts": "too few different people",
    # Also said of more negatives at the usual volume whose share is not up enough: a
    # swell at a large brand (volume 1x, negatives 2x) read "volume surge".
    "not_negative": "negative share not up enough (a launch, a viral post, a busy day)",
    "small_rise": "too small: under 2-3x normal brand-wide, a post under its brand's normal",
    "past_surge": "the evidence is of minutes ago; the rate is back under twice normal",
    "dismissed_before": "people marked a surge like this a false alarm before",
}
DUPLICATED = 0.5  # fewer distinct texts than this share of comments: copy-paste ...
TEMPLATED = 0.3  # ... if three texts also carry at least this share of them
BOT_COMMENTS_PER_ACCOUNT = 2.0  # more comments per account than this, with copy-paste: bots
COPIED_SHARE = 1.0 / 3.0  # ... or accounts writing more than two each wrote this share of it
_AUTHOR = attrgetter("author")
_SIGNATURE = attrgetter("signature")


class Mention(Protocol):
    """What a profile needs of a negative comment (`key_window.NegativeMention`)."""

    @property
    def author(self) -> str: ...

    @property
    def signature(self) -> int: ...


@dataclass(slots=True, frozen=True)
class AccountProfile:
    """Accounts and texts of a key's recent negative comments."""

    comments: int
    accounts: int
    top_account_share: float
    top3_account_share: float
    distinct_text_share: float  # distinct near-duplicate signatures / comments
    # Comments of the three most common signatures / comments (1.0 when not given: the
    # distinct share alone decides, as before it was counted).
    top3_text_share: float = 1.0
    # Accounts with more than BOT_COMMENTS_PER_ACCOUNT comments, and their comments'
    # share: the core of a surge that a few accounts write (`_few_writing_several`).
    heavy_accounts: int = 0
    heavy_share: float = 0.0

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, int]]) -> AccountProfile:
        """From (account, text signature) pairs.

        >>> p = AccountProfile.of([("a", 1), ("b", 1), ("c", 2), ("a", 4), ("d", 5)])
        >>> p.accounts, p.top_account_share, p.distinct_text_share, p.top3_text_share
        (4, 0.4, 0.8, 0.8)
        """
        pairs = list(pairs)
        return cls.counted(
            len(pairs), Counter(a for a, _ in pairs), Counter(sig for _, sig in pairs)
        )

    @classmethod
    def of_mentions(cls, mentions: Sequence[Mention]) -> AccountProfile:
        """`of` the mentions' (author, signature) pairs, counted in C (`Counter`,
        `attrgetter`): a storm's guard looks at thousands of mentions a minute.

        >>> from types import SimpleNamespace as M
        >>> pairs = [("a", 1), ("b", 1), ("c", 2), ("a", 3)]
        >>> mentions = [M(author=a, signature=s) for a, s in pairs]
        >>> AccountProfile.of_mentions(mentions) == AccountProfile.of(pairs)
        True
        """
        return cls.counted(
            len(mentions), Counter(map(_AUTHOR, mentions)), Counter(map(_SIGNATURE, mentions))
        )

    @classmethod
    def counted(
        cls, n: int, per_account: Counter[str], per_signature: Counter[int]
    ) -> AccountProfile:
        """From `n` comments, their count per account and per signature."""
        top = [count for _, count in per_account.most_common(3)]
        texts = [count for _, count in per_signature.most_common(3)]
        heavy = [count for count in per_account.values() if count > BOT_COMMENTS_PER_ACCOUNT]
        return cls.of_counts(
            n, len(per_account), top, len(per_signature), texts, (len(heavy), sum(heavy))
        )

    @classmethod
    def of_counts(cls, n: int, accounts: int, top: Sequence[int], signatures: int,
                  top_texts: Sequence[int], heavy: tuple[int, int] = (0, 0),
                  ) -> AccountProfile:  # fmt: skip
        """From `n` comments by `accounts` accounts, the `top` (up to three) accounts'
        counts, largest first, the number of distinct signatures, the `top_texts` (up
        to three) signatures' counts, and the accounts with more than
        BOT_COMMENTS_PER_ACCOUNT comments with the comments they wrote (`heavy`)."""
        if n == 0:
            return cls(0, 0, 0.0, 0.0, 1.0, 0.0)
        return cls(
            comments=n,
            accounts=accounts,
            top_account_share=top[0] / n,
            top3_account_share=sum(top) / n,
            distinct_text_share=signatures / n,
            top3_text_share=sum(top_texts) / n,
            heavy_accounts=heavy[0],
            heavy_share=heavy[1] / n,
        )

    @property
    def duplicated(self) -> bool:
        """Copy-paste: few distinct texts, most of them a few templates.

        Distinct texts alone cannot tell: a crowd's words run out. Of hundreds of
        negatives from different people most near-duplicate signatures repeat, yet no
        three of them carry much of the comments; a template, its variations included,
        carries a third or more. As the scenario generator writes them
        (`tests/test_campaign_texts.py`, eight draws of each kind at 500-200,000
        comments a day, profiled at 30 to all of their negatives): organic storms with
        fewer than half their texts distinct had 0.07-0.28 of their comments on their
        three most common signatures, campaigns and bot bursts 0.33-0.87. The cut
        sits between; a bot burst under it is still left alone by the account guards.

        >>> AccountProfile(2000, 1900, 0.001, 0.003, 0.2, 0.15).duplicated  # a crowd
        False
        >>> AccountProfile(2000, 1900, 0.001, 0.003, 0.03, 0.67).duplicated  # a template
        True
        """
        return self.distinct_text_share < DUPLICATED and self.top3_text_share >= TEMPLATED

    @property
    def comments_per_account(self) -> float:
        return self.comments / self.accounts if self.accounts else 0.0

    @property
    def campaign(self) -> bool:
        """Copy-paste from many people, about one comment each."""
        return self.duplicated and self.comments_per_account <= BOT_COMMENTS_PER_ACCOUNT

    def burst_reason(self, *, min_accounts: int = 5) -> str | None:
        """Why the last minutes of a longer surge are a burst of a few accounts, or None.
        Several comments each from fewer than `2 * min_accounts` accounts, at least
        that many comments: copy-paste then is a bot burst, other texts a few people
        (the same cuts as `benign_reason`'s). A crowd, a campaign or a slow swell's
        last minutes have about one comment per person.

        >>> AccountProfile(12, 5, 0.25, 0.67, 0.25, 1.0).burst_reason()  # five bots
        'bot_burst'
        >>> AccountProfile(12, 5, 0.25, 0.67, 0.9, 0.3).burst_reason()  # five people
        'few_accounts'
        >>> AccountProfile(12, 11, 0.17, 0.25, 0.25, 1.0).burst_reason() is None  # a campaign
        True
        >>> AccountProfile(4, 1, 1.0, 1.0, 1.0, 1.0).burst_reason() is None  # too few to say
        True
        """
        if self.comments < 2 * min_accounts or not self._few_writing_several(min_accounts):
            return None
        return "bot_burst" if self.duplicated else "few_accounts"

    def _few_writing_several(self, min_accounts: int) -> bool:
        """Fewer than `2 * min_accounts` accounts writing more than two comments each,
        whether or not a few others comment once beside them: fewer accounts than that
        at more than two comments each on average, or, among more accounts, fewer than
        that writing more than two each and most of the comments between them. A
        bot burst of six accounts on a busy post met four passers-by there: 24
        negatives from ten accounts, 2.4 each, passed for a crowd, though five of the
        accounts had written 18 of them.

        >>> AccountProfile(24, 10, 0.21, 0.5, 0.54, 0.54, 5, 0.75)._few_writing_several(5)
        True
        >>> AccountProfile(60, 40, 0.05, 0.15, 0.9, 0.2, 6, 0.4)._few_writing_several(5)
        False
        """
        if self.accounts < 2 * min_accounts:
            return self.comments_per_account > BOT_COMMENTS_PER_ACCOUNT
        return self._few_heavy_share(min_accounts) > 0.5

    def _copied_by_a_few(self, min_accounts: int) -> bool:
        """Copy-paste of which fewer than `2 * min_accounts` accounts, each writing more
        than two, wrote a third or more: a campaign's people write about one comment
        each. Six bots pasting on three posts, two minutes in: 21 negatives from eleven
        accounts (five passers-by), three bots at more than two each with 48 % of them,
        and 1.9 comments per account read as a campaign.

        >>> AccountProfile(21, 11, 0.19, 0.48, 0.38, 0.76, 3, 0.48)._copied_by_a_few(5)
        True
        >>> AccountProfile(60, 52, 0.03, 0.1, 0.3, 0.8, 2, 0.1)._copied_by_a_few(5)
        False
        """
        return self._few_heavy_share(min_accounts) >= COPIED_SHARE

    def _few_heavy_share(self, min_accounts: int) -> float:
        """The share of the comments that accounts writing more than two each wrote,
        when they are fewer than `2 * min_accounts` (else 0: a crowd has its regulars)."""
        return self.heavy_share if self.heavy_accounts < 2 * min_accounts else 0.0

    def benign_reason(self, *, min_accounts: int = 5) -> str | None:
        """Why the surge is not a firestorm, or None when it is one.

        >>> crowd = AccountProfile(200, 180, 0.01, 0.03, 0.9)
        >>> crowd.benign_reason() is None
        True
        >>> campaign = AccountProfile(900, 850, 0.01, 0.02, 0.05)
        >>> campaign.benign_reason() is None, campaign.campaign
        (True, True)
        >>> AccountProfile(300, 5, 0.3, 0.7, 0.1).benign_reason()
        'bot_burst'
        >>> AccountProfile(30, 3, 0.8, 1.0, 0.9).benign_reason()
        'single_account'
        >>> AccountProfile(14, 6, 0.21, 0.57, 0.9).benign_reason()  # six accounts, reworded
        'few_accounts'
        >>> AccountProfile(24, 10, 0.29, 0.62, 0.54).benign_reason()  # three write most
        'few_accounts'
        """
        if self.duplicated and (
            self.comments_per_account > BOT_COMMENTS_PER_ACCOUNT
            or self._copied_by_a_few(min_accounts)
        ):
            return "bot_burst"
        if self.top_account_share > 0.35:
            return "single_account"
        if self.accounts < min_accounts or self.top3_account_share > 0.5:
            return "few_accounts"  # too few people, or three of them write most of it
        if self._few_writing_several(min_accounts):
            # A handful of accounts writing several comments each, texts varied or not:
            # bots rewording their template, or a few people arguing. A crowd (or a
            # campaign) is about one comment per person.
            return "few_accounts"
        return None

"""A reproach addressed to someone: "Shame on you!", "Schämt euch!".

A campaign's template is written to persuade, so its other words are polite and even
positive: "Liebes X, zahlt euren Beschäftigten endlich faire Löhne! Rekordgewinne,
Hungerlöhne. Schämt euch!" read 0.08, its English twin 0.28, while "Schämt euch!" alone
read 0.59 (independent held-out streams, 2026-12-07: two German campaigns of about
1,900 accounts each opened nothing). Like a protest hashtag, the reproach is the
writer's own verdict on the whole comment (`MultilingualScorer` floors it at
`PROTEST_FLOOR`). Only a reproach said to someone else: not "shame on me", not
"Schämt euch nicht", not "ich schäme mich fremd". Hand-written like `complaints`: no
maintained library reads these.
"""

from __future__ import annotations

import re
from typing import Final

from stormwatch.detectors.language import Tokens

__all__ = ["reproaches"]

_ANCHORS: Final = ("shame", "ashamed", "schäm")
_REPROACH: Final = re.compile(
    r"\bshame on (?!(me|myself|us|ourselves)\b)\w+"
    r"|\b(you|u|y'all|you guys|you all) (should|ought to) be ashamed\b"
    r"|\bhave you no shame\b"
    r"|\bschämt euch\b(?! (nicht|doch nicht)\b)"
    r"|\bschämen sie sich\b(?! (nicht|doch nicht)\b)"
    r"|\bschäm(e)? dich\b(?! (nicht|doch nicht)\b)"
    r"|\b(ihr solltet euch|sie sollten sich|du solltest dich) (\w+ ){0,2}?schämen\b"
)


def reproaches(tokens: Tokens) -> bool:
    """Whether the comment reproaches someone, in English or German.

    >>> reproaches(Tokens("Rekordgewinne, Hungerlöhne. Schämt euch! #FaireLöhne"))
    True
    >>> reproaches(Tokens("shame on me for waiting so long"))
    False
    >>> reproaches(Tokens("Schämt euch nicht, das war super"))
    False
    """
    lower = tokens.lower
    if not any(anchor in lower for anchor in _ANCHORS):
        return False
    return _REPROACH.search(lower.replace("\u2019", "'")) is not None

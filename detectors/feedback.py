"""What people said about past incidents, fed back into detection per brand.

A community manager who marks an incident "false alarm" says: a surge like this one, up
to about the size it reached, is normal for us. The next surge of that brand that looks
like it then pages only once it grows well beyond the peak of the one they dismissed.
"Confirmed" says the opposite and clears that bar, so a kind of storm people care about
keeps its sensitivity.

"Looks like it" is measured on what identifies a kind of surge, not one instance of it:

- **what it is about**: its topics and its distinctive terms, compared with the Dice
  coefficient (two storms of one kind share most of their topics, but their top terms
  are a sample of a large vocabulary and overlap far less, so topics weigh more);
- **where**: the platform, when both sides know it; the same words on another
  platform are less likely the same kind (a platform alone never makes two alike);
- **who and on which post**: the same crowd (accounts) or the same threads is a strong
  sign of the same kind on its own, so either can make two surges alike, but a new
  crowd on a new post (the next release day) does not make them different.

A component that is empty on both sides (two surges without topic tags) says nothing
and is left out; it is never a perfect match. Surges of other brands, and thread storms
against brand-wide surges, are never alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

SIMILAR = 0.5  # similarity from which two surges count as the same kind
# How far beyond a dismissed surge's peak a look-alike must grow to page. The peak of a
# surge is a noisy measurement (its recent rate over a few minutes): the same kind of
# event reaches 0.8x to 1.25x of it from one occurrence to the next.
MARGIN = 1.5
# Weights of the content components in the similarity.
TOPICS_WEIGHT = 3.0
TERMS_WEIGHT = 1.0
OTHER_PLATFORM = 0.6  # content similarity counts this much across platforms


@dataclass(frozen=True, slots=True)
class SurgeSignature:
    """What a surge is about, where and who: enough to recognise its kind again.

    `platform`, `accounts` and `threads` are None when unknown (a verdict loaded without
    them); an unknown component is left out of the comparison.
    """

    brand: str
    thread_level: bool
    topics: frozenset[str]
    terms: frozenset[str]
    platform: str | None = None
    accounts: frozenset[str] | None = None
    threads: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        brand: str,
        *,
        thread_level: bool,
        topics: Iterable[str],
        terms: Iterable[str],
        platform: str | None = None,
        accounts: Iterable[str] | None = None,
        threads: Iterable[str] | None = None,
    ) -> SurgeSignature:
        words: set[str] = set()
        for term in terms:
            words.update(term.lower().split())
        return cls(
            brand,
            thread_level,
            frozenset(topics),
            frozenset(words),
            platform,
            frozenset(accounts) if accounts is not None else None,
            frozenset(threads) if threads is not None else None,
        )

    def similarity(self, other: SurgeSignature) -> float:
        """In [0, 1]: the larger of content similarity and crowd similarity; 0 across
        brands or between a thread and a brand-wide surge.

        >>> a = SurgeSignature.of("b", thread_level=True, topics=["price"], terms=["patch day"])
        >>> b = SurgeSignature.of("b", thread_level=True, topics=["price"], terms=["patch", "lag"])
        >>> round(a.similarity(b), 2)
        0.88
        >>> empty = SurgeSignature.of("b", thread_level=True, topics=[], terms=[])
        >>> empty.similarity(empty)  # nothing known about either: not alike
        0.0
        >>> same_crowd = SurgeSignature.of("b", thread_level=True, topics=["safety"],
        ...                                terms=["recall"], accounts=["u1", "u2", "u3"])
        >>> other_topic = SurgeSignature.of("b", thread_level=True, topics=["price"],
        ...                                 terms=["patch"], accounts=["u1", "u2", "u3", "u4"])
        >>> round(same_crowd.similarity(other_topic), 2)  # the same people, other words
        0.75
        """
        if self.brand != other.brand or self.thread_level != other.thread_level:
            return 0.0
        return max(self._content(other), self._crowd(other))

    def _content(self, other: SurgeSignature) -> float:
        total = weight = 0.0
        for a, b, w in (
            (self.topics, other.topics, TOPICS_WEIGHT),
            (self.terms, other.terms, TERMS_WEIGHT),
        ):
            if a or b:
                total += w * _dice(a, b)
                weight += w
        if weight == 0.0:
            return 0.0  # neither says what it is about
        content = total / weight
        if self.platform is not None and other.platform is not None:
            if self.platform != other.platform:
                content *= OTHER_PLATFORM
        return content

    def _crowd(self, other: SurgeSignature) -> float:
        best = 0.0
        for a, b in ((self.accounts, other.accounts), (self.threads, other.threads)):
            if a and b:
                best = max(best, len(a & b) / len(a | b))
        return best


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2.0 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


@dataclass(slots=True)
class Verdict:
    signature: SurgeSignature
    label: str  # "false_alarm" or "confirmed"
    peak_ratio: float  # how far above the brand's normal the incident peaked


@dataclass(slots=True)
class FeedbackMemory:
    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)

    def record(self, signature: SurgeSignature, label: str, peak_ratio: float) -> None:
        if label not in ("false_alarm", "confirmed"):
            raise ValueError(f"label must be false_alarm or confirmed, got {label!r}")
        verdict = Verdict(signature, label, peak_ratio)
        self.verdicts.setdefault(signature.brand, []).append(verdict)

    def knows(self, brand: str) -> bool:
        return bool(self.verdicts.get(brand))

    def ratio_bar(self, signature: SurgeSignature) -> float:
        """How many times the brand's normal negative rate a surge like `signature` must
        reach before it pages: beyond the peak of the most similar dismissed surge; 0 when
        the most similar verdict is a confirmation, or nothing similar was judged.

        >>> m = FeedbackMemory()
        >>> s = SurgeSignature.of("b", thread_level=True, topics=["price"], terms=["patch"])
        >>> m.record(s, "false_alarm", 14.0)
        >>> round(m.ratio_bar(s), 1)
        21.0
        >>> m.record(s, "confirmed", 20.0)
        >>> m.ratio_bar(s)
        0.0
        """
        best: Verdict | None = None
        best_similarity = SIMILAR
        for verdict in self.verdicts.get(signature.brand, ()):
            similarity = verdict.signature.similarity(signature)
            if similarity >= best_similarity:  # ties: the later verdict wins
                best, best_similarity = verdict, similarity
        if best is None or best.label == "confirmed":
            return 0.0
        return best.peak_ratio * MARGIN

"""What people said about past incidents, fed back into detection per brand.

A community manager who marks an incident "false alarm" says: a surge like this one, up
to the size it reached, is normal for us. The next surge of that brand that looks like it
(same kind of key, same topics, similar distinctive terms) then pages only once it grows
beyond the peak of the one they dismissed. "Confirmed" says the opposite and clears that
bar, so a kind of storm people care about keeps its sensitivity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

SIMILAR = 0.5  # similarity from which two surges count as the same kind
MARGIN = 1.2  # how far beyond a dismissed surge's peak a look-alike must grow to page


@dataclass(frozen=True, slots=True)
class SurgeSignature:
    """What a surge is about, in words: enough to recognise its kind again."""

    brand: str
    thread_level: bool
    topics: frozenset[str]
    terms: frozenset[str]

    @classmethod
    def of(
        cls, brand: str, *, thread_level: bool, topics: Iterable[str], terms: Iterable[str]
    ) -> SurgeSignature:
        words: set[str] = set()
        for term in terms:
            words.update(term.lower().split())
        return cls(brand, thread_level, frozenset(topics), frozenset(words))

    def similarity(self, other: SurgeSignature) -> float:
        """Mean of the Jaccard similarities of topics and of distinctive words; 0 across
        brands or between a thread and a brand-wide surge.

        >>> a = SurgeSignature.of("b", thread_level=True, topics=["price"], terms=["patch day"])
        >>> b = SurgeSignature.of("b", thread_level=True, topics=["price"], terms=["patch", "lag"])
        >>> round(a.similarity(b), 2)
        0.67
        """
        if self.brand != other.brand or self.thread_level != other.thread_level:
            return 0.0
        return (_jaccard(self.topics, other.topics) + _jaccard(self.terms, other.terms)) / 2.0


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 1.0


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
        16.8
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

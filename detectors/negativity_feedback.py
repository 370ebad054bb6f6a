"""Learning from people: a brand's own correction of how negative its comments read.

A community manager marks a comment "negative" or "not negative" (Slack, or `stormwatch
feedback --comment ID --negative/--not-negative`). Each (brand, language) gets an online
river `LogisticRegression` on top of the shipped scorer: its features are the scorer's
own reading as log-odds (weight fixed at 1, no intercept) and the comment's words
(normal forms as the model hashes them; not short or very common ones, so "ist" is never
taught). Untaught words weigh 0, so a correction leaves
every comment without a taught word exactly as the scorer reads it; a taught word (a
brand's jargon: "Killer-Burger", "krass", "sick") moves every comment that uses it.

Each label is learned until the corrected reading is on the person's side of 0.5 with a
margin (at most `MAX_STEPS` SGD steps), so one click is enough to stop a misreading.

>>> corrections = BrandCorrections()
>>> corrections.learn("burgerbude", "de", "Der Killer Burger ist zurück", 0.72, negative=False)
>>> corrections.correct("burgerbude", "de", "Killer Burger heute im Angebot", 0.70) < 0.5
True
>>> corrections.correct("burgerbude", "de", "Nie wieder, ekelhaft", 0.9)
0.9
>>> corrections.correct("other", "de", "Killer Burger", 0.70)
0.7
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Final, Protocol

from stormwatch.detectors.language import Tokens
from stormwatch.detectors.negativity_model import _normal_word

__all__ = ["MAX_STEPS", "BrandCorrection", "BrandCorrections", "Label"]

MAX_STEPS: Final = 50  # SGD steps per label at most
MARGIN: Final = 0.2  # learn until the reading is at most 0.3 / at least 0.7
_BASE: Final = "base"
_EPS: Final = 1e-4


def _logit(p: float) -> float:
    p = _EPS if p < _EPS else 1.0 - _EPS if p > 1.0 - _EPS else p
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# Words too common to be a brand's jargon: a label must not move every comment with "ist".
_COMMON: Final = frozenset(
    """aber alle auch bitte dann dass denn der die das dem den des doch eine einen einem
    einer eines euch eure euer habe haben hier heute ihr ihre immer jetzt kann mehr mein
    meine mich mir mit nach nicht noch nur oder schon sein sich sind über und uns unser
    viel wann warum was weil wenn wer wie wieder wird wir zum zur about after again also
    been being could does from have just like more much only over really should some still
    than that their them then there these they this very want were what when where which
    while will with would your yours""".split()
)


def _words(text: str) -> set[str]:
    """The features a label can teach: normal forms of the words that may be jargon."""
    words = set()
    for word in Tokens(text).words:
        normal = _normal_word(word)
        if len(normal) > 3 and normal not in _COMMON and not normal.startswith(("@", "<")):
            words.add("w|" + normal)
    return words


class BrandCorrection:
    """One brand's and language's correction: river's online logistic regression."""

    def __init__(self, learning_rate: float = 0.5) -> None:
        # Imported with the first label: river.linear_model loads scipy.stats (1.5 s, most
        # of a run's start-up), and most runs are taught nothing.
        from river import linear_model, optim

        self.model = linear_model.LogisticRegression(
            optimizer=optim.SGD(learning_rate), l2=0.0, intercept_lr=0.0
        )
        self._freeze_base()
        self.taught: set[str] = set()  # words with a weight: the only ones that count
        self.labels = 0

    def _freeze_base(self) -> None:
        # The scorer's reading passes through unchanged: its weight stays 1.
        self.model._weights[_BASE] = 1.0

    def correct(self, text: str, negativity: float) -> float:
        words = _words(text) & self.taught
        if not words:
            return negativity
        weights = self.model._weights
        return _sigmoid(_logit(negativity) + sum(weights.get(w, 0.0) for w in words))

    def learn(self, text: str, negativity: float, *, negative: bool) -> None:
        words = _words(text)
        if not words:
            return
        x = {_BASE: _logit(negativity), **dict.fromkeys(words, 1.0)}
        self.taught |= words
        self.labels += 1
        for _ in range(MAX_STEPS):
            p = self.correct(text, negativity)
            if (p >= 0.5 + MARGIN) if negative else (p <= 0.5 - MARGIN):
                break
            self.model.learn_one(x, negative)
            self._freeze_base()


class Label(Protocol):
    """What a stored label offers (`alerts.store.negativity_labels.NegativityLabel`)."""

    brand: str
    text: str
    lang: str | None
    negative: bool


Reading = Callable[[str, str | None], tuple[str | None, float, tuple[str, ...]]]


class BrandCorrections:
    """Corrections per (brand, language), built from people's labels."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str | None], BrandCorrection] = {}
        self.brands: set[str] = set()

    def __len__(self) -> int:
        return len(self._by_key)

    def learn(
        self, brand: str, lang: str | None, text: str, negativity: float, *, negative: bool
    ) -> None:
        """Teach the (brand, lang) correction one label; `negativity` is how the scorer
        reads the text without any correction."""
        key = (brand, lang)
        correction = self._by_key.get(key)
        if correction is None:
            correction = self._by_key[key] = BrandCorrection()
            self.brands.add(brand)
        correction.learn(text, negativity, negative=negative)

    def correct(self, brand: str, lang: str | None, text: str, negativity: float) -> float:
        correction = self._by_key.get((brand, lang))
        return negativity if correction is None else correction.correct(text, negativity)

    def learn_labels(self, labels: Iterable[Label], read: Reading) -> int:
        """Learn stored labels, oldest first, with `read(text, lang_hint) -> (lang,
        negativity, topics)` as the uncorrected reading (`Enricher.enrich` without a
        brand); returns how many it learned."""
        count = 0
        for label in labels:
            lang, negativity, _ = read(label.text, label.lang)
            self.learn(label.brand, lang, label.text, negativity, negative=label.negative)
            count += 1
        return count

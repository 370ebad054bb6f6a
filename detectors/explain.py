"""Why an incident is an incident, in words: the terms that set its comments apart from the
brand's normal talk, and how much of it is copy-paste.

Runs with scikit-learn when an incident opens or escalates, never per comment; imported
then too (it costs more than the rest of start-up together). Always-on processes
(`serve`, Kafka workers) import it on a thread of their own once they have started
(`load_in_background`), so that their first alert does not wait for it.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence

GERMAN_STOP_WORDS = frozenset(
    """aber alle allem allen aller alles als also am an ander andere anderem anderen
    anderer anderes auch auf aus bei bin bis bist da damit dann das dass dein deine dem den
    der des dich die dies diese diesem diesen dieser dieses dir doch dort du durch ein eine
    einem einen einer eines er es etwas euch euer eure für gegen hab habe haben hat hatte
    hier hin ich ihm ihn ihr ihre im in ist ja jede jedem jeden jeder jetzt kann man mein
    meine mich mir mit muss nach noch nun nur ob oder sich sie sind so soll über um und uns
    unser unter vom von vor war waren was weil wenn wer wie wieder wir wird wo zu zum zur
    schon sehr mal nicht kein keine ganz mehr immer einfach heute euch eure euer
    wirklich echt total gerade bitte danke""".split()
)


def load_in_background() -> threading.Thread:
    """Import what explanations need (scikit-learn's text features, 0.5-1 s on this
    small machine) on a daemon thread. A long-running process calls it once it has
    started: start-up stays quick, and the first incident's explanation, which would
    otherwise import it inside the pipeline's step, finds it loaded."""

    def load() -> None:
        import numpy  # noqa: F401
        from sklearn.feature_extraction.text import HashingVectorizer  # noqa: F401

        stop_words()

    thread = threading.Thread(target=load, name="load-explanations", daemon=True)
    thread.start()
    return thread


@functools.cache
def stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | GERMAN_STOP_WORDS)


# Texts whose terms an explanation keeps, per process, and the longest kept: about
# 2 KB of terms for a comment of 100 characters, and at most ~40 MB in all.
ANALYSED_TEXTS = 4096
ANALYSED_CHARS = 500


@functools.cache
def _analyser() -> Callable[[str], list[str]]:
    """Words of three letters or more, no stop words, and their pairs: what
    `distinctive_terms` compares."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        stop_words=stop_words(),
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
    ).build_analyzer()


def _analysed(text: str) -> tuple[str, ...] | list[str]:
    if len(text) > ANALYSED_CHARS:
        return _analyser()(text)
    return _analysed_short(text)


@functools.lru_cache(maxsize=ANALYSED_TEXTS)
def _analysed_short(text: str) -> tuple[str, ...]:
    return tuple(_analyser()(text))


MAX_TERMS = 20_000  # the vocabulary an explanation compares, at most (most frequent first)
TIE_DECIMALS = 9


def distinctive_terms(
    incident_texts: Sequence[str], normal_texts: Sequence[str], *, top: int = 8
) -> list[str]:
    """Terms (words and word pairs) far more prominent in the incident than in normal talk.

    >>> storm = ["they deleted my comment, censorship", "stop the censorship now",
    ...          "censorship and deleted posts again", "boycott, deleted comments"]
    >>> normal = ["love the new flavour", "where can I buy it", "great coffee today",
    ...           "my order arrived late"]
    >>> distinctive_terms(storm, normal, top=2)
    ['censorship', 'deleted']

    Each text's TF-IDF vector (scikit-learn's `TfidfVectorizer` with `sublinear_tf`,
    smooth idf and l2 rows; terms in at least two texts once the incident has four),
    averaged over the incident's texts and over the normal ones; the terms whose average
    rises most. Written out over the texts' cached analyses (`_analysed`) rather than
    fitted with the vectorizer: every event of an incident is explained, on some ten
    incident texts and a hundred of normal talk, and for that little the vectorizer's
    own work (validation, sparse matrices, a sorted vocabulary) took 5 ms a call against
    2 ms for the same arithmetic here (at 500 brands, 531 events). The result is the
    vectorizer's, term for term (`tests/test_explain.py` compares them), up to
    `MAX_TERMS` terms (past it the vectorizer breaks ties in frequency its own way);
    rises equal to `TIE_DECIMALS` rank alphabetically.
    """
    if not incident_texts:
        return []
    n = len(incident_texts)
    docs = [Counter(_analysed(t)) for t in incident_texts]
    docs += [Counter(_analysed(t)) for t in normal_texts]
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    if n >= 4:  # a term of a single text says nothing of a storm's talk
        df = Counter({t: d for t, d in df.items() if d >= 2})
    if not df:
        return []
    if len(df) > MAX_TERMS:
        frequency: Counter[str] = Counter()
        for doc in docs:
            frequency.update(doc)
        df = Counter({t: df[t] for t in sorted(df, key=lambda t: -frequency[t])[:MAX_TERMS]})
    log = math.log
    smoothed = len(docs) + 1.0
    idf = {t: log(smoothed / (d + 1.0)) + 1.0 for t, d in df.items()}
    incident: dict[str, float] = {}
    normal: dict[str, float] = {}
    for i, doc in enumerate(docs):
        weights = [(t, (1.0 + log(k)) * idf[t]) for t, k in doc.items() if t in idf]
        if not weights:
            continue
        norm = math.sqrt(sum(w * w for _, w in weights))
        sums = incident if i < n else normal
        for t, w in weights:
            sums[t] = sums.get(t, 0.0) + w / norm
    n_normal = len(normal_texts)
    # Rises equal to nine decimals are ties, ranked alphabetically: terms of the same
    # texts rise alike, and which of them rounding put first was noise.
    lift = {
        t: round(s / n - (normal.get(t, 0.0) / n_normal if n_normal else 0.0), TIE_DECIMALS)
        for t, s in incident.items()
    }
    chosen: list[str] = []
    for term in sorted(lift, key=lambda t: (-lift[t], t)):
        if lift[term] <= 0 or len(chosen) >= top:
            break
        # A term that overlaps one listed adds little: a pair one of whose words is
        # listed, a word a listed pair holds. Skipping only pairs of two listed words,
        # a campaign's terms read "acme, acme lied, lied, lied recall" and "recall" and
        # "shame" had no room.
        if _overlaps(term, chosen):
            continue
        chosen.append(term)
    return chosen


def _overlaps(term: str, chosen: Sequence[str]) -> bool:
    """Whether `term` shares a word with a term in `chosen`.

    >>> _overlaps("acme lied", ["acme"]), _overlaps("lied", ["acme lied"])
    (True, True)
    >>> _overlaps("recall", ["acme", "lied"])
    False
    """
    words = set(term.split())
    return any(words & set(c.split()) for c in chosen)


def near_duplicate_share(texts: Sequence[str], *, threshold: float = 0.9) -> float:
    """Share of texts that have a near-identical twin (cosine of character n-grams).

    >>> near_duplicate_share(["Boycott now!!! #1", "Boycott now!!! #2", "I am so angry"])
    0.667
    """
    if len(texts) < 2:
        return 0.0
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer

    sample = list(texts[:400])
    # Each distinct text once (a storm repeats its texts; the n-grams are the cost): a
    # text's copies are twins exactly when its vector's similarity with itself passes.
    copies = Counter(sample)
    distinct = list(copies)
    vectors = HashingVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False
    ).transform(distinct)
    sims = (vectors @ vectors.T).toarray()
    weights = np.fromiter(copies.values(), float, len(distinct))
    repeated = (weights > 1) & (sims.diagonal() >= threshold)
    np.fill_diagonal(sims, 0.0)
    twinned = (sims.max(axis=1) >= threshold) | repeated
    return round(float(weights[twinned].sum() / len(sample)), 3)

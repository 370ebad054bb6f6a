"""Crisis-topic tags ("boycott", "price", ...) from a small EN+DE vocabulary.

Terms are word stems matched at the start of tokens, so one entry covers inflections
and the compounds German builds on it ("boykott" tags "boykottieren", "rückruf" tags
"Rückrufaktion"). The default vocabulary is `data/topics.yaml`; its header documents
the format. Matching is a dictionary lookup on each token's first characters plus a
`startswith` on the rare hits, a few hundred nanoseconds for a typical comment.

>>> tagger = TopicTagger()
>>> tagger.tags("Wir boykottieren euch, bis der Rückruf kommt! #Boykott")
('boycott', 'safety')
>>> TopicTagger({"delivery": ["late parcel", "lieferung"]}).tags("Late parcels again")
('delivery',)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from itertools import compress
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, NamedTuple

import yaml

from stormwatch.detectors.exceptions import VocabularyError
from stormwatch.detectors.language import Tokens

__all__ = ["TopicTagger", "default_vocabulary", "load_vocabulary"]

_KEY_LENGTH: Final = 4  # the first word of a stem term is looked up by this many chars
_MIN_LATER_STEM: Final = 3
_CACHE_LIMIT: Final = 50_000  # distinct tokens remembered per tagger
_WHOLE: Final = "$"
_TOPIC_NAME: Final = re.compile(r"[a-z][a-z0-9_]*\Z")


class _Term(NamedTuple):
    topic: str
    words: tuple[str, ...]
    whole: tuple[bool, ...]  # per word: must match the whole token, not just its start


def _validate(vocabulary: Any, source: str) -> dict[str, tuple[str, ...]]:
    """Check and normalise a vocabulary; `source` names it in error messages."""
    if not isinstance(vocabulary, Mapping):
        raise VocabularyError(
            f"{source}: expected a mapping of topic name to a list of terms, "
            f"got {type(vocabulary).__name__}"
        )
    if not vocabulary:
        raise VocabularyError(f"{source}: the vocabulary has no topics")
    checked: dict[str, tuple[str, ...]] = {}
    for topic, terms in vocabulary.items():
        if not isinstance(topic, str) or not _TOPIC_NAME.match(topic):
            raise VocabularyError(
                f"{source}: topic name {topic!r} must be lowercase letters, digits and _, "
                "starting with a letter (e.g. data_privacy)"
            )
        if isinstance(terms, str) or not isinstance(terms, Iterable):
            raise VocabularyError(
                f"{source}: topic {topic!r}: expected a list of terms, got {terms!r}"
            )
        normalised: list[str] = []
        for n, term in enumerate(terms, start=1):
            where = f"{source}: topic {topic!r}, term {n}"
            if not isinstance(term, str):
                raise VocabularyError(f"{where}: expected a string, got {term!r}")
            words = term.lower().split()
            if not words:
                raise VocabularyError(f"{where}: the term is empty")
            for position, word in enumerate(words):
                stem = word.removesuffix(_WHOLE)
                if not stem or _WHOLE in stem:
                    raise VocabularyError(f"{where}: {word!r}: '$' only ends a word")
                if word.endswith(_WHOLE):
                    continue
                shortest = _KEY_LENGTH if position == 0 else _MIN_LATER_STEM
                if len(stem) < shortest:
                    raise VocabularyError(
                        f"{where}: stem {word!r} is shorter than {shortest} characters and "
                        f"would match too many words; write it whole as {word + _WHOLE!r}"
                    )
            normalised.append(" ".join(words))
        if not normalised:
            raise VocabularyError(f"{source}: topic {topic!r} has no terms")
        checked[topic] = tuple(dict.fromkeys(normalised))
    return checked


def load_vocabulary(path: str | PathLike[str]) -> dict[str, tuple[str, ...]]:
    """Read and validate a topic vocabulary YAML file (format: see `data/topics.yaml`).

    Raises `VocabularyError` naming the file, topic and term that is wrong; a missing
    file raises the usual `OSError`.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise VocabularyError(f"{path}: not valid YAML: {exc}") from exc
    except RecursionError:  # lists nested thousands deep: PyYAML builds them recursively
        raise VocabularyError(f"{path}: not valid YAML: nested too deep") from None
    return _validate(data, str(path))


@functools.cache
def default_vocabulary() -> Mapping[str, tuple[str, ...]]:
    """The shipped EN+DE crisis vocabulary (`data/topics.yaml`), read once."""
    source = resources.files("stormwatch.detectors") / "data" / "topics.yaml"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:  # pragma: no cover - tested file shipped with us
        raise VocabularyError(f"{source}: not valid YAML: {exc}") from exc
    return MappingProxyType(_validate(data, "stormwatch.detectors/data/topics.yaml"))


class TopicTagger:
    """Tags text with the topics whose terms it contains; terms match word starts."""

    def __init__(self, vocabulary: Mapping[str, Iterable[str]] | None = None) -> None:
        checked = (
            default_vocabulary()
            if vocabulary is None
            else _validate(vocabulary, "topic vocabulary")
        )
        by_key: dict[str, list[_Term]] = {}
        by_word: dict[str, list[_Term]] = {}
        for topic, terms in checked.items():
            for term in terms:
                words = term.split()
                whole = tuple(word.endswith(_WHOLE) for word in words)
                entry = _Term(topic, tuple(w.removesuffix(_WHOLE) for w in words), whole)
                if whole[0]:
                    by_word.setdefault(entry.words[0], []).append(entry)
                else:
                    by_key.setdefault(entry.words[0][:_KEY_LENGTH], []).append(entry)
        self.topics: tuple[str, ...] = tuple(sorted(checked))
        self._by_key = {key: tuple(entries) for key, entries in by_key.items()}
        self._by_word = {word: tuple(entries) for word, entries in by_word.items()}
        # token -> the terms whose first word it matches (mostly ()). Comment streams
        # reuse a small vocabulary, so after warm-up a comment costs one C-level
        # lookup per token; the cache is emptied when it reaches its limit.
        self._starts: dict[str, tuple[_Term, ...]] = {}

    def tags(self, text: str) -> tuple[str, ...]:
        """Sorted, unique topics of `text`."""
        return self.tags_tokens(Tokens(text).words)

    def tags_tokens(self, words: list[str]) -> tuple[str, ...]:
        """Like `tags`, on the lowercase tokens of `Tokens.words`."""
        starts = list(map(self._starts.get, words))
        if starts.count(()) == len(starts):
            return ()
        if None in starts:  # tokens not seen before
            for i, terms in enumerate(starts):
                if terms is None:
                    starts[i] = self._terms_starting(words[i])
        found: set[str] = set()
        n = len(words)
        for i in compress(range(n), starts):
            for topic, stems, whole in starts[i]:
                if topic in found:
                    continue
                if len(stems) > 1:  # the first word matched already
                    if i + len(stems) > n:
                        continue
                    for k in range(1, len(stems)):
                        token = words[i + k]
                        if not (token == stems[k] if whole[k] else token.startswith(stems[k])):
                            break
                    else:
                        found.add(topic)
                else:
                    found.add(topic)
        return tuple(sorted(found))

    def _terms_starting(self, word: str) -> tuple[_Term, ...]:
        """The terms whose first word matches `word`, remembered for next time."""
        terms = tuple(
            term
            for term in (*self._by_key.get(word[:_KEY_LENGTH], ()), *self._by_word.get(word, ()))
            if (word == term.words[0] if term.whole[0] else word.startswith(term.words[0]))
        )
        if len(self._starts) >= _CACHE_LIMIT:
            self._starts.clear()
        self._starts[word] = terms
        return terms

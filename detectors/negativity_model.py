"""A trained negativity model: hashed word and character n-grams plus the lexicon's score,
one logistic regression per language, calibrated to a probability.

The shipped file (``data/negativity_model.npz``, float16 weights) is about a megabyte and
loads without network; ``stormwatch negativity train`` rebuilds it from labelled JSONL
(``data/NEGATIVITY_MODEL.md`` records the data it was built from).

Features of a comment, from its `Tokens.words` (lowercased, VADER-stripped):

- ``w|word`` for each word and ``c|ngram`` for each character 2- to 6-gram of ``<word>``,
- ``b|first second`` for each pair of neighbouring words,

each hashed (CRC-32) into ``2**bits`` buckets with the value ``1/sqrt(n)`` (n: the
comment's number of hashed features), plus two lexicon features: the negative and the
positive part of the lexicon scorer's compound score. The decision is therefore a plain
sum: the hot path never builds a sparse matrix, and each distinct word's summed weight is
computed once and cached.

>>> import numpy as np
>>> weights = np.zeros(1 << 4, dtype=np.float32)
>>> model = LanguageModel(weights, lexicon_negative=4.0, lexicon_positive=-2.0,
...     intercept=-1.0, platt_scale=1.0, platt_shift=0.0, threshold=0.4)
>>> reader = HashedScorer(model)
>>> round(reader.probability(["so", "bad"], compound=-0.5), 3)
0.731
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np

from stormwatch.detectors.exceptions import DetectorError

__all__ = [
    "HashedScorer",
    "LanguageModel",
    "ModelFile",
    "default_model_path",
    "fit_language_model",
    "load_model",
    "save_model",
    "text_features",
]

CHAR_MIN: Final = 2
CHAR_MAX: Final = 6
DEFAULT_BITS: Final = 18


def _normal_word(word: str) -> str:
    """Links carry no sentiment of their own; a hashtag reads as its word. A mention
    reads as its handle of three letters or more, as the shipped model was trained
    (`Tokens` kept only the handle then), and as "@user" when shorter; the lexicons,
    which read the lexical features, skip it (`Tokens.words` keeps its "@")."""
    if word.startswith("@"):
        handle = word[1:]
        return handle if len(handle) > 2 else "@user"
    if word.startswith(("http", "www.")):
        return "<url>"
    if word.startswith("#") and len(word) > 1:
        return word[1:]
    return word


def _word_features(word: str) -> list[str]:
    features = ["w|" + word]
    if word in ("@user", "<url>"):
        return features
    padded = "<" + word + ">"
    size = len(padded)
    for n in range(CHAR_MIN, CHAR_MAX + 1):
        features.extend("c|" + padded[i : i + n] for i in range(size - n + 1))
    return features


def text_features(words: Sequence[str]) -> list[str]:
    """Every hashed feature of a comment's words, repeats included (for training)."""
    normal = [_normal_word(w) for w in words]
    features: list[str] = []
    for word in normal:
        features.extend(_word_features(word))
    features.extend("b|" + a + " " + b for a, b in zip(normal, normal[1:], strict=False))
    return features


@dataclass(frozen=True)
class LanguageModel:
    """One language's weights: hashed features, the two lexicon features, calibration.

    ``probability = 1 / (1 + exp(-(platt_scale * decision + platt_shift)))``; a comment is
    negative at or above `threshold`, chosen on a validation split.
    """

    weights: np.ndarray  # float32, a power of two long
    lexicon_negative: float
    lexicon_positive: float
    intercept: float
    platt_scale: float
    platt_shift: float
    threshold: float


@dataclass(frozen=True)
class ModelFile:
    """The models of a file, by language, and the record of how they were made."""

    models: Mapping[str, LanguageModel]
    meta: Mapping[str, Any] = field(default_factory=dict)


class HashedScorer:
    """Reads a `LanguageModel` on the hot path: probability that a comment is negative."""

    def __init__(self, model: LanguageModel, word_cache_limit: int = 100_000) -> None:
        self.model = model
        self._weights: list[float] = model.weights.astype(np.float64).tolist()
        self._mask = len(self._weights) - 1
        if len(self._weights) & self._mask:
            raise DetectorError("model weights must be a power of two long")
        # Raw word -> (summed weight of its features, their number, its normal form),
        # and neighbouring normal forms -> bigram weight; each emptied at its limit.
        self._words: dict[str, tuple[float, int, str]] = {}
        self._pairs: dict[tuple[str, str], float] = {}
        self._cache_limit = word_cache_limit

    def _word(self, raw: str) -> tuple[float, int, str]:
        weights = self._weights
        mask = self._mask
        word = _normal_word(raw)
        features = _word_features(word)
        total = 0.0
        for feature in features:
            total += weights[zlib.crc32(feature.encode("utf-8", "surrogatepass")) & mask]
        if len(self._words) >= self._cache_limit:
            self._words.clear()
        entry = self._words[raw] = (total, len(features), word)
        return entry

    def _pair(self, pair: tuple[str, str]) -> float:
        key = f"b|{pair[0]} {pair[1]}".encode("utf-8", "surrogatepass")
        weight = self._weights[zlib.crc32(key) & self._mask]
        if len(self._pairs) >= self._cache_limit:
            self._pairs.clear()
        self._pairs[pair] = weight
        return weight

    def decision(self, words: Sequence[str], compound: float) -> float:
        """The linear decision (log-odds before calibration)."""
        known = self._words.get
        known_pair = self._pairs.get
        total = 0.0
        count = 0
        previous = None
        for raw in words:
            entry = known(raw)
            if entry is None:
                entry = self._word(raw)
            total += entry[0]
            count += entry[1]
            word = entry[2]
            if previous is not None:
                pair = (previous, word)
                weight = known_pair(pair)
                total += self._pair(pair) if weight is None else weight
                count += 1
            previous = word
        model = self.model
        hashed = total / math.sqrt(count) if count else 0.0
        lexical = (
            model.lexicon_negative * -compound
            if compound < 0.0
            else model.lexicon_positive * compound
        )
        return hashed + lexical + model.intercept

    def probability(self, words: Sequence[str], compound: float) -> float:
        model = self.model
        z = model.platt_scale * self.decision(words, compound) + model.platt_shift
        if z < -35.0:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


# ----------------------------------------------------------------------------- training


def design_matrix(word_lists: Iterable[Sequence[str]], compounds: Sequence[float], bits: int):
    """The training matrix (scipy CSR): hashed features, then the two lexicon columns."""
    from scipy import sparse

    mask = (1 << bits) - 1
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for words in word_lists:
        features = text_features(words)
        value = 1.0 / math.sqrt(len(features)) if features else 0.0
        row: dict[int, float] = {}
        for feature in features:
            h = zlib.crc32(feature.encode("utf-8", "surrogatepass")) & mask
            row[h] = row.get(h, 0.0) + value
        indices.extend(row)
        values.extend(row.values())
        indptr.append(len(indices))
    hashed = sparse.csr_matrix(
        (np.asarray(values, dtype=float), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
        shape=(len(indptr) - 1, 1 << bits),
    )
    compound = np.asarray(compounds, dtype=float)
    lexicon = np.column_stack([np.maximum(0.0, -compound), np.maximum(0.0, compound)])
    return sparse.hstack([hashed, sparse.csr_matrix(lexicon)], format="csr")


def fit_language_model(
    word_lists: Sequence[Sequence[str]],
    compounds: Sequence[float],
    negative: Sequence[bool],
    *,
    bits: int = DEFAULT_BITS,
    c: float = 4.0,
    seed: int = 0,
) -> LanguageModel:
    """Logistic regression on the training rows, Platt-calibrated on their 5-fold
    out-of-fold decisions, so no validation row is spent on calibration. The threshold
    is left at 0.5 for the caller to choose on a validation split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.asarray(negative, dtype=int)
    if y.min(initial=1) == y.max(initial=0):
        raise DetectorError("training data needs both negative and other comments")
    x = design_matrix(word_lists, compounds, bits)
    base = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=seed)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    out_of_fold = cross_val_predict(base, x, y, cv=folds, method="decision_function")
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(out_of_fold.reshape(-1, 1), y)
    base.fit(x, y)
    coef = base.coef_.ravel()
    size = 1 << bits
    return LanguageModel(
        # float16 on disk: round now, so what is measured is what ships.
        weights=coef[:size].astype(np.float16).astype(np.float32),
        lexicon_negative=float(coef[size]),
        lexicon_positive=float(coef[size + 1]),
        intercept=float(base.intercept_[0]),
        platt_scale=float(platt.coef_[0, 0]),
        platt_shift=float(platt.intercept_[0]),
        threshold=0.5,
    )


# ----------------------------------------------------------------------------- files

_SCALARS: Final = (
    "lexicon_negative",
    "lexicon_positive",
    "intercept",
    "platt_scale",
    "platt_shift",
    "threshold",
)


def default_model_path() -> Path:
    """The model shipped inside the package."""
    return Path(str(resources.files("stormwatch.detectors") / "data" / "negativity_model.npz"))


def save_model(model_file: ModelFile, path: Path) -> None:
    arrays: dict[str, np.ndarray] = {}
    for lang, m in model_file.models.items():
        arrays[f"{lang}_weights"] = m.weights.astype(np.float16)
        arrays[f"{lang}_scalars"] = np.asarray([getattr(m, name) for name in _SCALARS])
    meta = json.dumps(dict(model_file.meta), sort_keys=True).encode("utf-8")
    arrays["meta"] = np.frombuffer(meta, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_model(path: Path | None = None) -> ModelFile:
    """Read a model file (the shipped one by default); no pickles, no network."""
    path = default_model_path() if path is None else path
    try:
        with np.load(path, allow_pickle=False) as data:
            models = {}
            for key in data.files:
                if not key.endswith("_weights"):
                    continue
                lang = key[: -len("_weights")]
                scalars = data[f"{lang}_scalars"].tolist()
                models[lang] = LanguageModel(
                    data[key].astype(np.float32), **dict(zip(_SCALARS, scalars, strict=True))
                )
            meta = json.loads(data["meta"].tobytes().decode("utf-8")) if "meta" in data else {}
    except OSError as exc:
        raise DetectorError(f"cannot read the negativity model {path}: {exc}") from exc
    except (KeyError, ValueError, EOFError) as exc:
        # numpy's own message for a file that is no .npz ends "you can load it unsafely
        # using allow_pickle=": advice nobody should take for a file from elsewhere.
        raise DetectorError(
            f"{path} is not a stormwatch negativity model (a .npz written by "
            f"`stormwatch negativity train`): {type(exc).__name__}"
        ) from None
    if not models:
        raise DetectorError(
            f"{path} is not a stormwatch negativity model: it holds no language's weights"
        )
    return ModelFile(models, meta)

"""Labelled comments, the measure of "negative", and retraining the negativity model.

A labelled file is JSONL, one comment a line: ``text``, ``label`` (negative, neutral or
positive) and optionally ``lang``; without ``lang`` the language is detected.

>>> rows = [LabelledComment("awful", "negative", "en"), LabelledComment("fine", "neutral", "en"),
...         LabelledComment("bad", "neutral", "en")]
>>> scores = negative_scores(rows, [True, False, True])
>>> scores["en"].precision, scores["en"].recall, scores["en"].f1
(0.5, 1.0, 0.667)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np
import orjson

from stormwatch.detectors.exceptions import DetectorError
from stormwatch.detectors.language import OTHER, Tokens, classify_tokens
from stormwatch.detectors.negativity import lexicon_scorers
from stormwatch.detectors.negativity_model import (
    DEFAULT_BITS,
    LanguageModel,
    ModelFile,
    fit_language_model,
)
from stormwatch.detectors.negativity_model_scorer import ModelReading, ModelScorer

__all__ = [
    "LABELS",
    "LabelledComment",
    "NegativeScore",
    "choose_threshold",
    "negative_scores",
    "read_labelled",
    "train_models",
]

LABELS: Final = frozenset({"negative", "neutral", "positive"})
ALL: Final = "all"
UNKNOWN: Final = "unknown"


@dataclass(frozen=True, slots=True)
class LabelledComment:
    text: str
    label: str
    lang: str | None = None

    @property
    def negative(self) -> bool:
        return self.label == "negative"


def read_labelled(
    lines: Iterable[bytes | str], *, source: str = "input"
) -> Iterator[LabelledComment]:
    """Parse labelled JSONL; a malformed line is an error naming its line number."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            text, label = record["text"], record["label"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise DetectorError(f"{source}:{number}: not a labelled comment ({exc})") from None
        if not isinstance(text, str) or not isinstance(label, str) or label not in LABELS:
            raise DetectorError(
                f"{source}:{number}: needs a string text and a label in {sorted(LABELS)}"
            )
        lang = record.get("lang")
        lang = lang.strip()[:2].lower() if isinstance(lang, str) and lang.strip() else None
        yield LabelledComment(text, label, lang)


def read_labelled_file(path: Path) -> list[LabelledComment]:
    with open(path, "rb") as f:
        return list(read_labelled(f, source=str(path)))


def language_of(comment: LabelledComment) -> str:
    """The given language, else the detected one, else "unknown"."""
    if comment.lang:
        return comment.lang
    lang = classify_tokens(Tokens(comment.text))
    return lang if lang is not None and lang is not OTHER else UNKNOWN


@dataclass(frozen=True, slots=True)
class NegativeScore:
    """Precision, recall and F1 of the class "negative" (rounded to three places)."""

    comments: int
    negatives: int
    flagged: int
    true_positives: int
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, truth: Sequence[bool], flagged: Sequence[bool]) -> NegativeScore:
        tp = sum(1 for t, f in zip(truth, flagged, strict=True) if t and f)
        n_flagged = sum(flagged)
        negatives = sum(truth)
        precision = tp / n_flagged if n_flagged else 0.0
        recall = tp / negatives if negatives else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(
            len(truth),
            negatives,
            n_flagged,
            tp,
            round(precision, 3),
            round(recall, 3),
            round(f1, 3),
        )

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def negative_scores(
    comments: Sequence[LabelledComment], flagged: Sequence[bool]
) -> dict[str, NegativeScore]:
    """Scores per language (given or detected) and over all comments ("all")."""
    groups: dict[str, tuple[list[bool], list[bool]]] = {}
    for comment, flag in zip(comments, flagged, strict=True):
        truth, pred = groups.setdefault(language_of(comment), ([], []))
        truth.append(comment.negative)
        pred.append(flag)
    out = {lang: NegativeScore.of(*groups[lang]) for lang in sorted(groups)}
    out[ALL] = NegativeScore.of([c.negative for c in comments], list(flagged))
    return out


Readings = np.ndarray | Sequence[ModelReading]
"""A set of comments as the model reads them: plain probabilities (negative when at or
above the threshold) or `ModelReading`s (negative when `ModelScorer` would say so)."""


def _negative_at(readings: Readings, threshold: float) -> np.ndarray:
    if isinstance(readings, np.ndarray):
        return readings >= threshold
    return np.asarray([r.negativity(threshold) >= 0.5 for r in readings], dtype=bool)


def _f1(flagged: np.ndarray, truth: np.ndarray) -> float:
    tp = float(np.sum(flagged & truth))
    denominator = float(np.sum(flagged) + np.sum(truth))
    return 2.0 * tp / denominator if denominator else 0.0


def choose_threshold(
    validation: Sequence[tuple[Readings, np.ndarray]],
    grid: Sequence[float] | None = None,
    *,
    plain: Readings = (),
    max_plain_flagged: float = 1.0,
) -> tuple[float, float]:
    """The threshold with the best mean F1 over the validation sets (each set counts the
    same, whatever its size) among those that read at most `max_plain_flagged` of the
    `plain` comments (a brand's ordinary, non-negative stream) as negative; when none
    does, the one that reads the fewest. Returns (threshold, that mean F1).

    The validation sets are a quarter to a third negative, a brand's stream a few per
    cent: the best threshold on them alone reads many plain comments as negative."""
    if not validation:
        raise DetectorError("choosing a threshold needs validation data")
    grid = [round(t, 2) for t in np.arange(0.05, 0.951, 0.01)] if grid is None else grid
    candidates = []
    for threshold in grid:
        mean = float(np.mean([_f1(_negative_at(r, threshold), y) for r, y in validation]))
        share = float(np.mean(_negative_at(plain, threshold))) if len(plain) else 0.0
        over = share - max_plain_flagged if share > max_plain_flagged else 0.0
        candidates.append((over, -mean, threshold))
    _, negative_mean, threshold = min(candidates)
    return float(threshold), -negative_mean


def _readings_of_texts(scorer: ModelScorer, texts: Sequence[str]) -> list[ModelReading]:
    """Each text read once (plain streams repeat texts), in the order given."""
    distinct: dict[str, ModelReading] = {}
    readings = []
    for text in texts:
        reading = distinct.get(text)
        if reading is None:
            reading = distinct[text] = scorer.reading(Tokens(text))
        readings.append(reading)
    return readings


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train_models(
    train: Sequence[Path],
    validation: Sequence[Path],
    *,
    bits: int = DEFAULT_BITS,
    c: float = 2.0,
    seed: int = 0,
    plain: Sequence[Path] = (),
    max_plain_flagged: float = 1.0,
) -> ModelFile:
    """One model per language found in `train` (rows' ``lang``, else detected); each
    language's threshold is chosen on the `validation` files of that language, bounded by
    the share of that language's `plain` comments (labels ignored) read as negative."""
    lexicons = lexicon_scorers()
    by_lang: dict[str, list[LabelledComment]] = {}
    for path in train:
        for comment in read_labelled_file(path):
            lang = language_of(comment)
            if lang in lexicons:
                by_lang.setdefault(lang, []).append(comment)
    if not by_lang:
        raise DetectorError(
            f"no training comment in a language with a lexicon ({sorted(lexicons)})"
        )
    validation_sets: dict[str, list[tuple[str, list[LabelledComment]]]] = {}
    for path in validation:
        per_file: dict[str, list[LabelledComment]] = {}
        for comment in read_labelled_file(path):
            per_file.setdefault(language_of(comment), []).append(comment)
        for lang, comments in per_file.items():
            validation_sets.setdefault(lang, []).append((path.name, comments))
    unchosen = sorted(set(by_lang) - set(validation_sets))
    if unchosen:  # its threshold would be 0.5 with a validation F1 of NaN: nobody chose it
        raise DetectorError(
            f"no validation comment in {', '.join(unchosen)}: a language's threshold is "
            "chosen on its validation comments"
        )
    plain_sets: dict[str, list[str]] = {}
    for path in plain:
        for comment in read_labelled_file(path):
            plain_sets.setdefault(language_of(comment), []).append(comment.text)

    models: dict[str, LanguageModel] = {}
    record: dict[str, object] = {}
    for lang, comments in sorted(by_lang.items()):
        lexicon = lexicons[lang]
        tokens = [Tokens(c.text) for c in comments]
        model = fit_language_model(
            [t.words for t in tokens],
            [lexicon.compound_tokens(t) for t in tokens],
            [c.negative for c in comments],
            bits=bits,
            c=c,
            seed=seed,
        )
        scorer = ModelScorer(lexicon, model, lang)
        measured = [
            ([scorer.reading(Tokens(r.text)) for r in rows], np.asarray([r.negative for r in rows]))
            for _, rows in validation_sets.get(lang, [])
        ]
        plain_readings = _readings_of_texts(scorer, plain_sets.get(lang, []))
        threshold, mean_f1 = choose_threshold(
            measured, plain=plain_readings, max_plain_flagged=max_plain_flagged
        )
        plain_flagged = (
            float(np.mean(_negative_at(plain_readings, threshold))) if plain_readings else None
        )
        models[lang] = replace(model, threshold=threshold)
        record[lang] = {
            "train_comments": len(comments),
            "train_negatives": sum(c.negative for c in comments),
            "validation_files": [name for name, _ in validation_sets.get(lang, [])],
            "threshold": threshold,
            "validation_mean_f1": round(mean_f1, 4),
            "plain_comments": len(plain_readings),
            "plain_flagged": None if plain_flagged is None else round(plain_flagged, 4),
        }
    meta = {
        "features": "hashed words, word bigrams and character 2-6-grams (CRC-32) + lexicon",
        "bits": bits,
        "C": c,
        "seed": seed,
        "train": {p.name: _sha256(p) for p in train},
        "validation": {p.name: _sha256(p) for p in validation},
        "plain": {p.name: _sha256(p) for p in plain},
        "max_plain_flagged": max_plain_flagged,
        "languages": record,
    }
    return ModelFile(models, meta)


def as_json(scores: Mapping[str, NegativeScore]) -> bytes:
    return orjson.dumps(
        {lang: s.as_dict() for lang, s in scores.items()}, option=orjson.OPT_INDENT_2
    )

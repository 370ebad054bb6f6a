"""`stormwatch score`, `stormwatch evaluate negativity` and `stormwatch negativity train`:
how comments read, how well "negative" is measured, and retraining the model.

Plain typer command functions, registered by the main CLI (`stormwatch.cli`); the scorer
is built from the settings' backends (`negativity.build_scorer`) when a command runs.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from stormwatch.command_arguments import ConfigFile, command_settings, err, fail
from stormwatch.config import Settings
from stormwatch.exceptions import StormwatchError
from stormwatch.ingest.file_source import UTF8_BOM

__all__ = ["evaluate_negativity", "negativity_train", "score"]


def _negativity_scorer(settings: Settings):  # type: ignore[no-untyped-def]
    from stormwatch.detectors.negativity import build_scorer

    model = Path(settings.negativity_model) if settings.negativity_model else None
    try:
        return build_scorer({"en": settings.negativity_en, "de": settings.negativity_de}, model)
    except StormwatchError as exc:
        raise fail(exc, 2) from None


def _input_lines(input: str):  # type: ignore[no-untyped-def]
    if input == "-":
        return sys.stdin.buffer
    try:
        return open(input, "rb")  # noqa: SIM115 - closed by the caller's with
    except OSError as exc:
        raise fail(exc, 2) from None


def score(
    input: Annotated[str, typer.Argument(help="JSONL file of comments, or - for stdin.")],
    config: ConfigFile = None,
) -> None:
    """Print how each comment is read: JSONL of id, lang, negativity, negative, topics."""
    from stormwatch.detectors.enrich import Enricher
    from stormwatch.detectors.topics import TopicTagger, load_vocabulary

    settings = command_settings(config)
    tagger = TopicTagger(load_vocabulary(settings.topics_file)) if settings.topics_file else None
    enricher = Enricher(_negativity_scorer(settings), tagger)
    threshold = settings.negative_threshold
    out = sys.stdout.buffer
    skipped = 0
    with _input_lines(input) as lines:
        for number, line in enumerate(lines, 1):
            if number == 1:
                line = line.removeprefix(UTF8_BOM)
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
                text = record["text"]
                lang = record.get("lang")
                if not isinstance(text, str):
                    raise TypeError("text is not a string")
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                err.print(
                    f"line {number}: skipped ({exc})", soft_wrap=True, markup=False, highlight=False
                )
                skipped += 1
                continue
            lang, negativity, topics = enricher.enrich(
                text, lang if isinstance(lang, str) else None
            )
            result = {
                "id": record.get("id"),
                "lang": lang,
                "negativity": round(negativity, 4),
                "negative": negativity >= threshold,
                "topics": list(topics),
            }
            out.write(orjson.dumps(result) + b"\n")
    out.flush()
    if skipped:
        raise typer.Exit(1)


def evaluate_negativity(
    input: Annotated[str, typer.Argument(help="Labelled JSONL (text, label, lang?), or -.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    config: ConfigFile = None,
) -> None:
    """Precision, recall and F1 of "negative" on labelled comments, per language."""
    from stormwatch.detectors.negativity_training import as_json as scores_json
    from stormwatch.detectors.negativity_training import negative_scores, read_labelled

    settings = command_settings(config)
    scorer = _negativity_scorer(settings)
    try:
        with _input_lines(input) as lines:
            comments = list(read_labelled(lines, source=input))
    except StormwatchError as exc:
        raise fail(exc, 2) from None
    if not comments:  # figures of nothing read 0.000, as if the scorer were that bad
        raise fail(f"{input}: no labelled comment to evaluate", 2)
    threshold = settings.negative_threshold
    flagged = [scorer.score(c.text, c.lang) >= threshold for c in comments]
    scores = negative_scores(comments, flagged)
    if as_json:
        sys.stdout.buffer.write(scores_json(scores) + b"\n")
        return
    table = Table(title=f"negative at negativity >= {threshold}")
    for column in ("language", "comments", "negatives", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "language" else "right")
    for lang, s in scores.items():
        table.add_row(
            lang,
            str(s.comments),
            str(s.negatives),
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
        )
    Console().print(table)


def _positive(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"{value} is not a number above 0")
    return value


def negativity_train(
    train: Annotated[
        list[Path], typer.Option("--train", help="Labelled JSONL for training (repeatable).")
    ],
    validation: Annotated[
        list[Path],
        typer.Option("--validation", help="Labelled JSONL that chooses the thresholds."),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Model file (default: the shipped one).")
    ] = None,
    bits: Annotated[
        int, typer.Option(min=8, max=24, help="log2 of the number of hashed features.")
    ] = 18,
    c: Annotated[
        float,
        typer.Option("--c", help="Inverse regularisation strength (above 0).", callback=_positive),
    ] = 2.0,
    seed: Annotated[int, typer.Option(help="Seed of the cross-validation folds.")] = 0,
    plain: Annotated[
        list[Path] | None,
        typer.Option(
            "--plain", help="JSONL of a brand's ordinary comments (labels ignored; repeatable)."
        ),
    ] = None,
    max_plain_flagged: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="At most this share of the --plain comments reads negative."
        ),
    ] = 0.01,
) -> None:
    """Retrain the negativity model, one per language, thresholds from validation.

    Each threshold is the best mean validation F1 that reads at most
    --max-plain-flagged of the --plain comments as negative."""
    from stormwatch.detectors.negativity_model import default_model_path, save_model
    from stormwatch.detectors.negativity_training import train_models

    if out is not None and (out.is_dir() or str(out) == "-"):  # before minutes of training
        raise fail(f"--out {out} is not a file name: give the model file to write")
    try:
        model_file = train_models(
            train,
            validation,
            bits=bits,
            c=c,
            seed=seed,
            plain=plain or [],
            max_plain_flagged=max_plain_flagged if plain else 1.0,
        )
    except (StormwatchError, OSError) as exc:
        raise fail(exc, 2) from None
    path = out if out is not None else default_model_path()
    try:
        save_model(model_file, path)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}", 1) from None
    console = Console()
    for lang, record in model_file.meta["languages"].items():
        flagged = record["plain_flagged"]
        console.print(
            f"{lang}: {record['train_comments']} comments, threshold {record['threshold']:.2f}, "
            f"validation F1 {record['validation_mean_f1']:.3f}"
            + ("" if flagged is None else f", plain comments read negative {flagged:.1%}")
        )
    console.print(f"wrote {path}", markup=False)

"""Where the two negativity backends read the same comments differently: the comments
of the throughput benchmark's stream (`throughput.py`'s `workload`), each enriched as the
pipeline does (its `lang` field, else detected) with the lexicon and with the model,
"negative" at the default `negative_threshold`. Per language: how many comments, how
many each backend reads as negative, how many of the lexicon's non-negative ones the
model flags (and how many of those the lexicon reads as 0: no negative word at all), how
many of the lexicon's negative ones it passes; then the texts on which they disagree
most often, with both scores.

The generator's comments are not real ones: this says how the backends differ on the
stream the benchmarks use, not which one is right (the test splits in the README do).

    python benchmarks/negativity_disagreement.py [--comments 200000] [--examples 3]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console

from stormwatch.config import Settings
from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.negativity import build_scorer
from stormwatch.evaluation.scenario import generate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import workload  # noqa: E402  (the same stream as the pipeline benchmark)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--examples", type=int, default=3, help="texts shown per direction")
    args = parser.parse_args()
    comments = generate(workload(args.comments)).comments[: args.comments]
    threshold = Settings().negative_threshold
    lexicon = Enricher(build_scorer({"en": "lexicon", "de": "lexicon"})).enrich
    model = Enricher(build_scorer({"en": "model", "de": "model"})).enrich

    counts: Counter[tuple[str, str]] = Counter()  # (lang, what) -> comments
    flagged: Counter[tuple[str, str]] = Counter()  # model only: (lang, text) -> comments
    passed: Counter[tuple[str, str]] = Counter()  # lexicon only
    scores: dict[tuple[str, str], tuple[float, float]] = {}
    for c in comments:
        text = c["text"]
        lang, by_lexicon, _ = lexicon(text, c.get("lang"))
        _, by_model, _ = model(text, c.get("lang"))
        name = lang or "other"
        lex_neg, model_neg = by_lexicon >= threshold, by_model >= threshold
        counts[name, "comments"] += 1
        counts[name, "lexicon negative"] += lex_neg
        counts[name, "model negative"] += model_neg
        if model_neg and not lex_neg:
            flagged[name, text] += 1
        elif lex_neg and not model_neg:
            passed[name, text] += 1
        if model_neg != lex_neg:
            scores[name, text] = (by_lexicon, by_model)

    console = Console()
    console.print(f"{len(comments):,} comments, negative at {threshold}")
    for name in sorted({lang for lang, _ in counts}):
        n = counts[name, "comments"]
        lex_non_negative = n - counts[name, "lexicon negative"]
        only_model = sum(k for (lang, _), k in flagged.items() if lang == name)
        only_lexicon = sum(k for (lang, _), k in passed.items() if lang == name)
        share = only_model / lex_non_negative if lex_non_negative else 0.0
        unseen = sum(
            k for (lang, text), k in flagged.items() if lang == name and scores[lang, text][0] == 0
        )
        console.print(
            f"{name}: {n:,} comments; negative: lexicon {counts[name, 'lexicon negative']:,}, "
            f"model {counts[name, 'model negative']:,}; the model flags {only_model:,} "
            f"({share:.2%}) of the lexicon's {lex_non_negative:,} non-negative ones and "
            f"passes {only_lexicon:,} the lexicon flags; of the model's extra flags, "
            f"{unseen:,} read 0 by the lexicon (no negative word at all)"
        )
    for title, texts in (
        ("the model flags, the lexicon not", flagged),
        ("the lexicon flags, the model not", passed),
    ):
        console.print(f"Most frequent texts {title} (lexicon / model):")
        for (name, text), k in texts.most_common(args.examples):
            by_lexicon, by_model = scores[name, text]
            console.print(f"  {name} x{k}: {text!r} {by_lexicon:.2f} / {by_model:.2f}")


if __name__ == "__main__":
    main()

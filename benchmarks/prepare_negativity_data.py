"""Turn the public human-labelled sentiment sets into the labelled JSONL that
`stormwatch evaluate negativity` and `stormwatch negativity train` read.

Nothing here downloads anything: fetch the public repositories yourself and give the
paths of their files (sources and licences: `detectors/data/NEGATIVITY_MODEL.md`).

    python benchmarks/prepare_negativity_data.py OUT_DIR \\
      --vader  vaderSentiment/additional_resources/hutto_ICWSM_2014.tar.gz \\
      --sb10k  xlm-t/data/sentiment/german \\
      --germeval-dev  SuperGLEBer/data/Germeval/2017/dev.tsv \\
      --germeval-test-syn  modified_GermEval17/data/test_syn-2017-09-15.xml \\
      --germeval-test-dia  modified_GermEval17/data/test_dia-2017-09-15.xml \\
      --potts  GerVADER/additional_resources/inputs/PotTS.tsv \\
      --sb10k-full  GerVADER/additional_resources/inputs/sb10k_corpus_v1.0.cgsa.tsv \\
      --germeval2018  GermEval-2018-Data/germeval2018.training.txt \\
      --goemotions  GoEmotions-pytorch/data/group \\
      --airline  Twitter-Airline-Sentiment/Tweets.csv \\
      --kotzias  "sentiment labelled sentences" \\
      --plain 2000

writes `vader_tweets_{train,val,test}.jsonl`, VADER's review and editorial snippets
`vader_movie_{train,val,test}.jsonl` and `vader_nyt_{train,val,test}.jsonl` and all of its
Amazon snippets as `vader_amazon_test.jsonl` (never split: `evaluate real-volume` takes its
texts from them), `sb10k_{train,val,test}.jsonl`,
`germeval2017_{train,val}.jsonl` (both from the official dev split: GermEval's own training
file is not in any of these repositories), `germeval2017_test_{syn,dia}.jsonl`,
`potts_{train,val}.jsonl`, `sb10k_extra_train.jsonl` (the SB-10k tweets outside XLM-T's
splits), `germeval2018_{offense,other}_train.jsonl` (GermEval 2018's training file, see
`germeval2018`), `goemotions_{train,val,test}.jsonl` (Reddit comments, see `goemotions`),
`airline_{dev,test}.jsonl` (tweets to US airlines, see `airline`; they only measure),
`kotzias_{train,val,test}.jsonl` (review sentences, see `kotzias`)
and `scenario_plain.jsonl` (neutral and positive comments from stormwatch's
scenario generator: not human-labelled, only for bounding how many plain brand comments the
model reads as negative). Each line: `id`, `text`, `label` (negative/neutral/positive), `lang`.
Splits that the sources do not fix are made by the SHA-1 of a stable key, so every run
gives the same files. A PotTS or extra SB-10k tweet whose text (lowercased, letters and
digits only, without links and mentions) is in a validation or test file is left out.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import random
import re
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path

LABELS = ("negative", "neutral", "positive")


def bucket(key: str) -> int:
    """0..99 from the SHA-1 of `key`: the deterministic split."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 100


# VADER's four human-rated sets: file in the archive, and the prefix of ids and outputs.
VADER_SETS = {
    "tweets": "tweets_GroundTruth.txt",
    "movie": "movieReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
}


def vader_rated(archive: Path, name: str) -> Iterator[tuple[str, dict[str, str]]]:
    """One of VADER's rated sets (`VADER_SETS`), each text with the mean of its human
    ratings in [-4, 4]: negative below -0.05, positive above 0.05 (VADER's own cut-offs);
    60/20/20 by the text's id (`vader-<n>` for the tweets, as always; `vader-<name>-<id>`
    for the others)."""
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(VADER_SETS[name]))
        raw = tar.extractfile(member)
        assert raw is not None
        lines = raw.read().decode("utf-8", errors="replace").splitlines()
    for line in lines:
        fields = line.split("\t", 2)
        if len(fields) < 3:
            continue
        number, mean, text = fields
        rating = float(mean)
        label = "negative" if rating < -0.05 else "positive" if rating > 0.05 else "neutral"
        key = f"vader-{number}" if name == "tweets" else f"vader-{name}-{number}"
        b = bucket(key)
        split = "train" if b < 60 else "val" if b < 80 else "test"
        yield split, {"id": key, "text": text.strip(), "label": label, "lang": "en"}


def sb10k(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """SB-10k as XLM-T ships it: `{train,val,test}_text.txt` and `_labels.txt` (0 negative,
    1 neutral, 2 positive); XLM-T's own splits."""
    for split in ("train", "val", "test"):
        texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
        labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").splitlines()
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            yield (
                split,
                {
                    "id": f"sb10k-{split}-{i}",
                    "text": text,
                    "label": LABELS[int(label)],
                    "lang": "de",
                },
            )


def germeval_dev(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """GermEval 2017's official dev split (TSV: url, text, relevance, sentiment, aspects),
    80 % training and 20 % validation by the document URL."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        fields = line.split("\t")
        if len(fields) < 4 or fields[3] not in LABELS:
            continue
        url, text, _, label = fields[:4]
        split = "train" if bucket(url) < 80 else "val"
        yield split, {"id": f"ge17dev-{i}", "text": text, "label": label, "lang": "de"}


def germeval_test(path: Path, name: str) -> Iterator[dict[str, str]]:
    """An official GermEval 2017 test set (XML: one `Document` with `sentiment`, `text`)."""
    for i, document in enumerate(ET.parse(path).getroot().iter("Document")):
        label = (document.findtext("sentiment") or "").strip()
        text = document.findtext("text") or ""
        if label in LABELS and text.strip():
            yield {"id": f"ge17{name}-{i}", "text": text, "label": label, "lang": "de"}


def text_key(text: str) -> str:
    """A tweet's text without case, links, mentions, "RT" and punctuation: the same tweet
    in two corpora (tokenised or not) gets the same key."""
    text = re.sub(r"https?://\S+|\bhttp\b|@\w+|\bRT\b", " ", html.unescape(text))
    return re.sub(r"[\W_]+", "", text.lower())


def keys_in(paths: Iterable[Path]) -> set[str]:
    keys = set()
    for path in paths:
        with path.open(encoding="utf-8") as f:
            keys.update(text_key(json.loads(line)["text"]) for line in f)
    return keys


def potts(path: Path, held_out: set[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """PotTS (Sidarenka 2016) as GerVADER exports it (TSV: label, tokenised text); "mixed"
    is left out; 80 % training and 20 % validation by the text key."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        label, _, text = line.partition("\t")
        text = html.unescape(text).strip()
        key = text_key(text)
        if label not in LABELS or not key or key in held_out:
            continue
        split = "train" if bucket(key) < 80 else "val"
        yield split, {"id": f"potts-{i}", "text": text, "label": label, "lang": "de"}


def sb10k_extra(path: Path, seen: set[str]) -> Iterator[dict[str, str]]:
    """The SB-10k tweets (TSV: id, label, text) in none of the files written so far:
    training only (XLM-T's validation and test tweets are among those files)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        tweet_id, label, text = line.split("\t", 2)
        key = text_key(text)
        if label not in LABELS or not key or key in seen:
            continue
        seen.add(key)
        yield {"id": f"sb10k-{tweet_id}", "text": html.unescape(text), "label": label, "lang": "de"}


def germeval2018(path: Path, held_out: set[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """GermEval 2018, offensive language (Wiegand, Siegel & Ruppenhofer 2018; CC BY 4.0, the
    LICENSE.md of github.com/uds-lsv/GermEval-2018-Data): its training file only (TSV: text,
    OFFENSE/OTHER, fine label; "|LBR|" marks a line break). OFFENSE tweets (abuse, insult,
    profanity) go to "offense" as negative. OTHER only means not offensive, and holds
    complaints too, so it goes to "other" labelled neutral, a separate file to use or not.
    Training only: the official test file is not read, and a tweet whose text key is in
    a validation or test file is left out."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        text, coarse, _ = line.split("\t")
        text = html.unescape(text.replace("|LBR|", " ")).strip()
        key = text_key(text)
        if not key or key in held_out:
            continue
        label, split = (
            ("negative", "offense_train") if coarse == "OFFENSE" else ("neutral", "other_train")
        )
        yield split, {"id": f"ge18-{i}", "text": text, "label": label, "lang": "de"}


def scenario_plain(per_kind: int) -> Iterator[dict[str, str]]:
    """Neutral and positive comments of the scenario generator, `per_kind` of each kind per
    product domain and language: what a brand's plain stream reads like."""
    from stormwatch.evaluation.scenario import sample_text
    from stormwatch.evaluation.scenario.domains import DOMAINS

    rng = random.Random(7)
    for domain in DOMAINS:
        for lang in ("en", "de"):
            for kind, label in (("neu", "neutral"), ("pos", "positive")):
                for i in range(per_kind):
                    text = sample_text(kind, lang, rng, domain=domain, brand="Marke")
                    yield {"id": f"plain-{domain}-{lang}-{kind}-{i}", "text": text,
                           "label": label, "lang": lang}  # fmt: skip


# GoEmotions' sentiment groups as monologg/GoEmotions-pytorch ships them in `data/group/`
# (`labels.txt`: ambiguous, negative, neutral, positive), from Google's own mapping of the
# 27 emotions (negative: anger, annoyance, disappointment, disapproval, disgust,
# embarrassment, fear, grief, nervousness, remorse, sadness).
GOEMOTIONS_GROUPS = ("ambiguous", "negative", "neutral", "positive")


def goemotions(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """GoEmotions (Demszky et al. 2020; Reddit comments, Apache 2.0) in its own splits
    (`{train,dev,test}.tsv`: text, comma-separated group ids, comment id), `dev` as
    `val`. A comment raters read as negative and not also positive is negative; one read
    as positive and not negative positive; the rest (neutral, ambiguous: surprise,
    confusion, curiosity, realization) neutral; one read as both is left out."""
    for split, name in (("train", "train"), ("val", "dev"), ("test", "test")):
        for line in (folder / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if len(fields) < 3:
                continue
            text, ids, comment = fields[0], fields[1], fields[2]
            groups = {GOEMOTIONS_GROUPS[int(i)] for i in ids.split(",") if i}
            if "negative" in groups and "positive" in groups:
                continue
            label = (
                "negative"
                if "negative" in groups
                else "positive"
                if "positive" in groups
                else "neutral"
            )
            key = f"goemotions-{comment}"
            yield split, {"id": key, "text": text, "label": label, "lang": "en"}


def airline(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Twitter US Airline Sentiment (Crowdflower's "Data for Everyone", February 2015;
    CC BY-NC-SA 4.0 in its Kaggle release): 14,640 tweets to six US airlines, each read by
    contributors as negative, neutral or positive. Tweets addressed to a brand, mostly
    complaints about it: the kind of comment stormwatch reads. Non-commercial, so it only
    measures (as GermEval 2017 does), split in halves by the SHA-1 of the `tweet_id`
    field as the file gives it: `dev` to look at what is missed, `test` to measure once.
    (The copy measured in the README, github.com/AyushDhatwalia/Twitter-Airline-Sentiment,
    holds the ids rounded to six digits, "5.70306E+17": tweets of one rounded id, close
    in time, land in the same half. Another copy with whole ids splits otherwise.)"""
    with path.open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.DictReader(f), start=1):
            label = row["airline_sentiment"]
            if label not in LABELS:
                continue
            split = "dev" if bucket(f"airline-{row['tweet_id']}") < 50 else "test"
            row_id = f"airline-{number}"
            yield split, {"id": row_id, "text": row["text"], "label": label, "lang": "en"}


KOTZIAS_FILES = ("amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt")


def kotzias(folder: Path, held_out: set[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """Sentiment Labelled Sentences (Kotzias et al. 2015, UCI Machine Learning
    Repository): 500 negative and 500 positive sentences from each of Amazon product
    reviews, Yelp restaurant reviews and IMDb film reviews (`sentence<TAB>0|1`), chosen
    by their authors as clearly one or the other: no neutral ones. Split 60/20/20 into
    train/val/test by the SHA-1 of the text key; a sentence whose key is in a validation,
    dev or test file written before, or repeats an earlier one, is left out."""
    seen: set[str] = set()
    for name in KOTZIAS_FILES:
        source = name.split("_", 1)[0]
        lines = (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines):
            text, _, score = line.rpartition("\t")
            text, key = text.strip(), text_key(text)
            if score.strip() not in ("0", "1") or not key or key in held_out or key in seen:
                continue
            seen.add(key)
            b = bucket(f"kotzias-{key}")
            split = "train" if b < 60 else "val" if b < 80 else "test"
            label = "negative" if score.strip() == "0" else "positive"
            yield split, {"id": f"kotzias-{source}-{i}", "text": text, "label": label, "lang": "en"}


def write(path: Path, rows: Iterable[dict[str, str]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    print(f"{path}: {count}")
    return count


def write_splits(out: Path, prefix: str, rows: Iterable[tuple[str, dict[str, str]]]) -> None:
    by_split: dict[str, list[dict[str, str]]] = {}
    for split, row in rows:
        by_split.setdefault(split, []).append(row)
    for split, split_rows in by_split.items():
        write(out / f"{prefix}_{split}.jsonl", split_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--vader", type=Path, help="hutto_ICWSM_2014.tar.gz")
    parser.add_argument("--sb10k", type=Path, help="XLM-T's data/sentiment/german folder")
    parser.add_argument("--germeval-dev", type=Path, help="SuperGLEBer's Germeval/2017/dev.tsv")
    parser.add_argument("--germeval-test-syn", type=Path, help="test_syn-2017-09-15.xml")
    parser.add_argument("--germeval-test-dia", type=Path, help="test_dia-2017-09-15.xml")
    parser.add_argument("--potts", type=Path, help="GerVADER's inputs/PotTS.tsv")
    parser.add_argument("--sb10k-full", type=Path, help="GerVADER's sb10k_corpus_v1.0.cgsa.tsv")
    parser.add_argument("--germeval2018", type=Path, help="germeval2018.training.txt")
    parser.add_argument("--goemotions", type=Path, help="GoEmotions-pytorch's data/group folder")
    parser.add_argument("--airline", type=Path, help="Twitter US Airline Sentiment's Tweets.csv")
    parser.add_argument("--kotzias", type=Path, help="the sentiment labelled sentences folder")
    parser.add_argument("--plain", type=int, default=0, help="scenario comments per kind")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.vader:
        write_splits(args.out, "vader_tweets", vader_rated(args.vader, "tweets"))
        write_splits(args.out, "vader_movie", vader_rated(args.vader, "movie"))
        write_splits(args.out, "vader_nyt", vader_rated(args.vader, "nyt"))
        # Never split: all of it measures, as `evaluate real-volume`'s texts come from it.
        rows = (row for _, row in vader_rated(args.vader, "amazon"))
        write(args.out / "vader_amazon_test.jsonl", rows)
    if args.sb10k:
        write_splits(args.out, "sb10k", sb10k(args.sb10k))
    if args.germeval_dev:
        write_splits(args.out, "germeval2017", germeval_dev(args.germeval_dev))
    for name, path in (("syn", args.germeval_test_syn), ("dia", args.germeval_test_dia)):
        if path:
            write(args.out / f"germeval2017_test_{name}.jsonl", germeval_test(path, name))
    if args.potts:
        held_out = keys_in([*args.out.glob("*_val.jsonl"), *args.out.glob("*_test*.jsonl")])
        write_splits(args.out, "potts", potts(args.potts, held_out))
    if args.sb10k_full:
        # its own and later outputs from an earlier run into OUT_DIR are no reason to drop
        # one, nor VADER's review and editorial snippets: the German files stay as they
        # were made before those were written ("Thanks!" is also an English snippet)
        later = ("scenario", "sb10k_extra", "germeval2018", "vader_movie", "vader_nyt")
        later += ("vader_amazon", "kotzias")
        seen = keys_in(p for p in args.out.glob("*.jsonl") if not p.name.startswith(later))
        write(args.out / "sb10k_extra_train.jsonl", sb10k_extra(args.sb10k_full, seen))
    if args.germeval2018:
        held_out = keys_in([*args.out.glob("*_val.jsonl"), *args.out.glob("*_test*.jsonl")])
        write_splits(args.out, "germeval2018", germeval2018(args.germeval2018, held_out))
    if args.goemotions:
        write_splits(args.out, "goemotions", goemotions(args.goemotions))
    if args.airline:
        write_splits(args.out, "airline", airline(args.airline))
    if args.kotzias:
        held_out = keys_in(
            [
                *args.out.glob("*_val.jsonl"),
                *args.out.glob("*_test*.jsonl"),
                *args.out.glob("*_dev.jsonl"),
            ]
        )
        held_out -= keys_in(args.out.glob("kotzias_*.jsonl"))  # its own, from an earlier run
        write_splits(args.out, "kotzias", kotzias(args.kotzias, held_out))
    if args.plain:
        write(args.out / "scenario_plain.jsonl", scenario_plain(args.plain))


if __name__ == "__main__":
    main()

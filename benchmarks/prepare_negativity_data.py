"""Turn the public human-labelled sentiment sets into the labelled JSONL that
`stormwatch evaluate negativity` and `stormwatch negativity train` read.

Nothing here downloads anything: fetch the public repositories yourself and give the
paths of their files (sources and licences: `detectors/data/NEGATIVITY_MODEL.md`).

    python benchmarks/prepare_negativity_data.py OUT_DIR \\
      --vader  vaderSentiment/additional_resources/hutto_ICWSM_2014.tar.gz \\
      --sb10k  xlm-t/data/sentiment/german \\
      --germeval-dev  SuperGLEBer/data/Germeval/2017/dev.tsv \\
      --germeval-test-syn  modified_GermEval17/data/test_syn-2017-09-15.xml \\
      --germeval-test-dia  modified_GermEval17/data/test_dia-2017-09-15.xml

writes `vader_tweets_{train,val,test}.jsonl`, `sb10k_{train,val,test}.jsonl`,
`germeval2017_{train,val}.jsonl` (both from the official dev split: GermEval's own training
file is not in any of these repositories) and `germeval2017_test_{syn,dia}.jsonl`. Each line:
`id`, `text`, `label` (negative/neutral/positive), `lang`. Splits that the sources do not
fix are made by the SHA-1 of a stable key, so every run gives the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path

LABELS = ("negative", "neutral", "positive")


def bucket(key: str) -> int:
    """0..99 from the SHA-1 of `key`: the deterministic split."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 100


def vader_tweets(archive: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """VADER's 4,200 tweets with the mean of ten human ratings in [-4, 4]: negative below
    -0.05, positive above 0.05 (VADER's own cut-offs); 60/20/20 by the tweet's id."""
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("tweets_GroundTruth.txt"))
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
        key = f"vader-{number}"
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
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.vader:
        write_splits(args.out, "vader_tweets", vader_tweets(args.vader))
    if args.sb10k:
        write_splits(args.out, "sb10k", sb10k(args.sb10k))
    if args.germeval_dev:
        write_splits(args.out, "germeval2017", germeval_dev(args.germeval_dev))
    for name, path in (("syn", args.germeval_test_syn), ("dia", args.germeval_test_dia)):
        if path:
            write(args.out / f"germeval2017_test_{name}.jsonl", germeval_test(path, name))


if __name__ == "__main__":
    main()

"""The readers of `benchmarks/prepare_negativity_data.py` that decide what may train a
model: a held-out text must never reach a training file."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "prepare_negativity_data.py"


@pytest.fixture(scope="module")
def prepare():
    spec = importlib.util.spec_from_file_location("prepare_negativity_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kotzias_folder(tmp_path: Path, rows: dict[str, list[str]]) -> Path:
    folder = tmp_path / "sentiment labelled sentences"
    folder.mkdir()
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"):
        folder.joinpath(name).write_text("\n".join(rows.get(name, [])) + "\n", encoding="utf-8")
    return folder


def test_kotzias_labels_splits_and_leaves_out_held_out_and_repeats(prepare, tmp_path):
    sentences = [f"The battery number {i} died after a week.\t0" for i in range(60)]
    sentences += [f"Great phone number {i}, works perfectly.\t1" for i in range(60)]
    folder = _kotzias_folder(
        tmp_path,
        {
            "amazon_cells_labelled.txt": sentences,
            "yelp_labelled.txt": [
                "Service was slow and rude.\t0",
                "SERVICE was slow, and rude!\t0",  # the same text key: a repeat
                "What a junk.\t0",  # held out (a test file holds it)
                "not a scored line",
            ],
        },
    )
    held_out = {prepare.text_key("what a junk")}
    rows = list(prepare.kotzias(folder, held_out))
    texts = [row["text"] for _, row in rows]
    assert "What a junk." not in texts
    assert texts.count("Service was slow and rude.") == 1
    assert "SERVICE was slow, and rude!" not in texts
    assert len(rows) == 121
    by_text = {row["text"]: (split, row) for split, row in rows}
    assert by_text["The battery number 3 died after a week."][1]["label"] == "negative"
    assert by_text["Great phone number 3, works perfectly."][1]["label"] == "positive"
    assert {row["lang"] for _, row in rows} == {"en"}
    splits = [split for split, _ in rows]
    assert set(splits) == {"train", "val", "test"}
    assert splits.count("train") > splits.count("val")
    # the split is a function of the text alone: the same in every run and order
    again = dict((row["text"], split) for split, row in prepare.kotzias(folder, held_out))
    assert again == {text: split for text, (split, _) in by_text.items()}


def test_main_keeps_kotzias_out_of_earlier_held_out_files(prepare, tmp_path, monkeypatch):
    folder = _kotzias_folder(
        tmp_path, {"amazon_cells_labelled.txt": ["Don't buy this player.\t0", "Love it.\t1"]}
    )
    out = tmp_path / "out"
    out.mkdir()
    held = {"id": "a-1", "text": "don't buy this player", "label": "negative", "lang": "en"}
    out.joinpath("vader_amazon_test.jsonl").write_text(json.dumps(held) + "\n")
    monkeypatch.setattr("sys.argv", ["prepare", str(out), "--kotzias", str(folder)])
    prepare.main()
    prepare.main()  # a second run into the same folder writes the same files
    written = [
        json.loads(line)["text"]
        for path in out.glob("kotzias_*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert written == ["Love it."]

"""The labelled corpus is ours, clean and fit to train on (issue 3)."""

from __future__ import annotations

import collections
import csv
import importlib.util
from pathlib import Path

import pytest

from cs_sentiment.labels import Emotion, Intent

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "samples" / "corpus.csv"
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"


def _checker():
    spec = importlib.util.spec_from_file_location("check_corpus", ROOT / "scripts" / "check_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_corpus_has_enough_unique_messages(rows):
    texts = [r["text"] for r in rows]
    assert len(texts) >= 4000
    assert len(set(texts)) == len(texts)


def test_every_label_is_a_taxonomy_label(rows):
    assert {r["emotion"] for r in rows} == {e.value for e in Emotion}
    assert {r["intent"] for r in rows} == {i.value for i in Intent}
    assert {r["split"] for r in rows} == {"train", "test"}


def test_every_emotion_and_intent_is_well_represented(rows):
    emotions = collections.Counter(r["emotion"] for r in rows)
    intents = collections.Counter(r["intent"] for r in rows)
    assert min(emotions.values()) >= 250, emotions
    assert min(intents.values()) >= 200, intents


def test_both_scripts_are_present_for_every_label(rows):
    checker = _checker()
    scripts = collections.defaultdict(set)
    for r in rows:
        script = checker.script_of(r["text"])
        scripts[r["emotion"]].add(script)
        scripts[r["intent"]].add(script)
    assert all(s == {"simplified", "traditional"} for s in scripts.values()), scripts
    share = sum(checker.script_of(r["text"]) == "traditional" for r in rows) / len(rows)
    assert share >= 0.30


def test_no_exact_or_near_duplicates(rows):
    pairs = _checker().near_duplicates([r["text"] for r in rows])
    assert not pairs, pairs[:5]


def test_test_split_is_about_a_fifth_and_stable(rows):
    checker = _merge_module()
    test = [r for r in rows if r["split"] == "test"]
    assert 0.15 <= len(test) / len(rows) <= 0.25
    # The split of a row never changes; rows added later get theirs from the text's hash.
    mismatched = [r["text"] for r in rows if checker.split_of(r["text"]) != r["split"]]
    assert len(mismatched) <= len(rows) * 0.01


def _merge_module():
    spec = importlib.util.spec_from_file_location("merge_corpus", ROOT / "scripts" / "merge_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not BENCHMARKS.is_dir(), reason="../shared/benchmarks is not beside this checkout")
def test_no_line_is_shared_with_the_external_benchmarks(rows):
    checker = _checker()
    bench = set()
    for path in BENCHMARKS.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                for key in ("text", "text2"):
                    value = (row.get(key) or "").strip()
                    if len(value) >= 4:
                        bench.add(checker.canon(value))
    shared = [r["text"] for r in rows if len(checker.canon(r["text"])) >= 4 and checker.canon(r["text"]) in bench]
    assert not shared, shared[:5]

"""Results pinned on the corpus test split: a refactor or a speed-up changes nothing that is computed.

The pin holds ``Analysis.to_dict()`` of every test-split message of
``data/samples/corpus.csv`` with the shipped model (floats rounded to 9
decimals), keyed by the text's SHA-256. A deliberate change of the model or
the rules re-pins it on purpose::

    python tests/test_pinned_results.py    # rewrites tests/data/pinned_test_split.jsonl.gz
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "samples" / "corpus.csv"
PIN = Path(__file__).resolve().parent / "data" / "pinned_test_split.jsonl.gz"
#: Floats may differ by this much (summation order of a faster path), nothing else may differ.
TOLERANCE = 1e-6


def _texts() -> list[str]:
    with CORPUS.open(encoding="utf-8") as f:
        return [r["text"] for r in csv.DictReader(f) if r["split"] == "test"]


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return [] if math.isclose(expected, actual, rel_tol=0, abs_tol=TOLERANCE) else [f"{path}: {expected} != {actual}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{path}: keys {sorted(expected)} != {sorted(actual)}"]
        return [d for k in expected for d in _differences(expected[k], actual[k], f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items != {len(actual)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in _differences(e, a, f"{path}[{i}]")]
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]


@pytest.mark.skipif(not PIN.is_file(), reason="no pinned results")
def test_every_result_on_the_corpus_test_split_is_what_was_pinned():
    from cs_sentiment import Analyzer

    analyzer = Analyzer.default()
    with gzip.open(PIN, "rt", encoding="utf-8") as f:
        pinned = {row["key"]: row["result"] for row in map(json.loads, f)}
    texts = _texts()
    assert len(pinned) == len({_key(t) for t in texts})
    failures = []
    for text in texts:
        diffs = _differences(pinned[_key(text)], json.loads(json.dumps(analyzer.analyze(text).to_dict())))
        if diffs:
            failures.append(f"{text[:30]!r}: " + "; ".join(diffs[:3]))
    assert not failures, f"{len(failures)} of {len(texts)} results changed, e.g.\n" + "\n".join(failures[:10])


def _write_pin() -> None:  # pragma: no cover - run by hand to re-pin on purpose
    from cs_sentiment import Analyzer

    analyzer = Analyzer.default()
    rows = {_key(t): _rounded(analyzer.analyze(t).to_dict()) for t in _texts()}
    PIN.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(PIN, "wb", mtime=0) as f:
        for key in sorted(rows):
            f.write((json.dumps({"key": key, "result": rows[key]}, ensure_ascii=False, sort_keys=True) + "\n")
                    .encode("utf-8"))
    print(f"pinned {len(rows)} results in {PIN}")


if __name__ == "__main__":  # pragma: no cover
    _write_pin()

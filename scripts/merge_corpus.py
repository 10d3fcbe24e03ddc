"""Merge corpus part files into data/samples/corpus.csv with a fixed split column.

Rows already in corpus.csv keep their split. A new row's split comes from the
sha1 of its text: about one row in five goes to ``test``. The test split is
never re-drawn, so it stays fixed as the corpus grows.

Usage: python scripts/merge_corpus.py PART.csv [PART.csv ...]
"""
from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "data" / "samples" / "corpus.csv"
TEST_SHARE_MOD = 5  # sha1 % 5 == 0 -> test (20%)


def split_of(text: str) -> str:
    return "test" if int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % TEST_SHARE_MOD == 0 else "train"


def main(paths: list[str]) -> int:
    rows: dict[str, dict[str, str]] = {}
    if CORPUS.exists():
        with CORPUS.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                rows[row["text"]] = row
    added = 0
    for p in paths:
        with open(p, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                text = row["text"].strip()
                if text in rows:
                    continue
                rows[text] = {"text": text, "emotion": row["emotion"].strip(), "intent": row["intent"].strip(),
                              "split": split_of(text)}
                added += 1
    with CORPUS.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["text", "emotion", "intent", "split"], lineterminator="\n")
        writer.writeheader()
        for row in rows.values():
            writer.writerow(row)
    print(f"{CORPUS}: {len(rows)} rows ({added} added)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

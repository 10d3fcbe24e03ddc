"""Check labeled corpus CSV files: labels, counts, scripts, near-duplicates, benchmark overlap.

Usage: python scripts/check_corpus.py FILE.csv [FILE.csv ...] [--bench ../shared/benchmarks]
Columns: text,emotion,intent (a split column is allowed).
"""
from __future__ import annotations

import argparse
import collections
import csv
import glob
import re
import sys
from pathlib import Path

import opencc

EMOTIONS = ("neutral", "satisfied", "angry", "disappointed", "anxious", "impatient", "confused", "hesitant")
INTENTS = ("product_info", "price_promotion", "order_status", "return_refund", "product_quality",
           "payment_invoice", "account_tech", "usage_help", "complaint", "praise", "other")
_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
NEAR_DUP_JACCARD = 0.8


def canon(text: str) -> str:
    """Simplified, lowercase, without spaces and punctuation; emoji-only text keeps its symbols."""
    simplified = _T2S.convert(text).lower()
    return _STRIP.sub("", simplified) or "".join(simplified.split())


def script_of(text: str) -> str:
    simp = _T2S.convert(text)
    trad = _S2T.convert(text)
    n_trad = sum(a != b for a, b in zip(text, simp))
    n_simp = sum(a != b for a, b in zip(text, trad))
    return "traditional" if n_trad > n_simp else "simplified"


def shingles(c: str) -> set[str]:
    if len(c) < 3:
        return {c}
    return {c[i:i + 2] for i in range(len(c) - 1)}


def near_duplicates(texts: list[str]) -> list[tuple[str, str, float]]:
    canons = [canon(t) for t in texts]
    sh = [shingles(c) for c in canons]
    index: dict[str, list[int]] = collections.defaultdict(list)
    pairs = []
    for i, s in enumerate(sh):
        counts: collections.Counter[int] = collections.Counter()
        for g in s:
            for j in index[g]:
                counts[j] += 1
        for j, inter in counts.items():
            union = len(s) + len(sh[j]) - inter
            jac = inter / union if union else 1.0
            if jac >= NEAR_DUP_JACCARD:
                pairs.append((texts[j], texts[i], round(jac, 2)))
        for g in s:
            index[g].append(i)
    return pairs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--bench", default=str(Path(__file__).resolve().parents[2] / "shared" / "benchmarks"))
    args = ap.parse_args()
    rows = []
    problems = 0
    for f in args.files:
        with open(f, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"text", "emotion", "intent"} <= set(reader.fieldnames):
                print(f"{f}: header must contain text,emotion,intent; got {reader.fieldnames}")
                return 2
            for n, row in enumerate(reader, start=2):
                t = (row["text"] or "").strip()
                if not t:
                    print(f"{f}:{n}: empty text")
                    problems += 1
                    continue
                if row["emotion"] not in EMOTIONS:
                    print(f"{f}:{n}: bad emotion {row['emotion']!r}")
                    problems += 1
                if row["intent"] not in INTENTS:
                    print(f"{f}:{n}: bad intent {row['intent']!r}")
                    problems += 1
                rows.append((f, n, t, row["emotion"], row["intent"]))
    texts = [r[2] for r in rows]
    dups = near_duplicates(texts)
    for a, b, j in dups:
        print(f"near-duplicate ({j}): {a!r} ~ {b!r}")
    problems += len(dups)
    bench = set()
    for path in glob.glob(str(Path(args.bench) / "*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for key in ("text", "text2"):
                    v = (row.get(key) or "").strip()
                    if len(v) >= 4:
                        bench.add(canon(v))
    for r in rows:
        if len(canon(r[2])) >= 4 and canon(r[2]) in bench:
            print(f"{r[0]}:{r[1]}: text found in shared benchmarks: {r[2]!r}")
            problems += 1
    scripts = collections.Counter(script_of(t) for t in texts)
    print(f"rows={len(rows)} problems={problems} scripts={dict(scripts)} "
          f"traditional_share={scripts['traditional'] / max(1, len(rows)):.2f}")
    print("emotion:", dict(collections.Counter(r[3] for r in rows).most_common()))
    print("intent:", dict(collections.Counter(r[4] for r in rows).most_common()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Reply review: per-check precision/recall on our labelled pairs, and the scores real agents' replies get.

    python benchmarks/bench_replies.py                 # test split of our pairs + real JDDC agent replies
    python benchmarks/bench_replies.py --split dev     # the half the phrase lists were written against

Our pairs (``benchmarks/labels/reply_pairs.csv``, 460 written by us in both
scripts, each check labelled; a fixed dev/test split by hash) give every
check's accuracy, precision and recall, the verdict accuracy and how many
poor replies are caught. The JDDC customer turns (read from ``../shared``, no
sentence kept) give, for realism, the distribution of scores and verdicts of
the real agent replies that follow a customer turn, and the time a review
costs next to one ``analyze()``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "labels" / "reply_pairs.csv"
DEFAULT_DATA = HERE.parent.parent / "shared" / "benchmarks"
DEFAULT_JSON = HERE / "results" / "replies.json"
TARGET_ACCURACY = 0.90
TARGET_POOR_CAUGHT = 0.85

sys.path.insert(0, str(HERE))


def labelled(split: str) -> dict[str, Any]:
    from cs_sentiment.review import CHECKS, review_reply

    rows = [r for r in csv.DictReader(PAIRS.open(encoding="utf-8")) if split in ("all", r["split"])]
    counts = {c: Counter() for c in CHECKS}
    verdicts = Counter()
    for r in rows:
        rv = review_reply(r["customer"], r["reply"])
        for c in CHECKS:
            if r[c] == "na":
                continue
            gold = r[c] == "true"
            pred = rv.checks[c].passed
            pred = (c == "addresses_topic") if pred is None else pred
            counts[c][("t" if pred == gold else "f") + ("p" if pred else "n")] += 1
        verdicts[(r["verdict"], rv.verdict)] += 1
    out: dict[str, Any] = {"split": split, "n": len(rows), "checks": {}}
    for c, k in counts.items():
        n = sum(k.values())
        out["checks"][c] = {"n": n, "accuracy": (k["tp"] + k["tn"]) / n,
                            "precision": k["tp"] / max(1, k["tp"] + k["fp"]),
                            "recall": k["tp"] / max(1, k["tp"] + k["fn"])}
    poor = sum(v for (g, _), v in verdicts.items() if g == "poor")
    out["verdict_accuracy"] = sum(v for (g, p), v in verdicts.items() if g == p) / len(rows)
    out["poor_caught"] = verdicts[("poor", "poor")] / max(1, poor)
    out["good_called_poor"] = verdicts[("good", "poor")] / max(1, sum(v for (g, _), v in verdicts.items() if g == "good"))
    return out


def real(data: Path) -> dict[str, Any] | None:
    source = data / "jddc_customer_turns.csv"
    if not source.is_file():
        return None
    from cs_sentiment import Analyzer
    from cs_sentiment.review import review_reply

    analyzer = Analyzer.default()
    by_session: dict[str, list[dict[str, str]]] = {}
    for r in csv.DictReader(source.open(encoding="utf-8")):
        by_session.setdefault(r["session_id"], []).append(r)
    pairs = []
    for turns in by_session.values():
        turns.sort(key=lambda r: int(r["turn_idx"]))
        for before, after in zip(turns, turns[1:]):
            reply = (after.get("prev_agent_turn") or "").strip()
            if reply:
                pairs.append((before["text"], reply))
    start = time.perf_counter()
    reviews = [review_reply(c, r, analyzer=analyzer) for c, r in pairs]
    review_us = (time.perf_counter() - start) / max(1, len(pairs)) * 1e6
    start = time.perf_counter()
    for c, _ in pairs:
        analyzer.analyze(c)
    analyze_us = (time.perf_counter() - start) / max(1, len(pairs)) * 1e6
    scores = [rv.score for rv in reviews]
    return {"n": len(pairs), "score_median": statistics.median(scores), "score_mean": statistics.fmean(scores),
            "verdicts": dict(Counter(rv.verdict for rv in reviews)),
            "failed_checks": dict(Counter(i for rv in reviews for i in rv.issues).most_common()),
            "us_per_review": review_us, "us_per_analyze": analyze_us}


def render(result: dict[str, Any]) -> str:
    lab = result["labelled"]
    lines = [f"Our labelled pairs, {lab['split']} split (n = {lab['n']}):", "",
             "| check | n | accuracy | precision | recall | target ≥ 0.90 |", "|---|---:|---:|---:|---:|---|"]
    for c, m in lab["checks"].items():
        lines.append(f"| {c} | {m['n']} | {m['accuracy']:.3f} | {m['precision']:.3f} | {m['recall']:.3f} | "
                     f"{'✅' if m['accuracy'] >= TARGET_ACCURACY else '❌'} |")
    lines += ["", f"verdict accuracy {lab['verdict_accuracy']:.3f}; poor replies caught {lab['poor_caught']:.3f} "
                  f"(target ≥ {TARGET_POOR_CAUGHT}: {'✅' if lab['poor_caught'] >= TARGET_POOR_CAUGHT else '❌'}); "
                  f"good replies called poor {lab['good_called_poor']:.3f}"]
    r = result.get("real")
    if r:
        verdicts = ", ".join(f"{k} {100 * v / r['n']:.0f}%" for k, v in sorted(r["verdicts"].items()))
        failed = ", ".join(f"{k} {100 * v / r['n']:.0f}%" for k, v in list(r["failed_checks"].items())[:6])
        lines += ["", f"Real JDDC agent replies (n = {r['n']}): median score {r['score_median']:.0f}, mean "
                      f"{r['score_mean']:.1f}; {verdicts}; failed checks: {failed}.",
                  f"Time: review {r['us_per_review']:.0f} µs vs analyze {r['us_per_analyze']:.0f} µs "
                  f"({r['us_per_review'] / r['us_per_analyze']:.2f}×; target: at most one analyze() more, ≤ 2×)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("test", "dev", "all"), default="test")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args(argv)
    result = {"labelled": labelled(args.split), "real": real(args.data)}
    table = render(result)
    if args.split == "test":
        from bench_speed import publish

        publish(result, table, DEFAULT_JSON)
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

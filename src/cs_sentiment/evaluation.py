"""Measuring an analyzer on labelled messages: :func:`evaluate`.

Per task: accuracy, macro-F1, the per-class report, the confusion matrix, the
expected calibration error with its reliability histogram, the most
confident mistakes and the top features per class; plus polarity accuracy,
how often an unsure reading is right, and the share of messages that read the
same in the other script. Reports are plain JSON-ready dicts
(:func:`write_report`); :mod:`cs_sentiment.plots` draws them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .extras import missing_extra

try:
    import pandas as pd
    from sklearn.metrics import classification_report, confusion_matrix, f1_score
except ImportError as _missing:  # pragma: no cover - a test hides the extra
    raise missing_extra(_missing, "train", "evaluate") from None

from .analyzer import Analyzer
from .cues import CUE_FEATURE_NAMES
from .exceptions import InvalidInputError
from .formats import detect_encoding, file_format
from .labels import polarity_of
from .normalize import to_simplified, to_traditional

__all__ = ["ECE_BINS", "evaluate", "expected_calibration_error", "read_labeled", "top_features", "write_report"]

#: scikit-learn's ``zero_division``: a class never predicted scores 0, silently.
_NO_WARNING: dict[str, Any] = {"zero_division": 0}
#: Bins of the reliability histogram and of the expected calibration error (the usual 10).
ECE_BINS = 10


def read_labeled(data: pd.DataFrame | str | Path, *, text_col: str = "text") -> pd.DataFrame:
    """A DataFrame from a DataFrame or a CSV/TSV/JSONL/Parquet path (by suffix; UTF-8, BOM or GB18030 detected)."""
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


def labels_of(frame: pd.DataFrame, col: str) -> list[str]:
    if col not in frame.columns:
        raise ValueError(f"label column {col!r} not found; columns are {list(frame.columns)}")
    values = frame[col].astype(str).str.strip().tolist()
    empty = [i for i, v in enumerate(values) if not v or v == "nan"]
    if empty:
        raise ValueError(f"label column {col!r} is empty in row {empty[0]}")
    return values


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> tuple[float, list[dict[str, Any]]]:
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
        if acc is not None and conf is not None:
            ece += count / len(confidence) * abs(acc - conf)
        histogram.append({"low": round(float(edges[b]), 2), "high": round(float(edges[b + 1]), 2), "count": count,
                          "accuracy": acc, "confidence": conf})
    return float(ece), histogram


def _task_report(y_true: list[str], y_pred: list[str], proba: np.ndarray, classes: list[str],
                 texts: list[str], n_worst: int) -> dict[str, Any]:
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
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", **_NO_WARNING)),
        "per_class": classification_report(y_true, y_pred, labels=labels, output_dict=True, **_NO_WARNING),
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
        y_true = labels_of(frame, col)
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
        needs_human: dict[str, float | None] = {"rate": float(unsure.mean())}
        report["needs_human"] = needs_human
        for task, col in (("emotion", emotion_col), ("intent", intent_col)):
            if task in report and col:
                truth = labels_of(frame, col)
                hit = np.array([str(getattr(r, task)) == t for r, t in zip(results, truth)])
                needs_human[f"{task}_accuracy_when_sure"] = float(hit[~unsure].mean()) if (~unsure).any() else None
                needs_human[f"{task}_accuracy_when_unsure"] = float(hit[unsure].mean()) if unsure.any() else None
    if consistency and texts:
        same = 0
        for text, r in zip(texts, results):
            other = to_simplified(text) if r.script == "traditional" else to_traditional(text)
            o = analyzer.analyze(other)
            same += (o.emotion == r.emotion and o.intent == r.intent)
        report["script_consistency"] = same / len(texts)
    return report


def top_features(head: Any, n: int = 15) -> dict[str, list[tuple[str, float]]]:
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


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    """Write an :func:`evaluate` report as pretty JSON."""
    path = Path(path)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path

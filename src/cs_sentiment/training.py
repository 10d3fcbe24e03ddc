"""Retraining for data scientists: :func:`fit` and :func:`train`.

:func:`fit` fits the emotion and intent models on a labelled table (or only
one of them, keeping the other from a base model) and returns a
:class:`TrainingResult`: the ready :class:`~cs_sentiment.Analyzer`, the fitted
scikit-learn estimators, the report on the test split and the
cross-validated scores. :func:`train` is the short form that returns the
analyzer. Measuring lives in :mod:`cs_sentiment.evaluation`, figures in
:mod:`cs_sentiment.plots` (both re-exported here).

The shipped model is rebuilt from ``data/samples/corpus.csv`` with::

    cs-sentiment train data/samples/corpus.csv --out models --overwrite --priors data/samples/live_chat_priors.json
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .extras import missing_extra

try:
    import pandas as pd
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_score
except ImportError as _missing:  # pragma: no cover - a test hides the extra
    raise missing_extra(_missing, "train", "training") from None

from ._version import __version__
from .analyzer import Analyzer
from .estimators import EmotionClassifier, IntentClassifier
from .evaluation import ECE_BINS, evaluate, expected_calibration_error, labels_of, read_labeled, write_report
from .labels import NEED_BY_INTENT, Emotion, Need
from .lexicon import read_tsv
from .persistence import CompiledModel
from .plots import calibration_figure, confusion_figure, plot_calibration, plot_confusion
from .priors import read_priors

__all__ = ["ECE_BINS", "HEADS", "TrainingResult", "calibration_figure", "confusion_figure", "cross_validate",
           "evaluate", "expected_calibration_error", "fit", "plot_calibration", "plot_confusion", "read_labeled",
           "train", "write_report"]

#: The two heads a model has.
HEADS = ("emotion", "intent")


@dataclass(frozen=True)
class TrainingResult:
    """What :func:`fit` made.

    Attributes
    ----------
    analyzer : Analyzer
        Ready to use and to :meth:`~cs_sentiment.Analyzer.save`.
    estimators : dict
        The fitted scikit-learn estimators of the heads that were trained
        (``"emotion"``, ``"intent"``).
    report : dict or None
        :func:`~cs_sentiment.evaluation.evaluate` on the test split (with the
        training priors), when the data had one.
    cross_validation : dict or None
        Per trained head, the macro-F1 mean and standard deviation over stratified
        folds of the training rows, when ``cv_folds`` was given.
    """

    analyzer: Analyzer
    estimators: dict[str, Any]
    report: dict[str, Any] | None = None
    cross_validation: dict[str, Any] | None = None


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


def fit(data: pd.DataFrame | str | Path, *, text_col: str = "text", emotion_col: str = "emotion",
        intent_col: str = "intent", split_col: str | None = "split", cv: int | None = 5,
        intent_map: Mapping[str, Mapping[str, str]] | str | Path | None = None,
        emotion_params: Mapping[str, Any] | None = None, intent_params: Mapping[str, Any] | None = None,
        random_state: int = 0, priors: Mapping[str, Any] | None = None, heads: Sequence[str] = HEADS,
        base: Analyzer | None = None, cv_folds: int | None = None, **analyzer_options: Any) -> TrainingResult:
    """Fit the emotion and intent models (or the ``heads`` named) on labelled messages.

    Parameters
    ----------
    data : DataFrame or path
        One message a row (CSV, TSV, JSONL or Parquet by suffix).
    text_col, emotion_col, intent_col : str
        Column names. Emotions must be taxonomy ids; intents may be your own. Only
        the label columns of the heads trained are needed.
    split_col : str or None
        When the column exists, only rows whose value is ``train`` are fitted
        and rows whose value is ``test`` are evaluated into the manifest.
    cv : int or None
        Folds for probability calibration (temperature scaling) and the stacker.
    intent_map : mapping or path, optional
        For your own intents: ``{intent: {"need": ..., "acts_as": taxonomy_intent}}``
        or a TSV with header ``intent need acts_as``. Unmapped unknown intents
        get need ``service`` and are handled like ``other``.
    emotion_params, intent_params : mapping, optional
        Parameters of :class:`EmotionClassifier` / :class:`IntentClassifier`; each head
        keeps its own (``ngram_range``, ``use_words`` …), in the model too.
    priors : mapping, optional
        Deployment priors ``{"emotion": {label: weight}, "intent": {…}}`` stored
        in the model and applied by default (``Analyzer(priors="default")``).
        The test-split metrics are measured with the training priors.
    heads : sequence of str
        Which heads to fit (default both); the others come from ``base``.
    base : Analyzer, optional
        Where the heads not fitted come from (default: the shipped model), with
        its intent map when only the emotion head is fitted.
    cv_folds : int, optional
        Also cross-validate each fitted head (macro-F1 over this many stratified
        folds of the training rows); the scores go into the manifest.
    **analyzer_options
        Passed to :class:`Analyzer` (``confidence_threshold``, ``extra_lexicons`` …).

    Returns
    -------
    TrainingResult
        Its analyzer's ``model.manifest`` holds the corpus hash and, with a test split,
        the metrics.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [("太失望了", "disappointed", "complaint"), ("谢谢，很满意", "satisfied", "praise")] * 6
    >>> frame = pd.DataFrame(rows, columns=["text", "emotion", "intent"])
    >>> result = fit(frame, heads=["intent"], cv=None)   # keep the shipped emotion model
    >>> sorted(result.estimators), result.analyzer.model.intent.classes
    (['intent'], ('complaint', 'praise'))
    """
    unknown = [h for h in heads if h not in HEADS]
    if unknown or not heads:
        raise ValueError(f"heads must name one or both of {', '.join(HEADS)}, got {list(heads)!r}")
    frame = read_labeled(data, text_col=text_col)
    fit_frame, test_frame = frame, None
    if split_col and split_col in frame.columns:
        split = frame[split_col].astype(str).str.strip().str.lower()
        fit_frame = frame[split == "train"]
        test_frame = frame[split == "test"]
        if fit_frame.empty:
            raise ValueError(f"no row has {split_col} == 'train'")
    texts = [str(t) for t in fit_frame[text_col].tolist()]
    columns = {"emotion": emotion_col, "intent": intent_col}
    labels = {h: labels_of(fit_frame, columns[h]) for h in heads}
    bad = sorted(set(labels.get("emotion", ())) - {e.value for e in Emotion})
    if bad:
        raise ValueError(f"emotion labels must be taxonomy ids ({', '.join(e.value for e in Emotion)}); got {bad[0]!r}")
    base_model = None if len(heads) == len(HEADS) else (base or Analyzer.default()).model
    classes = {h: tuple(sorted(set(labels[h]))) if h in labels else getattr(base_model, h).classes for h in HEADS}
    prior_values = _check_priors(priors, classes)  # before the fit, not after a minute of training
    params = {"emotion": emotion_params, "intent": intent_params}
    kinds = {"emotion": EmotionClassifier, "intent": IntentClassifier}
    estimators = {h: kinds[h](cv=cv, random_state=random_state, **dict(params[h] or {})).fit(texts, labels[h])
                  for h in heads}
    fitted = {h: est.to_head() for h, est in estimators.items()}
    emotion_head = fitted["emotion"] if "emotion" in fitted else base_model.emotion  # type: ignore[union-attr]
    intent_head = fitted["intent"] if "intent" in fitted else base_model.intent  # type: ignore[union-attr]
    if (emotion_head.vectorizer.vocabulary == intent_head.vectorizer.vocabulary
            and np.array_equal(emotion_head.vectorizer.idf, intent_head.vectorizer.idf)
            and (emotion_head.ngram_range, emotion_head.use_words) == (intent_head.ngram_range, intent_head.use_words)):
        # One shared vectorizer, exactly as a saved and reloaded model has it.
        intent_head = dataclasses.replace(intent_head, vectorizer=emotion_head.vectorizer)
    manifest: dict[str, Any] = {
        "library_version": __version__,
        "corpus": {"sha256": _corpus_hash(texts, labels.get("emotion", [""] * len(texts)),
                                          labels.get("intent", [""] * len(texts))),
                   "n_train": len(texts), "n_test": 0 if test_frame is None else len(test_frame),
                   "heads": list(heads)},
        "params": {"emotion": emotion_head.meta.get("params"), "intent": intent_head.meta.get("params")},
    }
    if base_model is not None:
        kept = [h for h in HEADS if h not in heads]
        manifest["base"] = {"corpus": base_model.manifest.get("corpus"), "kept": kept}
        base_priors = base_model.manifest.get("priors") or {}
        for h in kept:  # a kept head keeps the deployment priors it was served with
            if h in base_priors and h not in prior_values:
                prior_values[h] = base_priors[h]
    if prior_values:
        manifest["priors"] = prior_values
    kept_map = base_model.intent_map if base_model is not None and "intent" not in heads else {}
    model = CompiledModel(emotion_head, intent_head, _load_intent_map(intent_map) or dict(kept_map), manifest)
    analyzer = Analyzer(model=model, **analyzer_options)
    report = None
    if test_frame is not None and not test_frame.empty:
        report = evaluate(analyzer.with_priors("train"), test_frame, text_col=text_col,
                          emotion_col=emotion_col if "emotion" in heads or emotion_col in test_frame else None,
                          intent_col=intent_col if "intent" in heads or intent_col in test_frame else None,
                          n_worst=0)
        manifest["metrics"] = _headline(report)
    scores = None
    if cv_folds is not None and cv_folds > 1:
        scores = cross_validate(estimators, texts, labels, folds=cv_folds, random_state=random_state)
        manifest["cross_validation"] = scores
    return TrainingResult(analyzer, estimators, report, scores)


def train(data: pd.DataFrame | str | Path, **options: Any) -> Analyzer:
    """Fit on labelled messages and return the new :class:`Analyzer`: ``fit(data, **options).analyzer``.

    Takes every option of :func:`fit`; use :func:`fit` to get the estimators, the
    test report and the cross-validated scores too.
    """
    return fit(data, **options).analyzer


def cross_validate(estimators: Mapping[str, Any], texts: Sequence[str], labels: Mapping[str, Sequence[str]], *,
                   folds: int = 5, random_state: int = 0) -> dict[str, Any]:
    """Macro-F1 of each estimator (refitted without calibration folds) by stratified k-fold."""
    out = {}
    for task, estimator in estimators.items():
        est: Any = clone(estimator)
        est.set_params(cv=None)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
        scores = cross_val_score(est, list(texts), list(labels[task]), cv=splitter, scoring="f1_macro")
        out[task] = {"macro_f1_mean": float(scores.mean()), "macro_f1_std": float(scores.std()), "folds": folds}
    return out


def _check_priors(priors: Mapping[str, Any] | None, classes: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    if priors is None:
        return {}
    unknown = [k for k in priors if k not in (*classes, "source")]
    if unknown:
        raise ValueError(f"priors has unknown key {unknown[0]!r}; keys are emotion, intent, source")
    out: dict[str, Any] = {k: dict(zip(classes[k], read_priors(v, classes[k], k).tolist()))
                           for k, v in priors.items() if k in classes}
    if isinstance(priors.get("source"), str):
        out["source"] = priors["source"]
    return out


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    out = {"n": report["n"], "polarity_accuracy": report.get("polarity_accuracy"),
           "script_consistency": report.get("script_consistency"), "needs_human": report.get("needs_human")}
    for task in ("emotion", "intent"):
        if task in report:
            out[task] = {k: report[task][k] for k in ("accuracy", "macro_f1", "ece")}
    return out



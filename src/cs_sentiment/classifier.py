"""Inference for the linear models, in numpy only (no scikit-learn at run time).

A :class:`LinearHead` holds what a fitted ``TfidfVectorizer`` +
``LogisticRegression`` pair needs to predict: the vocabulary, the idf weights,
the coefficients (text part and, for the emotion model, the cue-feature part),
the intercepts and a softmax temperature from calibration. Applied here with
numpy it gives the same probabilities as scikit-learn (a test checks it) at a
fraction of the cost for one message.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LinearHead", "Vectorizer", "softmax"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax of a 1-D or 2-D array (rows)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class Vectorizer:
    """TF-IDF over feature strings: ``vocabulary`` (feature → column) and ``idf``.

    Matches scikit-learn's ``TfidfVectorizer(binary=..., sublinear_tf=..., norm="l2")``.
    """

    vocabulary: dict[str, int]
    idf: np.ndarray
    sublinear_tf: bool = False
    binary: bool = True

    def transform_one(self, features: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and L2-normalised tf-idf values of one message."""
        columns = [j for j in map(self.vocabulary.get, features) if j is not None]
        if not columns:
            return np.empty(0, dtype=np.intp), np.empty(0)
        if self.binary:
            index = np.array(sorted(set(columns)), dtype=np.intp)
            tf = np.ones(len(index))
        else:
            counts = Counter(columns)
            index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if self.sublinear_tf:
                tf = np.log(tf) + 1.0
        values = tf * self.idf[index]
        norm = math.sqrt(float(values @ values))
        return index, values / norm if norm else values

    def features(self) -> list[str]:
        """Feature strings in column order."""
        out = [""] * len(self.vocabulary)
        for f, j in self.vocabulary.items():
            out[j] = f
        return out


@dataclass(frozen=True, eq=False)
class LinearHead:
    """One classification head over a :class:`Vectorizer` (and optional cue features).

    ``coef`` is stored feature-major (n_features, n_classes) so one message's
    columns are a single fancy-index.
    """

    classes: tuple[str, ...]
    vectorizer: Vectorizer
    coef: np.ndarray
    intercept: np.ndarray
    cue_coef: np.ndarray | None = None
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    def logits(self, index: np.ndarray, values: np.ndarray, cue_features: tuple[float, ...] | None = None) -> np.ndarray:
        """Raw scores of one message from its tf-idf columns and cue features."""
        out = values @ self.coef[index] + self.intercept if len(index) else self.intercept.copy()
        if self.cue_coef is not None and cue_features is not None:
            out = out + np.asarray(cue_features) @ self.cue_coef
        return out

    def proba(self, index: np.ndarray, values: np.ndarray, cue_features: tuple[float, ...] | None = None) -> np.ndarray:
        """Calibrated class probabilities of one message."""
        return softmax(self.logits(index, values, cue_features) / self.temperature)

    def predict_proba_many(self, feature_lists: list[list[str]], cue_matrix: np.ndarray | None = None) -> np.ndarray:
        """Probabilities for many messages (rows follow the input order)."""
        rows = []
        for k, feats in enumerate(feature_lists):
            index, values = self.vectorizer.transform_one(feats)
            cues = None if cue_matrix is None else tuple(cue_matrix[k])
            rows.append(self.logits(index, values, cues))
        if not rows:
            return np.empty((0, len(self.classes)))
        return softmax(np.vstack(rows) / self.temperature)

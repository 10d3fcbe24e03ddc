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

__all__ = ["Fusion", "LinearHead", "Vectorizer", "log_softmax", "softmax"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax of a 1-D or 2-D array (rows)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax of a 1-D or 2-D array (rows).

    >>> np.round(np.exp(log_softmax(np.array([0.0, 0.0]))), 2).tolist()
    [0.5, 0.5]
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@dataclass(frozen=True, eq=False)
class Fusion:
    """A learned second stage that weighs the n-gram model against the lexicon cues (stacking).

    Its inputs for one message are the n-gram model's class log-probabilities,
    the cue features, and the log-probabilities again multiplied by each
    *gate* cue (negation, contrast): so it can learn to trust the n-grams less
    where a negator or a contrast word changes what the words mean. It is a
    multinomial logistic regression fitted on out-of-fold n-gram scores, so it
    learns how far each source can be trusted, not how well the n-grams
    remember their own training rows.

    >>> f = Fusion(np.zeros((2 + 1 + 2, 2)), np.array([0.0, 1.0]), gates=(0,))
    >>> f.logits(np.array([[0.0, 0.0]]), np.array([[1.0]])).tolist()
    [[0.0, 1.0]]
    """

    coef: np.ndarray
    intercept: np.ndarray
    gates: tuple[int, ...] = ()

    @staticmethod
    def inputs(text_logits: np.ndarray, cues: np.ndarray, gates: tuple[int, ...]) -> np.ndarray:
        """The stacker's input rows: log-probabilities, cues, gated log-probabilities."""
        logp = log_softmax(np.atleast_2d(text_logits))
        cues = np.atleast_2d(cues)
        return np.hstack([logp, cues] + [cues[:, [g]] * logp for g in gates])

    def logits(self, text_logits: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """Fused class scores (rows) from n-gram logits and cue features."""
        return self.inputs(text_logits, cues, self.gates) @ self.coef + self.intercept

    def logits_one(self, text_logits: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """:meth:`logits` of one message, in fewer numpy calls (the hot path of ``analyze``)."""
        top = float(text_logits.max())
        shifted = text_logits - top
        logp = shifted - math.log(float(np.exp(shifted).sum()))
        gate = np.empty(1 + len(self.gates))
        gate[0] = 1.0
        gate[1:] = cues[list(self.gates)]
        x = np.concatenate((np.outer(gate, logp).ravel(), cues))
        return x @ self._reordered(len(text_logits), len(cues)) + self.intercept

    def _reordered(self, n: int, m: int) -> np.ndarray:
        """``coef`` with its rows as [logp, gated logp…, cues] (cached: derived, read-only)."""
        cached = self.__dict__.get("_reordered_coef")
        if cached is None:
            coef = self.coef
            gated = [coef[n + m + k * n:n + m + (k + 1) * n] for k in range(len(self.gates))]
            cached = np.ascontiguousarray(np.vstack([coef[:n], *gated, coef[n:n + m]]))
            object.__setattr__(self, "_reordered_coef", cached)
        return cached


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
        index: np.ndarray
        tf: np.ndarray
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
    fusion: Fusion | None = None
    #: Class priors the calibrated probabilities assume (uniform for a model
    #: fitted with balanced class weights); ``None`` means uniform.
    priors: np.ndarray | None = None
    #: The feature strings this head reads: character n-grams of these lengths,
    #: plus jieba words when ``use_words`` (each head has its own).
    ngram_range: tuple[int, int] = (1, 3)
    use_words: bool = True

    def logits(self, index: np.ndarray, values: np.ndarray, cue_features: tuple[float, ...] | None = None) -> np.ndarray:
        """Raw scores of one message from its tf-idf columns and cue features."""
        out = values @ self.coef[index] + self.intercept if len(index) else self.intercept.copy()
        if self.cue_coef is not None and cue_features is not None:
            out = out + np.asarray(cue_features) @ self.cue_coef
        if self.fusion is not None and cue_features is not None:
            out = self.fusion.logits(out, np.asarray(cue_features, dtype=np.float64))[0]
        return out

    def train_priors(self) -> np.ndarray:
        """The class priors this head's probabilities assume."""
        if self.priors is None:
            return np.full(len(self.classes), 1.0 / len(self.classes))
        return np.asarray(self.priors, dtype=np.float64)

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

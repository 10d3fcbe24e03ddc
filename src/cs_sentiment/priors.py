"""Class priors: what the model assumes, what a deployment sets, and how to re-estimate them.

A classifier's calibrated probabilities assume the class frequencies it was
trained for (our models use balanced class weights, so every emotion and every
intent is assumed equally likely). Live chat is not balanced: most turns are
calm. Bayes' rule moves the probabilities to other priors without retraining::

    p'(y | x)  ∝  p(y | x) · π'(y) / π(y)

which for a softmax is a constant added to each logit. :func:`em_priors`
re-estimates π' on a user's own **unlabeled** messages with the EM procedure
of Saerens, Latinne & Decaestecker (2002), "Adjusting the outputs of a
classifier to new a priori probabilities: a simple procedure", Neural
Computation 14(1).

>>> import numpy as np
>>> proba = np.array([[0.99, 0.01], [0.02, 0.98], [0.97, 0.03], [0.9, 0.1]])  # three of four look like class 0
>>> np.round(em_priors(proba, np.array([0.5, 0.5])), 2).tolist()
[0.75, 0.25]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["PRIOR_FLOOR", "em_priors", "logit_shift", "read_priors"]

#: No class prior goes below this (a class never seen in a log may still occur;
#: a zero prior would make it impossible forever).
PRIOR_FLOOR = 1e-3
#: EM stops when no prior moves by more than this, or after this many rounds.
EM_TOLERANCE = 1e-6
EM_MAX_ITER = 500


def read_priors(value: Mapping[str, Any], classes: tuple[str, ...], name: str) -> np.ndarray:
    """Validate one head's priors ``{label: weight}`` and return them normalised, in ``classes`` order.

    Raises
    ------
    ValueError
        An unknown or missing label, a weight that is not a finite number ≥ 0, or all zero.

    >>> read_priors({"a": 3, "b": 1}, ("a", "b"), "intent").tolist()
    [0.75, 0.25]
    >>> read_priors({"a": 1, "c": 1}, ("a", "b"), "intent")
    Traceback (most recent call last):
    ...
    ValueError: priors['intent'] has unknown label 'c'; labels are a, b
    """
    if not isinstance(value, Mapping):
        raise ValueError(f"priors[{name!r}] must be a mapping of label to weight, got {type(value).__name__}")
    unknown = [k for k in value if k not in classes]
    if unknown:
        raise ValueError(f"priors[{name!r}] has unknown label {unknown[0]!r}; labels are {', '.join(classes)}")
    missing = [c for c in classes if c not in value]
    if missing:
        raise ValueError(f"priors[{name!r}] lacks label {missing[0]!r}; give a weight for each of {', '.join(classes)}")
    weights = []
    for c in classes:
        w = value[c]
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(w)) or w < 0:
            raise ValueError(f"priors[{name!r}][{c!r}] must be a finite number >= 0, got {w!r}")
        weights.append(float(w))
    total = sum(weights)
    if total <= 0:
        raise ValueError(f"priors[{name!r}] are all zero")
    out = np.maximum(np.asarray(weights) / total, PRIOR_FLOOR)
    return out / out.sum()


def logit_shift(target: np.ndarray, train: np.ndarray) -> np.ndarray:
    """What to add to calibrated log-probabilities to move them from ``train`` to ``target`` priors."""
    return np.log(target) - np.log(train)


def em_priors(proba: np.ndarray, train: np.ndarray, *, tol: float = EM_TOLERANCE,
              max_iter: int = EM_MAX_ITER) -> np.ndarray:
    """Priors of an unlabeled sample by EM (Saerens et al. 2002).

    Parameters
    ----------
    proba : (n_messages, n_classes) array
        Calibrated probabilities under the ``train`` priors.
    train : (n_classes,) array
        The priors ``proba`` assume.

    Returns
    -------
    (n_classes,) array
        The re-estimated priors (each at least :data:`PRIOR_FLOOR`, summing to 1).
    """
    if len(proba) == 0:
        return np.asarray(train, dtype=np.float64)
    pi = np.asarray(train, dtype=np.float64).copy()
    for _ in range(max_iter):
        w = proba * (pi / train)
        w /= w.sum(axis=1, keepdims=True)
        new = np.maximum(w.mean(axis=0), PRIOR_FLOOR)
        new /= new.sum()
        done = float(np.abs(new - pi).max()) < tol
        pi = new
        if done:
            break
    return pi

"""scikit-learn estimators for retraining: :class:`IntentClassifier` and :class:`EmotionClassifier`.

Both take raw message strings, follow scikit-learn's estimator contract
(parameters stored verbatim in ``__init__``, fitted state ending in ``_``,
``classes_``, ``get_params``/``set_params``, ``clone``), and work inside
``Pipeline``, ``cross_val_score`` and ``GridSearchCV``.

Both are TF-IDF over jieba words and character n-grams
(:class:`~cs_sentiment.features.FeatureAnalyzer`) + multinomial logistic
regression with balanced class weights (snips-nlu's recipe). The emotion
model also sees the lexicon cue features of :mod:`cs_sentiment.cues`.
Probabilities are calibrated by temperature scaling fitted on out-of-fold
decision scores.

>>> clf = IntentClassifier(cv=None).fit(
...     ["我要退款", "退货退款怎么弄", "什么时候发货", "快递到哪了"],
...     ["return_refund", "return_refund", "order_status", "order_status"])
>>> clf.predict(["怎么退款"]).tolist()
['return_refund']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar, cast

import numpy as np

from .extras import missing_extra

try:
    from scipy import sparse
    from scipy.optimize import minimize_scalar
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.utils.validation import check_is_fitted
except ImportError as _missing:  # pragma: no cover - a test hides the extra
    raise missing_extra(_missing, "train", "the scikit-learn estimators") from None

from .classifier import Fusion, LinearHead, Vectorizer, softmax
from .cues import CUE_FEATURE_NAMES, scan_text
from .exceptions import InvalidInputError
from .features import FeatureAnalyzer
from .lexicon import Lexicon
from .normalize import normalize

__all__ = ["EmotionClassifier", "IntentClassifier"]

#: Folds for the out-of-fold scores the stacker is fitted on when ``cv`` is off.
STACK_FOLDS = 5
#: Cue features that gate the n-gram log-probabilities in the stacker (see
#: :class:`~cs_sentiment.classifier.Fusion`).
FUSION_GATES = ("negated", "contrast", "sarcasm")


def _texts(X: Any, name: str = "X") -> list[str]:
    if isinstance(X, str):
        raise InvalidInputError(f"{name} must be a sequence of str, got a single str")
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1:
        X = X[:, 0]
    out = []
    for i, x in enumerate(X):
        if not isinstance(x, str):
            raise InvalidInputError(f"{name}[{i}] must be a str, got {type(x).__name__}")
        out.append(x)
    return out


def fit_temperature(logits: np.ndarray, y_index: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of ``softmax(logits / T)``."""

    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y_index)), y_index], 1e-12, None))))

    result: Any = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
    return float(result.x)


_Self = TypeVar("_Self", bound="_TextClassifier")


class _TextClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit/predict of the two text classifiers."""

    _uses_cues = False
    # the parameters, set by each subclass's __init__ (scikit-learn reads them from there)
    C: float
    class_weight: str | None
    max_iter: int
    ngram_range: tuple[int, int]
    use_words: bool
    sublinear_tf: bool
    binary: bool
    min_df: int
    cv: int | None
    random_state: int
    cue_weight: float = 1.0

    def _cue_matrix(self, normalized: list[str]) -> np.ndarray | None:
        return None

    def _design(self, normalized: list[str], fit: bool) -> sparse.csr_matrix:
        X = self.vectorizer_.fit_transform(normalized) if fit else self.vectorizer_.transform(normalized)
        cues = self._cue_matrix(normalized)
        if cues is not None:
            X = sparse.hstack([X, sparse.csr_matrix(cues * self.cue_weight)], format="csr")
        return cast(sparse.csr_matrix, X)

    def _new_model(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                                  random_state=self.random_state)

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags: the input is raw text (strings), not a numeric array."""
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"X_types": ["string"]}

    def fit(self: _Self, X: Iterable[str], y: Iterable[Any]) -> _Self:
        """Fit on raw messages ``X`` and labels ``y``; returns ``self``."""
        texts = _texts(X)
        labels = np.asarray(list(y))
        if labels.ndim != 1:
            raise ValueError(f"y must be one label per message, got shape {labels.shape}")
        if len(texts) != len(labels):
            raise ValueError(f"X and y have different lengths: {len(texts)} and {len(labels)}")
        if len(set(labels)) < 2:
            raise ValueError("y needs at least two classes")
        normalized = [normalize(t).text for t in texts]
        features: Any = FeatureAnalyzer((int(self.ngram_range[0]), int(self.ngram_range[1])), self.use_words)
        self.vectorizer_: Any = TfidfVectorizer(analyzer=features,
                                           sublinear_tf=self.sublinear_tf, binary=self.binary,
                                           min_df=self.min_df, lowercase=False)
        stacked = self._stacked()
        cues = None
        if stacked:
            design = self.vectorizer_.fit_transform(normalized)
            cues = self._cue_matrix(normalized)
        else:
            design = self._design(normalized, fit=True)
        self.model_: Any = self._new_model().fit(design, labels)
        self.classes_: np.ndarray = self.model_.classes_
        self.n_features_in_ = 1
        self.temperature_: float = 1.0
        self.fusion_model_: Any = None
        _, counts = np.unique(labels, return_counts=True)
        self.priors_: np.ndarray = (np.full(len(counts), 1.0 / len(counts)) if self.class_weight == "balanced"
                        else counts / counts.sum())
        folds = self._folds(labels)
        if stacked:
            if folds < 2:
                raise ValueError("the stacked emotion model needs at least two examples of every class")
            # Out-of-fold n-gram scores: the stacker learns how far the n-grams
            # can be trusted on messages they have not seen.
            oof = self._oof_logits(design, labels, folds, self._new_model)
            assert cues is not None  # a stacked head reads cues
            inputs = Fusion.inputs(oof, cues, self._gates())
            self.fusion_model_ = self._new_fusion().fit(inputs, labels)
            if self.cv:
                fused = self._oof_logits(inputs, labels, folds, self._new_fusion)
                self.temperature_ = fit_temperature(fused, np.searchsorted(self.classes_, labels))
        elif self.cv and folds >= 2:
            logits = self._oof_logits(design, labels, folds, self._new_model)
            self.temperature_ = fit_temperature(logits, np.searchsorted(self.classes_, labels))
        return self

    def _stacked(self) -> bool:
        return False

    def _gates(self) -> tuple[int, ...]:
        return ()

    def _new_fusion(self) -> LogisticRegression:
        raise NotImplementedError

    def _folds(self, labels: np.ndarray) -> int:
        _, counts = np.unique(labels, return_counts=True)
        return min(int(self.cv or STACK_FOLDS), int(counts.min()))

    def _oof_logits(self, design: Any, labels: np.ndarray, folds: int, new_model: Any) -> np.ndarray:
        """Out-of-fold decision scores, columns in ``classes_`` order."""
        logits = np.zeros((len(labels), len(self.classes_)))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        for train, test in splitter.split(np.zeros(len(labels)), labels):
            model = new_model().fit(design[train], labels[train])
            cols = np.searchsorted(self.classes_, model.classes_)
            logits[np.ix_(test, cols)] = _full_logits(model, design[test])
        return logits

    def decision_function(self, X: Iterable[str]) -> np.ndarray:
        """Uncalibrated class scores, columns in ``classes_`` order."""
        check_is_fitted(self, "model_")
        normalized = [normalize(t).text for t in _texts(X)]
        if getattr(self, "fusion_model_", None) is None:
            return _full_logits(self.model_, self._design(normalized, fit=False))
        text = _full_logits(self.model_, self.vectorizer_.transform(normalized))
        cues = self._cue_matrix(normalized)
        assert cues is not None  # a stacked head reads cues
        fusion: Any = self.fusion_model_
        return _full_logits(fusion, Fusion.inputs(text, cues, self._gates()))

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Calibrated probabilities, columns in ``classes_`` order."""
        return softmax(self.decision_function(X) / self.temperature_)

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """Most probable label of each message."""
        scores = self.decision_function(X)  # checks that the model is fitted
        return self.classes_[np.argmax(scores, axis=1)]

    def top_features(self, n: int = 20) -> dict[str, list[tuple[str, float]]]:
        """The ``n`` features with the largest weight for each class (what the model learned)."""
        check_is_fitted(self, "model_")
        names = list(self.vectorizer_.get_feature_names_out())
        if self._uses_cues and getattr(self, "fusion_model_", None) is None:
            names += [f"cue:{c}" for c in CUE_FEATURE_NAMES]
        coef = _full_coef(self.model_)
        out = {}
        for k, label in enumerate(self.classes_):
            order = np.argsort(-coef[k])[:n]
            out[str(label)] = [(names[j].replace("\x01", "w:"), round(float(coef[k, j]), 4)) for j in order]
        return out

    def to_head(self) -> LinearHead:
        """The fitted model as a numpy :class:`~cs_sentiment.classifier.LinearHead`."""
        check_is_fitted(self, "model_")
        vocabulary = {str(k): int(v) for k, v in self.vectorizer_.vocabulary_.items()}
        n_text = len(vocabulary)
        coef = _full_coef(self.model_)
        intercept = _full_intercept(self.model_)
        fusion_model = getattr(self, "fusion_model_", None)
        cue_coef = coef[:, n_text:].T * self.cue_weight if self._uses_cues and fusion_model is None else None
        fusion = None
        if fusion_model is not None:
            fusion = Fusion(np.ascontiguousarray(_full_coef(fusion_model).T), _full_intercept(fusion_model),
                            self._gates())
        return LinearHead(
            classes=tuple(str(c) for c in self.classes_),
            vectorizer=Vectorizer(vocabulary, np.asarray(self.vectorizer_.idf_, dtype=np.float64),
                                  bool(self.sublinear_tf), bool(self.binary)),
            # float32 precision, as saved: the fitted model and its saved copy predict identically.
            coef=np.ascontiguousarray(coef[:, :n_text].T.astype(np.float32).astype(np.float64)),
            intercept=intercept,
            cue_coef=None if cue_coef is None else np.ascontiguousarray(cue_coef),
            temperature=float(self.temperature_),
            meta={"params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}},
            fusion=fusion,
            priors=np.asarray(self.priors_, dtype=np.float64),
            ngram_range=(int(self.ngram_range[0]), int(self.ngram_range[1])),
            use_words=bool(self.use_words),
        )


def _full_coef(model: LogisticRegression) -> np.ndarray:
    if model.coef_.shape[0] == 1:  # binary: softmax([0, z]) == sigmoid(z)
        return np.vstack([np.zeros_like(model.coef_[0]), model.coef_[0]])
    return model.coef_


def _full_intercept(model: LogisticRegression) -> np.ndarray:
    if model.coef_.shape[0] == 1:
        return np.array([0.0, float(np.asarray(model.intercept_)[0])])
    return np.asarray(model.intercept_, dtype=np.float64)


def _full_logits(model: LogisticRegression, X: Any) -> np.ndarray:
    scores = model.decision_function(X)
    if scores.ndim == 1:
        return np.column_stack([np.zeros_like(scores), scores])
    return scores


class IntentClassifier(_TextClassifier):
    """Intent from raw text: TF-IDF (jieba words + character n-grams) + logistic regression.

    Parameters
    ----------
    C : float
        Inverse regularisation strength of the logistic regression.
    class_weight : "balanced" or None
        Re-weight classes inversely to their frequency.
    max_iter : int
        Solver iterations.
    ngram_range : (int, int)
        Character n-gram lengths.
    use_words : bool
        Add jieba words to the features.
    sublinear_tf : bool
        Use ``1 + log(tf)`` (when ``binary`` is false).
    binary : bool
        Count a feature once per message (default): short chat messages rarely
        repeat a feature, and it lets inference skip counting.
    min_df : int
        Drop features seen in fewer messages (2 by default: halves the model,
        same cross-validated F1 on our corpus).
    cv : int or None
        Folds for temperature calibration; ``None`` or 0 skips it.
    random_state : int
        Seed for the folds and the solver.
    """

    def __init__(self, *, C: float = 10.0, class_weight: str | None = "balanced", max_iter: int = 3000,
                 ngram_range: tuple[int, int] = (1, 2), use_words: bool = True, sublinear_tf: bool = False,
                 binary: bool = True, min_df: int = 2, cv: int | None = 5, random_state: int = 0):
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.ngram_range = ngram_range
        self.use_words = use_words
        self.sublinear_tf = sublinear_tf
        self.binary = binary
        self.min_df = min_df
        self.cv = cv
        self.random_state = random_state

    cue_weight: float = 1.0


class EmotionClassifier(_TextClassifier):
    """Emotion from raw text: TF-IDF + logistic regression, stacked with the lexicon cue features.

    Parameters are those of :class:`IntentClassifier`, plus:

    cue_weight : float
        Scale of the cue features against the L2-normalised tf-idf block
        (``fusion="features"`` only).
    lexicon_dir : str or None
        Lexicon folder for the cue features (default: the packaged lexicons).
    fusion : "stack" or "features"
        How the lexicon cues meet the n-grams. ``"stack"`` (default): a second
        logistic regression over the out-of-fold n-gram log-probabilities and
        the cue features decides (:class:`~cs_sentiment.classifier.Fusion`);
        ``"features"``: the cues are extra columns of one model.
    fusion_C : float
        Inverse regularisation strength of the stacker.
    """

    _uses_cues = True

    def __init__(self, *, C: float = 10.0, class_weight: str | None = "balanced", max_iter: int = 3000,
                 ngram_range: tuple[int, int] = (1, 2), use_words: bool = True, sublinear_tf: bool = False,
                 binary: bool = True, min_df: int = 2, cv: int | None = 5, random_state: int = 0, cue_weight: float = 1.0,
                 lexicon_dir: str | None = None, fusion: str = "stack", fusion_C: float = 1.0):
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.ngram_range = ngram_range
        self.use_words = use_words
        self.sublinear_tf = sublinear_tf
        self.binary = binary
        self.min_df = min_df
        self.cv = cv
        self.random_state = random_state
        self.cue_weight: float = cue_weight
        self.lexicon_dir = lexicon_dir
        self.fusion = fusion
        self.fusion_C = fusion_C

    def _stacked(self) -> bool:
        if self.fusion not in ("stack", "features"):
            raise ValueError(f"fusion must be 'stack' or 'features', got {self.fusion!r}")
        return self.fusion == "stack"

    def _gates(self) -> tuple[int, ...]:
        return tuple(CUE_FEATURE_NAMES.index(g) for g in FUSION_GATES)

    def _new_fusion(self) -> LogisticRegression:
        return LogisticRegression(C=self.fusion_C, class_weight=self.class_weight, max_iter=self.max_iter,
                                  random_state=self.random_state)

    def _cue_matrix(self, normalized: list[str]) -> np.ndarray:
        lexicon = _cached_lexicon(self.lexicon_dir)
        return np.array([scan_text(normalize(t), lexicon).features for t in normalized]) if normalized \
            else np.zeros((0, 0))


_LEXICONS: dict[str | None, Any] = {}


def _cached_lexicon(directory: str | None):
    if directory not in _LEXICONS:
        _LEXICONS[directory] = Lexicon.load(directory)
    return _LEXICONS[directory]

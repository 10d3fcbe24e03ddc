"""The scikit-learn estimator contract of IntentClassifier and EmotionClassifier (STYLE.md B6, issue 3)."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from cs_sentiment import EmotionClassifier, IntentClassifier, InvalidInputError
from cs_sentiment.cues import scan_text
from cs_sentiment.features import FeatureAnalyzer
from cs_sentiment.normalize import normalize

# Tiny training sets written for these tests: 6 messages per class, both scripts.
INTENT_DATA = [
    ("我要退款", "return_refund"), ("退货退款怎么弄", "return_refund"), ("钱什么时候退回来", "return_refund"),
    ("申請退款被拒絕了", "return_refund"), ("这个能退货吗", "return_refund"), ("退款還沒到帳", "return_refund"),
    ("什么时候发货", "order_status"), ("快递到哪了", "order_status"), ("物流一直不更新", "order_status"),
    ("包裹怎麼還沒到", "order_status"), ("快递单号是多少", "order_status"), ("幾天能送到", "order_status"),
    ("这个有什么颜色", "product_info"), ("尺寸是多大", "product_info"), ("支持快充吗", "product_info"),
    ("有沒有現貨", "product_info"), ("保修多久", "product_info"), ("適合幾歲的小孩", "product_info"),
]
EMOTION_DATA = [
    ("太失望了", "disappointed"), ("白买了，算了", "disappointed"), ("真的很失望", "disappointed"),
    ("好失望喔，白買了", "disappointed"), ("唉，又坏了，算了吧", "disappointed"), ("很遺憾，不會再買了", "disappointed"),
    ("谢谢，服务很好", "satisfied"), ("东西不错，很满意", "satisfied"), ("客服很耐心，点赞", "satisfied"),
    ("謝謝你們，很滿意", "satisfied"), ("收到了，质量很好", "satisfied"), ("效率很高，給你們按讚", "satisfied"),
    ("请问几点发货", "neutral"), ("我想问一下尺码", "neutral"), ("订单号是12345", "neutral"),
    ("請問有門市嗎", "neutral"), ("好的，知道了", "neutral"), ("地址是上海市", "neutral"),
]
INTENT_X, INTENT_Y = [t for t, _ in INTENT_DATA], [y for _, y in INTENT_DATA]
EMOTION_X, EMOTION_Y = [t for t, _ in EMOTION_DATA], [y for _, y in EMOTION_DATA]
HELD_OUT = ["退款到账了吗", "物流好慢啊", "有几种颜色", "呵呵", "服務很好，謝謝", "太失望了！！！", "", "😡😡"]

ESTIMATORS = [(IntentClassifier, INTENT_X, INTENT_Y), (EmotionClassifier, EMOTION_X, EMOTION_Y)]
IDS = ["intent", "emotion"]


@pytest.fixture(scope="module", params=ESTIMATORS, ids=IDS)
def fitted(request):
    """(fitted estimator with default calibration, X, y), once per class."""
    cls, X, y = request.param
    return cls().fit(X, y), X, y


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_estimator_is_a_classifier_with_mixins_in_order(cls, X, y):
    mro = cls.__mro__
    assert mro.index(ClassifierMixin) < mro.index(BaseEstimator)


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_get_params_returns_every_constructor_argument(cls, X, y):
    names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert sorted(cls().get_params()) == sorted(names)


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_clone_keeps_the_parameters(cls, X, y):
    est = cls(C=3.0, ngram_range=(1, 2), min_df=1, cv=None, random_state=7)
    assert clone(est).get_params() == est.get_params()
    assert clone(cls()).get_params() == cls().get_params()


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_init_stores_parameters_verbatim_without_validation(cls, X, y):
    est = cls(C="not a number", ngram_range=[1, 2])
    assert est.get_params()["C"] == "not a number"
    assert est.get_params()["ngram_range"] == [1, 2]


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_set_params_acts_like_the_constructor(cls, X, y):
    est = cls().set_params(C=2.5, cv=None)
    assert est.get_params() == cls(C=2.5, cv=None).get_params()


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_fit_returns_self(cls, X, y):
    est = cls(cv=None)
    assert est.fit(X, y) is est
    check_is_fitted(est)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function", "to_head", "top_features"])
@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_unfitted_estimator_raises_not_fitted_error(cls, X, y, method):
    est = cls()
    with pytest.raises(NotFittedError):
        call = getattr(est, method)
        call(["我要退款"]) if method in ("predict", "predict_proba", "decision_function") else call()


def test_predict_proba_columns_follow_classes(fitted):
    est, X, y = fitted
    assert list(est.classes_) == sorted(set(y))
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), len(est.classes_))
    assert list(est.classes_[proba.argmax(axis=1)]) == list(est.predict(X))
    # the training messages are learned: each one's own label has the largest column
    assert np.mean(est.classes_[proba.argmax(axis=1)] == np.asarray(y)) == 1.0


def test_probabilities_are_in_range_and_sum_to_one(fitted):
    est, _, _ = fitted
    proba = est.predict_proba(HELD_OUT)
    assert np.all((proba >= 0) & (proba <= 1))
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_calibration_fits_a_positive_temperature(fitted):
    est, _, _ = fitted
    assert est.temperature_ > 0
    assert np.allclose(est.predict_proba(HELD_OUT).argmax(axis=1), est.decision_function(HELD_OUT).argmax(axis=1))


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_refit_forgets_the_previous_fit(cls, X, y):
    est = cls(cv=None).fit(X, y)
    keep = [k for k, label in enumerate(y) if label != y[0]]
    est.fit([X[k] for k in keep], [y[k] for k in keep])
    assert y[0] not in set(est.classes_)
    assert est.predict_proba(HELD_OUT).shape[1] == len(set(y)) - 1


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_predict_returns_the_labels_given_to_fit(cls, X, y):
    codes = {label: k for k, label in enumerate(sorted(set(y)))}
    est = cls(cv=None).fit(X, [codes[label] for label in y])
    assert list(est.classes_) == sorted(codes.values())
    assert set(est.predict(X)) <= set(codes.values())


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_works_inside_a_pipeline(cls, X, y):
    pipe = Pipeline([("clf", cls(cv=None))]).fit(X, y)
    assert list(pipe.predict(X)) == list(y)
    assert pipe.predict_proba(HELD_OUT).shape == (len(HELD_OUT), len(set(y)))


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_works_with_cross_val_score(cls, X, y):
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_val_score(cls(cv=None), X, y, cv=folds, error_score="raise")
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_works_with_grid_search(cls, X, y):
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(Pipeline([("clf", cls(cv=None))]),
                          {"clf__C": [1.0, 10.0], "clf__ngram_range": [(1, 2), (1, 3)]}, cv=folds,
                          error_score="raise").fit(X, y)
    assert search.best_params_["clf__C"] in (1.0, 10.0)
    assert search.best_estimator_.predict(HELD_OUT).shape == (len(HELD_OUT),)


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_same_random_state_gives_identical_outputs(cls, X, y):
    first = cls(random_state=3).fit(X, y)
    second = cls(random_state=3).fit(X, y)
    assert first.temperature_ == second.temperature_
    assert np.array_equal(first.predict_proba(HELD_OUT), second.predict_proba(HELD_OUT))


def test_pickle_round_trip_gives_identical_probabilities(fitted):
    est, _, _ = fitted
    again = pickle.loads(pickle.dumps(est))
    assert np.array_equal(again.predict_proba(HELD_OUT), est.predict_proba(HELD_OUT))


def test_numpy_head_predicts_like_scikit_learn_on_held_out_messages(fitted, lexicon):
    est, _, _ = fitted
    head = est.to_head()
    analyzer = FeatureAnalyzer(tuple(est.ngram_range), est.use_words)
    texts = [normalize(t).text for t in HELD_OUT]
    cues = None
    if head.cue_coef is not None or head.fusion is not None:
        cues = np.array([scan_text(normalize(t), lexicon).features for t in texts])
    numpy_proba = head.predict_proba_many([analyzer(t) for t in texts], cues)
    assert head.classes == tuple(est.classes_)
    assert np.allclose(numpy_proba, est.predict_proba(HELD_OUT))


def test_top_features_lists_what_each_class_learned(fitted):
    est, _, _ = fitted
    top = est.top_features(5)
    assert set(top) == set(est.classes_)
    assert all(len(items) == 5 for items in top.values())


@pytest.mark.parametrize(("X", "message"), [("我要退款", "single str"), (["我要退款", None], "X\\[1\\]"),
                                             (["我要退款", b"bytes"], "bytes")])
def test_input_that_is_not_a_list_of_str_is_a_type_error(fitted, X, message):
    est, _, _ = fitted
    with pytest.raises(InvalidInputError, match=message):
        est.predict_proba(X)


@pytest.mark.parametrize(("cls", "X", "y"), ESTIMATORS, ids=IDS)
def test_fit_rejects_mismatched_lengths_and_a_single_class(cls, X, y):
    with pytest.raises(ValueError, match="lengths"):
        cls(cv=None).fit(X, y[:-1])
    with pytest.raises(ValueError, match="two classes"):
        cls(cv=None).fit(X, [y[0]] * len(X))

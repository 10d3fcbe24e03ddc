"""Class priors: explicit, validated, movable without retraining, and re-estimated by EM (issue 7)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cs_sentiment import Analyzer
from cs_sentiment.priors import PRIOR_FLOOR, em_priors, logit_shift, read_priors

CALM_LOG = ["好的", "嗯嗯", "收到", "没有了", "订单号发你了", "明天能到吗", "好的谢谢", "在吗", "那我等通知",
            "地址是[地址x]", "[订单x]", "行 知道了"]


def test_em_recovers_the_priors_of_a_shifted_sample():
    rng = np.random.default_rng(0)
    # A calibrated two-class model under uniform training priors, applied to a sample that is 80% class 0.
    truth = rng.random(4000) < 0.8
    score = np.where(truth, rng.normal(1.0, 1.0, 4000), rng.normal(-1.0, 1.0, 4000))
    p0 = 1 / (1 + np.exp(-2 * score))
    proba = np.column_stack([p0, 1 - p0])
    estimated = em_priors(proba, np.array([0.5, 0.5]))
    assert abs(estimated[0] - 0.8) < 0.03


def test_em_on_an_empty_sample_keeps_the_training_priors():
    assert em_priors(np.zeros((0, 3)), np.array([0.2, 0.3, 0.5])).tolist() == [0.2, 0.3, 0.5]


def test_em_priors_stay_above_the_floor_and_sum_to_one():
    proba = np.array([[1.0, 0.0, 0.0]] * 50)
    pi = em_priors(proba, np.full(3, 1 / 3))
    assert math.isclose(pi.sum(), 1.0) and pi.min() >= PRIOR_FLOOR * 0.99


def test_logit_shift_is_zero_for_the_training_priors():
    assert np.allclose(logit_shift(np.array([0.3, 0.7]), np.array([0.3, 0.7])), 0.0)


@pytest.mark.parametrize(("value", "message"), [
    ({"a": 1, "z": 1}, "unknown label 'z'"),
    ({"a": 1}, "lacks label 'b'"),
    ({"a": -1, "b": 1}, r"priors\['emotion'\]\['a'\] must be a finite number"),
    ({"a": float("nan"), "b": 1}, "finite"),
    ({"a": True, "b": 1}, "finite"),
    ({"a": 0, "b": 0}, "all zero"),
    ([0.5, 0.5], "must be a mapping"),
])
def test_bad_priors_are_a_value_error_naming_the_problem(value, message):
    with pytest.raises(ValueError, match=message):
        read_priors(value, ("a", "b"), "emotion")


def test_priors_accept_numpy_numbers_and_normalise():
    assert read_priors({"a": np.int64(1), "b": np.float32(3)}, ("a", "b"), "x").tolist() == [0.25, 0.75]


def test_analyzer_states_its_priors_and_they_sum_to_one(analyzer):
    priors = analyzer.priors
    assert set(priors) == {"emotion", "intent"}
    for head in priors.values():
        assert math.isclose(sum(head.values()), 1.0, rel_tol=1e-9)


def test_shipped_default_priors_expect_calm_chat_most(analyzer):
    emotion = analyzer.priors["emotion"]
    assert max(emotion, key=emotion.get) == "neutral" and emotion["neutral"] > 1 / 8
    assert analyzer.model.manifest["priors"]["source"]


def test_train_priors_are_the_uniform_priors_of_balanced_training(analyzer):
    balanced = analyzer.with_priors("train")
    assert all(math.isclose(p, 1 / 8) for p in balanced.priors["emotion"].values())
    assert all(math.isclose(p, 1 / 11) for p in balanced.priors["intent"].values())


def test_with_priors_moves_probabilities_by_bayes_rule(analyzer):
    balanced = analyzer.with_priors("train")
    message = "我上周五下的订单到现在还没有发货，请问什么时候能到"  # long: no short-message rule
    p = balanced.analyze(message).emotion_scores
    target = dict.fromkeys(p, 1.0)
    target["neutral"] = 9.0
    moved = analyzer.with_priors({"emotion": target}).analyze(message).emotion_scores
    expected = {k: v * target[k] for k, v in p.items()}
    total = sum(expected.values())
    for k in p:
        assert math.isclose(moved[k], expected[k] / total, rel_tol=1e-6, abs_tol=1e-9)


def test_with_priors_shares_the_model_and_leaves_the_original_alone(analyzer):
    before = analyzer.priors
    other = analyzer.with_priors("train")
    assert other.model is analyzer.model and other.lexicon is analyzer.lexicon
    assert analyzer.priors == before


@pytest.mark.parametrize(("priors", "message"), [
    ({"sentiment": {}}, "unknown key 'sentiment'"),
    ("uniform", "must be 'default', 'train' or a mapping"),
    ({"emotion": {"neutral": 1}}, "lacks label"),
])
def test_bad_priors_argument_is_a_clear_error(priors, message):
    with pytest.raises(ValueError, match=message):
        Analyzer.default().with_priors(priors)


def test_adapt_priors_on_a_calm_log_raises_the_calm_prior(analyzer):
    balanced = analyzer.with_priors("train")
    adapted = balanced.adapt_priors(CALM_LOG * 3)
    assert adapted.priors["emotion"]["neutral"] > 0.5
    assert adapted.priors["intent"]["other"] > balanced.priors["intent"]["other"]


def test_adapt_priors_on_an_angry_log_raises_the_angry_prior(analyzer):
    angry = ["你们这什么破服务，我要投诉！", "垃圾客服，气死我了", "骗子！！退钱", "无法接受，我要去12315"] * 3
    balanced = analyzer.with_priors("train")
    assert balanced.adapt_priors(angry).priors["emotion"]["angry"] > 0.3


def test_adapt_priors_skips_blank_messages_and_refuses_a_single_string(analyzer):
    from cs_sentiment import InvalidInputError

    adapted, balanced = analyzer.adapt_priors(["", "   "]).priors, analyzer.with_priors("train").priors
    for head in ("emotion", "intent"):
        assert adapted[head] == pytest.approx(balanced[head])
    with pytest.raises(InvalidInputError, match="single str"):
        analyzer.adapt_priors("好的")
    with pytest.raises(InvalidInputError, match=r"messages\[1\]"):
        analyzer.adapt_priors(["好的", 3])

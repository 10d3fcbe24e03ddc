"""fit and train: each head keeps its own parameters, one head can be refitted, results come back whole."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cs_sentiment import Analyzer
from cs_sentiment.training import TrainingResult, fit, train

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "samples" / "corpus.csv"


@pytest.fixture(scope="module")
def sample():
    import pandas as pd

    with CORPUS.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] in ("train", "test")]
    frame = pd.DataFrame(rows)
    train_rows = frame[frame.split == "train"].groupby("emotion", group_keys=False).head(60)
    test_rows = frame[frame.split == "test"].head(120)
    return pd.concat([train_rows, test_rows], ignore_index=True)


def test_each_head_serves_the_predictions_of_its_own_estimator(sample):
    # given: the intent head reads characters only, the emotion head words too
    result = fit(sample, cv=None, intent_params={"use_words": False})
    model = result.analyzer.model
    assert (model.emotion.use_words, model.intent.use_words) == (True, False)
    # when: long messages (no short-message rule), the training priors
    analyzer = result.analyzer.with_priors("train")
    texts = [t for t in sample.text if len(t) > 20][:150]
    served = [analyzer.analyze(t).emotion.value for t in texts]
    own = result.estimators["emotion"].predict(texts)
    served_intent = [str(analyzer.analyze(t).intent) for t in texts]
    own_intent = result.estimators["intent"].predict(texts)
    # then
    assert served == list(own)
    assert served_intent == list(own_intent)


def test_one_head_is_refitted_and_the_other_kept_from_the_base_model(sample):
    base = Analyzer.default()
    result = fit(sample, heads=["intent"], cv=None, base=base)
    assert sorted(result.estimators) == ["intent"]
    kept, refit = result.analyzer.model.emotion, result.analyzer.model.intent
    assert kept is base.model.emotion
    assert refit is not base.model.intent
    assert result.analyzer.model.manifest["base"]["kept"] == ["emotion"]
    message = "等了一个星期还没发货，太失望了"
    # the base shares one float32 matrix across heads, the new model cannot: equal to 1e-6
    assert result.analyzer.analyze(message).emotion_scores == pytest.approx(base.analyze(message).emotion_scores,
                                                                            abs=1e-6)


def test_fit_returns_the_test_report_and_the_cross_validated_scores(sample):
    result = fit(sample, cv=None, cv_folds=3)
    assert isinstance(result, TrainingResult)
    assert result.report is not None and result.report["n"] == (sample.split == "test").sum()
    assert set(result.cross_validation) == {"emotion", "intent"}
    assert 0 < result.cross_validation["emotion"]["macro_f1_mean"] <= 1
    assert result.analyzer.model.manifest["cross_validation"] == result.cross_validation
    assert not hasattr(result.analyzer, "report_") and not hasattr(result.analyzer, "estimators_")


def test_train_is_fit_returning_the_analyzer(sample):
    analyzer = train(sample, cv=None, heads=["emotion"])
    assert isinstance(analyzer, Analyzer)


@pytest.mark.parametrize("heads", [[], ["sentiment"]])
def test_unknown_heads_are_an_error_naming_them(sample, heads):
    with pytest.raises(ValueError, match="heads"):
        fit(sample, heads=heads)


def test_figures_are_returned_without_touching_the_pyplot_backend(sample):
    matplotlib = pytest.importorskip("matplotlib")
    from cs_sentiment.plots import calibration_figure, confusion_figure

    before = matplotlib.get_backend()
    report = fit(sample, cv=None).report
    figures = [confusion_figure(report), calibration_figure(report)]
    assert all(type(f).__name__ == "Figure" for f in figures)
    assert matplotlib.get_backend() == before
    assert np.array(report["emotion"]["confusion"]["matrix"]).sum() == report["n"]

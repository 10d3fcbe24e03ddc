"""The formulas: intensity, valence, escalation, unsure readings, short messages."""

from __future__ import annotations

import math

import pytest

from cs_sentiment import scoring
from cs_sentiment.results import Cue


def test_intensity_grows_with_cue_strength_and_emphasis_and_stays_in_range():
    values = [scoring.intensity(s, 0.0, e, 1.0, 0.0, 0.5, neutral=False) for s, e in ((0, 0), (0.5, 0), (0.5, 0.6), (9, 9))]
    assert values == sorted(values) and all(0.0 <= v <= 1.0 for v in values)


def test_a_calm_reading_is_capped_and_softeners_damp():
    assert scoring.intensity(2.0, 0.0, 1.0, 1.0, 0.0, 0.0, neutral=True) == scoring.NEUTRAL_INTENSITY_CAP
    assert scoring.intensity(0.8, 0.0, 0.3, 0.5, 0.0, 0.5, neutral=False) < scoring.intensity(
        0.8, 0.0, 0.3, 1.0, 0.0, 0.5, neutral=False)


def test_a_calm_first_message_has_about_five_percent_escalation_risk():
    assert scoring.escalation_risk(0, 0, 0, 0, 0, 0) == pytest.approx(1 / (1 + math.exp(3.0)))
    assert scoring.escalation_risk(1.0, 0.9, 0.9, 0.8, 0.5, -0.8) > 0.9


def test_valence_mixes_the_lexicon_in_only_when_it_has_evidence():
    assert scoring.valence(0.0, -0.4) == -0.4
    assert scoring.valence(0.8, -0.4) == pytest.approx(0.5 * 0.8 + 0.5 * -0.4)


def test_a_short_message_keeps_a_feeling_only_with_a_cue_for_it():
    classes = ("neutral", "angry")
    p, top, cue = scoring.support_short([0.4, 0.6], 1, (), classes, 0)
    assert top == 0 and sum(p) == pytest.approx(1.0) and cue is not None and cue.label == "unsupported"
    keyword = Cue("keyword", "气死", 0, 2, 0.9, "angry")
    assert scoring.support_short([0.4, 0.6], 1, (keyword,), classes, 0) == ([0.4, 0.6], 1, None)


def test_two_close_intents_are_unsure_and_a_clear_second_request_is_reported():
    assert scoring.unsure(0.9, 0.45, 0.44, 0.35, 0.08)
    assert not scoring.unsure(0.9, 0.8, 0.1, 0.35, 0.08)
    assert scoring.two_requests("return_refund", "complaint", 0.5, 0.4)
    assert not scoring.two_requests("return_refund", "other", 0.5, 0.4)
    assert not scoring.two_requests("return_refund", "complaint", 0.9, 0.1)


def test_softmax_is_a_distribution_at_any_temperature():
    for t in (0.5, 1.0, 3.0):
        assert sum(scoring.softmax([2.0, -1.0, 0.5], t)) == pytest.approx(1.0)

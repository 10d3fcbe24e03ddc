"""Context: validation of the optional keys and the evidence each signal adds."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import datetime, timezone

import pytest

from cs_sentiment import Context, CsSentimentError, InvalidContextError
from cs_sentiment.context import CONTEXT_KEYS

VALID_KEYS = ("customer_baseline_cps", "history", "previous_complaints", "seconds_since_last", "typing_seconds")
MESSAGE = "东西到底什么时候到"  # 9 characters


def _context_cues(result, kind=None, label=None):
    return [c for c in result.evidence if c.start is None
            and (kind is None or c.kind == kind) and (label is None or c.label == label)]


# --- validation -------------------------------------------------------------------
def test_context_keys_are_the_taxonomy_keys():
    assert sorted(CONTEXT_KEYS) == list(VALID_KEYS)


def test_mapping_is_validated_into_a_frozen_context():
    ctx = Context.from_value({"history": ["在吗", {"text": "东西坏了", "ts": 1_700_000_000}], "typing_seconds": 3,
                              "seconds_since_last": 12.5, "previous_complaints": 1, "customer_baseline_cps": 2})
    assert ctx.history == ("在吗", "东西坏了")
    assert ctx.history_ts == (None, 1_700_000_000.0)
    assert (ctx.typing_seconds, ctx.seconds_since_last, ctx.previous_complaints, ctx.customer_baseline_cps) == (
        3.0, 12.5, 1, 2.0)
    with pytest.raises(FrozenInstanceError):
        ctx.typing_seconds = 1.0  # type: ignore[misc]


def test_history_timestamps_may_be_datetimes():
    when = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    ctx = Context.from_value({"history": [{"text": "在吗", "ts": when}]})
    assert ctx.history_ts == (when.timestamp(),)


def test_none_and_empty_mapping_are_an_empty_context():
    assert Context.from_value(None) == Context.from_value({}) == Context()


def test_context_passes_through_and_round_trips_through_to_dict():
    ctx = Context(history=("在吗", "东西坏了"), typing_seconds=2.0, previous_complaints=2)
    assert Context.from_value(ctx) is ctx
    assert Context.from_value(ctx.to_dict()) == ctx


def test_mapping_and_context_dataclass_give_the_same_analysis(analyzer):
    mapping = {"history": ["在吗", "东西坏了"], "typing_seconds": 2.0, "seconds_since_last": 400.0,
               "previous_complaints": 1, "customer_baseline_cps": 1.5}
    assert analyzer.analyze(MESSAGE, mapping) == analyzer.analyze(MESSAGE, Context(**mapping))


def test_unknown_key_is_a_value_error_naming_it_and_the_valid_keys(analyzer):
    with pytest.raises(InvalidContextError) as info:
        analyzer.analyze(MESSAGE, {"typing_secs": 3})
    assert isinstance(info.value, ValueError) and isinstance(info.value, CsSentimentError)
    assert "'typing_secs'" in str(info.value)
    assert all(key in str(info.value) for key in VALID_KEYS)


@pytest.mark.parametrize(("key", "value"), [
    ("typing_seconds", "3"),
    ("typing_seconds", True),
    ("typing_seconds", [3]),
    ("seconds_since_last", "long"),
    ("customer_baseline_cps", {"cps": 2}),
    ("previous_complaints", 1.5),
    ("previous_complaints", "2"),
    ("previous_complaints", True),
    ("history", "在吗"),
    ("history", 5),
    ("history", [1, 2]),
    ("history", [{"txt": "在吗"}]),
    ("history", [{"text": "在吗", "ts": "yesterday"}]),
    ("history", [{"text": "在吗", "ts": 1.0, "role": "customer"}]),
])
def test_wrong_type_is_an_error_naming_the_key(analyzer, key, value):
    with pytest.raises(InvalidContextError, match=key):
        analyzer.analyze(MESSAGE, {key: value})


@pytest.mark.parametrize(("key", "value"), [
    ("typing_seconds", -1.0),
    ("typing_seconds", 0),
    ("typing_seconds", float("nan")),
    ("seconds_since_last", -5),
    ("seconds_since_last", float("inf")),
    ("previous_complaints", -1),
    ("customer_baseline_cps", -0.5),
    ("customer_baseline_cps", 0.0),
])
def test_negative_or_invalid_number_is_a_value_error_naming_the_key(analyzer, key, value):
    with pytest.raises(ValueError, match=key):
        analyzer.analyze(MESSAGE, {key: value})


def test_context_dataclass_validates_like_a_mapping():
    with pytest.raises(InvalidContextError, match="typing_seconds"):
        Context(typing_seconds=-1.0)
    with pytest.raises(InvalidContextError, match="history"):
        Context(history="在吗")  # type: ignore[arg-type]


def test_whole_number_float_complaint_count_is_accepted():
    assert Context(previous_complaints=2.0).previous_complaints == 2  # type: ignore[arg-type]


@pytest.mark.parametrize("context", [["typing_seconds", 3], "typing_seconds=3", 3])
def test_context_that_is_not_a_mapping_is_an_error_naming_its_type(analyzer, context):
    with pytest.raises(InvalidContextError, match=type(context).__name__):
        analyzer.analyze(MESSAGE, context)


# --- signals ----------------------------------------------------------------------
def test_fast_typing_raises_intensity_and_shows_in_evidence(analyzer):
    calm = analyzer.analyze(MESSAGE)
    fast = analyzer.analyze(MESSAGE, {"typing_seconds": 1.5})  # 6 characters a second vs 1.2
    assert _context_cues(fast, "typing_speed")
    assert fast.intensity > calm.intensity


def test_slow_typing_adds_nothing(analyzer):
    assert not _context_cues(analyzer.analyze(MESSAGE, {"typing_seconds": 30.0}), "typing_speed")


def test_typing_speed_is_judged_against_the_customers_baseline(analyzer):
    speed = {"typing_seconds": 3.0}  # 3 characters a second
    assert _context_cues(analyzer.analyze(MESSAGE, {**speed, "customer_baseline_cps": 1.0}), "typing_speed")
    assert not _context_cues(analyzer.analyze(MESSAGE, {**speed, "customer_baseline_cps": 3.0}), "typing_speed")


def test_a_paste_is_not_fast_typing(analyzer):
    assert not _context_cues(analyzer.analyze(MESSAGE, {"typing_seconds": 0.1}), "typing_speed")


def test_long_silence_raises_intensity_and_escalation_risk(analyzer):
    short = analyzer.analyze(MESSAGE, {"seconds_since_last": 20.0})
    long = analyzer.analyze(MESSAGE, {"seconds_since_last": 3 * 3600.0})
    assert not _context_cues(short, "pause")
    assert _context_cues(long, "pause")
    assert long.intensity > short.intensity
    assert long.escalation_risk > short.escalation_risk


def test_repeated_message_in_history_shows_and_raises_escalation_risk(analyzer):
    first = analyzer.analyze(MESSAGE, {"history": ["在吗"]})
    again = analyzer.analyze(MESSAGE, {"history": ["在吗", MESSAGE, MESSAGE]})
    assert _context_cues(again, "history", "repeated")
    assert not _context_cues(first, "history", "repeated")
    assert again.escalation_risk > first.escalation_risk


def test_near_duplicate_message_counts_as_a_repeat(analyzer):
    result = analyzer.analyze("我的快递到底什么时候到啊", {"history": ["我的快递到底什么时候到"]})
    assert _context_cues(result, "history", "repeated")


def test_negative_trend_in_history_shows_in_evidence(analyzer):
    result = analyzer.analyze(MESSAGE, {"history": ["太差了", "气死我了", "完全无法接受"]})
    assert _context_cues(result, "history", "negative_trend")


def test_complaint_record_raises_escalation_risk_monotonically(analyzer):
    risks = [analyzer.analyze(MESSAGE, {"previous_complaints": n}).escalation_risk for n in (0, 1, 3)]
    assert risks[0] < risks[1] < risks[2]
    assert _context_cues(analyzer.analyze(MESSAGE, {"previous_complaints": 3}), "escalation", "complaint_history")


def test_context_cues_have_no_span(analyzer):
    result = analyzer.analyze(MESSAGE, {"history": ["太差了", "气死我了", MESSAGE], "typing_seconds": 1.5,
                                        "seconds_since_last": 4000.0, "previous_complaints": 2})
    kinds = {c.kind for c in _context_cues(result)}
    assert kinds == {"typing_speed", "pause", "history", "escalation"}
    assert all(c.end is None for c in _context_cues(result))


def test_context_counts_for_a_blank_message_too(analyzer):
    assert analyzer.analyze("", {"previous_complaints": 4}).escalation_risk > analyzer.analyze("").escalation_risk


@pytest.mark.parametrize("history, stamps, since, typing", [
    ((), (), None, None),
    (("在吗", "怎么还没发货"), (1.0, None), 30.0, 4.5),
    (("长" * 5000,), (2.0,), 0.0, None),           # an over-long history item is capped the same way
    (("a", "b"), (1.0,), None, 1),                 # stamps of another length are dropped the same way
])
def test_the_row_engines_context_equals_the_validated_one(history, stamps, since, typing):
    assert Context.of_turn(history, stamps, since, typing) == Context(
        history=history, history_ts=stamps, seconds_since_last=since, typing_seconds=typing)


def test_the_row_engines_context_still_refuses_a_zero_typing_time_or_a_negative_pause():
    with pytest.raises(InvalidContextError, match="typing_seconds"):
        Context.of_turn((), (), None, 0.0)
    with pytest.raises(InvalidContextError, match="seconds_since_last"):
        Context.of_turn((), (), -1.0, None)

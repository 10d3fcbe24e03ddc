"""analyze_conversation: context from earlier turns, peak, trajectory, turning points, flagged agent turns."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

import cs_sentiment
from cs_sentiment import Analyzer, Context, Emotion, analyze_conversation
from cs_sentiment.conversation import (
    HISTORY_WINDOW,
    ConversationAnalysis,
    Trajectory,
    mood,
    role_is_agent,
    to_epoch_seconds,
)


class Spy:
    """An analyzer that records the (text, context) of each call and answers with a real analysis."""

    def __init__(self):
        self.calls: list[tuple[str, Context]] = []

    def analyze(self, text, context=None):
        self.calls.append((text, Context.from_value(context)))
        return Analyzer.default().analyze(text, context)


class Scripted:
    """An analyzer whose answers are given in advance: (emotion, valence, intensity, risk[, evidence])."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.base = Analyzer.default().analyze("你好")

    def analyze(self, text, context=None):
        emotion, valence, intensity, risk, *evidence = self.answers.pop(0)
        return replace(self.base, emotion=Emotion(emotion), valence=valence, intensity=intensity,
                       escalation_risk=risk, evidence=tuple(evidence[0]) if evidence else ())


def test_importable_from_the_package():
    assert cs_sentiment.analyze_conversation is analyze_conversation
    assert cs_sentiment.ConversationAnalysis is ConversationAnalysis


def test_only_customer_turns_are_analysed_in_order():
    # given
    spy = Spy()
    turns = [{"role": "customer", "text": "在吗"}, {"role": "agent", "text": "您好，请问有什么可以帮您"},
             {"role": "customer", "text": "我的快递到哪了"}, "好的谢谢"]
    # when
    conv = analyze_conversation(turns, analyzer=spy)
    # then
    assert [text for text, _ in spy.calls] == ["在吗", "我的快递到哪了", "好的谢谢"]
    assert conv.turn_indices == (0, 2, 3)
    assert len(conv.turns) == len(conv.moods) == 3


def test_history_holds_earlier_customer_turns_only_with_their_times():
    spy = Spy()
    analyze_conversation([{"text": "东西坏了", "ts": 100}, {"role": "agent", "text": "抱歉", "ts": 110},
                          {"text": "能换吗", "ts": 130}], analyzer=spy)
    first, second = spy.calls[0][1], spy.calls[1][1]
    assert first.history == ()
    assert second.history == ("东西坏了",)
    assert second.history_ts == (100.0,)


def test_silence_counts_from_the_previous_turn_of_either_side():
    spy = Spy()
    analyze_conversation([{"text": "在吗", "ts": 0}, {"role": "agent", "text": "在的", "ts": 2000},
                          {"text": "我要退货", "ts": 2030}, {"text": "人呢", "ts": 4000}], analyzer=spy)
    assert [ctx.seconds_since_last for _, ctx in spy.calls] == [None, 30.0, 1970.0]


def test_long_wait_after_the_agent_reply_adds_a_pause_cue():
    conv = analyze_conversation([{"text": "我的退款到账了吗", "ts": 0}, {"role": "agent", "text": "请稍等", "ts": 10},
                                 {"text": "到底到账了没有", "ts": 3610}])
    assert any(c.kind == "pause" for c in conv.turns[1].evidence)


def test_typing_seconds_reaches_the_context():
    spy = Spy()
    analyze_conversation([{"text": "快点处理", "typing_seconds": 1.5}], analyzer=spy)
    assert spy.calls[0][1].typing_seconds == 1.5


def test_customer_record_reaches_every_turn():
    spy = Spy()
    analyze_conversation(["在吗", "退款呢"], analyzer=spy, previous_complaints=2, customer_baseline_cps=2.5)
    assert all(ctx.previous_complaints == 2 and ctx.customer_baseline_cps == 2.5 for _, ctx in spy.calls)


def test_history_is_limited_to_the_window():
    spy = Spy()
    analyze_conversation([f"第{i}个问题" for i in range(HISTORY_WINDOW + 5)], analyzer=spy)
    last = spy.calls[-1][1]
    assert len(last.history) == HISTORY_WINDOW
    assert last.history[-1] == f"第{HISTORY_WINDOW + 3}个问题"


def test_repeated_message_raises_intensity_and_carries_a_history_cue():
    # given: the same question three times, each after a long silence
    turns = [{"text": "我的快递什么时候到？", "ts": t} for t in (0, 2000, 5000)]
    # when
    conv = analyze_conversation(turns)
    # then
    intensities = [a.intensity for a in conv.turns]
    assert intensities[0] < intensities[1] <= intensities[2]
    assert any(c.kind == "history" and c.label == "repeated" for c in conv.turns[-1].evidence)


def test_customer_who_gets_angrier_escalates():
    conv = analyze_conversation([
        {"text": "请问退款什么时候到账？", "ts": 0},
        {"role": "agent", "text": "这个不归我管，你自己去问银行。", "ts": 30},
        {"text": "你这是什么态度？我要投诉你，还要去12315举报你们！！", "ts": 60},
    ])
    assert conv.trajectory is Trajectory.ESCALATING
    assert conv.flagged_agent_turns == (1,)
    assert conv.escalation_risk == conv.turns[-1].escalation_risk > conv.turns[0].escalation_risk


def test_customer_who_is_helped_calms_down():
    conv = analyze_conversation([
        {"text": "我的订单显示已签收，可是我根本没收到！", "ts": 0},
        {"role": "agent", "text": "非常抱歉，我马上帮您联系快递核实", "ts": 40},
        {"text": "收到了，谢谢你，服务很好", "ts": 900},
    ])
    assert conv.trajectory is Trajectory.CALMING
    assert conv.flagged_agent_turns == ()


@pytest.mark.parametrize(("moods", "risks", "expected"), [
    ([(0.0, 0.1), (-0.8, 0.9)], [0.05, 0.05], Trajectory.ESCALATING),
    ([(-0.8, 0.9), (0.8, 0.9)], [0.05, 0.05], Trajectory.CALMING),
    ([(-0.5, 0.8), (-0.5, 0.8)], [0.1, 0.8], Trajectory.ESCALATING),  # same mood, risk jumps
    ([(-0.2, 0.5), (-0.25, 0.5), (-0.2, 0.5)], [0.1, 0.1, 0.1], Trajectory.STABLE),
    ([(-0.9, 0.9)], [0.9], Trajectory.STABLE),  # one turn is no trend
])
def test_trajectory_compares_the_end_with_the_start(moods, risks, expected):
    answers = [("angry" if v < 0 else "satisfied", v, i, r) for (v, i), r in zip(moods, risks, strict=True)]
    conv = analyze_conversation([f"消息{k}" for k in range(len(answers))], analyzer=Scripted(*answers))
    assert conv.trajectory is expected


def test_trajectory_uses_thirds_of_a_long_conversation():
    # the first and last two of six turns decide; the middle spike does not
    answers = [("neutral", 0.0, 0.1, 0.05)] * 2 + [("angry", -0.9, 0.9, 0.9)] * 2 + [("neutral", 0.0, 0.1, 0.05)] * 2
    conv = analyze_conversation([f"消息{k}" for k in range(6)], analyzer=Scripted(*answers))
    assert conv.trajectory is Trajectory.STABLE
    assert conv.peak.turn == 2


def test_turning_points_are_the_turns_whose_emotion_changed():
    answers = [("neutral", 0.0, 0.1, 0.05), ("neutral", 0.0, 0.1, 0.05), ("angry", -0.8, 0.8, 0.5),
               ("satisfied", 0.7, 0.6, 0.05)]
    turns = ["a", {"role": "agent", "text": "x"}, "b", "c", {"role": "agent", "text": "y"}, "d"]
    conv = analyze_conversation(turns, analyzer=Scripted(*answers))
    assert conv.turn_indices == (0, 2, 3, 5)
    assert conv.turning_points == (3, 5)


def test_peak_is_the_most_intense_turn_and_the_earlier_on_a_tie():
    answers = [("anxious", -0.5, 0.7, 0.1), ("angry", -0.8, 0.7, 0.3), ("neutral", 0.0, 0.1, 0.05)]
    conv = analyze_conversation(["a", "b", "c"], analyzer=Scripted(*answers))
    assert (conv.peak.turn, conv.peak.emotion, conv.peak.intensity) == (0, Emotion.ANXIOUS, 0.7)


def test_agent_turn_before_a_worse_customer_turn_is_flagged():
    answers = [("neutral", 0.0, 0.1, 0.05), ("angry", -0.8, 0.8, 0.6), ("angry", -0.8, 0.8, 0.6)]
    turns = ["a", {"role": "agent", "text": "rude"}, "b", {"role": "agent", "text": "ok"}, "c"]
    conv = analyze_conversation(turns, analyzer=Scripted(*answers))
    assert conv.flagged_agent_turns == (1,)


def test_a_slightly_less_happy_thank_you_is_not_flagged():
    answers = [("satisfied", 0.9, 0.9, 0.05), ("satisfied", 0.6, 0.6, 0.05)]
    conv = analyze_conversation(["a", {"role": "agent", "text": "x"}, "b"], analyzer=Scripted(*answers))
    assert conv.flagged_agent_turns == ()


def test_customer_who_has_to_ask_again_flags_the_agent_turn():
    repeated = [cs_sentiment.Cue("history", "same message sent 2 times", None, None, 0.15, "repeated")]
    answers = [("impatient", -0.6, 0.4, 0.07), ("impatient", -0.6, 0.45, 0.1, repeated)]
    conv = analyze_conversation(["a", {"role": "agent", "text": "请稍等"}, "a"], analyzer=Scripted(*answers))
    assert conv.flagged_agent_turns == (1,)


def test_only_the_agent_turn_right_before_is_flagged():
    answers = [("neutral", 0.0, 0.1, 0.05), ("angry", -0.9, 0.9, 0.8)]
    turns = ["a", {"role": "agent", "text": "x"}, {"role": "agent", "text": "y"}, "b"]
    conv = analyze_conversation(turns, analyzer=Scripted(*answers))
    assert conv.flagged_agent_turns == (2,)


def test_conversation_without_customer_turns_is_empty_and_stable():
    conv = analyze_conversation([{"role": "agent", "text": "您好"}])
    assert conv.turns == () and conv.peak is None
    assert conv.trajectory is Trajectory.STABLE and conv.escalation_risk == 0.0


def test_to_dict_is_json_ready():
    conv = analyze_conversation(["在吗", {"role": "agent", "text": "在"}, "东西坏了，怎么办"])
    data = json.loads(json.dumps(conv.to_dict(), ensure_ascii=False))
    assert [t["turn"] for t in data["turns"]] == [0, 2]
    assert data["trajectory"] in {"escalating", "calming", "stable"}
    assert set(data) == {"turns", "peak", "trajectory", "turning_points", "escalation_risk", "flagged_agent_turns",
                         "replies"}


def test_analysis_at_finds_a_customer_turn_by_index():
    conv = analyze_conversation(["在吗", {"role": "agent", "text": "在"}, "东西坏了"])
    assert conv.analysis_at(2) is conv.turns[1]
    with pytest.raises(KeyError, match="turn 1"):
        conv.analysis_at(1)


def test_results_are_frozen():
    conv = analyze_conversation(["在吗"])
    with pytest.raises(AttributeError):
        conv.trajectory = Trajectory.CALMING


def test_mood_weights_valence_by_intensity():
    base = Analyzer.default().analyze("你好")
    assert mood(replace(base, valence=-0.8, intensity=0.5)) == pytest.approx(-0.4)


@pytest.mark.parametrize("ts", [datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc), 1714557600, 1714557600.0,
                                "2024-05-01T10:00:00+00:00"])
def test_ts_may_be_a_datetime_epoch_seconds_or_iso_text(ts):
    spy = Spy()
    later = to_epoch_seconds(ts) + 90
    analyze_conversation([{"text": "在吗", "ts": ts}, {"text": "人呢", "ts": later}], analyzer=spy)
    assert spy.calls[1][1].seconds_since_last == 90.0


def test_naive_datetimes_work_too():
    start = datetime(2024, 5, 1, 10, 0)
    spy = Spy()
    analyze_conversation([{"text": "在吗", "ts": start}, {"text": "人呢", "ts": start + timedelta(minutes=10)}],
                         analyzer=spy)
    assert spy.calls[1][1].seconds_since_last == 600.0


@pytest.mark.parametrize(("turns", "error", "message"), [
    ("在吗", TypeError, "turns must be a sequence"),
    (42, TypeError, "turns must be a sequence"),
    (["在吗", 3], TypeError, "turn 1 must be a str or a mapping"),
    ([{"text": 3}], TypeError, "turn 0: 'text' must be a str, got int"),
    ([{"role": "customer"}], ValueError, "turn 0 has no 'text'"),
    ([{"text": "在吗", "speaker": "agent"}], ValueError, "turn 0 has unknown key 'speaker'"),
    (["在吗", {"text": "你好", "role": "boss"}], ValueError, "turn 1: role must be 'customer' or 'agent'"),
    ([{"text": "a", "ts": 100}, {"text": "b", "ts": 50}], ValueError, "turn 1: ts is earlier than turn 0"),
    ([{"text": "a", "ts": "yesterday"}], ValueError, "turn 0: ts 'yesterday' is not a date and time"),
    ([{"text": "a", "ts": "10:07"}], ValueError, "turn 0: ts '10:07' is a time without a date"),
    ([{"text": "a", "ts": [1]}], TypeError, "turn 0: ts: a time must be a datetime"),
    ([{"text": "a", "typing_seconds": 0}], ValueError, "turn 0: typing_seconds must be a finite number > 0"),
    ([{"text": "a", "typing_seconds": "3"}], TypeError, "turn 0: typing_seconds must be a number"),
])
def test_bad_turns_raise_an_error_naming_the_turn(turns, error, message):
    with pytest.raises(error, match=message):
        analyze_conversation(turns)


@pytest.mark.parametrize(("role", "agent"), [("agent", True), ("客服", True), (" Agent ", True), ("bot", True),
                                             ("customer", False), ("用户", False), (None, False),
                                             (float("nan"), False), ("", False)])
def test_roles_and_their_synonyms(role, agent):
    assert role_is_agent(role) is agent


def test_a_generator_of_turns_is_accepted():
    conv = analyze_conversation(t for t in ["在吗", "东西坏了"])
    assert len(conv.turns) == 2


def test_every_agent_reply_after_a_customer_turn_is_reviewed_against_that_turn():
    conv = analyze_conversation([
        {"role": "agent", "text": "您好，请问有什么可以帮您？"},
        {"role": "customer", "text": "等了一周还没发货，你们到底怎么回事？"},
        {"role": "agent", "text": "这个不归我们管，你去问快递。"},
        {"role": "agent", "text": ""},
        {"role": "customer", "text": "什么态度！我要投诉！"},
    ])
    assert conv.review_indices == (2,)  # the greeting answers nothing, the empty turn says nothing
    review = conv.review_at(2)
    assert review.verdict == "poor" and "avoids_negative_language" in review.issues
    with pytest.raises(KeyError):
        conv.review_at(0)


def test_a_flagged_reply_says_which_checks_it_failed():
    conv = analyze_conversation([
        {"role": "customer", "text": "我的快递三天没动了，什么情况？"},
        {"role": "agent", "text": "请耐心等待。"},
        {"role": "customer", "text": "又是等等等！到底什么时候到？再不解决我就投诉你们！！"},
    ])
    assert conv.flagged_agent_turns == (1,)
    assert "next_step" in conv.flagged_issues()[1]
    replies = conv.to_dict()["replies"]
    assert replies[0]["turn"] == 1 and replies[0]["flagged"] is True and "next_step" in replies[0]["issues"]

"""score_frame: input columns kept, result columns added, bad rows marked, conversation context."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cs_sentiment
from cs_sentiment import Analyzer, analyze, analyze_conversation, score_frame
from cs_sentiment.batch import ranks_in_conversation
from cs_sentiment.rows import MAX_CHARS, RESULT_COLUMNS, check_text, typing_seconds
from cs_sentiment.times import epoch_seconds

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "chat_log.csv"


class CountingAnalyzer:
    def __init__(self):
        self.calls = 0

    def analyze(self, text, context=None):
        self.calls += 1
        return Analyzer.default().analyze(text, context)


@pytest.fixture(scope="module")
def chat() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def test_importable_from_the_package():
    assert cs_sentiment.score_frame is score_frame


def test_input_columns_are_kept_untouched_and_results_appended():
    # given
    df = pd.DataFrame({"id": [7, 8], "text": ["太失望了，白买了", "请问什么时候发货"], "note": ["x", None]})
    before = df.copy()
    # when
    out = score_frame(df)
    # then
    assert list(out.columns) == ["id", "text", "note", *RESULT_COLUMNS]
    pd.testing.assert_frame_equal(out[["id", "text", "note"]], before)
    pd.testing.assert_frame_equal(df, before)  # the input itself is not modified


def test_results_match_analyze():
    texts = ["太失望了，白买了", "請問我的訂單什麼時候出貨？", "谢谢，问题解决了"]
    out = score_frame(pd.DataFrame({"text": texts}))
    for text, row in zip(texts, out.itertuples(), strict=True):
        a = analyze(text)
        assert (row.emotion, row.intent, row.need, row.strategy, row.priority) == (
            a.emotion.value, str(a.intent), str(a.need), a.strategy.id.value, a.strategy.priority.value)
        assert row.intensity == pytest.approx(a.intensity)
        assert row.escalation_risk == pytest.approx(a.escalation_risk)
        assert row.needs_human == a.needs_human


def test_rows_keep_the_input_order_and_index():
    df = pd.DataFrame({"text": ["在吗", "东西坏了", "谢谢"]}, index=[30, 10, 20])
    out = score_frame(df)
    assert out.index.tolist() == [30, 10, 20]
    assert out["text"].tolist() == ["在吗", "东西坏了", "谢谢"]


def test_result_columns_have_stable_dtypes():
    out = score_frame(pd.DataFrame({"text": ["在吗", None]}))
    assert {c: str(out[c].dtype) for c in RESULT_COLUMNS} == RESULT_COLUMNS


@pytest.mark.parametrize(("value", "error"), [
    (None, "missing text"),
    (np.nan, "missing text"),
    (pd.NA, "missing text"),
    (12345, "not text: int"),
    ("", "empty text"),
    ("   ", "empty text"),
    ("太" * (MAX_CHARS + 1), f"text too long: {MAX_CHARS + 1} characters > {MAX_CHARS}"),
    (b"\xb0\xa1\xff", "undecodable bytes in text (not UTF-8)"),
    ("坏\udcb0了", "undecodable bytes in text"),
])
def test_bad_rows_get_an_error_and_empty_results_while_the_others_are_scored(value, error):
    # given
    df = pd.DataFrame({"text": ["我要退货", value, "谢谢"]}, dtype=object)
    # when
    out = score_frame(df)
    # then
    assert out["error"].isna().tolist() == [True, False, True]
    assert out.loc[1, "error"] == error
    assert out.loc[[1], [c for c in RESULT_COLUMNS if c != "error"]].isna().all(axis=None)
    assert out.loc[[0, 2], "emotion"].notna().all()


def test_utf8_bytes_are_read_as_text():
    out = score_frame(pd.DataFrame({"text": ["太失望了".encode()]}, dtype=object))
    assert out.loc[0, "emotion"] == "disappointed"


def test_a_failing_analysis_marks_the_row_and_the_run_goes_on():
    class Flaky:
        def analyze(self, text, context=None):
            if text == "boom":
                raise RuntimeError("model exploded")
            return Analyzer.default().analyze(text, context)

    out = score_frame(pd.DataFrame({"text": ["在吗", "boom", "谢谢"]}), analyzer=Flaky())
    assert out["error"].tolist()[1] == "analysis failed: RuntimeError: model exploded"
    assert out["emotion"].notna().tolist() == [True, False, True]


def test_agent_rows_get_no_customer_results_and_no_error():
    df = pd.DataFrame({"role": ["customer", "agent", "客服", None], "text": ["东西坏了", "抱歉", "马上处理", "好的"]})
    out = score_frame(df, role_col="role")
    assert out["emotion"].isna().tolist() == [False, True, True, False]
    assert out["error"].isna().all()
    assert out["role"].tolist()[:3] == ["customer", "agent", "客服"]


def test_agent_rows_are_reviewed_against_the_customer_message_they_answer():
    # given: a conversation where the first reply brushes the customer off and the second helps
    df = pd.DataFrame({
        "cid": ["a", "a", "a", "a"], "ts": [0, 30, 60, 90],
        "role": ["customer", "agent", "customer", "agent"],
        "text": ["等了一周还没发货，你们到底怎么回事？", "这个不归我们管，你去问快递。", "你们太过分了！",
                 "非常抱歉让您久等了，我刚查到包裹在上海中转，预计明天送达，有问题随时找我。"]})
    # when
    out = score_frame(df, conversation_col="cid", time_col="ts", role_col="role")
    # then: the same review as review_reply with the customer turn before each reply
    for agent_row, customer_row in ((1, 0), (3, 2)):
        conv = analyze_conversation([{"text": t, "role": r, "ts": ts}
                                     for t, r, ts in zip(df.text, df.role, df.ts, strict=True)])
        expected = conv.review_at(agent_row)
        assert out.loc[agent_row, "reply_score"] == expected.score
        assert out.loc[agent_row, "reply_verdict"] == expected.verdict
        assert out.loc[agent_row, "reply_issues"] == ",".join(expected.issues)
        assert pd.isna(out.loc[customer_row, "reply_score"])
    assert out.loc[1, "reply_verdict"] == "poor"
    assert "avoids_negative_language" in out.loc[1, "reply_issues"].split(",")
    assert out.loc[3, "reply_score"] > out.loc[1, "reply_score"]


def test_without_a_conversation_column_a_reply_answers_the_customer_row_above_it():
    df = pd.DataFrame({"role": ["agent", "customer", "agent", "agent"],
                       "text": ["您好，在的", "快递到哪了", "您好，包裹在上海中转，预计明天送达。", ""]})
    out = score_frame(df, role_col="role")
    assert pd.isna(out.loc[0, "reply_score"])  # no customer message before it
    assert out.loc[2, "reply_verdict"] in {"good", "acceptable"}
    assert pd.isna(out.loc[3, "reply_score"]) and pd.isna(out.loc[3, "error"])  # empty agent turn: nothing to review


def test_reply_columns_have_stable_dtypes_and_stay_empty_without_a_role_column():
    out = score_frame(pd.DataFrame({"text": ["在吗", "好的"]}))
    assert str(out["reply_score"].dtype) == "Int64"
    assert out[["reply_score", "reply_verdict", "reply_issues"]].isna().all().all()


def test_a_bad_agent_text_is_an_error_on_that_row():
    out = score_frame(pd.DataFrame({"role": ["customer", "agent"], "text": ["在吗", 3]}), role_col="role")
    assert out["error"].tolist()[1] == "not text: int"


def test_unknown_role_is_an_error_on_that_row():
    out = score_frame(pd.DataFrame({"role": ["boss", "customer"], "text": ["在吗", "在吗"]}), role_col="role")
    assert out["error"].tolist()[0] == "unknown role 'boss'"
    assert pd.isna(out["error"].tolist()[1])


def test_conversation_rows_get_the_same_results_as_analyze_conversation():
    # given: two interleaved conversations
    df = pd.DataFrame({
        "cid": ["a", "b", "a", "a", "b"],
        "ts": ["2024-05-01 10:00:00", "2024-05-01 10:00:05", "2024-05-01 10:00:30", "2024-05-01 10:40:00",
               "2024-05-01 10:01:00"],
        "role": ["customer", "customer", "agent", "customer", "customer"],
        "text": ["我的快递什么时候到？", "有优惠券吗", "请稍等", "我的快递什么时候到？", "好的谢谢"],
    })
    # when
    out = score_frame(df, conversation_col="cid", time_col="ts", role_col="role")
    # then
    for cid in ("a", "b"):
        rows = df[df.cid == cid]
        conv = analyze_conversation([{"text": t, "role": r, "ts": pd.Timestamp(ts, tz="UTC").to_pydatetime()}
                                     for t, r, ts in zip(rows.text, rows.role, rows.ts, strict=True)])
        scored = out.loc[rows.index[[i for i, r in enumerate(rows.role) if r == "customer"]]]
        assert scored["emotion"].tolist() == [a.emotion.value for a in conv.turns]
        assert scored["intensity"].tolist() == pytest.approx([a.intensity for a in conv.turns])
        assert scored["escalation_risk"].tolist() == pytest.approx([a.escalation_risk for a in conv.turns])


def test_repeated_message_in_a_conversation_is_more_intense_than_alone():
    df = pd.DataFrame({"cid": ["a"] * 3, "ts": [0, 1800, 3600], "text": ["我的退款什么时候到？"] * 3})
    with_context = score_frame(df, conversation_col="cid", time_col="ts")
    alone = score_frame(df)
    assert with_context["intensity"].iloc[2] > alone["intensity"].iloc[2]
    assert with_context["escalation_risk"].iloc[2] > alone["escalation_risk"].iloc[2]


def test_rows_are_ordered_by_time_within_a_conversation_whatever_the_input_order(chat):
    # given: the sample log, and the same rows shuffled
    shuffled = chat.sample(frac=1.0, random_state=3)
    kwargs = dict(conversation_col="conversation_id", time_col="ts", role_col="role")
    # when
    out = score_frame(chat, **kwargs)
    out_shuffled = score_frame(shuffled, **kwargs)
    # then: each row's result is the same, and each output follows its own input order
    assert out_shuffled.index.tolist() == shuffled.index.tolist()
    pd.testing.assert_frame_equal(out_shuffled.loc[chat.index], out)


def test_times_in_any_format_give_the_same_context():
    texts = ["我的快递什么时候到？", "我的快递什么时候到？"]
    base = pd.Timestamp("2024-05-01 10:00", tz="UTC")
    formats = {
        "iso": [str(base), str(base + pd.Timedelta(minutes=40))],
        "datetime64": pd.Series([base, base + pd.Timedelta(minutes=40)]).dt.tz_localize(None),
        "aware": pd.Series([base, base + pd.Timedelta(minutes=40)]).dt.tz_convert("Asia/Shanghai"),
        "epoch": [base.timestamp(), base.timestamp() + 2400],
        "epoch_ms": [base.timestamp() * 1000, (base.timestamp() + 2400) * 1000],
    }
    results = {name: score_frame(pd.DataFrame({"c": ["x", "x"], "t": ts, "text": texts}),
                                 conversation_col="c", time_col="t")["intensity"].tolist()
               for name, ts in formats.items()}
    assert all(r == pytest.approx(results["iso"]) for r in results.values())


def test_rows_without_a_conversation_id_stand_alone():
    df = pd.DataFrame({"cid": [None, None], "text": ["我的快递什么时候到？", "我的快递什么时候到？"]})
    out = score_frame(df, conversation_col="cid")
    assert out["intensity"].iloc[0] == out["intensity"].iloc[1] == pytest.approx(analyze(df.text[0]).intensity)


def test_typing_time_is_used_when_given():
    df = pd.DataFrame({"text": ["你们到底什么时候给我退款"] * 2, "typing": [3.0, None]})
    out = score_frame(df, typing_col="typing")
    assert out["intensity"].iloc[0] > out["intensity"].iloc[1]


def test_repeated_context_free_messages_are_analysed_once():
    counting = CountingAnalyzer()
    score_frame(pd.DataFrame({"text": ["在吗"] * 50 + ["谢谢"] * 50}), analyzer=counting)
    assert counting.calls == 2


def test_prefix_keeps_both_when_the_input_has_result_columns():
    df = pd.DataFrame({"text": ["太失望了"], "emotion": ["disappointed"]})
    with pytest.raises(ValueError, match="already has result column"):
        score_frame(df)
    out = score_frame(df, prefix="pred_")
    assert out.loc[0, "emotion"] == "disappointed" and "pred_emotion" in out.columns


def test_empty_frame_gives_the_result_columns():
    out = score_frame(pd.DataFrame({"text": pd.Series([], dtype=object)}))
    assert list(out.columns) == ["text", *RESULT_COLUMNS] and len(out) == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"text_col": "message"}, "text_col 'message' is not a column"),
    ({"conversation_col": "cid"}, "conversation_col 'cid' is not a column"),
    ({"role_col": "who"}, "role_col 'who' is not a column"),
    ({"time_col": "text"}, "give conversation_col too"),
])
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        score_frame(pd.DataFrame({"text": ["在吗"]}), **kwargs)


def test_a_non_frame_raises_type_error():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        score_frame(["在吗"])


def test_check_text_accepts_only_real_text():
    assert check_text("在吗") == ("在吗", None)
    assert check_text(3.5) == (None, "not text: float")


def test_epoch_seconds_reads_every_format():
    values = pd.Series(["2024-05-01T10:00:00Z", "2024/05/01 10:00", 1714557600, "1714557600000", "later", None],
                       dtype=object)
    out = epoch_seconds(values)
    assert out[:4].tolist() == [1714557600.0] * 4
    assert np.isnan(out[4:]).all()


def test_ranks_follow_time_then_input_order():
    codes = np.array([1, 1, 1, 2, 1])
    times = np.array([50.0, np.nan, 10.0, 0.0, 10.0])
    assert ranks_in_conversation(codes, times).tolist() == [2, 3, 0, 0, 1]


def test_typing_seconds_ignores_values_that_are_not_positive():
    assert typing_seconds(pd.Series([2, 0, -1, None, "x", float("inf")]).tolist()) == [2.0, None, None, None, None, None]


def test_score_frame_is_fast_enough_per_row():
    """The frame path adds little to the analyzer itself (a generous bound: not a benchmark)."""
    import time

    texts = [f"订单{i}号什么时候发货？" for i in range(400)]
    analyzer = Analyzer.default()
    t0 = time.perf_counter()
    for t in texts:
        analyzer.analyze(t)
    raw = time.perf_counter() - t0
    t0 = time.perf_counter()
    score_frame(pd.DataFrame({"text": [t + "！" for t in texts]}), analyzer=analyzer)
    framed = time.perf_counter() - t0
    assert framed < 3 * raw + 0.5


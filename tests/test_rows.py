"""The row engine: one declaration of the result columns, row checks, contexts, and the scorer."""

from __future__ import annotations

import pytest

from cs_sentiment import Analyzer, analyze, review_reply
from cs_sentiment.rows import (
    COLUMNS,
    POSITION,
    REPLY_COLUMNS,
    RESULT_COLUMNS,
    Scorer,
    analysis_row,
    contexts_in_input_order,
    prepare_rows,
    review_row,
    row_value,
)


def test_every_result_column_is_declared_once_with_error_last():
    names = [c.name for c in COLUMNS]
    assert len(names) == len(set(names)) and names[-1] == "error"
    assert list(RESULT_COLUMNS) == names
    assert REPLY_COLUMNS == ("reply_score", "reply_verdict", "reply_issues")
    assert {c.dtype for c in COLUMNS} <= {"string", "float64", "boolean", "Int64"}


def test_a_customer_row_and_a_reply_row_fill_their_own_columns():
    customer = analysis_row(analyze("太失望了，白买了"))
    reply = review_row(review_reply("太失望了，白买了", "非常抱歉，马上为您处理退款。"))
    assert len(customer) == len(reply) == len(COLUMNS) - 1
    assert row_value(customer, "emotion") == "disappointed" and row_value(customer, "reply_score") is None
    assert row_value(reply, "emotion") is None and isinstance(row_value(reply, "reply_score"), int)
    assert all(customer[POSITION[c]] is None for c in REPLY_COLUMNS)


def test_an_empty_agent_turn_is_neither_reviewed_nor_an_error_but_a_bad_one_is_marked():
    rows = prepare_rows(["在吗", "", None, b"\xff", "好的"], ["customer", "agent", "agent", "agent", "客服"])
    assert rows.texts == ["在吗", None, None, None, "好的"]
    assert rows.errors == [None, None, None, "undecodable bytes in text (not UTF-8)", None]
    assert rows.agent == [False, True, True, True, True]


def test_a_reply_in_a_later_chunk_answers_the_customer_row_of_the_chunk_before():
    carried: list[str | None] = [None]
    first = prepare_rows(["快递到哪了"], ["customer"])
    second = prepare_rows(["在上海中转，明天到"], ["agent"])
    assert contexts_in_input_order(first, None, carried) is None
    assert contexts_in_input_order(second, None, carried) == [("快递到哪了", None)]
    assert contexts_in_input_order(second, None, [None], replies=False) is None


def test_the_scorer_reuses_the_analysis_of_the_customer_message_a_reply_answers():
    calls = []

    class Counting:
        def __init__(self):
            self.inner = Analyzer.default()

        def analyze(self, text, context=None):
            calls.append(text)
            return self.inner.analyze(text, context)

    scorer = Scorer(Counting())  # type: ignore[arg-type]
    rows = prepare_rows(["东西坏了怎么办", "抱歉，麻烦拍照给我，马上为您换新"], ["customer", "agent"])
    results = scorer.score(rows.texts, contexts_in_input_order(rows), rows.errors, rows.agent)
    assert calls == ["东西坏了怎么办"]
    assert row_value(results[1], "reply_verdict") in {"good", "acceptable"}


@pytest.mark.parametrize("name", ["emotion", "reply_score", "error"])
def test_the_pandas_dtypes_come_from_the_declaration(name):
    pd = pytest.importorskip("pandas")
    from cs_sentiment import score_frame

    out = score_frame(pd.DataFrame({"text": ["在吗"]}))
    assert str(out[name].dtype) == RESULT_COLUMNS[name]

"""One time rule for the context, conversations, frames and files (issue 8, item 13)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from cs_sentiment import Context, analyze_conversation, score_frame
from cs_sentiment.times import TimeWithoutDateError, epoch_seconds, to_epoch_seconds

MAY_1_1005 = datetime(2024, 5, 1, 10, 5, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("value", [
    "2024年5月1日 10:05", "2024年05月01日10:05", "2024年5月1日10时5分", "2024年5月1日 10点05分", "2024/5/1 10:05",
    "2024-05-01 10:05", "2024.05.01 10:05", "2024-05-01T10:05:00Z", "2024-05-01T18:05:00+08:00", "202405011005",
    "20240501100500", 20240501100500, 202405011005, MAY_1_1005, MAY_1_1005 * 1e3, MAY_1_1005 * 1e6,
    np.int64(int(MAY_1_1005 * 1e3)), datetime(2024, 5, 1, 10, 5), np.datetime64("2024-05-01T10:05"),
    pd.Timestamp("2024-05-01 10:05"),
])
def test_every_form_chinese_exports_use_reads_the_same_moment(value):
    assert to_epoch_seconds(value) == pytest.approx(MAY_1_1005)


def test_an_excel_serial_date_is_read_as_a_date():
    assert to_epoch_seconds(45413.4201388889) == pytest.approx(MAY_1_1005, abs=1)


def test_compact_digits_are_not_read_as_milliseconds_of_the_year_2611():
    assert datetime.fromtimestamp(to_epoch_seconds(20240501100600), timezone.utc).year == 2024
    assert datetime.fromtimestamp(epoch_seconds(pd.Series([20240501100600]))[0], timezone.utc).year == 2024


@pytest.mark.parametrize("value", ["10:07", "10:07:30", "下午3点20分", "9:05 pm", "10时07分"])
def test_a_time_without_a_date_is_refused_not_dated_today(value):
    with pytest.raises(TimeWithoutDateError, match="without a date"):
        to_epoch_seconds(value)
    assert np.isnan(epoch_seconds([value])[0])


def test_a_time_without_a_date_in_a_conversation_names_the_turn():
    with pytest.raises(ValueError, match="turn 1: ts '10:07' is a time without a date"):
        analyze_conversation([{"text": "在吗", "ts": "2024-05-01 10:00"}, {"text": "人呢", "ts": "10:07"}])


def test_epoch_milliseconds_mean_the_same_silence_in_conversations_and_frames():
    start = 1_714_557_900_000  # ms
    turns = [{"role": "customer", "text": "在吗", "ts": start},
             {"role": "customer", "text": "人呢？怎么还没人回", "ts": start + 600_000}]
    conv = analyze_conversation(turns)
    frame = score_frame(pd.DataFrame({"c": ["x", "x"], "role": ["customer"] * 2, "text": ["在吗", "人呢？怎么还没人回"],
                                      "ts": [start, start + 600_000]}),
                        conversation_col="c", time_col="ts", role_col="role")
    pause = [c for c in conv.turns[1].evidence if c.kind == "pause"]
    assert pause and pause[0].text == "silent 600 s before this message"
    assert frame["intensity"].tolist()[1] == pytest.approx(conv.turns[1].intensity)


def test_naive_datetimes_are_utc_everywhere():
    naive = datetime(2024, 5, 1, 10, 5)
    assert to_epoch_seconds(naive) == MAY_1_1005
    assert epoch_seconds(pd.Series([naive]))[0] == MAY_1_1005
    assert Context.from_value({"history": [{"text": "在吗", "ts": naive}]}).history_ts == (MAY_1_1005,)


def test_a_bad_history_time_is_an_invalid_context_error_naming_the_key():
    from cs_sentiment import InvalidContextError

    with pytest.raises(InvalidContextError, match="history.*without a date"):
        Context.from_value({"history": [{"text": "在吗", "ts": "10:07"}]})


def test_clock_times_without_a_date_in_a_file_are_counted_and_said_not_dated_today(tmp_path):
    from cs_sentiment.batch import score_file

    src = tmp_path / "log.csv"
    src.write_text("c,ts,text\nx,10:07,在吗\nx,10:08,人呢\nx,2024-05-01 10:09,好的\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "out.csv", conversation_col="c", time_col="ts")
    assert summary.rows == 3 and summary.errors == 0 and summary.timeless_times == 2
    assert "clock times without a date" in summary.describe()


def test_score_frame_warns_about_clock_times_without_a_date():
    frame = pd.DataFrame({"c": ["x", "x"], "ts": ["10:07", "10:08"], "text": ["在吗", "人呢"]})
    with pytest.warns(UserWarning, match="2 value\\(s\\) of time column 'ts' are clock times without a date"):
        out = score_frame(frame, conversation_col="c", time_col="ts")
    assert out["error"].isna().all()

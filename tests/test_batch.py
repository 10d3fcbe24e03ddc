"""score_file and ``cs-sentiment score``: formats, encodings, nothing lost, conversations, jobs, the CLI."""

from __future__ import annotations

import codecs
import csv
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cs_sentiment import batch, parallel, score_frame
from cs_sentiment.batch import ScoreSummary, detect_encoding, file_format, score_file
from cs_sentiment.cli import main
from cs_sentiment.formats import delimited
from cs_sentiment.rows import RESULT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "chat_log.csv"
CONV = dict(conversation_col="conversation_id", time_col="ts", role_col="role")

ROWS = [
    ("c1", "2024-05-01T10:00:00", "customer", "我的快递什么时候到？"),
    ("c2", "2024-05-01T10:00:30", "customer", "請問這款有藍牙嗎"),
    ("c1", "2024-05-01T10:01:00", "agent", "请稍等"),
    ("c2", "2024-05-01T10:02:00", "agent", "有的"),
    ("c1", "2024-05-01T10:40:00", "customer", "我的快递什么时候到？"),
    ("c2", "2024-05-01T10:03:00", "customer", "好的，謝謝"),
]
HEADER = "conversation_id,ts,role,text\n"


def write_csv(path: Path, rows=ROWS, encoding="utf-8", header=HEADER) -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        f.write(header)
        csv.writer(f, lineterminator="\n").writerows(rows)
    return path


def read_out(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                       sep="\t" if path.suffix == ".tsv" else ",")


def plain(values) -> list:
    """Values with every kind of missing (NA, NaN, None, "") as None, for comparisons."""
    return [None if (v == "" if isinstance(v, str) else v is None or pd.isna(v)) else v for v in values]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.fixture(scope="module")
def sample_scored() -> pd.DataFrame:
    """The sample log scored in memory: what every file path must reproduce."""
    return score_frame(pd.read_csv(SAMPLE, dtype=str, keep_default_na=False), **CONV)


# -- rows, columns, order ----------------------------------------------------------------------------------------------
def test_every_row_is_written_once_in_order_with_its_columns(tmp_path):
    # given
    src = write_csv(tmp_path / "log.csv")
    # when
    summary = score_file(src, tmp_path / "out.csv")
    # then
    out = read_out(tmp_path / "out.csv")
    assert list(out.columns) == ["conversation_id", "ts", "role", "text", *RESULT_COLUMNS]
    assert out[["conversation_id", "ts", "role", "text"]].values.tolist() == [list(r) for r in ROWS]
    assert (summary.rows, summary.errors) == (6, 0)


def test_default_output_is_the_input_with_scored_before_the_suffix(tmp_path):
    src = write_csv(tmp_path / "log.csv")
    summary = score_file(src)
    assert summary.output == str(tmp_path / "log.scored.csv")
    assert (tmp_path / "log.scored.csv").exists()


def test_file_scores_equal_score_frame_scores(tmp_path, sample_scored):
    score_file(SAMPLE, tmp_path / "out.parquet", **CONV)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert plain(out["emotion"]) == plain(sample_scored["emotion"])
    np.testing.assert_allclose(out["intensity"].to_numpy(dtype=float), sample_scored["intensity"].to_numpy(dtype=float))


def test_original_values_are_not_reinterpreted(tmp_path):
    src = tmp_path / "ids.csv"
    src.write_text("id,text,amount\n007,在吗,1.50\n,东西坏了,\n", encoding="utf-8")
    score_file(src, tmp_path / "out.csv")
    out = read_out(tmp_path / "out.csv")
    assert out[["id", "amount"]].values.tolist() == [["007", "1.50"], ["", ""]]


# -- encodings ---------------------------------------------------------------------------------------------------------
def test_gbk_input_is_detected_and_read(tmp_path):
    src = write_csv(tmp_path / "gbk.csv", encoding="gbk")
    summary = score_file(src, tmp_path / "out.csv")
    assert summary.encoding == "gb18030"
    out = read_out(tmp_path / "out.csv")
    assert out["text"].tolist() == [r[3] for r in ROWS]
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheet-friendly output


def test_utf8_with_bom_input_is_read_without_the_mark_in_the_header(tmp_path):
    src = write_csv(tmp_path / "bom.csv", encoding="utf-8-sig")
    summary = score_file(src, tmp_path / "out.csv", **CONV)
    assert summary.encoding == "utf-8-sig" and summary.errors == 0
    assert read_out(tmp_path / "out.csv").columns[0] == "conversation_id"


def test_utf16_spreadsheet_text_export_is_read(tmp_path):
    src = tmp_path / "u16.tsv"
    src.write_text("id\ttext\n1\t請問這款有藍牙嗎\n", encoding="utf-16")
    assert detect_encoding(src) == ("utf-16", True)
    summary = score_file(src, tmp_path / "out.csv")
    assert summary.errors == 0
    assert read_out(tmp_path / "out.csv")["text"].tolist() == ["請問這款有藍牙嗎"]


def test_an_explicit_encoding_is_used(tmp_path):
    src = write_csv(tmp_path / "big5.csv", rows=[("c1", "2024-05-01T10:00:00", "customer", "請問這款有藍牙嗎")],
                    encoding="big5")
    summary = score_file(src, tmp_path / "out.csv", encoding="big5")
    assert read_out(tmp_path / "out.csv")["text"].tolist() == ["請問這款有藍牙嗎"]
    assert summary.errors == 0


def test_an_unknown_encoding_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="unknown encoding"):
        score_file(write_csv(tmp_path / "a.csv"), tmp_path / "o.csv", encoding="klingon")


def test_undecodable_bytes_mark_the_row_and_are_kept_as_escapes(tmp_path):
    # given: a UTF-8 file with one line of stray bytes in the middle
    src = tmp_path / "bad.csv"
    src.write_bytes(HEADER.encode() + "c1,2024-05-01T10:00:00,customer,东西坏了\n".encode()
                    + b"c1,2024-05-01T10:01:00,customer,\xff\xfe\xfa\n"
                    + "c1,2024-05-01T10:02:00,customer,谢谢\n".encode())
    # when
    summary = score_file(src, tmp_path / "out.csv")
    # then
    out = read_out(tmp_path / "out.csv")
    assert len(out) == 3 and summary.errors == 1
    assert out["error"].tolist()[1] == "undecodable bytes in text (line 3)"
    assert out["text"].tolist()[1] == "\\xff\\xfe\\xfa"
    assert out["emotion"].tolist()[2] != ""


# -- nothing lost ------------------------------------------------------------------------------------------------------
def test_malformed_lines_in_the_middle_are_kept_with_an_error(tmp_path):
    # given: one line with too many fields, one with too few, between good ones
    src = tmp_path / "mal.csv"
    src.write_text(HEADER + "c1,2024-05-01T10:00:00,customer,在吗\n"
                   + "c1,2024-05-01T10:00:05,customer,坏了,多余,字段\n"
                   + "c1,2024-05-01T10:00:09\n"
                   + "c1,2024-05-01T10:00:10,customer,谢谢\n", encoding="utf-8")
    # when
    summary = score_file(src, tmp_path / "out.csv", **CONV)
    # then
    out = read_out(tmp_path / "out.csv")
    assert len(out) == 4 and summary.errors == 2
    assert out["error"].tolist() == ["", "malformed line 3: expected 4 fields, got 6",
                                     "malformed line 4: expected 4 fields, got 2", ""]
    assert out["text"].tolist()[1] == "坏了,多余,字段"  # extra fields joined back: no data lost
    assert out["role"].tolist()[2] == ""
    assert out["emotion"].tolist()[3] != ""


def test_a_field_over_128_kib_stays_in_its_row_with_its_columns(tmp_path):
    # issue 8, item 8: Python's csv stops at 128 KiB; 4 rows must stay 4 rows, columns intact
    src = tmp_path / "huge.csv"
    big = "长" * 140_000
    src.write_text(f'id,text,agent\n1,在吗,a\n2,"{big}",b\n3,{big},c\n4,谢谢,d\n', encoding="utf-8")
    summary = score_file(src, tmp_path / "out.csv")
    out = read_out(tmp_path / "out.csv")
    assert summary.rows == 4 and out["id"].tolist() == ["1", "2", "3", "4"]
    assert out["agent"].tolist() == ["a", "b", "c", "d"]
    assert out["text"].tolist()[1:3] == [big, big]
    assert all(e.startswith("text too long") for e in out["error"].tolist()[1:3])


def test_an_unclosed_quote_in_csv_merges_no_rows_and_marks_its_line(tmp_path):
    # issue 8, item 9: 40 rows with an unclosed quote in row 5 used to come out as 2
    lines = [f"{i},消息{i},x" for i in range(40)]
    lines[5] = '5,"消息5 我要退款,x'
    src = tmp_path / "quote.csv"
    src.write_text("id,text,tag\n" + "\n".join(lines) + "\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "out.csv")
    out = read_out(tmp_path / "out.csv")
    assert summary.rows == 40 and out["id"].tolist() == [str(i) for i in range(40)]
    assert out["tag"].tolist() == ["x"] * 40
    assert summary.errors == 1 and out["error"].tolist()[5].startswith("stray quote: line 7")
    assert out["text"].tolist()[5] == '"消息5 我要退款'


def test_a_tsv_message_starting_with_a_quote_is_read_as_written(tmp_path):
    # issue 8, item 9: TSV carries no quoting; a leading " used to swallow the next two rows
    src = tmp_path / "quote.tsv"
    src.write_text('id\ttext\n1\t"好的\n2\t在吗\n3\t他说"没问题"\n4\t谢谢\n', encoding="utf-8")
    summary = score_file(src, tmp_path / "out.tsv")
    out = pd.read_csv(tmp_path / "out.tsv", sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    assert summary.rows == 4 and summary.errors == 0
    assert out["text"].tolist() == ['"好的', "在吗", '他说"没问题"', "谢谢"]


def test_a_real_multi_line_csv_value_stays_one_row(tmp_path):
    src = tmp_path / "multi.csv"
    src.write_text('id,text\n1,"第一行\n第二行，还是同一条消息"\n2,谢谢\n', encoding="utf-8")
    out = read_out(tmp_path / "out.csv") if score_file(src, tmp_path / "out.csv").rows == 2 else None
    assert out is not None and out["text"].tolist()[0] == "第一行\n第二行，还是同一条消息"


def test_tsv_output_escapes_tabs_and_line_breaks_instead_of_quoting(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('id,text\n1,"第一行\n第二\t行"\n', encoding="utf-8")
    score_file(src, tmp_path / "out.tsv")
    lines = (tmp_path / "out.tsv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].split("\t")[1] == "第一行\\n第二\\t行"


def test_blank_lines_are_not_rows(tmp_path):
    src = tmp_path / "blank.csv"
    src.write_text("text\n在吗\n\n谢谢\n\n", encoding="utf-8")
    assert score_file(src, tmp_path / "out.csv").rows == 2


@pytest.mark.parametrize(("existing", "jobs"), [(False, 1), (True, 1), (False, 2)])
def test_an_interrupted_run_leaves_no_output_and_no_temporary_file(tmp_path, monkeypatch, existing, jobs):
    # given: the writer fails after the first chunk
    src = write_csv(tmp_path / "log.csv")
    dst = tmp_path / "out.csv"
    if existing:
        dst.write_text("an older result\n", encoding="utf-8")
    calls = []
    real_write = delimited.DelimitedWriter.write

    def failing_write(self, chunk, results, errors):
        calls.append(chunk.n)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_write(self, chunk, results, errors)

    monkeypatch.setattr(delimited.DelimitedWriter, "write", failing_write)
    # when
    with pytest.raises(KeyboardInterrupt):
        score_file(src, dst, chunksize=2, jobs=jobs)
    # then
    assert leftovers(tmp_path) == []
    if existing:
        assert dst.read_text(encoding="utf-8") == "an older result\n"
    else:
        assert not dst.exists()


def test_a_failing_analysis_does_not_stop_the_run(tmp_path, monkeypatch):
    from cs_sentiment.analyzer import Analyzer

    real = Analyzer._finish  # the step one message and a batch of them share

    def flaky(self, norm, *args):
        if "炸" in norm.text:
            raise RuntimeError("boom")
        return real(self, norm, *args)

    monkeypatch.setattr(Analyzer, "_finish", flaky)
    monkeypatch.setattr(parallel, "SCORERS", {})
    src = tmp_path / "a.csv"
    src.write_text("text\n在吗\n炸了\n谢谢\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "out.csv")
    assert summary.errors == 1
    assert read_out(tmp_path / "out.csv")["error"].tolist() == ["", "analysis failed: RuntimeError: boom", ""]


# -- conversations -----------------------------------------------------------------------------------------------------
def test_conversation_split_across_chunks_keeps_its_context(tmp_path):
    src = write_csv(tmp_path / "log.csv")
    score_file(src, tmp_path / "small.csv", chunksize=1, **CONV)
    score_file(src, tmp_path / "whole.csv", chunksize=1000, **CONV)
    small, whole = read_out(tmp_path / "small.csv"), read_out(tmp_path / "whole.csv")
    pd.testing.assert_frame_equal(small, whole)
    # the repeated question (row 4) is more intense than the first time it was asked (row 0)
    assert float(small["intensity"][4]) > float(small["intensity"][0])


def test_a_file_out_of_time_order_gets_the_same_results_as_a_sorted_one(tmp_path, sample_scored):
    chat = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    shuffled = chat.sample(frac=1.0, random_state=5)
    shuffled.to_csv(tmp_path / "shuffled.csv", index=False)
    score_file(tmp_path / "shuffled.csv", tmp_path / "out.csv", chunksize=17, **CONV)
    out = read_out(tmp_path / "out.csv")
    expected = sample_scored.loc[shuffled.index]
    assert out["text"].tolist() == shuffled["text"].tolist()
    assert plain(out["emotion"]) == plain(expected["emotion"])
    np.testing.assert_allclose(pd.to_numeric(out["intensity"]).to_numpy(), expected["intensity"].to_numpy(),
                               atol=1e-6)


def test_assume_sorted_gives_the_same_results_on_a_time_ordered_file(tmp_path):
    score_file(SAMPLE, tmp_path / "indexed.csv", chunksize=20, **CONV)
    summary = score_file(SAMPLE, tmp_path / "sorted.csv", chunksize=20, assume_sorted=True, **CONV)
    assert summary.out_of_order == 0
    assert (tmp_path / "indexed.csv").read_bytes() == (tmp_path / "sorted.csv").read_bytes()


def test_assume_sorted_counts_rows_out_of_time_order(tmp_path):
    rows = [("c1", "2024-05-01T10:05:00", "customer", "人呢"), ("c1", "2024-05-01T10:00:00", "customer", "在吗")]
    summary = score_file(write_csv(tmp_path / "a.csv", rows=rows), tmp_path / "o.csv", assume_sorted=True, **CONV)
    assert summary.out_of_order == 1
    assert "warning: 1 rows" in summary.describe()


def test_agent_rows_are_not_scored_and_not_errors(tmp_path):
    summary = score_file(write_csv(tmp_path / "a.csv"), tmp_path / "o.csv", **CONV)
    out = read_out(tmp_path / "o.csv")
    assert (out["emotion"] == "").tolist() == [r[2] == "agent" for r in ROWS]
    assert summary.agent_rows == 2 and summary.errors == 0 and summary.scored == 4


def test_agent_rows_get_the_review_score_frame_gives_them(tmp_path):
    score_file(write_csv(tmp_path / "a.csv"), tmp_path / "o.csv", **CONV)
    out = read_out(tmp_path / "o.csv")
    frame = score_frame(pd.DataFrame(ROWS, columns=["conversation_id", "ts", "role", "text"]), **CONV)
    for column in ("reply_score", "reply_verdict", "reply_issues"):
        expected = ["" if pd.isna(v) else str(v) for v in frame[column]]
        assert out[column].tolist() == expected
    assert (out["reply_verdict"] != "").tolist() == [r[2] == "agent" for r in ROWS]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_summary_gives_each_agents_mean_reply_score(tmp_path, suffix):
    # given: two agents, one answers, one stalls
    rows = [("c1", "2024-05-01T10:00:00", "customer", "我的快递什么时候到？", ""),
            ("c1", "2024-05-01T10:01:00", "agent", "您好，包裹在上海中转，预计明天送达，有问题随时找我。", "小王"),
            ("c2", "2024-05-01T10:00:00", "customer", "东西坏了，太失望了", ""),
            ("c2", "2024-05-01T10:01:00", "agent", "这个不归我们管，你去问厂家。", "小李"),
            ("c2", "2024-05-01T10:02:00", "agent", "请稍等", "小李")]
    src = tmp_path / "a.csv"
    write_csv(src, rows=rows, header="conversation_id,ts,role,text,agent\n")
    if suffix != ".csv":
        other = tmp_path / f"a{suffix}"
        frame = pd.read_csv(src, dtype=str, keep_default_na=False)
        frame.to_parquet(other) if suffix == ".parquet" else frame.to_json(other, orient="records", lines=True,
                                                                           force_ascii=False)
        src = other
    # when
    summary = score_file(src, tmp_path / f"o{suffix}", agent_col="agent", **CONV)
    # then
    assert set(summary.replies) == {"小王", "小李"}
    assert summary.replies["小王"]["replies"] == 1 and summary.replies["小李"]["replies"] == 2
    assert summary.replies["小李"]["poor"] >= 1
    assert summary.replies["小王"]["mean_score"] > summary.replies["小李"]["mean_score"]
    text = summary.describe()
    assert "replies by agent" in text and text.index("小李") < text.index("小王")  # lowest mean first
    out = read_out(tmp_path / f"o{suffix}")
    scores = out["reply_score"].tolist()
    assert [s not in ("", None) and not pd.isna(s) for s in scores] == [False, True, False, True, True]


def test_agent_col_without_role_col_is_refused(tmp_path):
    with pytest.raises(ValueError, match="agent_col"):
        score_file(write_csv(tmp_path / "a.csv"), tmp_path / "o.csv", agent_col="role")


# -- jobs --------------------------------------------------------------------------------------------------------------
def test_two_jobs_write_exactly_what_one_job_writes(tmp_path):
    score_file(SAMPLE, tmp_path / "one.csv", jobs=1, chunksize=40, **CONV)
    summary = score_file(SAMPLE, tmp_path / "two.csv", jobs=2, chunksize=40, **CONV)
    assert summary.jobs == 2
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


# -- formats -----------------------------------------------------------------------------------------------------------
def test_parquet_round_trip_keeps_types(tmp_path):
    # given
    df = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64"), "when": pd.to_datetime(
        ["2024-05-01 10:00", "2024-05-01 10:01", "2024-05-01 11:00"]), "cid": ["a", "a", "a"],
        "text": ["东西坏了", "抱歉", "东西坏了"]})
    df.to_parquet(tmp_path / "in.parquet", index=False)
    # when
    summary = score_file(tmp_path / "in.parquet", tmp_path / "out.parquet", conversation_col="cid",
                         time_col="when")
    # then
    out = pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(out[df.columns.tolist()], df)
    assert summary.rows == 3 and summary.encoding is None
    assert str(out["needs_human"].dtype) in {"bool", "boolean"}


def test_jsonl_round_trip_keeps_each_object_and_marks_bad_lines(tmp_path):
    # given
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "太失望了", "meta": {"shop": "A"}}, ensure_ascii=False) + "\n"
                   + "{not json}\n"
                   + json.dumps({"id": 2, "text": "谢谢"}, ensure_ascii=False) + "\n", encoding="utf-8")
    # when
    summary = score_file(src, tmp_path / "out.jsonl")
    # then
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x.get("id") for x in lines] == [1, None, 2]
    assert lines[0]["meta"] == {"shop": "A"} and lines[0]["emotion"] == "disappointed"
    assert lines[1]["text"] == "{not json}" and lines[1]["error"].startswith("invalid JSON on line 2")
    assert "meta" not in lines[2]
    assert summary.errors == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_broken_surrogate_pair_in_json_marks_the_row_and_any_output_is_written(tmp_path, suffix):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "\\u574f\\u4e86\\ud83d"}\n{"text": "\\u8c22\\u8c22"}\n', encoding="utf-8")
    summary = score_file(src, tmp_path / f"out{suffix}")
    assert (summary.rows, summary.errors) == (2, 1)
    assert plain(read_out(tmp_path / f"out{suffix}")["error"]) == ["undecodable bytes in text", None]


def test_jsonl_to_parquet_gives_each_column_one_type(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "score": 2, "text": "在吗"}\n{"id": 2, "score": 2.5, "text": "好", "x": [1]}\n',
                   encoding="utf-8")
    score_file(src, tmp_path / "out.parquet")
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["id"].tolist() == [1, 2] and out["score"].tolist() == [2.0, 2.5]
    assert plain(out["x"]) == [None, "[1]"]


def test_tsv_in_and_out(tmp_path):
    src = tmp_path / "in.tsv"
    src.write_text("id\ttext\n1\t他说\"好的\"，然后呢\n2\t太慢了\n", encoding="utf-8")
    score_file(src, tmp_path / "out.tsv")
    out = read_out(tmp_path / "out.tsv")
    assert out["text"].tolist() == ["他说\"好的\"，然后呢", "太慢了"]


def test_the_output_format_may_differ_from_the_input(tmp_path, sample_scored):
    score_file(SAMPLE, tmp_path / "out.jsonl", **CONV)
    out = read_out(tmp_path / "out.jsonl")
    assert len(out) == len(sample_scored)
    assert out["emotion"].isna().tolist() == sample_scored["emotion"].isna().tolist()


@pytest.mark.parametrize(("name", "fmt"), [("a.CSV", "csv"), ("a.tab", "tsv"), ("a.ndjson", "jsonl"),
                                           ("a.pq", "parquet")])
def test_format_follows_the_suffix(name, fmt):
    assert file_format(name) == fmt


# -- bad usage ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "kwargs", "error", "message"), [
    (lambda p: p / "a.xlsx", {}, ValueError, "unsupported file type '.xlsx'"),
    (lambda p: write_csv(p / "a.csv"), {"text_col": "message"}, ValueError, "text_col 'message' is not a column"),
    (lambda p: write_csv(p / "a.csv"), {"output": "same"}, ValueError, "would overwrite the input"),
    (lambda p: write_csv(p / "a.csv"), {"jobs": 0}, ValueError, "jobs must be"),
    (lambda p: write_csv(p / "a.csv"), {"chunksize": 0}, ValueError, "chunksize must be"),
    (lambda p: write_csv(p / "a.csv"), {"time_col": "ts"}, ValueError, "give conversation_col too"),
    (lambda p: p / "missing.csv", {}, FileNotFoundError, "no such file"),
])
def test_bad_usage_raises_before_writing_anything(tmp_path, make, kwargs, error, message):
    path = make(tmp_path)
    if path.suffix == ".xlsx":
        path.write_bytes(b"PK")
    if kwargs.get("output") == "same":
        kwargs["output"] = path
    with pytest.raises(error, match=message):
        score_file(path, **kwargs)
    assert leftovers(tmp_path) == [] and not list(tmp_path.glob("*.scored.*"))


def test_an_empty_file_is_a_value_error(tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="is empty"):
        score_file(tmp_path / "empty.csv")


# -- summary and progress ----------------------------------------------------------------------------------------------
def test_summary_describes_rows_errors_and_distributions(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("text\n太失望了，白买了\n\n谢谢，问题解决了\n\"\"\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "o.csv")
    text = summary.describe()
    assert isinstance(summary, ScoreSummary) and (summary.rows, summary.errors) == (3, 1)
    assert "scored 2, errors 1" in text and "row 2: empty text" in text
    assert "emotion: " in text and "intent: " in text and "disappointed 1 (50.0%)" in text


def test_progress_goes_to_stderr_only_when_asked(tmp_path, capsys):
    src = write_csv(tmp_path / "a.csv")
    score_file(src, tmp_path / "o.csv")
    assert capsys.readouterr() == ("", "")
    score_file(src, tmp_path / "o.csv", progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "rows" in captured.err


# -- the command -------------------------------------------------------------------------------------------------------
def test_cli_score_exits_0_and_prints_the_summary(tmp_path, capsys):
    src = write_csv(tmp_path / "a.csv")
    code = main(["score", str(src), "--out", str(tmp_path / "o.parquet"), "--conversation-col", "conversation_id",
                 "--time-col", "ts", "--role-col", "role", "--jobs", "1", "--chunksize", "2"])
    assert code == 0
    assert "6 rows" in capsys.readouterr().err
    assert len(pd.read_parquet(tmp_path / "o.parquet")) == 6


def test_cli_strict_exits_1_when_rows_had_errors(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("text\n在吗\n\"\"\n", encoding="utf-8")
    assert main(["score", str(src), "--out", str(tmp_path / "o.csv")]) == 0
    assert main(["score", str(src), "--out", str(tmp_path / "o.csv"), "--strict"]) == 1
    assert (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("args", [
    ["score"],
    ["score", "{src}", "--jobs", "two"],
    ["score", "{src}", "--text-col", "message"],
    ["score", "{src}", "--out", "{tmp}/o.xlsx"],
    ["score", "{tmp}/missing.csv"],
    ["score", "{src}", "--encoding", "klingon"],
])
def test_cli_bad_usage_exits_2_with_one_line(tmp_path, capsys, args):
    src = write_csv(tmp_path / "a.csv")
    code = main([a.format(src=src, tmp=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("cs-sentiment: error:") and "Traceback" not in err


def test_cli_prefix_scores_a_labelled_file(tmp_path):
    src = tmp_path / "labelled.csv"
    src.write_text("text,emotion\n太失望了,disappointed\n", encoding="utf-8")
    assert main(["score", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    assert main(["score", str(src), "--out", str(tmp_path / "o.csv"), "--prefix", "pred_"]) == 0
    assert read_out(tmp_path / "o.csv")["pred_emotion"].tolist() == ["disappointed"]


# --- priors adapted to the file (issue 7) -------------------------------------------------------
CALM_ROWS = ["好的", "嗯嗯", "收到", "没有了", "订单号发你了", "明天能到吗", "好的谢谢", "在吗", "[订单x]", "行 知道了"]


def test_adapt_priors_estimates_priors_on_the_file_and_scores_with_them(tmp_path):
    src = tmp_path / "log.csv"
    pd.DataFrame({"id": range(30), "text": CALM_ROWS * 3}).to_csv(src, index=False)
    summary = score_file(src, tmp_path / "out.csv", adapt_priors=True)
    assert summary.rows == 30 and summary.errors == 0
    assert summary.priors["emotion"]["neutral"] > 0.5
    assert "adapted emotion priors" in summary.describe()
    plain_summary = score_file(src, tmp_path / "plain.csv")
    assert plain_summary.priors is None


def test_adapt_priors_gives_the_same_output_with_one_or_two_jobs(tmp_path):
    src = tmp_path / "log.csv"
    pd.DataFrame({"text": (CALM_ROWS + ["太失望了，白买了", "气死了！！"]) * 30}).to_csv(src, index=False)
    score_file(src, tmp_path / "one.csv", adapt_priors=True, jobs=1, chunksize=100)
    score_file(src, tmp_path / "two.csv", adapt_priors=True, jobs=2, chunksize=100)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


def test_cli_adapt_priors_flag_reports_the_priors(tmp_path, capsys):
    src = tmp_path / "log.csv"
    pd.DataFrame({"text": CALM_ROWS * 2}).to_csv(src, index=False)
    assert main(["score", str(src), "--adapt-priors", "--no-progress"]) == 0
    assert "adapted emotion priors" in capsys.readouterr().err


# --- encodings, line by line (issue 8, item 10) ---------------------------------------------------------
TW_ROWS = ["請問我的訂單什麼時候出貨？已經等一週了", "這個app真的很爛欸，一直閃退", "好的謝謝", "客服棒棒", "帳號登不進去"]


def test_a_big5_export_is_read_as_big5_not_as_gb18030_mojibake(tmp_path):
    src = tmp_path / "tw.csv"
    src.write_bytes(("id,text\n" + "".join(f"{i},{t}\n" for i, t in enumerate(TW_ROWS))).encode("cp950"))
    summary = score_file(src, tmp_path / "out.csv")
    assert summary.encoding == "cp950" and summary.errors == 0
    assert read_out(tmp_path / "out.csv")["text"].tolist() == TW_ROWS
    assert "read as cp950" in summary.describe()


def test_one_utf8_line_in_a_gbk_file_is_read_right_and_marked(tmp_path):
    rows = [f"{i},第{i}条消息，我要退款" for i in range(20)]
    data = ("id,text\n" + "\n".join(rows[:7]) + "\n").encode("gbk") + (rows[7] + "\n").encode("utf-8") \
        + ("\n".join(rows[8:]) + "\n").encode("gbk")
    src = tmp_path / "mixed.csv"
    src.write_bytes(data)
    summary = score_file(src, tmp_path / "out.csv")
    out = read_out(tmp_path / "out.csv")
    assert summary.encoding == "gb18030" and summary.rows == 20
    assert out["text"].tolist() == [r.split(",", 1)[1] for r in rows]
    assert summary.errors == 1 and out["error"].tolist()[7] == "line 9 is UTF-8 in a gb18030 file (read as UTF-8)"


def test_one_gbk_line_in_a_utf8_file_is_read_right_and_marked(tmp_path):
    src = tmp_path / "mixed.csv"
    src.write_bytes("id,text\n1,在吗\n2,东西坏了\n".encode() + "3,我要退款\n".encode("gbk") + "4,谢谢\n".encode())
    summary = score_file(src, tmp_path / "out.csv")
    out = read_out(tmp_path / "out.csv")
    assert summary.encoding == "utf-8" and out["text"].tolist() == ["在吗", "东西坏了", "我要退款", "谢谢"]
    assert out["error"].tolist()[2] == "line 4 is not utf-8 (read as gb18030)"


def test_two_byte_order_marks_leave_no_mark_in_the_header(tmp_path):
    src = tmp_path / "bom.csv"
    src.write_bytes(codecs.BOM_UTF8 * 2 + "text,id\n在吗,1\n".encode())
    score_file(src, tmp_path / "out.csv")
    assert list(read_out(tmp_path / "out.csv").columns)[:2] == ["text", "id"]


# --- one line and exit 2, never a traceback (issue 8, item 12) --------------------------------------------
def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_parquet_file_with_a_repeated_column_is_one_line(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table([pa.array(["好的"]), pa.array(["a"])], names=["text", "text"]), tmp_path / "d.parquet")
    assert main(["score", str(tmp_path / "d.parquet"), "--no-progress"]) == 2
    assert "repeats column name(s) 'text'" in _one_line(capsys.readouterr().err)


def test_a_file_that_grows_between_the_two_passes_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    src = write_csv(tmp_path / "log.csv")
    original = batch._index_conversations

    def index_then_append(reader, plan, bar):
        index = original(reader, plan, bar)
        with src.open("a", encoding="utf-8") as f:
            f.write("c9,2024-05-01T10:09:00,customer,又来了\n")
        return index

    monkeypatch.setattr(batch, "_index_conversations", index_then_append)
    code = main(["score", str(src), "--out", str(tmp_path / "out.csv"), "--conversation-col", "conversation_id",
                 "--time-col", "ts", "--no-progress"])
    assert code == 2
    assert "grew while it was read" in _one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


@pytest.mark.parametrize("kind", ["duration", "time64"])
def test_a_duration_or_clock_time_column_is_no_time_not_a_traceback(tmp_path, kind):
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    times = (pa.array([datetime.timedelta(seconds=1), datetime.timedelta(seconds=2)]) if kind == "duration"
             else pa.array([datetime.time(10, 0), datetime.time(10, 5)], pa.time64("us")))
    pq.write_table(pa.table({"c": ["x", "x"], "text": ["在吗", "人呢"], "t": times}), tmp_path / "t.parquet")
    summary = score_file(tmp_path / "t.parquet", tmp_path / "out.parquet", conversation_col="c", time_col="t")
    assert summary.rows == 2 and summary.errors == 0


def test_score_frame_with_two_text_columns_is_a_value_error_naming_them():
    with pytest.raises(ValueError, match="repeats column name"):
        score_frame(pd.DataFrame([["好的", "在吗"]], columns=["text", "text"]))


def test_a_gbk_extra_lexicon_is_one_line_naming_the_file(tmp_path, capsys):
    lexicon = tmp_path / "emotion_mine.tsv"
    lexicon.write_bytes("term\temotion\tstrength\tsource\n气炸了\tangry\t0.9\tme\n".encode("gbk"))
    assert main(["analyze", "气炸了", "--lexicon", str(lexicon)]) == 2
    assert "emotion_mine.tsv: not UTF-8" in _one_line(capsys.readouterr().err)


def test_evaluate_plot_without_matplotlib_is_one_line_naming_the_extra(tmp_path, monkeypatch, capsys):
    data = tmp_path / "d.csv"
    data.write_text("text,emotion,intent\n好的,neutral,other\n太失望了,disappointed,other\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["evaluate", str(data), "--plot", str(tmp_path / "c.png")]) == 2
    assert "cs-sentiment[plot]" in _one_line(capsys.readouterr().err)

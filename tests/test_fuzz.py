"""Fuzzing with hypothesis (bounded time): hostile messages, contexts and chat-log files (issue 8).

Asserted for everything generated: no exception but the library's own, time
linear in the length, spans that point at what they name, and every row of a
file back exactly once, in order, with its columns.
"""

from __future__ import annotations

import csv
import json
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_sentiment import CsSentimentError
from cs_sentiment.batch import score_file

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FILES = settings(max_examples=50, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: Units that have broken something before: punctuation runs, NFKC expanders, invisible and format
#: characters, composing marks, emoji pieces, markup, surrogates, negators and keywords.
HOSTILE_UNITS = ["！", "!", "？", "?", "!?", "。", ".", "…", "\ufdfa", "ﬁ", "e\u0301", "\u0301", "\u2069", "\u00ad",
                 "\U000e0041", "\ue000", "\u200d", "\ufe0f", "🏽", "👍🏽", "😡", "<p>", "&amp;", "\ud800", "\x00",
                 "\n", "\t", " ", "不", "不能", "失望", "无法接受", "投诉", "到底", "快", "[微笑]", "呵呵", "訂單", "ＡＢ"]
HOSTILE = st.builds(lambda unit, n, tail: unit * n + tail, st.sampled_from(HOSTILE_UNITS), st.integers(1, 4000),
                    st.text(max_size=20))
MIXED = st.lists(st.sampled_from(HOSTILE_UNITS), max_size=200).map("".join)

#: Per call: a fixed allowance plus a cost per character (generous: 50 µs a character is far above
#: the real cost; a quadratic or cubic rule blows through it on a few thousand characters).
BASE_SECONDS = 0.25
SECONDS_PER_CHAR = 50e-6


@FUZZ
@given(message=st.one_of(HOSTILE, MIXED))
def test_hostile_messages_give_a_valid_analysis_in_linear_time_with_true_spans(analyzer, check_analysis, message):
    start = time.perf_counter()
    result = analyzer.analyze(message)
    assert time.perf_counter() - start < BASE_SECONDS + SECONDS_PER_CHAR * len(message)
    check_analysis(result, message)
    for cue in result.evidence:
        if cue.start is not None:
            assert 0 <= cue.start <= cue.end <= len(message)
            assert message[cue.start:cue.end] == cue.text


ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(10**300, 10**400),
                      st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10),
                      st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                      st.builds(np.int64, st.integers(-(2**63), 2**63 - 1)), st.builds(np.float32, st.floats(width=32)),
                      st.builds(np.bool_, st.booleans()))
HOSTILE_CONTEXT = st.dictionaries(st.sampled_from(["history", "typing_seconds", "seconds_since_last",
                                                   "previous_complaints", "customer_baseline_cps", "ts", "x"]),
                                  st.one_of(ANY_VALUE, st.lists(st.one_of(st.text(max_size=5), ANY_VALUE,
                                                                          st.fixed_dictionaries(
                                                                              {"text": st.text(max_size=5)},
                                                                              optional={"ts": ANY_VALUE})),
                                                                max_size=4)),
                                  max_size=4)


@FUZZ
@given(context=HOSTILE_CONTEXT)
def test_hostile_contexts_give_an_analysis_or_the_librarys_own_error(analyzer, check_analysis, context):
    try:
        result = analyzer.analyze("东西坏了，到底什么时候处理", context)
    except CsSentimentError:
        return
    check_analysis(result, "东西坏了，到底什么时候处理")


#: Values a chat export holds: Chinese, quotes, delimiters, line breaks, emoji, BOMs, placeholders.
CELL = st.lists(st.sampled_from(["好的", "在吗", '"', "'", ",", "，", "\n", "\r\n", " ", "😡", "\ufeff", "[订单x]",
                                 "退款", "\\", "=1+1", "訂單", "12315", "…"]), max_size=8).map("".join)
TSV_CELL = CELL.map(lambda v: v.replace("\t", " ").replace("\r", " ").replace("\n", " "))


def _ids(path, fmt: str) -> list[str]:
    if fmt == "jsonl":
        return [str(json.loads(line)["id"]) for line in path.read_text(encoding="utf-8").splitlines() if line]
    sep = "\t" if fmt == "tsv" else ","
    out = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                      quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL)
    return out["id"].tolist()


@FILES
@given(texts=st.lists(CELL, min_size=1, max_size=30), extra=st.lists(CELL, min_size=1, max_size=30),
       fmt=st.sampled_from(["csv", "jsonl"]))
def test_any_well_formed_file_comes_back_row_for_row_with_its_columns(tmp_path_factory, texts, extra, fmt):
    folder = tmp_path_factory.mktemp("fuzz")
    n = len(texts)
    notes = (extra * n)[:n]
    src = folder / f"log.{fmt}"
    if fmt == "csv":
        with src.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "text", "note"])
            writer.writerows([i, t, e] for i, (t, e) in enumerate(zip(texts, notes)))
    else:
        src.write_text("".join(json.dumps({"id": i, "text": t, "note": e}, ensure_ascii=False) + "\n"
                               for i, (t, e) in enumerate(zip(texts, notes))), encoding="utf-8")
    summary = score_file(src, folder / f"out.{fmt}")
    assert summary.rows == n
    assert _ids(folder / f"out.{fmt}", fmt) == [str(i) for i in range(n)]
    if fmt == "csv":
        out = pd.read_csv(folder / "out.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert out["note"].tolist() == notes


@FILES
@given(cells=st.lists(TSV_CELL, min_size=1, max_size=40))
def test_any_tsv_line_is_one_row_read_as_written(tmp_path_factory, cells):
    folder = tmp_path_factory.mktemp("fuzz")
    src = folder / "log.tsv"
    src.write_text("id\ttext\n" + "".join(f"{i}\t{c}\n" for i, c in enumerate(cells)), encoding="utf-8")
    summary = score_file(src, folder / "out.tsv")
    assert summary.rows == len(cells)
    out = pd.read_csv(folder / "out.tsv", sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE,
                      encoding="utf-8-sig")
    assert out["id"].tolist() == [str(i) for i in range(len(cells))]
    assert out["text"].tolist() == cells


@FILES
@given(lines=st.lists(st.tuples(st.text(alphabet="好的在吗退款 ", max_size=6),
                                st.sampled_from(["", '"', '""', 'x"', '"x"']),
                                st.text(alphabet="abc", max_size=3)), min_size=1, max_size=40))
def test_stray_quotes_in_csv_never_merge_or_lose_rows(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("fuzz")
    src = folder / "log.csv"
    body = "".join(f"{i},{quote}{text},{tag}\n" for i, (text, quote, tag) in enumerate(lines))
    src.write_text("id,text,tag\n" + body, encoding="utf-8")
    summary = score_file(src, folder / "out.csv")
    assert summary.rows == len(lines)
    assert _ids(folder / "out.csv", "csv") == [str(i) for i in range(len(lines))]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "cp950", "utf-16"])
def test_every_supported_encoding_reads_back_exactly(tmp_path, encoding):
    texts = ["請問訂單什麼時候出貨", "好的謝謝", "帳號登不進去", "客服棒棒"]
    src = tmp_path / "log.csv"
    src.write_bytes(("id,text\n" + "".join(f"{i},{t}\n" for i, t in enumerate(texts))).encode(encoding))
    summary = score_file(src, tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert summary.errors == 0 and out["text"].tolist() == texts

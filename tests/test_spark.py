"""cs_sentiment.spark on a local Spark (``local[2]``); skipped when PySpark or Java is missing."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from cs_sentiment import score_frame
from cs_sentiment.rows import RESULT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "chat_log.csv"
CONV = dict(conversation_col="conversation_id", time_col="ts", role_col="role")
# PySpark's own complaints about pandas 3, not ours
pytestmark = [pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


def test_importing_without_pyspark_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql.types", None)
    monkeypatch.delitem(sys.modules, "cs_sentiment.spark", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'cs-sentiment\[spark\]'"):
        importlib.import_module("cs_sentiment.spark")


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers use this interpreter (and its cs_sentiment)
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("cs_sentiment-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.memory", "1g")
               .config("spark.python.worker.reuse", "true")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def chat() -> pd.DataFrame:
    df = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    df.insert(0, "row", range(len(df)))
    return df


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("row").reset_index(drop=True)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(object).where(df.notna(), None)


def test_score_messages_returns_input_columns_then_results(spark, chat):
    from cs_sentiment.spark import result_schema, score_messages

    # given
    sdf = spark.createDataFrame(chat)
    # when
    scored = score_messages(sdf, text_col="text", role_col="role")
    # then
    assert scored.columns == [*chat.columns, *RESULT_COLUMNS]
    assert scored.schema.fields[len(chat.columns):] == result_schema().fields
    got = _sorted(scored.toPandas())
    expected = score_frame(chat, role_col="role")
    assert got[chat.columns.tolist()].equals(chat)
    assert _plain(got[["emotion", "intent", "strategy", "error"]]).equals(
        _plain(expected[["emotion", "intent", "strategy", "error"]]))
    pd.testing.assert_series_equal(got["intensity"], expected["intensity"], check_names=False)


def test_score_conversations_matches_score_frame(spark, chat):
    from cs_sentiment.spark import score_conversations

    scored = score_conversations(spark.createDataFrame(chat), text_col="text", **CONV)
    got = _sorted(scored.toPandas())
    expected = score_frame(chat, **CONV)
    assert _plain(got[["emotion", "intensity_level", "priority"]]).equals(
        _plain(expected[["emotion", "intensity_level", "priority"]]))
    pd.testing.assert_series_equal(got["escalation_risk"], expected["escalation_risk"], check_names=False)
    assert got.loc[chat["role"] == "agent", "emotion"].isna().all()


@pytest.mark.parametrize("buckets", [1, 3])
def test_many_conversations_in_one_pandas_call_score_as_each_alone(spark, chat, buckets):
    from cs_sentiment.spark import score_conversations

    scored = score_conversations(spark.createDataFrame(chat), text_col="text", buckets=buckets, **CONV)
    got = _sorted(scored.toPandas())
    expected = score_frame(chat, **CONV)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_series_equal(got["escalation_risk"], expected["escalation_risk"], check_names=False)
    assert _plain(got[["emotion", "reply_verdict"]]).equals(_plain(expected[["emotion", "reply_verdict"]]))


def test_a_bucket_count_below_one_fails_on_the_driver(spark, chat):
    from cs_sentiment.spark import score_conversations

    with pytest.raises(ValueError, match="buckets"):
        score_conversations(spark.createDataFrame(chat), text_col="text", buckets=0, **CONV)


def test_spark_timestamps_order_a_conversation(spark):
    from pyspark.sql import functions as F

    from cs_sentiment.spark import score_conversations

    rows = [("c1", "2024-05-01 10:40:00", "我的快递什么时候到？"), ("c1", "2024-05-01 10:00:00", "我的快递什么时候到？")]
    sdf = spark.createDataFrame(rows, ["cid", "ts", "text"]).withColumn("ts", F.to_timestamp("ts"))
    got = score_conversations(sdf, conversation_col="cid", time_col="ts").orderBy("ts").toPandas()
    assert got["intensity"].iloc[1] > got["intensity"].iloc[0]  # the later one repeats the earlier one


def test_bad_rows_are_marked_not_fatal(spark):
    from cs_sentiment.spark import score_messages

    sdf = spark.createDataFrame(pd.DataFrame({"id": [1, 2, 3], "text": ["在吗", None, "  "]}))
    got = score_messages(sdf).toPandas().sort_values("id")
    assert _plain(got[["error"]])["error"].tolist() == [None, "missing text", "empty text"]


def test_bad_arguments_fail_on_the_driver(spark):
    from cs_sentiment.spark import score_conversations, score_messages

    sdf = spark.createDataFrame(pd.DataFrame({"text": ["在吗"], "emotion": ["neutral"]}))
    with pytest.raises(ValueError, match="already has result column"):
        score_messages(sdf)
    with pytest.raises(ValueError, match="conversation_col 'cid' is not a column"):
        score_conversations(sdf, conversation_col="cid", prefix="p_")
    with pytest.raises(TypeError, match="Spark DataFrame"):
        score_messages(pd.DataFrame({"text": ["在吗"]}))
    assert "p_emotion" in score_messages(sdf, prefix="p_").columns


def test_one_analyzer_per_process():
    pytest.importorskip("pyspark")
    from cs_sentiment.spark import executor_analyzer

    assert executor_analyzer() is executor_analyzer()


def test_each_executor_process_builds_one_analyzer_for_all_its_batches(spark):
    def probe(batches):
        from cs_sentiment.spark import executor_analyzer

        for batch in batches:
            yield pd.DataFrame({"pid": [os.getpid()] * len(batch), "analyzer": [id(executor_analyzer())] * len(batch)})

    sdf = spark.range(0, 64, numPartitions=8)
    seen = sdf.mapInPandas(probe, "pid long, analyzer long").distinct().toPandas()
    assert seen.groupby("pid")["analyzer"].nunique().eq(1).all()

"""Score Spark DataFrames on an existing cluster (optional extra: ``pip install 'cs-sentiment[spark]'``).

Two entry points, both returning the input columns plus the result columns of
:data:`~cs_sentiment.rows.RESULT_COLUMNS` with an explicit schema
(:func:`result_schema`):

- :func:`score_messages` scores each message on its own, batch by batch, with
  ``mapInPandas``: no shuffle, as fast as the cluster has cores;
- :func:`score_conversations` groups the rows by conversation with
  ``groupBy(conversation).applyInPandas`` and scores each customer message with
  the context of the earlier ones, exactly as :func:`~cs_sentiment.score_frame` does.

Each Python worker process builds one :class:`~cs_sentiment.Analyzer` the first
time it needs one and keeps it (a module-level cache), so the model is loaded once
per executor process, not once per batch. ``cs-sentiment`` must be installed on
the executors (for example with ``--py-files`` or the cluster's environment).

Example (not run here: it needs a Spark session)::

    from cs_sentiment.spark import score_conversations
    scored = score_conversations(spark.read.parquet("chats/"), conversation_col="conversation_id",
                                 time_col="ts", role_col="role")
    scored.write.parquet("chats_scored/")
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

try:
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType, StructField, StructType
except ImportError as _missing:  # pragma: no cover - exercised by a test that hides pyspark
    raise ImportError(
        "cs_sentiment.spark needs PySpark, which is an optional extra: pip install 'cs-sentiment[spark]'"
    ) from _missing

from .frame import check_columns, score_with
from .parallel import scorer_for
from .rows import COLUMNS, MAX_CHARS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .analyzer import Analyzer

__all__ = ["result_schema", "score_conversations", "score_messages"]

#: The temporary column holding each row's conversation bucket (dropped before scoring).
_BUCKET_COLUMN = "__cs_sentiment_bucket"
_SPARK_TYPES = {"string": StringType, "float64": DoubleType, "boolean": BooleanType, "Int64": LongType}


def result_schema(prefix: str = "") -> StructType:
    """The Spark schema of the result columns (all nullable).

    >>> [f.name for f in result_schema("pred_").fields][:3]
    ['pred_emotion', 'pred_intensity', 'pred_intensity_level']
    """
    return StructType([StructField(prefix + c.name, _SPARK_TYPES[c.dtype](), True) for c in COLUMNS])


def score_messages(df: DataFrame, *, text_col: str = "text", role_col: str | None = None,
                   typing_col: str | None = None, model_dir: str | os.PathLike[str] | None = None,
                   max_chars: int = MAX_CHARS, prefix: str = "") -> DataFrame:
    """Score every message on its own (no conversation context), with ``mapInPandas``.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        One message a row.
    text_col, role_col, typing_col, max_chars, prefix
        As in :func:`~cs_sentiment.score_frame`, except that agent rows are not
        reviewed: Spark keeps no row order, so a reply's customer message is known only
        within a conversation (:func:`score_conversations`).
    model_dir : path, optional
        A model directory readable from every executor (default: the shipped model).

    Returns
    -------
    pyspark.sql.DataFrame
        The input columns, then the result columns (schema: :func:`result_schema`).

    Raises
    ------
    TypeError
        ``df`` is not a Spark DataFrame.
    ValueError
        A named column is missing or a result column already exists.
    """
    _check(df, text_col=text_col, role_col=role_col, typing_col=typing_col, prefix=prefix)
    options = {"text_col": text_col, "role_col": role_col, "typing_col": typing_col, "max_chars": max_chars,
               "prefix": prefix, "replies_in_input_order": False}
    where = None if model_dir is None else os.fspath(model_dir)

    def score_batches(batches):  # no type hints: Spark must not guess an eval type from them
        return _score_batches(where, options, batches)

    return df.mapInPandas(score_batches, _output_schema(df, prefix))


def score_conversations(df: DataFrame, *, conversation_col: str, text_col: str = "text",
                        time_col: str | None = None, role_col: str | None = None, typing_col: str | None = None,
                        model_dir: str | os.PathLike[str] | None = None, max_chars: int = MAX_CHARS,
                        prefix: str = "", buckets: int | None = None) -> DataFrame:
    """Score every customer message with its conversation's context, with ``groupBy().applyInPandas``.

    All rows of one conversation go to one task, are ordered by ``time_col`` and
    scored as :func:`~cs_sentiment.score_frame` does with ``conversation_col``; agent
    rows are reviewed as replies (the ``reply_*`` columns). Rows without a conversation id are scored on their own.

    Conversations are grouped into ``buckets`` by a hash of their id, and each
    bucket is one pandas call holding many conversations: a call per conversation
    costs more than scoring its few messages.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        One message a row.
    conversation_col : str
        The conversation id.
    text_col, time_col, role_col, typing_col, max_chars, prefix
        As in :func:`~cs_sentiment.score_frame`.
    model_dir : path, optional
        A model directory readable from every executor (default: the shipped model).
    buckets : int, optional
        How many groups the conversations are hashed into, each scored in one pandas
        call that holds it whole in memory (default: ``spark.sql.shuffle.partitions``,
        200 unless set). Raise it when a bucket would not fit in an executor's memory.

    Returns
    -------
    pyspark.sql.DataFrame
        The input columns, then the result columns (schema: :func:`result_schema`).
        Like any grouped Spark result, its row order is not the input's.

    Raises
    ------
    TypeError
        ``df`` is not a Spark DataFrame.
    ValueError
        A named column is missing or a result column already exists.
    """
    _check(df, text_col=text_col, conversation_col=conversation_col, time_col=time_col, role_col=role_col,
           typing_col=typing_col, prefix=prefix)
    options = {"text_col": text_col, "conversation_col": conversation_col, "time_col": time_col,
               "role_col": role_col, "typing_col": typing_col, "max_chars": max_chars, "prefix": prefix}
    where = None if model_dir is None else os.fspath(model_dir)
    if buckets is None:
        buckets = int(df.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)
    if isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1:
        raise ValueError(f"buckets must be an int >= 1, got {buckets!r}")
    bucket = _BUCKET_COLUMN
    while bucket in df.columns:
        bucket += "_"

    def score_group(group):  # no type hints: Spark must not guess an eval type from them
        return _score_group(where, options, group.drop(columns=[bucket]))

    keyed = df.withColumn(bucket, F.pmod(F.xxhash64(F.col(conversation_col)), F.lit(buckets)))
    return keyed.groupBy(bucket).applyInPandas(score_group, _output_schema(df, prefix))


def _check(df: Any, **columns: Any) -> None:
    if not isinstance(df, DataFrame):
        raise TypeError(f"df must be a Spark DataFrame, got {type(df).__name__}")
    check_columns(df.columns, **columns)


def _output_schema(df: DataFrame, prefix: str) -> StructType:
    return StructType(list(df.schema.fields) + list(result_schema(prefix).fields))


# -- executor side ---------------------------------------------------------------------------------------------------
def executor_analyzer(model_dir: str | None = None) -> Analyzer:
    """This process's :class:`Analyzer` for ``model_dir``, built on first use and then kept."""
    return scorer_for(model_dir).analyzer


def _score_batches(model_dir: str | None, options: dict[str, Any],
                   batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    scorer = scorer_for(model_dir)
    for batch in batches:
        yield score_with(scorer, batch, **options)


def _score_group(model_dir: str | None, options: dict[str, Any], group: pd.DataFrame) -> pd.DataFrame:
    return score_with(scorer_for(model_dir), group, **options)

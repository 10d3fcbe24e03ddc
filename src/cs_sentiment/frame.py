"""Score a pandas DataFrame of chat messages: :func:`score_frame`.

Every row keeps its input columns and gains the result columns of
:data:`RESULT_COLUMNS`. With a conversation column, each customer message is read
with the context of the earlier messages of its conversation (as in
:func:`~cs_sentiment.analyze_conversation`). With a role column, agent messages
are not scored as customers: each is reviewed as a reply to the customer message
before it (:func:`~cs_sentiment.review_reply`) and gets the ``reply_*`` columns.

>>> import pandas as pd
>>> from cs_sentiment import score_frame
>>> df = pd.DataFrame({"text": ["在吗", "太失望了，白买了", None]})
>>> out = score_frame(df)
>>> out["emotion"].tolist(), out["error"].tolist()
(['neutral', 'disappointed', <NA>], [<NA>, <NA>, 'missing text'])

This module is also the scoring core of :mod:`cs_sentiment.batch` (files) and
:mod:`cs_sentiment.spark`: the same functions build the contexts and the result
columns, so a file, a DataFrame and a Spark job give the same results.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .extras import missing_extra

try:
    import numpy as np
    import pandas as pd
except ImportError as _missing:  # pragma: no cover - a test hides the extra
    raise missing_extra(_missing, "batch", "score_frame") from None

from .rows import (
    COLUMNS,
    MAX_CHARS,
    REPLY_COLUMNS,
    RESULT_COLUMNS,
    Row,
    Scorer,
    contexts_in_input_order,
    contexts_in_memory,
    conversation_keys,
    prepare_rows,
    typing_seconds,
)
from .times import epoch_seconds_counted, timeless_message

if TYPE_CHECKING:  # pragma: no cover
    from .analyzer import Analyzer

__all__ = ["MAX_CHARS", "REPLY_COLUMNS", "RESULT_COLUMNS", "score_frame"]


def score_frame(df: pd.DataFrame, *, text_col: str = "text", conversation_col: str | None = None,
                time_col: str | None = None, role_col: str | None = None, typing_col: str | None = None,
                analyzer: Analyzer | None = None, max_chars: int = MAX_CHARS, prefix: str = "") -> pd.DataFrame:
    """Score every message of a DataFrame; the input columns are kept untouched.

    Parameters
    ----------
    df : pandas.DataFrame
        One message a row.
    text_col : str
        The column with the message text.
    conversation_col : str, optional
        The conversation id. Rows of one conversation are ordered by ``time_col``
        (rows without a time come last, ties keep the input order) and each customer
        message gets the context of the earlier ones: ``history`` (earlier customer
        messages), ``seconds_since_last`` (since the previous message of either side)
        and ``typing_seconds``. A row without a conversation id stands alone.
    time_col : str, optional
        When each message was sent: datetimes, ISO 8601 text or epoch seconds (numbers
        above 1e11 are read as milliseconds). Needs ``conversation_col``. Values that
        cannot be read count as missing.
    role_col : str, optional
        ``customer`` or ``agent`` (and the synonyms in
        :data:`~cs_sentiment.conversation.CUSTOMER_ROLES` / ``AGENT_ROLES``; missing means
        customer). An agent row is reviewed as a reply to the latest customer message
        before it in its conversation (without ``conversation_col``: the latest customer
        row above it) and gets ``reply_score`` (0–100), ``reply_verdict`` (good,
        acceptable or poor) and ``reply_issues`` (the failed checks, comma-separated);
        its customer columns stay empty. An agent row with no customer message before
        it, or with empty text, gets no review and no error.
    typing_col : str, optional
        Seconds the customer spent typing the message (values that are not > 0 are ignored).
    analyzer : Analyzer, optional
        Default: :meth:`Analyzer.default`.
    max_chars : int
        Longer messages are not scored (:data:`MAX_CHARS`).
    prefix : str
        Put before every result column name, e.g. ``"pred_"`` when the input already
        has an ``emotion`` or ``intent`` column.

    Returns
    -------
    pandas.DataFrame
        The input columns, in the input's row order and index, then the columns of
        :data:`RESULT_COLUMNS`. A row that cannot be scored (missing, non-text,
        empty, over-long or undecodable text; an unknown role) gets a message in
        ``error`` and empty results; the other rows are scored anyway.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame.
    ValueError
        A named column is missing, a result column would overwrite an input column,
        or ``time_col`` is given without ``conversation_col``.

    Examples
    --------
    >>> chat = pd.DataFrame({
    ...     "cid": ["a", "a", "a"], "ts": ["2024-05-01 10:00", "2024-05-01 10:01", "2024-05-01 10:30"],
    ...     "role": ["customer", "agent", "customer"],
    ...     "text": ["我的快递什么时候到？", "请稍等", "我的快递什么时候到？"]})
    >>> out = score_frame(chat, conversation_col="cid", time_col="ts", role_col="role")
    >>> out["emotion"].isna().tolist()
    [False, True, False]
    >>> out.loc[1, "reply_verdict"], out.loc[1, "reply_issues"]
    ('acceptable', 'next_step,shows_care')
    >>> bool(out.loc[2, "intensity"] > out.loc[0, "intensity"])  # asked again after a long wait
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    check_columns(list(df.columns), text_col=text_col, conversation_col=conversation_col, time_col=time_col,
                  role_col=role_col, typing_col=typing_col, prefix=prefix)
    return score_with(Scorer(analyzer), df, text_col=text_col, conversation_col=conversation_col,
                      time_col=time_col, role_col=role_col, typing_col=typing_col, max_chars=max_chars,
                      prefix=prefix)


def score_with(scorer: Scorer, df: pd.DataFrame, *, text_col: str = "text", conversation_col: str | None = None,
               time_col: str | None = None, role_col: str | None = None, typing_col: str | None = None,
               max_chars: int = MAX_CHARS, prefix: str = "", replies_in_input_order: bool = True) -> pd.DataFrame:
    """:func:`score_frame` with a given :class:`Scorer` and no argument checks (for the Spark workers).

    Without ``conversation_col`` an agent row answers the customer row above it, unless
    ``replies_in_input_order`` is false (rows in no reliable order): then it is not reviewed.
    """
    rows = prepare_rows(df[text_col].tolist(), None if role_col is None else df[role_col].tolist(),
                        max_chars=max_chars)
    typing = None if typing_col is None else typing_seconds(df[typing_col].tolist())
    contexts: list[Any] | None
    if conversation_col is not None:
        keys = conversation_keys(df[conversation_col].tolist())
        times = np.full(len(df), np.nan)
        if time_col is not None:
            times, timeless = epoch_seconds_counted(df[time_col])
            if timeless:
                warnings.warn(timeless_message(timeless, time_col), UserWarning, stacklevel=3)
        contexts = contexts_in_memory(rows, keys, times, typing)
    else:
        contexts = contexts_in_input_order(rows, typing, replies=replies_in_input_order)
    results = scorer.score(rows.texts, contexts, rows.errors, rows.agent)
    return df.assign(**result_columns(results, rows.errors, prefix=prefix))


# -- columns ---------------------------------------------------------------------------------------------------------
def check_columns(columns: Sequence[Any], *, text_col: str, conversation_col: str | None = None,
                  time_col: str | None = None, role_col: str | None = None, typing_col: str | None = None,
                  prefix: str = "", agent_col: str | None = None) -> None:
    """Raise ``ValueError`` when a named column is missing or repeated, or a result column already exists."""
    names = list(columns)
    dupes = sorted({str(c) for c in names if names.count(c) > 1})
    if dupes:
        raise ValueError(f"the input repeats column name(s) {', '.join(map(repr, dupes))}; each must be unique")
    for what, col in (("text_col", text_col), ("conversation_col", conversation_col), ("time_col", time_col),
                      ("role_col", role_col), ("typing_col", typing_col), ("agent_col", agent_col)):
        if col is not None and col not in columns:
            shown = ", ".join(map(str, list(columns)[:20]))
            raise ValueError(f"{what} {col!r} is not a column; the columns are: {shown}")
    if time_col is not None and conversation_col is None:
        raise ValueError("time_col orders the messages of a conversation: give conversation_col too")
    if agent_col is not None and role_col is None:
        raise ValueError("agent_col names who wrote the agent rows: give role_col too")
    clash = [prefix + c for c in RESULT_COLUMNS if prefix + c in columns]
    if clash:
        raise ValueError(f"the input already has result column(s) {', '.join(clash)}; "
                         f"pass a prefix (e.g. prefix='pred_') to keep both")


def result_columns(results: Sequence[Row | None], errors: Sequence[str | None], *,
                   prefix: str = "") -> dict[str, Any]:
    """The result columns as pandas arrays (positional, so they never align on an index)."""
    out: dict[str, Any] = {}
    for k, column in enumerate(COLUMNS):
        if column.side == "error":
            values: list[Any] = list(errors)
        else:
            values = [None if r is None else r[k] for r in results]
        if column.dtype == "float64":
            out[prefix + column.name] = np.array([np.nan if v is None else v for v in values], dtype="float64")
        else:
            out[prefix + column.name] = pd.array(values, dtype=column.dtype)  # type: ignore[call-overload]
    return out

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

import math
import re
import warnings
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .context import Context
from .conversation import HISTORY_WINDOW, role_is_agent
from .times import epoch_seconds_counted

if TYPE_CHECKING:  # pragma: no cover
    from .analyzer import Analyzer

__all__ = ["MAX_CHARS", "REPLY_COLUMNS", "RESULT_COLUMNS", "score_frame"]

#: Messages longer than this many characters are not scored (``error`` says so):
#: far beyond any chat message, and a guard against a whole file read into one cell.
MAX_CHARS = 10_000
#: The result columns, in order, and their pandas dtypes.
RESULT_COLUMNS: dict[str, str] = {
    "emotion": "string", "intensity": "float64", "intensity_level": "string", "polarity": "string",
    "valence": "float64", "intent": "string", "need": "string", "strategy": "string", "priority": "string",
    "escalation_risk": "float64", "confidence": "float64", "needs_human": "boolean",
    "secondary_intent": "string", "reply_score": "Int64", "reply_verdict": "string", "reply_issues": "string",
    "error": "string",
}
#: The columns filled on agent rows (the review of the reply); the others are filled on customer rows.
REPLY_COLUMNS = ("reply_score", "reply_verdict", "reply_issues")
#: Separates the failed checks in ``reply_issues`` (check names never contain it).
ISSUES_SEPARATOR = ","
#: Distinct context-free messages whose results a scorer remembers (a repeated "在吗"
#: or "谢谢" is analysed once); cleared when full.
CACHE_SIZE = 100_000

_SURROGATE = re.compile("[\ud800-\udfff]")
_MISSING_ROLE = object()

# A row's context as plain, picklable values: (history, history_ts, seconds_since_last, typing_seconds).
RowContext = tuple[tuple[str, ...], tuple[float | None, ...], float | None, float | None]
# An agent row's context: the customer message it answers and that message's own context.
ReplyContext = tuple[str, "RowContext | None"]


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
    ('poor', 'next_step,shows_care')
    >>> bool(out.loc[2, "intensity"] > out.loc[0, "intensity"])  # asked again after a long wait
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    check_columns(list(df.columns), text_col=text_col, conversation_col=conversation_col, time_col=time_col,
                  role_col=role_col, typing_col=typing_col, prefix=prefix)
    if analyzer is None:
        from .analyzer import Analyzer

        analyzer = Analyzer.default()
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
    typing = None if typing_col is None else typing_seconds(df[typing_col])
    contexts: list[RowContext | None] | None = None
    if conversation_col is not None:
        keys = conversation_keys(df[conversation_col])
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
def timeless_message(count: int, time_col: str) -> str:
    """The warning for clock times without a date in a time column (read as no time, never dated today)."""
    return (f"{count:,} value(s) of time column {time_col!r} are clock times without a date (like 10:07): "
            "read as no time, not dated today")


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


def result_columns(results: Sequence[tuple | None], errors: Sequence[str | None], *,
                   prefix: str = "") -> dict[str, Any]:
    """The result columns as pandas arrays (positional, so they never align on an index)."""
    out: dict[str, Any] = {}
    for k, (name, dtype) in enumerate(RESULT_COLUMNS.items()):
        if name == "error":
            values: list[Any] = list(errors)
        else:
            values = [None if r is None else r[k] for r in results]
        if dtype == "float64":
            out[prefix + name] = np.array([np.nan if v is None else v for v in values], dtype="float64")
        elif dtype == "Int64":
            out[prefix + name] = pd.array(values, dtype="Int64")
        else:
            out[prefix + name] = pd.array(values, dtype=dtype)
    return out


# -- rows ------------------------------------------------------------------------------------------------------------
class PreparedRows:
    """Per row: the text to score or review (``None``: neither), the error, whether it is an agent row."""

    __slots__ = ("agent", "errors", "texts")

    def __init__(self, texts: list[str | None], errors: list[str | None], agent: list[bool]):
        self.texts = texts
        self.errors = errors
        self.agent = agent


def check_text(value: Any, max_chars: int = MAX_CHARS) -> tuple[str | None, str | None]:
    """``(text, None)`` for a message that can be scored, else ``(None, error)``.

    >>> check_text("在吗"), check_text(float("nan")), check_text("  "), check_text(3)
    (('在吗', None), (None, 'missing text'), (None, 'empty text'), (None, 'not text: int'))
    """
    if isinstance(value, str):
        if len(value) > max_chars:
            return None, f"text too long: {len(value)} characters > {max_chars}"
        if _SURROGATE.search(value):
            return None, "undecodable bytes in text"
        if not value.strip():
            return None, "empty text"
        return value, None
    if isinstance(value, (bytes, bytearray)):
        try:
            return check_text(bytes(value).decode("utf-8"), max_chars)
        except UnicodeDecodeError:
            return None, "undecodable bytes in text (not UTF-8)"
    if value is None or _is_missing(value):
        return None, "missing text"
    return None, f"not text: {type(value).__name__}"


def prepare_rows(texts: Sequence[Any], roles: Sequence[Any] | None = None, *, max_chars: int = MAX_CHARS,
                 errors: Sequence[str | None] | None = None) -> PreparedRows:
    """Check every row: texts to score, errors, agent rows. ``errors`` are earlier errors (a reader's)."""
    n = len(texts)
    out_texts: list[str | None] = [None] * n
    out_errors: list[str | None] = [None] * n if errors is None else list(errors)
    agent = [False] * n
    role_cache: dict[Any, bool | str] = {}
    for i, value in enumerate(texts):
        if out_errors[i] is not None:
            continue
        if roles is not None:
            role = roles[i]
            try:
                is_agent = role_cache[role]
            except (KeyError, TypeError):  # TypeError: an unhashable value
                try:
                    is_agent = role_is_agent(role)
                except ValueError:
                    is_agent = f"unknown role {role!r:.40}"
                try:
                    role_cache[role] = is_agent
                except TypeError:
                    pass
            if is_agent is True:
                agent[i] = True
                if isinstance(value, str) and not value.strip() or value is None or _is_missing(value):
                    continue  # an empty agent turn (an image, a system event) has nothing to review
                out_texts[i], out_errors[i] = check_text(value, max_chars)
                continue
            if is_agent is not False:
                out_errors[i] = is_agent
                continue
        out_texts[i], out_errors[i] = check_text(value, max_chars)
    return PreparedRows(out_texts, out_errors, agent)


# -- conversation context --------------------------------------------------------------------------------------------
class ConversationState:
    """What the next message of one conversation needs to know about the earlier ones."""

    __slots__ = ("history", "last_customer", "last_ts", "next_rank")

    def __init__(self) -> None:
        self.history: deque[tuple[str, float | None]] = deque(maxlen=HISTORY_WINDOW)
        self.last_customer: ReplyContext | None = None
        self.last_ts: float | None = None
        self.next_rank = 0

    def step(self, text: str | None, agent: bool, ts: float | None,
             typing: float | None) -> RowContext | ReplyContext | None:
        """The context of this message (``None`` when empty), then remember it.

        A customer message gets a :data:`RowContext`; an agent reply gets the customer
        message it answers (a :data:`ReplyContext`, ``None`` before any). ``text`` is
        ``None`` for a row that is neither scored nor reviewed (an error, an empty agent
        turn): it still moves the clock. Only customer messages enter the history.
        """
        context: RowContext | ReplyContext | None = None
        if text is not None and agent:
            context = self.last_customer
        elif text is not None:
            since = None
            if ts is not None and self.last_ts is not None and ts >= self.last_ts:
                since = ts - self.last_ts
            row: RowContext | None = None
            if self.history or since is not None or typing is not None:
                row = (tuple(h[0] for h in self.history), tuple(h[1] for h in self.history), since, typing)
            context = row
            self.last_customer = (text, row)
            self.history.append((text, ts))
        if ts is not None and (self.last_ts is None or ts > self.last_ts):
            self.last_ts = ts
        self.next_rank += 1
        return context


def conversation_keys(values: pd.Series | Sequence[Any]) -> list[str | None]:
    """Conversation ids as ``str`` (missing → ``None``), so ``1`` and ``"1"`` are one conversation."""
    out: list[str | None] = []
    append = out.append
    for v in (values.tolist() if isinstance(values, pd.Series) else values):
        if isinstance(v, str):
            append(v)
        elif v is None or _is_missing(v):
            append(None)
        elif isinstance(v, float) and v.is_integer():
            append(str(int(v)))  # ids read as floats because of a missing value elsewhere
        else:
            append(str(v))
    return out


def ranks_in_conversation(codes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Each row's position in its conversation: by time (missing last), then input order.

    >>> ranks_in_conversation(np.array([0, 0, 1, 0]), np.array([30.0, 10.0, 5.0, np.nan])).tolist()
    [1, 0, 0, 2]
    """
    n = len(codes)
    order = np.lexsort((np.arange(n), times, codes))
    sorted_codes = codes[order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = sorted_codes[1:] != sorted_codes[:-1]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n) - group_start
    return ranks


def contexts_in_memory(rows: PreparedRows, keys: Sequence[str | None], times: np.ndarray,
                       typing: Sequence[float | None] | None = None) -> list[RowContext | None]:
    """Every row's context when the whole table is in memory."""
    n = len(keys)
    codes = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)[0]
    order = np.lexsort((np.arange(n), times, codes))
    contexts: list[RowContext | None] = [None] * n
    state = ConversationState()
    previous = None
    for i in order.tolist():
        code = codes[i]
        ts = None if math.isnan(times[i]) else float(times[i])
        t = None if typing is None else typing[i]
        if code < 0:  # no conversation id: the message stands alone
            contexts[i] = ConversationState().step(rows.texts[i], rows.agent[i], ts, t)
            continue
        if code != previous:
            state, previous = ConversationState(), code
        contexts[i] = state.step(rows.texts[i], rows.agent[i], ts, t)
    return contexts


def contexts_in_input_order(rows: PreparedRows, typing: Sequence[float | None] | None = None,
                            last_customer: list[str | None] | None = None,
                            replies: bool = True) -> list[Any] | None:
    """Contexts without a conversation column: typing times, and each agent row's customer message.

    An agent row answers the latest customer row above it (``last_customer[0]``
    carries it from an earlier chunk and is updated); with ``replies`` false it is not
    reviewed. ``None`` when no row has a context.
    """
    carried = [None] if last_customer is None else last_customer
    contexts: list[Any] = [None] * len(rows.texts)
    any_context = False
    for i, text in enumerate(rows.texts):
        if text is None:
            continue
        if rows.agent[i]:
            if replies and carried[0] is not None:
                contexts[i] = (carried[0], None)
                any_context = True
            continue
        carried[0] = text
        t = None if typing is None else typing[i]
        if t is not None:
            contexts[i] = ((), (), None, t)
            any_context = True
    return contexts if any_context else None


def typing_seconds(values: pd.Series | Sequence[Any]) -> list[float | None]:
    """Typing times as floats; anything that is not a finite number > 0 is ``None``."""
    nums = pd.to_numeric(pd.Series(values).reset_index(drop=True), errors="coerce")
    return [float(v) if v == v and 0 < v < math.inf else None
            for v in nums.to_numpy(dtype="float64", na_value=np.nan).tolist()]


def _is_missing(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):  # pandas NA, arrays
        return value is pd.NA


# -- scoring ---------------------------------------------------------------------------------------------------------
def analysis_row(a: Any) -> tuple:
    """The result columns (all but ``error``) of one :class:`Analysis`, as plain values."""
    return (a.emotion.value, a.intensity, a.intensity_level.value, a.polarity.value, a.valence, str(a.intent),
            str(a.need), a.strategy.id.value, a.strategy.priority.value, a.escalation_risk, a.confidence,
            a.needs_human, None if a.secondary_intent is None else str(a.secondary_intent), None, None, None)


#: Where the customer columns end and the review columns begin in a result row.
_CUSTOMER_WIDTH = len(RESULT_COLUMNS) - 1 - len(REPLY_COLUMNS)


def review_row(review: Any) -> tuple:
    """The result columns (all but ``error``) of one :class:`~cs_sentiment.review.ReplyReview`."""
    return (None,) * _CUSTOMER_WIDTH + (review.score, review.verdict, ISSUES_SEPARATOR.join(review.issues))


class Scorer:
    """Analyses rows with one :class:`Analyzer`, remembering context-free results.

    A message without context always gets the same analysis, so repeated short
    messages ("在吗", "好的", "谢谢") are analysed once (up to :data:`CACHE_SIZE`).
    """

    def __init__(self, analyzer: Analyzer):
        self.analyzer = analyzer
        self._cache: dict[str, tuple] = {}
        self._last: tuple[tuple[str, Any], Any] | None = None  # the last customer analysis, for its reply

    def score(self, texts: Sequence[str | None], contexts: Sequence[Any] | None,
              errors: list[str | None], agent: Sequence[bool] | None = None) -> list[tuple | None]:
        """Result rows (``None`` where not scored); a failing analysis sets ``errors[i]``.

        ``agent[i]`` marks a reply: it is reviewed against the customer message in
        ``contexts[i]`` (a :data:`ReplyContext`; ``None``: not reviewed).
        """
        analyze = self.analyzer.analyze
        cache = self._cache
        out: list[tuple | None] = [None] * len(texts)
        for i, text in enumerate(texts):
            if text is None:
                continue
            ctx = None if contexts is None else contexts[i]
            try:
                if agent is not None and agent[i]:
                    if ctx is not None:
                        out[i] = self._review(ctx[0], ctx[1], text)
                    continue
                if ctx is None:
                    row = cache.get(text)
                    if row is None:
                        if len(cache) >= CACHE_SIZE:
                            cache.clear()
                        analysis = analyze(text)
                        self._last = ((text, None), analysis)
                        row = cache[text] = analysis_row(analysis)
                else:
                    analysis = analyze(text, _context(ctx))
                    self._last = ((text, ctx), analysis)
                    row = analysis_row(analysis)
            except Exception as exc:  # one bad row must not stop a run of millions
                errors[i] = f"analysis failed: {type(exc).__name__}: {exc}"[:300]
                continue
            out[i] = row
        return out

    def _review(self, customer: str, ctx: RowContext | None, reply: str) -> tuple:
        from .review import review_reply

        last = self._last
        if last is not None and last[0] == (customer, ctx):
            analysis = last[1]
        else:
            analysis = self.analyzer.analyze(customer, None if ctx is None else _context(ctx))
            self._last = ((customer, ctx), analysis)
        return review_row(review_reply(customer, reply, customer=analysis))


def _context(ctx: RowContext) -> Context:
    return Context(history=ctx[0], history_ts=ctx[1], seconds_since_last=ctx[2], typing_seconds=ctx[3])


def describe_counts(counts: Mapping[str, int], total: int, limit: int = 12) -> str:
    """``"angry 12 (30.0%), neutral 8 (20.0%)"``, largest first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{k} {v} ({100.0 * v / total:.1f}%)" for k, v in items) if total else "-"

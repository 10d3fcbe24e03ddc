"""The row engine shared by DataFrames, files and Spark: checks, contexts, results.

One table, :data:`COLUMNS`, declares every result column once: its name, its
dtype and how it is read off a customer's :class:`~cs_sentiment.results.Analysis`
or an agent reply's :class:`~cs_sentiment.review.ReplyReview`. Everything
else (the pandas columns of :mod:`cs_sentiment.frame`, the file writers, the
Spark schema, the run summary) is derived from it, so adding an output column
is one line here.

A *result row* is a plain tuple with one value per column except ``error``
(errors travel separately, as a list), so it pickles cheaply to worker
processes. This module needs neither pandas nor pyarrow.

>>> rows = prepare_rows(["在吗", None, "您好，在的"], ["customer", "customer", "agent"])
>>> rows.texts, rows.errors, rows.agent
(['在吗', None, '您好，在的'], [None, 'missing text', None], [False, False, True])
>>> scorer = Scorer()
>>> results = scorer.score(rows.texts, contexts_in_input_order(rows), rows.errors, rows.agent)
>>> row_value(results[0], "emotion"), row_value(results[2], "reply_verdict")
('neutral', 'acceptable')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .analyzer import Analyzer
from .context import Context
from .conversation import ConversationState, ReplyContext, RowContext, role_is_agent
from .results import Analysis
from .review import ReplyReview, review_reply
from .times import is_missing

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["CACHE_MAX_CHARS", "CACHE_SIZE", "COLUMNS", "ISSUES_SEPARATOR", "MAX_CHARS", "REPLY_COLUMNS", "RESULT_COLUMNS", "Column",
           "PreparedRows", "Row", "Scorer", "check_text", "contexts_in_input_order", "contexts_in_memory",
           "conversation_keys", "describe_counts", "id_text", "prepare_rows", "row_value", "typing_seconds"]

#: Messages longer than this many characters are not scored (``error`` says so):
#: far beyond any chat message, and a guard against a whole file read into one cell.
MAX_CHARS = 10_000
#: Distinct context-free messages whose results a scorer remembers (a repeated "在吗"
#: or "谢谢" is analysed once); cleared when full. Only short messages repeat word
#: for word in a real log, so only those are kept: 20,000 of them take about 8 MB
#: per process, where 100,000 messages of any length took 40.
CACHE_SIZE = 20_000
#: Longest message remembered (the median real turn has 9 characters).
CACHE_MAX_CHARS = 24
#: Customer messages analysed together (one matrix product each): large enough
#: that numpy's per-call cost vanishes, small enough to stay a few MB.
BATCH = 256
#: Separates the failed checks in ``reply_issues`` (check names never contain it).
ISSUES_SEPARATOR = ","

CUSTOMER, REPLY, ERROR = "customer", "reply", "error"
#: One scored message: its values in :data:`RESULT_COLUMNS` order, ``error`` left out.
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Column:
    """One result column: its name, its pandas dtype, whose rows fill it and how.

    ``side`` is ``"customer"`` (read off an :class:`Analysis`), ``"reply"`` (read off a
    :class:`ReplyReview`) or ``"error"``. ``dtype`` is one of ``string``, ``float64``,
    ``boolean``, ``Int64``; floats are rounded in text outputs, nothing else is.
    """

    name: str
    dtype: str
    side: str
    get: Callable[[Any], Any] | None = None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


#: Every result column, in output order. ``error`` is always last.
COLUMNS: tuple[Column, ...] = (
    Column("emotion", "string", CUSTOMER, lambda a: a.emotion.value),
    Column("intensity", "float64", CUSTOMER, lambda a: a.intensity),
    Column("intensity_level", "string", CUSTOMER, lambda a: a.intensity_level.value),
    Column("polarity", "string", CUSTOMER, lambda a: a.polarity.value),
    Column("valence", "float64", CUSTOMER, lambda a: a.valence),
    Column("intent", "string", CUSTOMER, lambda a: str(a.intent)),
    Column("need", "string", CUSTOMER, lambda a: str(a.need)),
    Column("strategy", "string", CUSTOMER, lambda a: a.strategy.id.value),
    Column("priority", "string", CUSTOMER, lambda a: a.strategy.priority.value),
    Column("escalation_risk", "float64", CUSTOMER, lambda a: a.escalation_risk),
    Column("confidence", "float64", CUSTOMER, lambda a: a.confidence),
    Column("needs_human", "boolean", CUSTOMER, lambda a: a.needs_human),
    Column("secondary_intent", "string", CUSTOMER, lambda a: _text_or_none(a.secondary_intent)),
    Column("reply_score", "Int64", REPLY, lambda r: r.score),
    Column("reply_verdict", "string", REPLY, lambda r: r.verdict),
    Column("reply_issues", "string", REPLY, lambda r: ISSUES_SEPARATOR.join(r.issues)),
    Column("error", "string", ERROR),
)
#: Column name → pandas dtype, in output order (the public view of :data:`COLUMNS`).
RESULT_COLUMNS: dict[str, str] = {c.name: c.dtype for c in COLUMNS}
#: The columns filled on agent rows (the review of the reply).
REPLY_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.side == REPLY)
#: Position of each column (but ``error``) in a result row.
POSITION: dict[str, int] = {c.name: i for i, c in enumerate(COLUMNS) if c.side != ERROR}
#: Positions of the float columns (rounded in text outputs).
FLOAT_POSITIONS: tuple[int, ...] = tuple(i for i, c in enumerate(COLUMNS) if c.dtype == "float64")

_CUSTOMER_GETTERS = tuple((c.get if c.side == CUSTOMER else None) for c in COLUMNS if c.side != ERROR)
_REPLY_GETTERS = tuple((c.get if c.side == REPLY else None) for c in COLUMNS if c.side != ERROR)
_SURROGATE = re.compile("[\ud800-\udfff]")


def analysis_row(analysis: Analysis) -> Row:
    """The result row of one customer message."""
    return tuple(None if get is None else get(analysis) for get in _CUSTOMER_GETTERS)


def review_row(review: ReplyReview) -> Row:
    """The result row of one agent reply."""
    return tuple(None if get is None else get(review) for get in _REPLY_GETTERS)


def row_value(row: Row | None, name: str) -> Any:
    """The value of column ``name`` in a result row (``None`` for a row without results)."""
    return None if row is None else row[POSITION[name]]


# -- checking rows ---------------------------------------------------------------------------------------------------
class PreparedRows:
    """Per row: the text to score or review (``None``: neither), the error, whether it is an agent row."""

    __slots__ = ("agent", "errors", "texts")

    def __init__(self, texts: list[str | None], errors: list[str | None], agent: list[bool]):
        self.texts: list[str | None] = texts
        self.errors: list[str | None] = errors
        self.agent: list[bool] = agent


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
    if is_missing(value):
        return None, "missing text"
    return None, f"not text: {type(value).__name__}"


def prepare_rows(texts: Sequence[Any], roles: Sequence[Any] | None = None, *, max_chars: int = MAX_CHARS,
                 errors: Sequence[str | None] | None = None) -> PreparedRows:
    """Check every row: texts to score, errors, agent rows. ``errors`` are earlier errors (a reader's).

    An agent row with empty or missing text (an image, a system event) has nothing to
    review: no text, no error.
    """
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
                if (isinstance(value, str) and not value.strip()) or (not isinstance(value, str)
                                                                      and is_missing(value)):
                    continue
                out_texts[i], out_errors[i] = check_text(value, max_chars)
                continue
            if is_agent is not False:
                out_errors[i] = is_agent
                continue
        out_texts[i], out_errors[i] = check_text(value, max_chars)
    return PreparedRows(out_texts, out_errors, agent)


def id_text(value: Any) -> str | None:
    """An id (a conversation's, an agent's) as ``str``, so ``1``, ``1.0`` and ``"1"`` are one id; missing → ``None``.

    >>> [id_text(v) for v in ("a", 1, 1.0, None, float("nan"))]
    ['a', '1', '1', None, None]
    """
    if isinstance(value, str):
        return value
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # ids read as floats because of a missing value elsewhere
    return str(value)


def conversation_keys(values: Sequence[Any]) -> list[str | None]:
    """Conversation ids as ``str`` (:func:`id_text`), so ``1`` and ``"1"`` are one conversation.

    >>> conversation_keys(["a", 1, 1.0, None, float("nan")])
    ['a', '1', '1', None, None]
    """
    return [id_text(v) for v in values]


def typing_seconds(values: Sequence[Any]) -> list[float | None]:
    """Typing times as floats; anything that is not a finite number > 0 (or such a number as text) is ``None``.

    >>> typing_seconds([3, "2.5", 0, -1, "x", None, True, float("inf")])
    [3.0, 2.5, None, None, None, None, None, None]
    """
    out: list[float | None] = []
    for v in values:
        number: float | None = None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            number = float(v)
        elif isinstance(v, str):
            try:
                number = float(v.strip())
            except ValueError:
                number = None
        elif hasattr(v, "__float__") and not isinstance(v, bool) and not is_missing(v):
            number = float(v)  # numpy numbers
        out.append(number if number is not None and 0 < number < math.inf else None)
    return out


# -- contexts --------------------------------------------------------------------------------------------------------
def contexts_in_memory(rows: PreparedRows, keys: Sequence[str | None], times: np.ndarray,
                       typing: Sequence[float | None] | None = None) -> list[RowContext | ReplyContext | None]:
    """Every row's context when the whole table is in memory (rows ordered by conversation, then time)."""
    import numpy as np

    n = len(keys)
    index: dict[str, int] = {}
    codes = np.fromiter((-1 if k is None else index.setdefault(k, len(index)) for k in keys), dtype=np.int64,
                        count=n)
    order = np.lexsort((np.arange(n), times, codes))
    contexts: list[RowContext | ReplyContext | None] = [None] * n
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
    carried: list[str | None] = [None] if last_customer is None else last_customer
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


# -- scoring ---------------------------------------------------------------------------------------------------------
class Scorer:
    """Analyses customer rows and reviews agent rows with one :class:`Analyzer`.

    A message without context always gets the same analysis, so repeated short
    messages ("在吗", "好的", "谢谢") are analysed once (up to :data:`CACHE_SIZE`).
    A reply reuses the analysis of the customer message it answers when that was
    analysed in the same call (or was the last one of the previous call).
    """

    def __init__(self, analyzer: Analyzer | None = None):
        if analyzer is None:
            analyzer = Analyzer.default()
        self.analyzer = analyzer
        self._cache: dict[str, Row] = {}
        #: Customer analyses of this call by (text, context), for the replies that answer them.
        self._seen: dict[tuple[str, Any], Analysis] = {}

    def score(self, texts: Sequence[str | None], contexts: Sequence[Any] | None,
              errors: list[str | None], agent: Sequence[bool] | None = None) -> list[Row | None]:
        """Result rows (``None`` where not scored); a failing analysis sets ``errors[i]``.

        ``agent[i]`` marks a reply: it is reviewed against the customer message in
        ``contexts[i]`` (a :data:`ReplyContext`; ``None``: not reviewed).
        """
        cache = self._cache
        out: list[Row | None] = [None] * len(texts)
        todo: list[tuple[int, str, Any]] = []  # customer rows to analyse: (row, text, context)
        first: dict[str, int] = {}  # a context-free text analysed once per call, then copied
        copies: list[tuple[int, int]] = []
        replies: list[int] = []
        for i, text in enumerate(texts):
            if text is None:
                continue
            ctx = None if contexts is None else contexts[i]
            if agent is not None and agent[i]:
                if ctx is not None:
                    replies.append(i)
                continue
            if ctx is None:
                row = cache.get(text)
                if row is not None:
                    out[i] = row
                    continue
                if text in first:
                    copies.append((i, first[text]))
                    continue
                first[text] = i
            todo.append((i, text, ctx))
        analyses = self._analyze(todo, errors)
        # what the replies answer, and the last customer message (a reply may open the next call)
        wanted = {(contexts[i][0], contexts[i][1]) for i in replies} if contexts is not None else set()
        if todo:
            wanted.add((todo[-1][1], todo[-1][2]))
        seen = self._seen = {key: a for key, a in self._seen.items() if key in wanted}
        for (i, text, ctx), analysis in zip(todo, analyses, strict=True):
            if analysis is None:
                continue
            out[i] = row = analysis_row(analysis)
            if ctx is None and len(text) <= CACHE_MAX_CHARS:
                if len(cache) >= CACHE_SIZE:
                    cache.clear()
                cache[text] = row
            if (text, ctx) in wanted:
                seen[(text, ctx)] = analysis
        for i, j in copies:
            out[i], errors[i] = out[j], errors[j]
        for i in replies:
            ctx = contexts[i]  # type: ignore[index]  # replies have contexts
            try:
                out[i] = self._review(ctx[0], ctx[1], texts[i])  # type: ignore[arg-type]
            except Exception as exc:  # one bad row must not stop a run of millions
                errors[i] = _failure(exc)
        return out

    def _analyze(self, todo: list[tuple[int, str, Any]], errors: list[str | None]) -> list[Analysis | None]:
        """The analyses of ``todo``, :data:`BATCH` at a time with one product each; a failing one marks its row."""
        analyzer = self.analyzer
        out: list[Analysis | None] = []
        many = analyzer.analyze_many if isinstance(analyzer, Analyzer) else None
        for start in range(0, len(todo), BATCH):
            part = todo[start:start + BATCH]
            if many is not None:
                try:
                    out.extend(many([t for _, t, _ in part], [None if c is None else _context(c) for _, _, c in part]))
                    continue
                except Exception:  # noqa: BLE001 - find the failing row one by one below
                    pass
            for i, text, ctx in part:
                try:
                    out.append(analyzer.analyze(text, None if ctx is None else _context(ctx)))
                except Exception as exc:  # one bad row must not stop a run of millions
                    errors[i] = _failure(exc)
                    out.append(None)
        return out

    def _review(self, customer: str, ctx: RowContext | None, reply: str) -> Row:
        analysis = self._seen.get((customer, ctx))
        if analysis is None:
            analysis = self.analyzer.analyze(customer, None if ctx is None else _context(ctx))
            self._seen[(customer, ctx)] = analysis
        return review_row(review_reply(customer, reply, customer=analysis))


def _failure(exc: Exception) -> str:
    """The ``error`` of a row whose analysis or review raised."""
    return f"analysis failed: {type(exc).__name__}: {exc}"[:300]


def _context(ctx: RowContext) -> Context:
    return Context.of_turn(ctx[0], ctx[1], ctx[2], ctx[3])


def describe_counts(counts: Mapping[str, int], total: int, limit: int = 12) -> str:
    """``"angry 12 (30.0%), neutral 8 (20.0%)"``, largest first.

    >>> describe_counts({"angry": 3, "neutral": 1}, 4)
    'angry 3 (75.0%), neutral 1 (25.0%)'
    """
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{k} {v} ({100.0 * v / total:.1f}%)" for k, v in items) if total else "-"

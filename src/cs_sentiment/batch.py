"""Score chat-log files of any size: :func:`score_file` (the ``cs-sentiment score`` command).

Formats by suffix, for input and output alike: ``.csv``, ``.tsv`` (also ``.tab``),
``.jsonl`` (also ``.ndjson``) and ``.parquet`` (also ``.pq``).

Nothing is lost
---------------
Every input row appears exactly once in the output, in input order, with its
original columns, followed by the result columns of
:data:`~cs_sentiment.rows.RESULT_COLUMNS`. A row that cannot be scored gets a
message in ``error`` and empty results, and the run goes on. How each format
is read (quoting, stray quotes, malformed lines, encodings) is in
:mod:`cs_sentiment.formats` (one module per format, reader and writer together)
and :mod:`cs_sentiment.encodings`. The output is written to a hidden temporary file
in the output's folder and renamed over the output only at the end, so an
interrupted run leaves no output and no temporary file behind.

Conversations, memory and speed
-------------------------------
With ``conversation_col``, each customer message is read with the context of the
earlier messages of its conversation, ordered by ``time_col`` (as
:func:`~cs_sentiment.score_frame` does), however the file is ordered:

- By default a first pass reads only the conversation and time columns and works out
  each row's place in its conversation (under 100 bytes a row while it sorts, 5 bytes a
  row after: about 100 MB, then 5 MB, for a million rows). The second pass streams the rows in file order, keeping for every open
  conversation only its last :data:`~cs_sentiment.conversation.HISTORY_WINDOW`
  customer messages; a row that comes before an earlier message of its own
  conversation (a file not in time order) waits in memory until that message has
  been read. Files sorted by conversation, or by time, never wait.
- ``assume_sorted=True`` (``--assume-sorted``) skips the first pass: rows of each
  conversation must come in time order (the file sorted by conversation then time,
  or by time); the state of the :data:`MAX_OPEN_CONVERSATIONS` most recent
  conversations is kept. Rows out of time order are counted in the summary.

Memory stays bounded by ``chunksize`` rows (and the waiting rows above), whatever
the file's size. ``jobs`` worker processes (joblib, loky backend) analyse the
messages; the contexts are built before, in the main process, so the output is the
same for any number of jobs. Each worker loads its :class:`~cs_sentiment.Analyzer` once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .extras import missing_extra

try:
    import numpy as np
    import pandas as pd
except ImportError as _missing:  # pragma: no cover - a test hides the extra
    raise missing_extra(_missing, "batch", "score_file") from None

from .conversation import ConversationState
from .formats import FORMATS, Chunk, Reader, detect_encoding, file_format, open_reader, open_writer
from .frame import check_columns
from .parallel import score_units, scorer_for
from .rows import MAX_CHARS, PreparedRows, contexts_in_input_order, conversation_keys, prepare_rows, typing_seconds
from .summary import ScoreSummary, Tally
from .times import epoch_seconds_counted

__all__ = ["DEFAULT_CHUNKSIZE", "FORMATS", "MAX_OPEN_CONVERSATIONS", "FileChangedError", "ScoreSummary", "detect_encoding", "file_format",
           "score_file"]

log: logging.Logger = logging.getLogger(__name__)

#: Rows read at a time. Memory grows with it (the rows, their contexts and results
#: in flight to the workers); speed does not: 10,000 rows keep a 2-job run's main
#: process at 147 MB against 222 MB for 50,000, in the same time (measured here).
DEFAULT_CHUNKSIZE = 10_000

#: With ``assume_sorted``, the state of this many most recently seen conversations is kept.
MAX_OPEN_CONVERSATIONS = 10_000


def score_file(input: str | os.PathLike[str], output: str | os.PathLike[str] | None = None, *,
               text_col: str = "text", conversation_col: str | None = None, time_col: str | None = None,
               role_col: str | None = None, jobs: int = 1, chunksize: int = DEFAULT_CHUNKSIZE, encoding: str | None = None,
               model_dir: str | os.PathLike[str] | None = None, progress: bool = False, assume_sorted: bool = False,
               typing_col: str | None = None, prefix: str = "", max_chars: int = MAX_CHARS,
               adapt_priors: bool = False, agent_col: str | None = None) -> ScoreSummary:
    """Score every message of a chat-log file into a new file.

    Parameters
    ----------
    input : path
        ``.csv``, ``.tsv``, ``.jsonl`` or ``.parquet`` (see :data:`FORMATS`).
    output : path, optional
        Same choice of formats (it may differ from the input's). Default: the input
        with ``.scored`` before its suffix. Replaced if it exists.
    text_col, conversation_col, time_col, role_col, typing_col, prefix, max_chars
        As in :func:`~cs_sentiment.score_frame`: with ``role_col``, agent rows are
        reviewed as replies (the ``reply_*`` columns).
    agent_col : str, optional
        Who wrote each agent row (an agent id or name): the summary gives each agent's
        reviewed replies, mean score and poor ones. Needs ``role_col``.
    jobs : int
        Worker processes analysing messages (-1: one per core). Same output for any value.
    chunksize : int
        Rows read at a time; memory grows with it.
    encoding : str, optional
        Encoding of a text input (default: detected, see the module docs).
    model_dir : path, optional
        A model directory (default: the shipped model).
    progress : bool
        Show a progress bar (tqdm) on standard error.
    assume_sorted : bool
        Skip the first pass over a file with conversations: rows of each conversation
        already come in time order (see the module docs).
    adapt_priors : bool
        First re-estimate the class priors on this file's own customer messages
        (EM, :meth:`~cs_sentiment.Analyzer.adapt_priors`; at most
        :data:`ADAPT_MAX_MESSAGES`, spread evenly over the file), then score
        with them. One more pass over the text column.

    Returns
    -------
    ScoreSummary

    Raises
    ------
    FileNotFoundError
        ``input`` does not exist.
    ValueError
        An unknown suffix, a missing column, a result column already in the input, an
        empty file, ``output`` equal to ``input``, or ``jobs``/``chunksize`` < 1.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "log.csv").write_text("id,text\\n1,在吗\\n2,太失望了\\n", encoding="gbk")
    >>> summary = score_file(folder / "log.csv")
    >>> summary.rows, summary.errors, summary.encoding
    (2, 0, 'gb18030')
    >>> (folder / "log.scored.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")[:4]
    ['id', 'text', 'emotion', 'intensity']
    """
    started = time.perf_counter()
    src = Path(input)
    if not src.is_file():
        raise FileNotFoundError(f"no such file: {src}")
    in_format = file_format(src)
    dst = Path(output) if output is not None else src.with_name(f"{src.stem}.scored{src.suffix}")
    out_format = file_format(dst)
    if dst.resolve() == src.resolve():
        raise ValueError(f"the output {dst} would overwrite the input; choose another --out")
    if jobs == -1:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1 (or -1 for every core), got {jobs!r}")
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError(f"chunksize must be an int >= 1, got {chunksize!r}")
    if time_col is not None and conversation_col is None:
        raise ValueError("time_col orders the messages of a conversation: give conversation_col too")

    reader = open_reader(src, in_format, encoding, text_col)
    check_columns(reader.columns, text_col=text_col, conversation_col=conversation_col, time_col=time_col,
                  role_col=role_col, typing_col=typing_col, prefix=prefix, agent_col=agent_col)
    plan = _Plan(text_col=text_col, conversation_col=conversation_col, time_col=time_col, role_col=role_col,
                 typing_col=typing_col, max_chars=max_chars, chunksize=chunksize, assume_sorted=assume_sorted,
                 agent_col=agent_col)
    from tqdm import tqdm

    index = None
    if conversation_col is not None and not assume_sorted:
        with tqdm(total=reader.total_rows, unit=" rows", desc="indexing conversations", file=sys.stderr,
                  disable=not progress, leave=False) as bar:
            index = _index_conversations(reader, plan, bar)
    total = reader.total_rows if reader.total_rows is not None else (None if index is None else len(index.ranks))
    model_key = None if model_dir is None else str(model_dir)
    priors = None
    if adapt_priors:
        priors = _adapted_priors(reader, plan, model_key)
    tally = Tally()
    tracker = _Tracker(index)
    writer = open_writer(out_format, dst, reader, prefix=prefix, bom=reader.wants_bom)
    try:
        with tqdm(total=total, unit=" rows", desc=src.name, file=sys.stderr, disable=not progress) as bar:
            scored = score_units(_prepared_units(reader, plan, tracker, tally), jobs, model_key,
                                  None if priors is None else json.dumps(priors, sort_keys=True))
            try:
                for unit, results in scored:
                    writer.write(unit.chunk, results, unit.rows.errors)
                    tally.add(unit.chunk.start, results, unit.rows.errors, unit.rows.agent,
                              None if agent_col is None else unit.chunk.values(agent_col))
                    bar.update(unit.n)
            finally:
                scored.close()
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    log.info("scored %d rows from %s into %s", tally.rows, src, dst)
    return ScoreSummary(
        input=str(src), output=str(dst), rows=tally.rows, errors=tally.errors, agent_rows=tally.agent,
        emotions=dict(tally.emotions), intents=dict(tally.intents), seconds=time.perf_counter() - started,
        encoding=reader.encoding, error_examples=tuple(tally.examples), out_of_order=tracker.out_of_order,
        jobs=jobs, priors=priors, timeless_times=tally.timeless, replies=tally.replies(),
    )


#: ``adapt_priors`` reads at most this many customer messages (EM converges on far fewer).
ADAPT_MAX_MESSAGES = 200_000


def _adapted_priors(reader: Reader, plan: _Plan, model_dir: str | None) -> dict[str, dict[str, float]]:
    """Priors re-estimated on the file's customer messages (a pass over the text and role columns)."""
    only = [c for c in (plan.text_col, plan.role_col) if c]
    texts: list[str] = []
    for chunk in reader.chunks(plan.chunksize, only=only):
        roles = None if plan.role_col is None else chunk.values(plan.role_col)
        rows = prepare_rows(chunk.values(plan.text_col), roles, max_chars=plan.max_chars, errors=chunk.errors)
        texts.extend(t for t, agent in zip(rows.texts, rows.agent, strict=True) if t and not agent)
    if len(texts) > ADAPT_MAX_MESSAGES:
        step = len(texts) / ADAPT_MAX_MESSAGES
        texts = [texts[int(k * step)] for k in range(ADAPT_MAX_MESSAGES)]
    return scorer_for(model_dir, None).analyzer.adapt_priors(texts).priors


# -- plan, units and the context tracker -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    text_col: str
    conversation_col: str | None
    time_col: str | None
    role_col: str | None
    typing_col: str | None
    max_chars: int
    chunksize: int
    assume_sorted: bool
    agent_col: str | None = None


class _Unit:
    """A chunk on its way: prepared rows, then contexts, then results."""

    __slots__ = ("chunk", "contexts", "n", "pending", "rows")

    def __init__(self, chunk: Chunk, rows: PreparedRows):
        self.chunk = chunk
        self.rows = rows
        self.n = chunk.n
        self.contexts: list[Any] | None = None
        self.pending = 0


class _Index:
    """From the first pass: each row's rank in its conversation and whether it is the last."""

    def __init__(self, ranks: np.ndarray, last: np.ndarray):
        self.ranks = ranks
        self.last = last


def _conversation_hashes(keys: list[str | None]) -> np.ndarray:
    """A 64-bit hash per conversation id; rows without an id get -1 (they stand alone)."""
    arr = np.array([("" if k is None else k) for k in keys], dtype=object)
    hashes = pd.util.hash_array(arr, categorize=True).astype(np.int64) & np.int64(0x7FFFFFFFFFFFFFFF)
    hashes[np.array([k is None for k in keys], dtype=bool)] = -1
    return hashes


def _row_times(chunk: Chunk, plan: _Plan, tally: Tally | None = None) -> np.ndarray:
    if plan.time_col is None:
        return np.full(chunk.n, np.nan)
    times, timeless = epoch_seconds_counted(chunk.series(plan.time_col))
    if tally is not None:
        tally.timeless += timeless
    bad = np.array([e is not None for e in chunk.errors], dtype=bool)
    times[bad] = np.nan  # a row the reader could not read has no reliable time
    return times


def _row_keys(chunk: Chunk, plan: _Plan) -> np.ndarray:
    assert plan.conversation_col is not None
    keys = conversation_keys(chunk.values(plan.conversation_col))
    for i, e in enumerate(chunk.errors):
        if e is not None:
            keys[i] = None
    return _conversation_hashes(keys)


def _index_conversations(reader: Reader, plan: _Plan, bar: Any) -> _Index:
    hashes, times = [], []
    for chunk in reader.chunks(plan.chunksize, only=[c for c in (plan.conversation_col, plan.time_col) if c]):
        hashes.append(_row_keys(chunk, plan))
        times.append(_row_times(chunk, plan))
        bar.update(chunk.n)
    codes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.int64)
    stamps = np.concatenate(times) if times else np.zeros(0)
    del hashes, times
    alone = codes < 0
    ranks = ranks_in_conversation(codes, stamps)
    order_last = np.zeros(len(codes), dtype=bool)
    if len(codes):
        sizes = pd.Series(codes).map(pd.Series(codes).value_counts()).to_numpy()
        order_last = ranks == sizes - 1
    ranks[alone] = 0
    order_last[alone] = True
    log.info("indexed %d rows", len(codes))
    return _Index(ranks.astype(np.int32), order_last)


class FileChangedError(ValueError):
    """The input file changed between the two passes of :func:`score_file`."""


class _Tracker:
    """Builds each row's context in its conversation's time order, whatever order rows arrive in."""

    def __init__(self, index: _Index | None):
        self.index = index
        self.states: OrderedDict[int, ConversationState] = OrderedDict()
        self.last_customer: list[str | None] = [None]  # without conversations: the customer row a reply answers
        self.waiting: dict[tuple[int, int], tuple[_Unit, int, float | None, float | None]] = {}
        self.out_of_order = 0

    def feed(self, unit: _Unit, keys: np.ndarray, times: np.ndarray, typing: list[float | None] | None) -> None:
        rows = unit.rows
        unit.contexts = [None] * unit.n
        start = unit.chunk.start
        if self.index is not None and start + unit.n > len(self.index.ranks):
            raise FileChangedError(f"the file grew while it was read ({len(self.index.ranks):,} rows when its "
                                   "conversations were indexed, more now): score a file nothing is writing to")
        for i, key in enumerate(keys.tolist()):
            ts = None if math.isnan(times[i]) else float(times[i])
            t = None if typing is None else typing[i]
            if key < 0:
                unit.contexts[i] = ConversationState().step(rows.texts[i], rows.agent[i], ts, t)
                continue
            if self.index is None:
                state = self.states.get(key)
                if state is None:
                    state = self.states[key] = ConversationState()
                    if len(self.states) > MAX_OPEN_CONVERSATIONS:
                        self.states.popitem(last=False)
                else:
                    self.states.move_to_end(key)
                if ts is not None and state.last_ts is not None and ts < state.last_ts:
                    self.out_of_order += 1
                unit.contexts[i] = state.step(rows.texts[i], rows.agent[i], ts, t)
                continue
            rank = int(self.index.ranks[start + i])
            state = self.states.get(key)
            if state is None:
                state = self.states[key] = ConversationState()
            if rank != state.next_rank:
                self.waiting[(key, rank)] = (unit, i, ts, t)
                unit.pending += 1
                continue
            self._step(key, state, unit, i, ts, t)
            while self.waiting:
                nxt = self.waiting.pop((key, state.next_rank), None)
                if nxt is None:
                    break
                nxt[0].pending -= 1
                self._step(key, state, *nxt)

    def _step(self, key: int, state: ConversationState, unit: _Unit, i: int, ts: float | None,
              t: float | None) -> None:
        assert unit.contexts is not None  # set by feed() before any step
        unit.contexts[i] = state.step(unit.rows.texts[i], unit.rows.agent[i], ts, t)
        if self.index is not None and self.index.last[unit.chunk.start + i]:
            self.states.pop(key, None)

    def flush(self, rows_read: int | None = None) -> None:
        """At the end: rows still waiting (only if the index was off) are taken in rank order."""
        if self.index is not None and rows_read is not None and rows_read != len(self.index.ranks):
            raise FileChangedError(f"the file changed while it was read ({len(self.index.ranks):,} rows when its "
                                   f"conversations were indexed, {rows_read:,} now): score a file nothing is "
                                   "writing to")
        for (key, _rank), (unit, i, ts, t) in sorted(self.waiting.items(), key=lambda kv: kv[0]):
            state = self.states.setdefault(key, ConversationState())
            unit.pending -= 1
            self._step(key, state, unit, i, ts, t)
        if self.waiting:
            log.warning("%d rows were ordered after the end of the file", len(self.waiting))
        self.waiting.clear()


def _prepared_units(reader: Reader, plan: _Plan, tracker: _Tracker, tally: Tally | None = None) -> Iterator[_Unit]:
    """Read, check and give each row its context; yield chunks, in order, once all their rows have one."""
    queue: deque[_Unit] = deque()
    rows_read = 0
    for chunk in reader.chunks(plan.chunksize):
        roles = None if plan.role_col is None else chunk.values(plan.role_col)
        unit = _Unit(chunk, prepare_rows(chunk.values(plan.text_col), roles, max_chars=plan.max_chars,
                                         errors=chunk.errors))
        typing = None if plan.typing_col is None else typing_seconds(chunk.series(plan.typing_col))
        if plan.conversation_col is not None:
            tracker.feed(unit, _row_keys(chunk, plan), _row_times(chunk, plan, tally), typing)
        else:
            unit.contexts = contexts_in_input_order(unit.rows, typing, tracker.last_customer)
        queue.append(unit)
        rows_read = unit.chunk.start + unit.n
        while queue and queue[0].pending == 0:
            yield queue.popleft()
    tracker.flush(rows_read)
    yield from queue


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

"""Score chat-log files of any size: :func:`score_file` (the ``cs-sentiment score`` command).

Formats by suffix, for input and output alike: ``.csv``, ``.tsv`` (also ``.tab``),
``.jsonl`` (also ``.ndjson``) and ``.parquet`` (also ``.pq``).

Nothing is lost
---------------
Every input row appears exactly once in the output, in input order, with its
original columns, followed by the result columns of
:data:`~cs_sentiment.frame.RESULT_COLUMNS`. A row that cannot be scored gets a
message in ``error`` and empty results, and the run goes on:

- missing, non-text, empty or over-long text (:data:`~cs_sentiment.frame.MAX_CHARS`);
- a CSV/TSV line with the wrong number of fields: its fields are kept (missing ones
  empty; extra ones joined back, with the delimiter, into the last column), and
  ``error`` names the line;
- TSV has no quoting (as spreadsheets and databases export it): every line is a
  row, read as written, a leading ``"`` included; tabs and line breaks inside a
  value are written out as ``\\t``, ``\\n``, ``\\r``;
- a stray CSV quote never merges rows: when every line of a would-be multi-line
  record is a full row on its own, each line is read as written and the lines
  holding a quote are marked (``stray quote: …``) and not scored; a real quoted
  value with line breaks stays one row;
- values of any length are read (Python's csv stops at 128 KiB by default); a
  text over ``max_chars`` is kept and marked, not scored;
- a CSV/TSV record the parser cannot read at all: its raw lines go into the text
  column;
- a JSONL line that is not a JSON object: the raw line goes into the text column;
- bytes that are not valid in the file's encoding: kept as ``\\xNN`` escapes (in
  any column); a row whose text had them is not scored.

Blank lines are not rows and are skipped. The output is written to a hidden
temporary file in the output's folder and renamed over the output only at the end,
so an interrupted run leaves no output and no temporary file behind.

Encodings
---------
Text inputs (CSV, TSV, JSONL) are read as UTF-8 unless told otherwise. A UTF-8 or
UTF-16 byte-order mark is honoured (a second one at the start of the header is
dropped). Otherwise the first MiB that holds any non-ASCII byte decides: mostly
valid UTF-8 is UTF-8; anything else is told apart among GB18030 (the superset of
GBK and GB2312 that mainland exports use) and Big5 / CP950 / Big5-HKSCS (Taiwan
and Hong Kong exports) by charset-normalizer. CSV and TSV are then decoded line
by line: a line in the other encoding (a UTF-8 line pasted into a GBK export, a
GBK line in a UTF-8 file) is read in that encoding and marked in ``error``, so
one odd line never garbles the file; bytes valid in neither are kept as
``\\xNN`` escapes and marked. The summary says which encoding was used. Pass
``encoding`` (``--encoding``) to decide yourself. Text outputs are UTF-8, with a
byte-order mark when the input had one or was not UTF-8, so that spreadsheet
programs open them correctly.

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

import codecs
import contextlib
import csv
import io
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .frame import (
    MAX_CHARS,
    REPLY_COLUMNS,
    RESULT_COLUMNS,
    ConversationState,
    PreparedRows,
    RowContext,
    Scorer,
    check_columns,
    contexts_in_input_order,
    conversation_keys,
    describe_counts,
    prepare_rows,
    ranks_in_conversation,
    timeless_message,
    typing_seconds,
)
from .times import epoch_seconds_counted, is_missing

__all__ = ["FORMATS", "MAX_OPEN_CONVERSATIONS", "ScoreSummary", "detect_encoding", "file_format", "score_file"]

log = logging.getLogger(__name__)

#: File suffix → format.
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".parquet": "parquet", ".pq": "parquet"}
#: With ``assume_sorted``, the state of this many most recently seen conversations is kept.
MAX_OPEN_CONVERSATIONS = 10_000
#: Bytes read to detect a text file's encoding.
DETECT_BYTES = 1 << 20
#: Text outputs round scores to this many decimals.
TEXT_DECIMALS = 6
#: How many errors the summary quotes.
ERROR_EXAMPLES = 5

_SURROGATE = re.compile("[\udc80-\udcff]")
#: Longest CSV/TSV value read (the csv module stops at 128 KiB by default); a
#: longer text is kept in the output and marked, never split into rows.
MAX_FIELD_CHARS = 1 << 30
_ANY_SURROGATE = re.compile("[\ud800-\udfff]")
#: A field that looks like a row key (an id, a number, a time stamp), not like chat text.
_ID_LIKE = re.compile(r"[A-Za-z0-9_.:+-]+\Z")
_UNICODE_OUTPUTS = ("utf-8", "utf-8-sig")


# -- summary ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreSummary:
    """What a :func:`score_file` run did.

    Attributes
    ----------
    input, output : str
        The files read and written.
    rows : int
        Rows written (every input row).
    errors : int
        Rows with an ``error``.
    agent_rows : int
        Agent rows (not scored as customers, not errors).
    emotions, intents : dict
        How many scored rows got each emotion and intent.
    seconds : float
        Wall time of the run.
    encoding : str or None
        The encoding the input was read with (``None`` for Parquet).
    error_examples : tuple of (int, str)
        The first errors: (row number counted from 0, message).
    out_of_order : int
        With ``assume_sorted``: rows earlier in time than a row before them in their conversation.
    jobs : int
        Worker processes used.
    priors : dict or None
        With ``adapt_priors``: the class priors estimated on the file and used to score it.
    timeless_times : int
        Values of the time column that were clock times without a date (read as no time).
    replies : dict
        With ``role_col``: per agent (the ``agent_col`` value; ``"all"`` without one), the
        reviewed replies: ``{"replies": n, "mean_score": float, "poor": n}``.
    """

    input: str
    output: str
    rows: int
    errors: int
    agent_rows: int = 0
    emotions: dict[str, int] = field(default_factory=dict)
    intents: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    encoding: str | None = None
    error_examples: tuple[tuple[int, str], ...] = ()
    out_of_order: int = 0
    jobs: int = 1
    priors: dict[str, dict[str, float]] | None = None
    timeless_times: int = 0
    replies: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def scored(self) -> int:
        """Customer rows that got results."""
        return self.rows - self.errors - self.agent_rows

    def describe(self) -> str:
        """A few lines for people: rows, errors, emotion and intent distribution.

        >>> print(ScoreSummary("in.csv", "out.csv", rows=3, errors=1, emotions={"angry": 2},
        ...                    intents={"complaint": 2}, seconds=0.5,
        ...                    error_examples=((1, "empty text"),)).describe())
        3 rows in 0.5 s (6 rows/s): in.csv -> out.csv
        scored 2, errors 1
          row 1: empty text
        emotion: angry 2 (100.0%)
        intent: complaint 2 (100.0%)
        """
        rate = self.rows / self.seconds if self.seconds > 0 else float("nan")
        lines = [f"{self.rows} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s): {self.input} -> {self.output}"
                 + (f" (read as {self.encoding})" if self.encoding else "")]
        parts = [f"scored {self.scored}"]
        if self.agent_rows:
            reviewed = sum(int(v["replies"]) for v in self.replies.values())
            parts.append(f"agent rows {self.agent_rows} ({reviewed} replies reviewed)")
        parts.append(f"errors {self.errors}")
        lines.append(", ".join(parts))
        for row, message in self.error_examples:
            lines.append(f"  row {row}: {message}")
        if self.errors > len(self.error_examples):
            lines.append(f"  ... and {self.errors - len(self.error_examples)} more (see the error column)")
        if self.timeless_times:
            lines.append("warning: " + timeless_message(self.timeless_times, "time"))
        if self.out_of_order:
            lines.append(f"warning: {self.out_of_order} rows came before an earlier message of their conversation; "
                         f"without --assume-sorted they are put in time order")
        lines.append("emotion: " + describe_counts(self.emotions, self.scored))
        lines.append("intent: " + describe_counts(self.intents, self.scored))
        lines.extend(describe_replies(self.replies))
        if self.priors:
            for head, values in self.priors.items():
                top = sorted(values.items(), key=lambda kv: -kv[1])[:4]
                lines.append(f"adapted {head} priors: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in top))
        return "\n".join(lines)


#: Agents listed in the summary (the lowest mean scores first).
REPLY_AGENTS_SHOWN = 12


def describe_replies(replies: dict[str, dict[str, float]], limit: int = REPLY_AGENTS_SHOWN) -> list[str]:
    """Lines on reviewed replies: per agent, the mean score and the poor ones, lowest mean first.

    >>> describe_replies({"A": {"replies": 4, "mean_score": 81.5, "poor": 0},
    ...                   "B": {"replies": 2, "mean_score": 40.0, "poor": 1}})
    ['replies by agent (mean score, poor):', '  B: 2 replies, 40.0, 1 poor (50.0%)', '  A: 4 replies, 81.5, 0 poor (0.0%)']
    """
    if not replies:
        return []
    lines = ["replies by agent (mean score, poor):"]
    ranked = sorted(replies.items(), key=lambda kv: (kv[1]["mean_score"], kv[0]))
    for name, v in ranked[:limit]:
        n = int(v["replies"])
        lines.append(f"  {name}: {n} replies, {v['mean_score']:.1f}, {int(v['poor'])} poor "
                     f"({100.0 * v['poor'] / n:.1f}%)")
    if len(ranked) > limit:
        lines.append(f"  ... and {len(ranked) - limit} more agents")
    return lines


# -- the run ---------------------------------------------------------------------------------------------------------
def score_file(input: str | os.PathLike[str], output: str | os.PathLike[str] | None = None, *,
               text_col: str = "text", conversation_col: str | None = None, time_col: str | None = None,
               role_col: str | None = None, jobs: int = 1, chunksize: int = 50_000, encoding: str | None = None,
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

    reader = _open_reader(src, in_format, encoding, text_col)
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
    tally = _Tally()
    tracker = _Tracker(index)
    writer = _open_writer(out_format, dst, reader, prefix=prefix, bom=reader.wants_bom)
    try:
        with tqdm(total=total, unit=" rows", desc=src.name, file=sys.stderr, disable=not progress) as bar:
            scored = _score_units(_prepared_units(reader, plan, tracker, tally), jobs, model_key,
                                  None if priors is None else json.dumps(priors, sort_keys=True))
            try:
                for unit, results in scored:
                    writer.write(unit, results)
                    tally.add(unit, results, None if agent_col is None else unit.chunk.values(agent_col))
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


def _adapted_priors(reader: _Reader, plan: _Plan, model_dir: str | None) -> dict[str, dict[str, float]]:
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
    return _scorer(model_dir, None).analyzer.adapt_priors(texts).priors


def file_format(path: str | os.PathLike[str]) -> str:
    """``csv``, ``tsv``, ``jsonl`` or ``parquet`` from the file's suffix.

    >>> file_format("logs/2024-05.TSV")
    'tsv'
    """
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise ValueError(f"{path}: unsupported file type {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(sorted(FORMATS))}") from None


def detect_encoding(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """The encoding of a text file and whether it starts with a byte-order mark.

    A UTF-8 or UTF-16 byte-order mark decides. Otherwise the first MiB that
    holds a non-ASCII byte is read: valid UTF-8 is UTF-8; anything else is
    told apart among GB18030 (mainland exports; a superset of GBK) and Big5 /
    CP950 / Big5-HKSCS (Taiwan and Hong Kong exports) by charset-normalizer,
    which weighs how plausible each decoding reads, since Big5 bytes are
    mostly valid GB18030 too.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_bytes("text\\n退款\\n".encode("gbk")); detect_encoding(p)
    ('gb18030', False)
    >>> _ = p.write_bytes("text\\n請問我的訂單什麼時候出貨？\\n".encode("big5")); detect_encoding(p)
    ('cp950', False)
    >>> _ = p.write_bytes("text\\n退款\\n".encode("utf-8-sig")); detect_encoding(p)
    ('utf-8-sig', True)
    """
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", True
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", True
        f.seek(0)
        while True:
            sample = f.read(DETECT_BYTES)
            if not sample:
                return "utf-8", False
            if not sample.isascii():
                break
        at_end = not f.read(1)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_end)
        return "utf-8", False
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few odd lines is UTF-8 (the odd lines are read one by one).
    lines = [line for line in sample.split(b"\n")[:-1 if not at_end else None] if not line.isascii()]
    legacy = [line for line in lines if not _is_utf8(line)]
    if len(legacy) * 2 < len(lines):
        return "utf-8", False
    return _legacy_encoding(b"\n".join(legacy)), False


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


#: The legacy encodings Chinese spreadsheet exports use, as charset-normalizer
#: names them, and the Python codec each is read with (CP950 is Big5 with the
#: Windows extensions Excel writes).
_LEGACY = {"gb18030": "gb18030", "big5": "cp950", "cp950": "cp950", "big5hkscs": "big5hkscs"}


#: Below this many non-ASCII bytes a sample is too short to tell GB18030 from
#: Big5 by plausibility; GB18030 (the commoner export) is taken when it decodes.
MIN_DETECT_BYTES = 16


def _legacy_encoding(sample: bytes) -> str:
    from charset_normalizer import from_bytes

    if sum(b >= 0x80 for b in sample) < MIN_DETECT_BYTES:
        for candidate in ("gb18030", "cp950"):
            try:
                sample.decode(candidate)
                return candidate
            except UnicodeDecodeError:
                continue
    best = from_bytes(sample, cp_isolation=list(_LEGACY)).best()
    if best is None:
        return "gb18030"  # the most common export encoding; undecodable bytes are marked per row
    return _LEGACY.get(best.encoding.replace("_", ""), "gb18030")


def _decoded_lines(path: Path, encoding: str, notes: dict[int, str]) -> Iterator[str]:
    """The file's lines, decoded one by one, so one line in another encoding does not garble the file.

    A line that is not valid in the file's encoding is tried in the other one
    of UTF-8 and the file's (GB18030 for a UTF-8 file): when that reads it,
    the line is decoded so and ``notes[line_number]`` says it; otherwise its
    bad bytes are kept (as surrogate escapes, marked later). In a legacy file,
    a line of valid multi-byte UTF-8 is read as UTF-8 and noted the same way.
    """
    enc = "utf-8" if encoding == "utf-8-sig" else encoding
    unicode_file = enc == "utf-8"
    other = "gb18030" if unicode_file else "utf-8"
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and encoding == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            if raw.isascii():
                yield raw.decode("ascii")
                continue
            if not unicode_file:
                try:
                    line = raw.decode("utf-8")
                    notes[number] = f"line {number} is UTF-8 in a {encoding} file (read as UTF-8)"
                    yield line
                    continue
                except UnicodeDecodeError:
                    pass
            try:
                yield raw.decode(enc)
                continue
            except UnicodeDecodeError:
                pass
            try:
                line = raw.decode(other)
                notes[number] = f"line {number} is not {encoding} (read as {other})"
            except UnicodeDecodeError:
                line = raw.decode(enc, "surrogateescape")
            yield line


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


class _Chunk:
    """Rows as read: the original columns, plus an error per row from the reader."""

    __slots__ = ("columns", "errors", "n", "records", "start")

    def __init__(self, start: int, columns: dict[str, Any], errors: list[str | None], n: int,
                 records: list[dict[str, Any]] | None = None):
        self.start = start
        self.columns = columns  # name -> list of values, or a pyarrow RecordBatch under key None
        self.errors = errors
        self.n = n
        self.records = records  # JSONL: the parsed objects, written back as they were

    def values(self, name: str) -> list[Any]:
        cols = self.columns
        if None in cols:
            return cols[None].column(name).to_pylist()
        return cols[name]

    def series(self, name: str) -> pd.Series:
        cols = self.columns
        if None in cols:
            return cols[None].column(name).to_pandas()
        return pd.Series(cols[name], dtype=object)


class _Unit:
    """A chunk on its way: prepared rows, then contexts, then results."""

    __slots__ = ("chunk", "contexts", "n", "pending", "rows")

    def __init__(self, chunk: _Chunk, rows: PreparedRows):
        self.chunk = chunk
        self.rows = rows
        self.n = chunk.n
        self.contexts: list[RowContext | None] | None = None
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


def _row_times(chunk: _Chunk, plan: _Plan, tally: _Tally | None = None) -> np.ndarray:
    if plan.time_col is None:
        return np.full(chunk.n, np.nan)
    times, timeless = epoch_seconds_counted(chunk.series(plan.time_col))
    if tally is not None:
        tally.timeless += timeless
    bad = np.array([e is not None for e in chunk.errors], dtype=bool)
    times[bad] = np.nan  # a row the reader could not read has no reliable time
    return times


def _row_keys(chunk: _Chunk, plan: _Plan) -> np.ndarray:
    keys = conversation_keys(chunk.values(plan.conversation_col))
    for i, e in enumerate(chunk.errors):
        if e is not None:
            keys[i] = None
    return _conversation_hashes(keys)


def _index_conversations(reader: _Reader, plan: _Plan, bar: Any) -> _Index:
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


def _prepared_units(reader: _Reader, plan: _Plan, tracker: _Tracker, tally: _Tally | None = None) -> Iterator[_Unit]:
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


# -- scoring, in this process or in workers --------------------------------------------------------------------------
_SCORERS: dict[tuple[str | None, str | None], Scorer] = {}


def _scorer(model_dir: str | None, priors: str | None) -> Scorer:
    """One :class:`Scorer` (and so one Analyzer) per process, model and priors (JSON), built on first use."""
    scorer = _SCORERS.get((model_dir, priors))
    if scorer is None:
        from .analyzer import Analyzer

        analyzer = Analyzer.default() if model_dir is None else Analyzer(model_dir=model_dir)
        if priors is not None:
            analyzer = analyzer.with_priors(json.loads(priors))
        scorer = _SCORERS[(model_dir, priors)] = Scorer(analyzer)
    return scorer


#: How often a worker checks that the process that started it is still there (seconds).
WATCHDOG_SECONDS = 1.0
_WATCHDOG: list[int] = []


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the main process ``parent`` is gone (even after SIGKILL), not minutes later."""
    if _WATCHDOG:
        return
    if os.getppid() != parent:  # the parent died while this worker was starting
        os._exit(1)
    _WATCHDOG.append(parent)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    import threading

    threading.Thread(target=watch, name="cs-sentiment-watchdog", daemon=True).start()


def _score_piece(model_dir: str | None, priors: str | None, texts: list[str | None],
                 contexts: list[Any] | None, agent: list[bool]) -> tuple[list[tuple | None], dict[int, str]]:
    errors: list[str | None] = [None] * len(texts)
    results = _scorer(model_dir, priors).score(texts, contexts, errors, agent)
    return results, {i: e for i, e in enumerate(errors) if e is not None}


def _pieces(unit: _Unit, jobs: int) -> list[tuple[int, int]]:
    size = max(500, math.ceil(unit.n / (4 * jobs)))
    return [(a, min(unit.n, a + size)) for a in range(0, max(unit.n, 1), size)]


def _score_units(units: Iterator[_Unit], jobs: int, model_dir: str | None,
                 priors: str | None = None) -> Iterator[tuple[_Unit, list[tuple | None]]]:
    if jobs == 1:
        scorer = _scorer(model_dir, priors)
        for unit in units:
            yield unit, scorer.score(unit.rows.texts, unit.contexts, unit.rows.errors, unit.rows.agent)
        return
    # loky's executor directly (not joblib.Parallel): no memory-mapping folder in /dev/shm, and every
    # worker starts a watchdog that ends it as soon as this process is gone, even after SIGKILL.
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=jobs, initializer=_watch_parent, initargs=(os.getpid(),),
                                     reuse=False)
    pending: deque[tuple[_Unit, int, Any]] = deque()  # (unit, piece start, future), in order
    units_iter = iter(units)
    exhausted = False
    window = 2 * jobs
    results: list[tuple | None] = []
    try:
        while True:
            while not exhausted and len(pending) < window:
                unit = next(units_iter, None)
                if unit is None:
                    exhausted = True
                    break
                for a, b in _pieces(unit, jobs):
                    pending.append((unit, a, executor.submit(
                        _score_piece, model_dir, priors, unit.rows.texts[a:b],
                        None if unit.contexts is None else unit.contexts[a:b], unit.rows.agent[a:b])))
            if not pending:
                return
            unit, a, future = pending.popleft()
            piece_results, failures = future.result()
            for i, message in failures.items():
                unit.rows.errors[a + i] = message
            results.extend(piece_results)
            if len(results) == unit.n:
                yield unit, results
                results = []
    finally:
        for _, _, future in pending:
            future.cancel()
        executor.shutdown(wait=False, kill_workers=True)  # an interrupted run leaves no worker behind


class _Tally:
    def __init__(self) -> None:
        self.timeless = 0
        self.rows = self.errors = self.agent = 0
        self.emotions: Counter[str] = Counter()
        self.intents: Counter[str] = Counter()
        self.examples: list[tuple[int, str]] = []
        self.reviews: dict[str, list[int]] = {}  # agent -> [replies, score sum, poor]

    def add(self, unit: _Unit, results: list[tuple | None], agents: list[Any] | None = None) -> None:
        self.rows += unit.n
        errors = unit.rows.errors
        agent = unit.rows.agent
        score_at = len(RESULT_COLUMNS) - 1 - len(REPLY_COLUMNS)
        for i, r in enumerate(results):
            if errors[i] is not None:
                self.errors += 1
                if len(self.examples) < ERROR_EXAMPLES:
                    self.examples.append((unit.chunk.start + i, errors[i]))
            elif agent[i]:
                self.agent += 1
                if r is not None:
                    name = "all" if agents is None else _agent_name(agents[i])
                    tally = self.reviews.setdefault(name, [0, 0, 0])
                    tally[0] += 1
                    tally[1] += r[score_at]
                    tally[2] += r[score_at + 1] == "poor"
            elif r is not None:
                self.emotions[r[0]] += 1
                self.intents[r[5]] += 1

    def replies(self) -> dict[str, dict[str, float]]:
        return {name: {"replies": n, "mean_score": total / n, "poor": poor}
                for name, (n, total, poor) in self.reviews.items()}


def _agent_name(value: Any) -> str:
    """An agent id as text (missing: ``"(none)"``; ``7.0`` read from a column with gaps: ``"7"``)."""
    if isinstance(value, str):
        return value.strip() or "(none)"
    if is_missing(value):
        return "(none)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- readers ---------------------------------------------------------------------------------------------------------
class _Reader:
    columns: list[str]
    text_col: str = "text"
    encoding: str | None = None
    wants_bom = False
    total_rows: int | None = None
    arrow_schema: Any = None

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[_Chunk]:
        raise NotImplementedError


def _open_reader(path: Path, fmt: str, encoding: str | None, text_col: str) -> _Reader:
    if fmt == "parquet":
        return _ParquetReader(path)
    enc, bom = _resolve_encoding(path, encoding)
    if fmt == "jsonl":
        return _JsonlReader(path, enc, bom, text_col)
    reader = _DelimitedReader(path, "\t" if fmt == "tsv" else ",", enc, bom)
    reader.text_col = text_col
    return reader


def _resolve_encoding(path: Path, encoding: str | None) -> tuple[str, bool]:
    if encoding is None:
        return detect_encoding(path)
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    with open(path, "rb") as f:
        head = f.read(3)
    if name == "utf-8" and head == codecs.BOM_UTF8:
        return "utf-8-sig", True
    return name, name == "utf-8-sig"


def _wants_bom(encoding: str, bom: bool) -> bool:
    return bom or codecs.lookup(encoding).name not in _UNICODE_OUTPUTS


def _fixer(encoding: str):
    """Undecodable bytes (kept as lone surrogates while reading) → visible ``\\xNN`` escapes."""
    enc = "utf-8" if encoding == "utf-8-sig" else encoding

    def fix(text: str) -> str:
        if not _SURROGATE.search(text):
            return text
        try:
            return text.encode(enc, "surrogateescape").decode(enc, "backslashreplace")
        except UnicodeError:
            return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)

    return fix


def _decode_errors(encoding: str) -> str:
    return "replace" if codecs.lookup(encoding).name.startswith("utf-16") else "surrogateescape"


class _LineTap:
    """Feeds lines to :mod:`csv` and keeps those of the current record, and whether any had bad bytes."""

    __slots__ = ("dirty", "lines", "raw")

    def __init__(self, file: Any):
        self.raw: list[str] = []
        self.dirty = False
        self.lines = self._lines(file)

    def _lines(self, file: Any) -> Iterator[str]:
        raw = self.raw
        search = _SURROGATE.search
        for line in file:
            raw.append(line)
            if search(line):
                self.dirty = True
            yield line

    def start(self) -> None:
        self.raw.clear()
        self.dirty = False


@contextlib.contextmanager
def _large_fields() -> Iterator[None]:
    """Let :mod:`csv` read fields of any size while we read (its default limit is 128 KiB), then restore it."""
    before = csv.field_size_limit()
    csv.field_size_limit(max(before, MAX_FIELD_CHARS))
    try:
        yield
    finally:
        csv.field_size_limit(before)


class _DelimitedReader(_Reader):
    """CSV (quoted the CSV way) and TSV (no quoting: every line is read as written)."""

    def __init__(self, path: Path, delimiter: str, encoding: str, bom: bool):
        self.path = path
        self.delimiter = delimiter
        # TSV exports carry no quoting: a value starting with " is text, not a quoted field.
        self.quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        self.encoding = encoding
        self.wants_bom = _wants_bom(encoding, bom)
        self._fix = _fixer(encoding)
        with self._open() as f, _large_fields():
            header = None
            for rec in csv.reader(f, delimiter=delimiter, quoting=self.quoting):
                if rec:
                    header = [self._fix(h) for h in rec]
                    header[0] = header[0].lstrip("\ufeff")  # a second byte-order mark (files joined by hand)
                    break
        if header is None:
            raise ValueError(f"{path} is empty: no header row")
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise ValueError(f"{path}: the header repeats column name(s) {', '.join(map(repr, dupes))}")
        self.columns = header

    def _open(self) -> Any:
        return open(self.path, encoding=self.encoding, errors=_decode_errors(self.encoding), newline="")

    @contextlib.contextmanager
    def _lines(self, notes: dict[int, str]) -> Iterator[Iterable[str]]:
        """The file's lines (per-line decoding for byte encodings; UTF-16 is read as a whole)."""
        if codecs.lookup(self.encoding).name.startswith("utf-16"):
            with self._open() as f:
                yield f
        else:
            lines = _decoded_lines(self.path, self.encoding, notes)
            try:
                yield lines
            finally:
                lines.close()

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[_Chunk]:
        names = self.columns
        ncols = len(names)
        text_at = names.index(self.text_col) if self.text_col in names else None
        fix = self._fix
        delimiter = self.delimiter
        notes: dict[int, str] = {}
        with self._lines(notes) as f, _large_fields():
            tap = _LineTap(f)
            reader = csv.reader(tap.lines, delimiter=delimiter, quoting=self.quoting)
            for rec in reader:  # the header
                if rec:
                    break
            rows: list[list[str]] = []
            errors: list[str | None] = []
            start = 0
            while True:
                tap.start()
                first_line = reader.line_num + 1
                try:
                    rec = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    lines = self._line_by_line(tap.raw, first_line, ncols)
                    if lines is None:
                        rec = [""] * ncols
                        rec[0 if text_at is None else text_at] = fix("".join(tap.raw))
                        rows.append(rec)
                        errors.append(f"unreadable line {first_line}: {exc}")
                    else:
                        for line_rec, line_error in lines:
                            rows.append(line_rec)
                            errors.append(line_error)
                else:
                    if len(tap.raw) > 1 and not self._written_so(rec, tap.raw) \
                            and (lines := self._line_by_line(tap.raw, first_line, ncols)) is not None:
                        # A stray quote swallowed whole rows: every line is a row of its own.
                        for line_rec, line_error in lines:
                            rows.append(line_rec)
                            errors.append(line_error)
                        tap.start()
                        if len(rows) >= chunksize:
                            yield self._chunk(start, rows, errors, only)
                            start += len(rows)
                            rows, errors = [], []
                        continue
                    if not rec:
                        continue  # a blank line is not a row
                    error = None
                    if tap.dirty:
                        bad_text = text_at is not None and text_at < len(rec) and bool(_SURROGATE.search(rec[text_at]))
                        rec = [fix(v) for v in rec]
                        if bad_text:
                            error = f"undecodable bytes in text (line {first_line})"
                    if len(rec) != ncols:
                        error = f"malformed line {first_line}: expected {ncols} fields, got {len(rec)}"
                        rec = rec + [""] * (ncols - len(rec)) if len(rec) < ncols \
                            else rec[:ncols - 1] + [delimiter.join(rec[ncols - 1:])]
                    if notes:
                        error = error or next((notes.pop(n) for n in range(first_line, reader.line_num + 1)
                                               if n in notes), None)
                    rows.append(rec)
                    errors.append(error)
                if len(rows) >= chunksize:
                    yield self._chunk(start, rows, errors, only)
                    start += len(rows)
                    rows, errors = [], []
            if rows:
                yield self._chunk(start, rows, errors, only)

    def _written_so(self, rec: list[str], raw: list[str]) -> bool:
        """Whether a CSV writer (minimal or full quoting) writes ``rec`` exactly as the lines ``raw``.

        Then a value spanning lines was quoted on purpose, not opened by a stray quote.
        """
        if self.quoting == csv.QUOTE_NONE:
            return False
        firsts = [line.split(self.delimiter, 1)[0] for line in raw]
        if all(_ID_LIKE.match(f) for f in firsts):
            return False  # every line starts like a row (an id): rows a stray quote merged, however it parses
        text = "".join(raw).rstrip("\r\n")
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_ALL):
            out = io.StringIO()
            csv.writer(out, delimiter=self.delimiter, quoting=quoting, lineterminator="").writerow(rec)
            if out.getvalue() == text:
                return True
        return False

    def _line_by_line(self, raw: list[str], first_line: int,
                      ncols: int) -> list[tuple[list[str], str | None]] | None:
        """The lines of a record that spans several, read one row per line, when each line is a full row.

        A quoted CSV value may hold line breaks; but when every line of the
        record has exactly as many fields as the header, the "record" is rows
        that a stray quote merged. Then each line is read as written; in CSV
        (where a quote means quoting) the lines holding a quote are marked with
        an error and not scored.
        Returns ``None`` when the record is a real multi-line value.
        """
        out = []
        for k, line in enumerate(raw):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split(self.delimiter)
            if len(fields) != ncols:
                return None
            error = None if self.quoting == csv.QUOTE_NONE or '"' not in line else \
                f"stray quote: line {first_line + k} read as written, not scored"
            if _SURROGATE.search(line):
                fields = [self._fix(v) for v in fields]
                error = error or f"undecodable bytes (line {first_line + k})"
            out.append((fields, error))
        return out if len(out) > 1 else None

    def _chunk(self, start: int, rows: list[list[str]], errors: list[str | None],
               only: Sequence[str] | None) -> _Chunk:
        names = self.columns
        if only is not None:
            at = [names.index(c) for c in only]
            columns = {names[j]: [r[j] for r in rows] for j in at}
        else:
            columns = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)) if rows else {c: [] for c in names}
        return _Chunk(start, columns, errors, len(rows))


class _JsonlReader(_Reader):
    def __init__(self, path: Path, encoding: str, bom: bool, text_col: str):
        self.path = path
        self.encoding = encoding
        self.text_col = text_col
        self.wants_bom = _wants_bom(encoding, bom)
        self._fix = _fixer(encoding)
        kinds: dict[str, set[str]] = {}
        n = 0
        for obj, _error, _line in self._objects():  # a first pass: the columns and their types
            n += 1
            if obj is not None:
                for k, v in obj.items():
                    kinds.setdefault(k, set()).add(_json_kind(v))
        if n == 0:
            raise ValueError(f"{path} is empty: no JSON lines")
        self.total_rows = n
        self.columns = list(kinds)
        self.kinds = kinds

    def _objects(self) -> Iterator[tuple[dict[str, Any] | None, str | None, str]]:
        """Per non-blank line: the object (``None`` if not one), an error, the line."""
        text_col = self.text_col
        with open(self.path, encoding=self.encoding, errors=_decode_errors(self.encoding), newline="") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                error = None
                try:
                    obj = json.loads(line)
                    if _SURROGATE.search(line):
                        value = obj.get(text_col) if isinstance(obj, dict) else None
                        if isinstance(value, str) and _SURROGATE.search(value):
                            error = f"undecodable bytes in text (line {number})"
                        line = self._fix(line)
                        obj = json.loads(line)
                except ValueError as exc:
                    yield None, f"invalid JSON on line {number}: {exc}", self._fix(line.rstrip("\r\n"))
                    continue
                if not isinstance(obj, dict):
                    yield None, f"line {number} is not a JSON object", line.rstrip("\r\n")
                    continue
                yield obj, error, line

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[_Chunk]:
        names = self.columns if only is None else only
        text_col = self.text_col
        records: list[dict[str, Any]] = []
        errors: list[str | None] = []
        start = 0
        for obj, error, line in self._objects():
            if obj is None:
                obj = {text_col: line}  # not an object: the raw line, in the text column
            records.append(obj)
            errors.append(error)
            if len(records) >= chunksize:
                yield self._chunk(start, records, errors, names)
                start += len(records)
                records, errors = [], []
        if records:
            yield self._chunk(start, records, errors, names)

    @staticmethod
    def _chunk(start: int, records: list[dict[str, Any]], errors: list[str | None],
               names: Sequence[str]) -> _Chunk:
        columns = {name: [r.get(name) for r in records] for name in names}
        return _Chunk(start, columns, errors, len(records), records)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -(2 ** 63) <= value < 2 ** 63 else "other"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "other"


class _ParquetReader(_Reader):
    def __init__(self, path: Path):
        import pyarrow.parquet as pq

        self.path = path
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError kinds for a broken file
            raise ValueError(f"{path}: not a readable Parquet file: {exc}") from None
        self.arrow_schema = self._file.schema_arrow
        self.columns = list(self.arrow_schema.names)
        dupes = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if dupes:
            raise ValueError(f"{path}: the schema repeats column name(s) {', '.join(map(repr, dupes))}")
        self.total_rows = self._file.metadata.num_rows

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[_Chunk]:
        import pyarrow.parquet as pq

        start = 0
        with pq.ParquetFile(self.path) as f:
            for batch in f.iter_batches(batch_size=chunksize, columns=None if only is None else list(only)):
                yield _Chunk(start, {None: batch}, [None] * batch.num_rows, batch.num_rows)
                start += batch.num_rows


# -- writers ---------------------------------------------------------------------------------------------------------
class _Writer:
    """Writes to a temporary file beside the output; :meth:`commit` renames it, :meth:`abort` deletes it."""

    def __init__(self, dst: Path, reader: _Reader, prefix: str):
        self.dst = dst
        self.reader = reader
        self.names = list(reader.columns)
        self.result_names = [prefix + c for c in RESULT_COLUMNS]
        dst.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(dst)
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.{os.getpid()}.", suffix=".part", dir=dst.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        try:
            self._open(prefix)
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise

    def _open(self, prefix: str) -> None:
        raise NotImplementedError

    def write(self, unit: _Unit, results: list[tuple | None]) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        self._close()
        os.replace(self.tmp, self.dst)

    def abort(self) -> None:
        try:
            self._close()
        except Exception:  # noqa: BLE001 - already failing; the temp file goes anyway
            pass
        self.tmp.unlink(missing_ok=True)


def _remove_stale_parts(dst: Path) -> None:
    """Delete temporary files a killed earlier run left for ``dst`` (named ``.NAME.PID.*.part``, PID gone)."""
    for part in dst.parent.glob(f".{glob_escape(dst.name)}.*.part"):
        pid = part.name[len(dst.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another run is writing this output right now
        part.unlink(missing_ok=True)
        log.info("removed %s, left by an interrupted run", part)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _open_writer(fmt: str, dst: Path, reader: _Reader, *, prefix: str, bom: bool) -> _Writer:
    if fmt == "parquet":
        return _ParquetWriter(dst, reader, prefix)
    if fmt == "jsonl":
        return _JsonlWriter(dst, reader, prefix)
    return _DelimitedWriter(dst, reader, prefix, "\t" if fmt == "tsv" else ",", bom)


def _result_rows(unit: _Unit, results: list[tuple | None], decimals: int | None) -> list[list[Any]]:
    """Per row: the result values (``None`` where empty), the error last."""
    errors = unit.rows.errors
    empty = [None] * (len(RESULT_COLUMNS) - 1)
    out = []
    for i, r in enumerate(results):
        if r is None:
            out.append([*empty, errors[i]])
        else:
            row = list(r)
            if decimals is not None:
                for k in (1, 4, 9, 10):
                    if row[k] is not None:
                        row[k] = round(row[k], decimals)
            row.append(errors[i])
            out.append(row)
    return out


def _text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class _DelimitedWriter(_Writer):
    def __init__(self, dst: Path, reader: _Reader, prefix: str, delimiter: str, bom: bool):
        self.delimiter = delimiter
        self.bom = bom
        super().__init__(dst, reader, prefix)

    def _open(self, prefix: str) -> None:
        bom, delimiter = self.bom, self.delimiter
        self.file = open(self.tmp, "w", encoding="utf-8-sig" if bom else "utf-8", errors="backslashreplace",
                         newline="")
        self.csv = csv.writer(self.file, delimiter=delimiter, lineterminator="\n") if delimiter == "," \
            else _TsvWriter(self.file)
        self.csv.writerow(self.names + self.result_names)

    def write(self, unit: _Unit, results: list[tuple | None]) -> None:
        chunk = unit.chunk
        originals = [chunk.values(name) for name in self.names]
        if not isinstance(self.reader, _DelimitedReader):
            originals = [[_text_value(v) for v in col] for col in originals]
        extra = _result_rows(unit, results, TEXT_DECIMALS)  # None, floats and bools: csv writes them as they are
        self.csv.writerows([*orig, *res] for orig, res in zip(zip(*originals, strict=True), extra, strict=True))

    def _close(self) -> None:
        if hasattr(self, "file") and not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()


class _TsvWriter:
    """TSV as spreadsheets and databases export it: no quoting; a tab or line break inside a value is
    written as the two characters ``\\t``/``\\n``/``\\r`` (a value read from TSV never holds one)."""

    _ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})

    def __init__(self, file: Any):
        self.file = file

    def writerow(self, row: Sequence[Any]) -> None:
        self.file.write(self._line(row))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        self.file.writelines(map(self._line, rows))

    def _line(self, row: Sequence[Any]) -> str:
        return "\t".join("" if v is None else str(v).translate(self._ESCAPES) for v in row) + "\n"


class _JsonlWriter(_Writer):
    def _open(self, prefix: str) -> None:
        self.file = open(self.tmp, "w", encoding="utf-8", errors="backslashreplace", newline="\n")

    def write(self, unit: _Unit, results: list[tuple | None]) -> None:
        chunk = unit.chunk
        names = self.result_names
        extra = _result_rows(unit, results, TEXT_DECIMALS)
        if chunk.records is not None:
            originals = chunk.records
        else:
            cols = [chunk.values(name) for name in self.names]
            originals = [dict(zip(self.names, vals, strict=True)) for vals in zip(*cols, strict=True)] if cols else [{}] * unit.n
        lines = []
        for orig, res in zip(originals, extra, strict=True):
            obj = {k: _json_value(v) for k, v in orig.items()}
            obj.update(zip(names, res, strict=True))
            lines.append(json.dumps(obj, ensure_ascii=False, default=str))
        if lines:
            self.file.write("\n".join(lines) + "\n")

    def _close(self) -> None:
        if hasattr(self, "file") and not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class _ParquetWriter(_Writer):
    writer: Any = None

    def _open(self, prefix: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        reader = self.reader
        self.pa = pa
        if reader.arrow_schema is not None:
            originals = list(reader.arrow_schema)
        else:
            originals = [pa.field(n, _arrow_type(reader, n)) for n in self.names]
        types = {"string": pa.string(), "float64": pa.float64(), "boolean": pa.bool_(), "Int64": pa.int64()}
        results = [pa.field(n, types[t]) for n, t in zip(self.result_names, RESULT_COLUMNS.values(), strict=True)]
        # pandas' note in the schema (dtypes, index) is kept: pandas reads the new columns too
        metadata = None if reader.arrow_schema is None else reader.arrow_schema.metadata
        self.schema = pa.schema(originals + results, metadata=metadata)
        self.writer = pq.ParquetWriter(self.tmp, self.schema)

    def write(self, unit: _Unit, results: list[tuple | None]) -> None:
        pa = self.pa
        chunk = unit.chunk
        if None in chunk.columns:
            arrays = list(chunk.columns[None].columns)
        else:
            arrays = [pa.array(_arrow_values(chunk.values(n), self.schema.field(n).type), type=self.schema.field(n).type)
                      for n in self.names]
        rows = _result_rows(unit, results, None)
        for k, name in enumerate(self.result_names):
            arrays.append(pa.array([r[k] for r in rows], type=self.schema.field(name).type))
        self.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _arrow_type(reader: _Reader, name: str) -> Any:
    import pyarrow as pa

    kinds = getattr(reader, "kinds", {}).get(name, {"str"}) - {"null"}
    if kinds == {"int"}:
        return pa.int64()
    if kinds and kinds <= {"int", "float"}:
        return pa.float64()
    if kinds == {"bool"}:
        return pa.bool_()
    return pa.string()


def _arrow_values(values: list[Any], arrow_type: Any) -> list[Any]:
    import pyarrow as pa

    if arrow_type == pa.string():
        return [None if v is None else _valid_utf8(v if isinstance(v, str) else _text_value(v)) for v in values]
    if arrow_type == pa.float64():
        return [None if v is None else float(v) for v in values]
    return values


def _valid_utf8(text: str) -> str:
    """Lone surrogates (a broken pair from a JSON ``\\ud83d`` escape) as visible escapes."""
    if _ANY_SURROGATE.search(text):
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text

"""Chat-log files: formats by suffix, encodings, and readers that never lose, merge or reorder a row.

Formats by suffix (:data:`FORMATS`), for input and output alike: ``.csv``,
``.tsv`` (also ``.tab``), ``.jsonl`` (also ``.ndjson``) and ``.parquet`` (also
``.pq``). :func:`open_reader` gives a :class:`Reader` whose :meth:`Reader.chunks`
yield :class:`Chunk` objects: the original columns, as read, and an error per row.

Nothing is lost
---------------
Every input row appears exactly once in the output, in input order, with its
original columns, followed by the result columns of
:data:`~cs_sentiment.rows.RESULT_COLUMNS`. A row that cannot be scored gets a
message in ``error`` and empty results, and the run goes on:

- missing, non-text, empty or over-long text (:data:`~cs_sentiment.rows.MAX_CHARS`);
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
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from .encodings import decode_errors, decoded_lines, detect_encoding, fixer, output_wants_bom, resolve_encoding

__all__ = ["FORMATS", "MAX_FIELD_CHARS", "Chunk", "Reader", "detect_encoding", "file_format", "open_reader"]

log = logging.getLogger("cs_sentiment.batch")

#: File suffix → format.
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".parquet": "parquet", ".pq": "parquet"}
#: Longest CSV/TSV value read (the csv module stops at 128 KiB by default); a
#: longer text is kept in the output and marked, never split into rows.
MAX_FIELD_CHARS = 1 << 30
_SURROGATE = re.compile("[\udc80-\udcff]")
#: A field that looks like a row key (an id, a number, a time stamp), not like chat text.
_ID_LIKE = re.compile(r"[A-Za-z0-9_.:+-]+\Z")


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


class Chunk:
    """Rows as read: the original columns, plus an error per row from the reader."""

    __slots__ = ("arrow", "columns", "errors", "n", "records", "start")

    def __init__(self, start: int, columns: dict[str, list[Any]], errors: list[str | None], n: int,
                 records: list[dict[str, Any]] | None = None, arrow: Any = None):
        self.start = start
        self.columns = columns  # name -> list of values (empty when the rows came as an Arrow batch)
        self.errors = errors
        self.n = n
        self.records = records  # JSONL: the parsed objects, written back as they were
        self.arrow = arrow  # Parquet: the pyarrow RecordBatch, written back as it was

    def values(self, name: str) -> list[Any]:
        """One column as a list of Python values."""
        if self.arrow is not None:
            return self.arrow.column(name).to_pylist()
        return self.columns[name]

    def series(self, name: str) -> Any:
        """One column as a pandas Series."""
        import pandas as pd

        if self.arrow is not None:
            return self.arrow.column(name).to_pandas()
        return pd.Series(self.columns[name], dtype=object)


class Reader:
    """A chat-log file being read: its columns, then its rows in :class:`Chunk` objects.

    ``values_are_text`` says whether every value comes back as the text it was written
    as (CSV, TSV), ``wants_bom`` whether a text output should start with a byte-order
    mark, ``total_rows`` the row count when the format knows it up front (Parquet).
    """

    columns: list[str]
    text_col: str = "text"
    encoding: str | None = None
    wants_bom = False
    values_are_text = False
    total_rows: int | None = None
    arrow_schema: Any = None

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[Chunk]:
        """The rows, ``chunksize`` at a time (only the columns ``only`` when given)."""
        raise NotImplementedError


def open_reader(path: Path, fmt: str, encoding: str | None, text_col: str) -> Reader:
    if fmt == "parquet":
        return _ParquetReader(path)
    enc, bom = resolve_encoding(path, encoding)
    if fmt == "jsonl":
        return _JsonlReader(path, enc, bom, text_col)
    reader = _DelimitedReader(path, "\t" if fmt == "tsv" else ",", enc, bom)
    reader.text_col = text_col
    return reader


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


class _DelimitedReader(Reader):
    """CSV (quoted the CSV way) and TSV (no quoting: every line is read as written)."""

    values_are_text = True
    def __init__(self, path: Path, delimiter: str, encoding: str, bom: bool):
        self.path = path
        self.delimiter = delimiter
        # TSV exports carry no quoting: a value starting with " is text, not a quoted field.
        self.quoting: Literal[0, 1, 2, 3] = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        self.encoding = encoding
        self.text_encoding = encoding  # what the lines are decoded with (``encoding``, never None)
        self.wants_bom = output_wants_bom(encoding, bom)
        self._fix = fixer(encoding)
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
        return open(self.path, encoding=self.text_encoding, errors=decode_errors(self.text_encoding), newline="")

    @contextlib.contextmanager
    def _lines(self, notes: dict[int, str]) -> Iterator[Iterable[str]]:
        """The file's lines (per-line decoding for byte encodings; UTF-16 is read as a whole)."""
        if codecs.lookup(self.text_encoding).name.startswith("utf-16"):
            with self._open() as f:
                yield f
        else:
            lines = decoded_lines(self.path, self.text_encoding, notes)
            try:
                yield lines
            finally:
                lines.close()

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[Chunk]:
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
               only: Sequence[str] | None) -> Chunk:
        names = self.columns
        if only is not None:
            at = [names.index(c) for c in only]
            columns = {names[j]: [r[j] for r in rows] for j in at}
        else:
            columns = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)) if rows else {c: [] for c in names}
        return Chunk(start, columns, errors, len(rows))


class _JsonlReader(Reader):
    """One JSON object a line; anything else is kept, raw, in the text column and marked."""

    def __init__(self, path: Path, encoding: str, bom: bool, text_col: str):
        self.path = path
        self.encoding = encoding
        self.text_encoding = encoding  # what the lines are decoded with (``encoding``, never None)
        self.text_col = text_col
        self.wants_bom = output_wants_bom(encoding, bom)
        self._fix = fixer(encoding)
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
        with open(self.path, encoding=self.text_encoding, errors=decode_errors(self.text_encoding), newline="") as f:
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

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[Chunk]:
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
               names: Sequence[str]) -> Chunk:
        columns = {name: [r.get(name) for r in records] for name in names}
        return Chunk(start, columns, errors, len(records), records)


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


class _ParquetReader(Reader):
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

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[Chunk]:
        import pyarrow.parquet as pq

        start = 0
        with pq.ParquetFile(self.path) as f:
            for batch in f.iter_batches(batch_size=chunksize, columns=None if only is None else list(only)):
                yield Chunk(start, {}, [None] * batch.num_rows, batch.num_rows, arrow=batch)
                start += batch.num_rows

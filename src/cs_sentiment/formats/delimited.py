"""CSV and TSV: read line by line so that no row is lost, merged or reordered, written back as read.

CSV is quoted the CSV way; TSV has no quoting (as spreadsheets and databases
export it). See :mod:`cs_sentiment.formats` for what happens to a malformed line,
a stray quote, a long value or a line in another encoding.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from ..encodings import decode_errors, decoded_lines, fixer, output_wants_bom, resolve_encoding
from ..rows import Row
from ._base import (
    MAX_FIELD_CHARS,
    SURROGATE,
    TEXT_DECIMALS,
    Chunk,
    FileFormat,
    Reader,
    TextWriter,
    Writer,
    result_rows,
    text_value,
)

__all__ = ["FORMATS", "DelimitedReader", "DelimitedWriter"]

#: A field that looks like a row key (an id, a number, a time stamp), not like chat text.
_ID_LIKE = re.compile(r"[A-Za-z0-9_.:+-]+\Z")


class _LineTap:
    """Feeds lines to :mod:`csv` and keeps those of the current record, and whether any had bad bytes."""

    __slots__ = ("dirty", "lines", "raw")

    def __init__(self, file: Any):
        self.raw: list[str] = []
        self.dirty = False
        self.lines = self._lines(file)

    def _lines(self, file: Any) -> Iterator[str]:
        raw = self.raw
        search = SURROGATE.search
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


class DelimitedReader(Reader):
    """CSV (quoted the CSV way) and TSV (no quoting: every line is read as written)."""

    values_are_text: bool = True

    def __init__(self, path: Path, delimiter: str, encoding: str, bom: bool):
        self.path = path
        self.delimiter = delimiter
        # TSV exports carry no quoting: a value starting with " is text, not a quoted field.
        self.quoting: Literal[0, 1, 2, 3] = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        self.encoding: str | None = encoding
        self.text_encoding = encoding  # what the lines are decoded with (``encoding``, never None)
        self.wants_bom: bool = output_wants_bom(encoding, bom)
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
        self.columns: list[str] = header

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
                        bad_text = text_at is not None and text_at < len(rec) and bool(SURROGATE.search(rec[text_at]))
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
            if SURROGATE.search(line):
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


class DelimitedWriter(TextWriter):
    def __init__(self, dst: Path, reader: Reader, prefix: str, delimiter: str, bom: bool):
        self.delimiter = delimiter
        self.bom = bom
        super().__init__(dst, reader, prefix)

    def _open(self, prefix: str) -> None:
        bom, delimiter = self.bom, self.delimiter
        self._file = open(self.tmp, "w", encoding="utf-8-sig" if bom else "utf-8", errors="backslashreplace",
                         newline="")
        self._rows = csv.writer(self._file, delimiter=delimiter, lineterminator="\n") if delimiter == "," \
            else _TsvWriter(self._file)
        self._rows.writerow(self.names + self.result_names)

    def write(self, chunk: Chunk, results: list[Row | None], errors: list[str | None]) -> None:
        originals = [chunk.values(name) for name in self.names]
        if not self.reader.values_are_text:
            originals = [[text_value(v) for v in col] for col in originals]
        extra = result_rows(results, errors, TEXT_DECIMALS)  # None, floats and bools: csv writes them as they are
        self._rows.writerows([*orig, *res] for orig, res in zip(zip(*originals, strict=True), extra, strict=True))


class _TsvWriter:
    """TSV as spreadsheets and databases export it: no quoting; a tab or line break inside a value is
    written as the two characters ``\\t``/``\\n``/``\\r`` (a value read from TSV never holds one)."""

    _ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})

    def __init__(self, file: Any):
        self._file = file

    def writerow(self, row: Sequence[Any]) -> None:
        self._file.write(self._line(row))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        self._file.writelines(map(self._line, rows))

    def _line(self, row: Sequence[Any]) -> str:
        return "\t".join("" if v is None else str(v).translate(self._ESCAPES) for v in row) + "\n"


def _reader(delimiter: str) -> Any:
    def open_reader(path: Path, encoding: str | None, text_col: str) -> Reader:
        enc, bom = resolve_encoding(path, encoding)
        reader = DelimitedReader(path, delimiter, enc, bom)
        reader.text_col = text_col
        return reader
    return open_reader


def _writer(delimiter: str) -> Any:
    def open_writer(dst: Path, reader: Reader, prefix: str, bom: bool) -> Writer:
        return DelimitedWriter(dst, reader, prefix, delimiter, bom)
    return open_writer


FORMATS = (
    FileFormat("csv", (".csv",), _reader(","), _writer(",")),
    FileFormat("tsv", (".tsv", ".tab"), _reader("\t"), _writer("\t")),
)

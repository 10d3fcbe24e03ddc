"""What every chat-log format shares: :class:`FileFormat`, :class:`Chunk`, :class:`Reader`, :class:`Writer`.

A format module of :mod:`cs_sentiment.formats` defines ``FORMATS``, a tuple of
:class:`FileFormat` (its name, its suffixes, how to open a reader and a
writer). A :class:`Reader`'s :meth:`Reader.chunks` yield :class:`Chunk`
objects: the original columns, as read, and an error per row; a :class:`Writer`
writes them back followed by the result columns.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import IO, Any

from ..rows import FLOAT_POSITIONS, RESULT_COLUMNS, Row

__all__ = ["MAX_FIELD_CHARS", "TEXT_DECIMALS", "Chunk", "FileFormat", "Reader", "TextWriter", "Writer", "result_rows",
           "text_value"]

log: logging.Logger = logging.getLogger("cs_sentiment.batch")

#: Longest CSV/TSV value read (the csv module stops at 128 KiB by default); a
#: longer text is kept in the output and marked, never split into rows.
MAX_FIELD_CHARS = 1 << 30
#: Text outputs round scores to this many decimals.
TEXT_DECIMALS = 6
#: An undecodable byte, as Python's ``surrogateescape`` keeps it.
SURROGATE = re.compile("[\udc80-\udcff]")


class Chunk:
    """Rows as read: the original columns, plus an error per row from the reader."""

    __slots__ = ("arrow", "columns", "errors", "n", "records", "start")

    def __init__(self, start: int, columns: dict[str, list[Any]], errors: list[str | None], n: int,
                 records: list[dict[str, Any]] | None = None, arrow: Any = None):
        self.start: int = start
        self.columns: dict[str, list[Any]] = columns  # name -> values (empty when the rows came as an Arrow batch)
        self.errors: list[str | None] = errors
        self.n: int = n
        self.records: list[dict[str, Any]] | None = records  # JSONL: the parsed objects, written back as they were
        self.arrow: Any = arrow  # Parquet: the pyarrow RecordBatch, written back as it was

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
    wants_bom: bool = False
    values_are_text: bool = False
    total_rows: int | None = None
    arrow_schema: Any = None

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[Chunk]:
        """The rows, ``chunksize`` at a time (only the columns ``only`` when given)."""
        raise NotImplementedError


class Writer:
    """Writes to a temporary file beside the output; :meth:`commit` renames it, :meth:`abort` deletes it."""

    def __init__(self, dst: Path, reader: Reader, prefix: str):
        self.dst: Path = dst
        self.reader: Reader = reader
        self.names: list[str] = list(reader.columns)
        self.result_names: list[str] = [prefix + c for c in RESULT_COLUMNS]
        dst.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(dst)
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.{os.getpid()}.", suffix=".part", dir=dst.parent)
        os.close(fd)
        self.tmp: Path = Path(tmp)
        try:
            self._open(prefix)
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise

    def _open(self, prefix: str) -> None:
        raise NotImplementedError

    def write(self, chunk: Chunk, results: list[Row | None], errors: list[str | None]) -> None:
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


class TextWriter(Writer):
    """A :class:`Writer` of a text file (``_file``), flushed to disk before the rename."""

    _file: IO[str]

    def _close(self) -> None:
        if hasattr(self, "_file") and not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


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



def result_rows(results: list[Row | None], errors: list[str | None], decimals: int | None) -> list[list[Any]]:
    """Per row: the result values (``None`` where empty), the error last."""
    empty = [None] * (len(RESULT_COLUMNS) - 1)
    out = []
    for i, r in enumerate(results):
        if r is None:
            out.append([*empty, errors[i]])
        else:
            row = list(r)
            if decimals is not None:
                for k in FLOAT_POSITIONS:
                    if row[k] is not None:
                        row[k] = round(row[k], decimals)
            row.append(errors[i])
            out.append(row)
    return out


def text_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    isoformat = getattr(value, "isoformat", None)  # datetimes, dates, pandas Timestamps
    if callable(isoformat):
        return str(isoformat())
    return str(value)


@dataclass(frozen=True)
class FileFormat:
    """One file format: its name, the suffixes that choose it, how to read and write it.

    ``reader(path, encoding, text_col)`` opens a :class:`Reader`;
    ``writer(dst, reader, prefix, bom)`` a :class:`Writer` (``bom``: start a
    text output with a byte-order mark).
    """

    name: str
    suffixes: tuple[str, ...]
    reader: Callable[[Path, str | None, str], Reader]
    writer: Callable[[Path, Reader, str, bool], Writer]

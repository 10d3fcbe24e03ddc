"""Writers of scored chat-log files: the input's columns as read, then the result columns.

Every writer writes to a hidden temporary file beside the output and renames
it over the output only in :meth:`Writer.commit`; :meth:`Writer.abort` deletes
it, and a new writer removes the ``.part`` files a killed run left. Text
outputs are UTF-8 (with a byte-order mark when the input had one or was not
UTF-8) and round the float columns to :data:`TEXT_DECIMALS`; TSV writes tabs
and line breaks inside values as ``\\t``, ``\\n``, ``\\r``; JSONL writes each
input object back as it was; Parquet keeps the input's types.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from .formats import Chunk, Reader
from .rows import COLUMNS, FLOAT_POSITIONS, RESULT_COLUMNS

__all__ = ["TEXT_DECIMALS", "Writer", "open_writer"]

log = logging.getLogger("cs_sentiment.batch")

#: Text outputs round scores to this many decimals.
TEXT_DECIMALS = 6
_ANY_SURROGATE = re.compile("[\ud800-\udfff]")


class Writer:
    """Writes to a temporary file beside the output; :meth:`commit` renames it, :meth:`abort` deletes it."""

    def __init__(self, dst: Path, reader: Reader, prefix: str):
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

    def write(self, chunk: Chunk, results: list[tuple | None], errors: list[str | None]) -> None:
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


def open_writer(fmt: str, dst: Path, reader: Reader, *, prefix: str, bom: bool) -> Writer:
    if fmt == "parquet":
        return _ParquetWriter(dst, reader, prefix)
    if fmt == "jsonl":
        return _JsonlWriter(dst, reader, prefix)
    return _DelimitedWriter(dst, reader, prefix, "\t" if fmt == "tsv" else ",", bom)


def _result_rows(results: list[tuple | None], errors: list[str | None], decimals: int | None) -> list[list[Any]]:
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


def _text_value(value: Any) -> str:
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


class _DelimitedWriter(Writer):
    def __init__(self, dst: Path, reader: Reader, prefix: str, delimiter: str, bom: bool):
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

    def write(self, chunk: Chunk, results: list[tuple | None], errors: list[str | None]) -> None:
        originals = [chunk.values(name) for name in self.names]
        if not self.reader.values_are_text:
            originals = [[_text_value(v) for v in col] for col in originals]
        extra = _result_rows(results, errors, TEXT_DECIMALS)  # None, floats and bools: csv writes them as they are
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


class _JsonlWriter(Writer):
    def _open(self, prefix: str) -> None:
        self.file = open(self.tmp, "w", encoding="utf-8", errors="backslashreplace", newline="\n")

    def write(self, chunk: Chunk, results: list[tuple | None], errors: list[str | None]) -> None:
        names = self.result_names
        extra = _result_rows(results, errors, TEXT_DECIMALS)
        if chunk.records is not None:
            originals = chunk.records
        else:
            cols = [chunk.values(name) for name in self.names]
            originals = [dict(zip(self.names, vals, strict=True)) for vals in zip(*cols, strict=True)] if cols else [{}] * chunk.n
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
    isoformat = getattr(value, "isoformat", None)  # datetimes, dates, pandas Timestamps
    if callable(isoformat):
        return isoformat()
    return value


class _ParquetWriter(Writer):
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
        results = [pa.field(prefix + c.name, types[c.dtype]) for c in COLUMNS]
        # pandas' note in the schema (dtypes, index) is kept: pandas reads the new columns too
        metadata = None if reader.arrow_schema is None else reader.arrow_schema.metadata
        self.schema = pa.schema(originals + results, metadata=metadata)
        self.writer = pq.ParquetWriter(self.tmp, self.schema)

    def write(self, chunk: Chunk, results: list[tuple | None], errors: list[str | None]) -> None:
        pa = self.pa
        if chunk.arrow is not None:
            arrays = list(chunk.arrow.columns)
        else:
            arrays = [pa.array(_arrow_values(chunk.values(n), self.schema.field(n).type), type=self.schema.field(n).type)
                      for n in self.names]
        rows = _result_rows(results, errors, None)
        for k, name in enumerate(self.result_names):
            arrays.append(pa.array([r[k] for r in rows], type=self.schema.field(name).type))
        self.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _arrow_type(reader: Reader, name: str) -> Any:
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

"""Parquet (pyarrow): read in record batches, written back with the input's schema and types.

The result columns are appended with the types :data:`~cs_sentiment.rows.COLUMNS`
declares; pandas' note in the schema is kept, so pandas reads them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..rows import COLUMNS, Row
from ._base import Chunk, FileFormat, Reader, Writer, result_rows, text_value

__all__ = ["FORMATS", "ParquetReader", "ParquetWriter"]

_ANY_SURROGATE = re.compile("[\ud800-\udfff]")


class ParquetReader(Reader):
    """Record batches of a Parquet file, read with pyarrow."""

    def __init__(self, path: Path):
        import pyarrow.parquet as pq

        self.path = path
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError kinds for a broken file
            raise ValueError(f"{path}: not a readable Parquet file: {exc}") from None
        self.arrow_schema: Any = self._file.schema_arrow
        self.columns: list[str] = list(self.arrow_schema.names)
        dupes = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if dupes:
            raise ValueError(f"{path}: the schema repeats column name(s) {', '.join(map(repr, dupes))}")
        self.total_rows: int | None = self._file.metadata.num_rows

    def chunks(self, chunksize: int, only: Sequence[str] | None = None) -> Iterator[Chunk]:
        import pyarrow.parquet as pq

        start = 0
        with pq.ParquetFile(self.path) as f:
            for batch in f.iter_batches(batch_size=chunksize, columns=None if only is None else list(only)):
                yield Chunk(start, {}, [None] * batch.num_rows, batch.num_rows, arrow=batch)
                start += batch.num_rows


class ParquetWriter(Writer):
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
        self.schema: Any = pa.schema(originals + results, metadata=metadata)
        self.writer = pq.ParquetWriter(self.tmp, self.schema)

    def write(self, chunk: Chunk, results: list[Row | None], errors: list[str | None]) -> None:
        pa = self.pa
        if chunk.arrow is not None:
            arrays = list(chunk.arrow.columns)
        else:
            arrays = [pa.array(_arrow_values(chunk.values(n), self.schema.field(n).type), type=self.schema.field(n).type)
                      for n in self.names]
        rows = result_rows(results, errors, None)
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
        return [None if v is None else _valid_utf8(v if isinstance(v, str) else text_value(v)) for v in values]
    if arrow_type == pa.float64():
        return [None if v is None else float(v) for v in values]
    return values


def _valid_utf8(text: str) -> str:
    """Lone surrogates (a broken pair from a JSON ``\\ud83d`` escape) as visible escapes."""
    if _ANY_SURROGATE.search(text):
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _open_reader(path: Path, encoding: str | None, text_col: str) -> Reader:
    return ParquetReader(path)  # binary: no text encoding; the text column is found by name


def _open_writer(dst: Path, reader: Reader, prefix: str, bom: bool) -> Writer:
    return ParquetWriter(dst, reader, prefix)


FORMATS = (FileFormat("parquet", (".parquet", ".pq"), _open_reader, _open_writer),)

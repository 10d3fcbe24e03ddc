"""JSON Lines: one object a line, written back as it was with the result keys added.

A line that is not a JSON object is kept, raw, in the text column and marked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..encodings import decode_errors, fixer, output_wants_bom, resolve_encoding
from ..rows import Row
from ._base import SURROGATE, TEXT_DECIMALS, Chunk, FileFormat, Reader, TextWriter, Writer, result_rows

__all__ = ["FORMATS", "JsonlReader", "JsonlWriter"]


class JsonlReader(Reader):
    """One JSON object a line; anything else is kept, raw, in the text column and marked."""

    def __init__(self, path: Path, encoding: str, bom: bool, text_col: str):
        self.path = path
        self.encoding: str | None = encoding
        self.text_encoding = encoding  # what the lines are decoded with (``encoding``, never None)
        self.text_col = text_col
        self.wants_bom: bool = output_wants_bom(encoding, bom)
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
        self.total_rows: int | None = n
        self.columns: list[str] = list(kinds)
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
                    if SURROGATE.search(line):
                        value = obj.get(text_col) if isinstance(obj, dict) else None
                        if isinstance(value, str) and SURROGATE.search(value):
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


class JsonlWriter(TextWriter):
    def _open(self, prefix: str) -> None:
        self._file = open(self.tmp, "w", encoding="utf-8", errors="backslashreplace", newline="\n")

    def write(self, chunk: Chunk, results: list[Row | None], errors: list[str | None]) -> None:
        names = self.result_names
        extra = result_rows(results, errors, TEXT_DECIMALS)
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
            self._file.write("\n".join(lines) + "\n")


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    isoformat = getattr(value, "isoformat", None)  # datetimes, dates, pandas Timestamps
    if callable(isoformat):
        return isoformat()
    return value


def _open_reader(path: Path, encoding: str | None, text_col: str) -> Reader:
    enc, bom = resolve_encoding(path, encoding)
    return JsonlReader(path, enc, bom, text_col)


def _open_writer(dst: Path, reader: Reader, prefix: str, bom: bool) -> Writer:
    return JsonlWriter(dst, reader, prefix)


FORMATS = (FileFormat("jsonl", (".jsonl", ".ndjson"), _open_reader, _open_writer),)

"""Chat-log files: formats by suffix, encodings, and readers and writers that never lose, merge or reorder a row.

Formats by suffix (:data:`FORMATS`), for input and output alike: ``.csv``,
``.tsv`` (also ``.tab``), ``.jsonl`` (also ``.ndjson``) and ``.parquet`` (also
``.pq``). :func:`open_reader` gives a :class:`Reader` whose :meth:`Reader.chunks`
yield :class:`Chunk` objects: the original columns, as read, and an error per row;
:func:`open_writer` a :class:`Writer` that writes them back, then the result columns.

Adding a format
---------------
Each format lives in one module of this package (``delimited``, ``jsonl``,
``parquet``) that ends with ``FORMATS``, a tuple of
:class:`~cs_sentiment.formats._base.FileFormat`: the name, the suffixes, how to
open a reader and a writer. This package finds its format modules by listing
itself, so a new format is one new module here (and its tests).

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

import importlib
import os
import pkgutil
from pathlib import Path

from ..encodings import detect_encoding
from ._base import MAX_FIELD_CHARS, TEXT_DECIMALS, Chunk, FileFormat, Reader, Writer

__all__ = ["FORMATS", "MAX_FIELD_CHARS", "TEXT_DECIMALS", "Chunk", "FileFormat", "Reader", "Writer",
           "detect_encoding", "file_format", "open_reader", "open_writer"]


def _discover() -> dict[str, FileFormat]:
    """Every :class:`FileFormat` of the format modules of this package, by suffix (sorted by module name)."""
    by_suffix: dict[str, FileFormat] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for fmt in getattr(module, "FORMATS", ()):
            for suffix in fmt.suffixes:
                if suffix in by_suffix:
                    raise RuntimeError(f"{suffix} is claimed by two formats: {by_suffix[suffix].name} and {fmt.name}")
                by_suffix[suffix] = fmt
    return by_suffix


_BY_SUFFIX = _discover()
_BY_NAME = {fmt.name: fmt for fmt in _BY_SUFFIX.values()}
#: File suffix → format name.
FORMATS: dict[str, str] = {suffix: fmt.name for suffix, fmt in _BY_SUFFIX.items()}


def file_format(path: str | os.PathLike[str]) -> str:
    """The format name (``csv``, ``tsv``, ``jsonl``, ``parquet`` …) from the file's suffix.

    >>> file_format("logs/2024-05.TSV")
    'tsv'
    >>> file_format("logs/2024-05.xlsx")
    Traceback (most recent call last):
    ...
    ValueError: logs/2024-05.xlsx: unsupported file type '.xlsx'; use one of .csv, .jsonl, .ndjson, .parquet, .pq, .tab, .tsv
    """
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise ValueError(f"{path}: unsupported file type {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(sorted(FORMATS))}") from None


def open_reader(path: Path, fmt: str, encoding: str | None, text_col: str) -> Reader:
    """A :class:`Reader` of ``path`` in format ``fmt`` (``encoding`` ``None``: detected for text formats)."""
    return _BY_NAME[fmt].reader(path, encoding, text_col)


def open_writer(fmt: str, dst: Path, reader: Reader, *, prefix: str, bom: bool) -> Writer:
    """A :class:`Writer` of ``dst`` in format ``fmt``: ``reader``'s columns, then the result columns named ``prefix + …``."""
    return _BY_NAME[fmt].writer(dst, reader, prefix, bom)

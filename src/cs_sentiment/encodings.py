"""Text encodings of chat-log files: detection, per-line decoding, undecodable bytes kept visible.

Text inputs (CSV, TSV, JSONL) are read as UTF-8 unless told otherwise. A UTF-8 or
UTF-16 byte-order mark is honoured. Otherwise the first :data:`DETECT_BYTES` that
hold any non-ASCII byte decide: mostly valid UTF-8 is UTF-8; anything else is told
apart among GB18030 (the superset of GBK and GB2312 that mainland exports use) and
Big5 / CP950 / Big5-HKSCS (Taiwan and Hong Kong exports) by charset-normalizer.
CSV and TSV are decoded line by line (:func:`decoded_lines`): a line in the other
encoding is read in that encoding and noted, bytes valid in neither are kept as
``\\xNN`` escapes (:func:`fixer`).
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable, Generator
from pathlib import Path

from .extras import require

__all__ = ["DETECT_BYTES", "MIN_DETECT_BYTES", "decode_errors", "decoded_lines", "detect_encoding", "fixer",
           "output_wants_bom", "resolve_encoding"]

#: Bytes read to detect a text file's encoding.
DETECT_BYTES = 1 << 20
_SURROGATE = re.compile("[\udc80-\udcff]")
_UNICODE_OUTPUTS = ("utf-8", "utf-8-sig")


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
    from_bytes = require("charset_normalizer", "batch", "reading a GBK or Big5 file").from_bytes
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


def decoded_lines(path: Path, encoding: str, notes: dict[int, str]) -> Generator[str, None, None]:
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


def resolve_encoding(path: Path, encoding: str | None) -> tuple[str, bool]:
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


def output_wants_bom(encoding: str, bom: bool) -> bool:
    return bom or codecs.lookup(encoding).name not in _UNICODE_OUTPUTS


def fixer(encoding: str) -> Callable[[str], str]:
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


def decode_errors(encoding: str) -> str:
    return "replace" if codecs.lookup(encoding).name.startswith("utf-16") else "surrogateescape"

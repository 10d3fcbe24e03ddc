"""The format registry of :mod:`cs_sentiment.formats`: one module per format, found by listing the package.

What each format reads and writes (nothing lost, encodings, stray quotes …) is
checked end to end in ``test_batch.py``.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from cs_sentiment import formats


def test_every_shipped_format_module_is_registered_by_its_suffixes():
    assert formats.FORMATS == {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                               ".parquet": "parquet", ".pq": "parquet"}


def test_a_new_format_module_is_found_without_touching_any_other_module(tmp_path, monkeypatch):
    # given: a module beside the shipped ones that defines FORMATS, and nothing else
    (tmp_path / "upper.py").write_text(textwrap.dedent('''
        from cs_sentiment.formats._base import FileFormat

        def _read(path, encoding, text_col):
            raise NotImplementedError

        def _write(dst, reader, prefix, bom):
            raise NotImplementedError

        FORMATS = (FileFormat("upper", (".up",), _read, _write),)
    '''), encoding="utf-8")
    monkeypatch.setattr(formats, "__path__", [*formats.__path__, str(tmp_path)])
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "cs_sentiment.formats.upper", __import__("upper"))
    # when
    found = formats._discover()
    # then
    assert found[".up"].name == "upper"
    assert {f.name for f in found.values()} == {"csv", "tsv", "jsonl", "parquet", "upper"}


def test_two_formats_claiming_one_suffix_is_an_error_at_import(tmp_path, monkeypatch):
    (tmp_path / "other_csv.py").write_text(textwrap.dedent('''
        from cs_sentiment.formats._base import FileFormat
        FORMATS = (FileFormat("other", (".csv",), None, None),)
    '''), encoding="utf-8")
    monkeypatch.setattr(formats, "__path__", [*formats.__path__, str(tmp_path)])
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "cs_sentiment.formats.other_csv", __import__("other_csv"))
    with pytest.raises(RuntimeError, match=r"\.csv is claimed by two formats: csv and other"):
        formats._discover()


@pytest.mark.parametrize("name, fmt", [("a.CSV", "csv"), ("b.tab", "tsv"), ("c.ndjson", "jsonl"), ("d.pq", "parquet")])
def test_the_suffix_chooses_the_format_whatever_its_case(name, fmt):
    assert formats.file_format(name) == fmt


def test_an_unknown_suffix_names_the_ones_we_read():
    with pytest.raises(ValueError, match=r"x\.xlsx: unsupported file type '\.xlsx'; use one of \.csv"):
        formats.file_format("x.xlsx")

"""Lexicons: the hand-written TSV files of ``data/lexicons/`` and their automaton.

Each file is UTF-8, tab-separated, with a header line (see :data:`FORMATS`).
Terms are normalised exactly like messages (NFKC, lowercase, OpenCC t2s), so an
entry written in either script matches messages in both. All terms of all
files go into one Aho-Corasick automaton (pyahocorasick): one scan of the
message finds every keyword, modifier, sarcasm marker, escalation phrase,
platform code and emoticon. Unicode emoji are looked up by grapheme instead
(see :mod:`cs_sentiment.cues`).

A user extends the lexicon with files of the same format named ``<kind>.tsv`` or
``<kind>_<anything>.tsv`` (for example ``emotion_mybrand.tsv``); their entries
override ours for the same term.

>>> lex = Lexicon.load()
>>> [(e.kind, e.label, e.cue_kind.value) for e in lex.lookup("无法接受")]
[('emotion', 'angry', 'keyword')]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cues import FILE_KINDS, Entry
from .exceptions import LexiconFormatError
from .normalize import emoji_key, normalize, normalize_texts
from .resources import as_root, lexicon_root

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; only annotations use it
    from importlib.resources.abc import Traversable

__all__ = ["FORMATS", "Lexicon", "emoji_key", "load_domain_words", "parse_number", "read_tsv"]

#: The tokenizer's word list: not matched, not a cue (``domain_words.tsv``).
_DOMAIN_HEADER = ("word", "freq", "source")
#: Header of every lexicon file, by kind (the cue kinds of
#: :data:`cs_sentiment.cues.FILE_KINDS`, then ``domain``).
FORMATS: dict[str, tuple[str, ...]] = {kind: spec.header for kind, spec in FILE_KINDS.items()} | {
    "domain": _DOMAIN_HEADER}
_DOMAIN_FILE = "domain_words.tsv"


def read_tsv(text: str, source: str, header: Sequence[str]) -> list[tuple[int, list[str]]]:
    """Parse a lexicon file's text into ``(line_number, fields)`` rows.

    Raises
    ------
    LexiconFormatError
        On a wrong header, a wrong field count or an empty field, naming
        ``source`` and the line.

    >>> read_tsv("term\\tsource\\n不\\tcs_team\\n", "negation.tsv", ("term", "source"))
    [(2, ['不', 'cs_team'])]
    >>> read_tsv("term\\n", "x.tsv", ("term", "source"))
    Traceback (most recent call last):
    ...
    cs_sentiment.exceptions.LexiconFormatError: x.tsv:1: expected header 'term<TAB>source', got 'term'
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or tuple(lines[0].rstrip("\r").split("\t")) != tuple(header):
        got = lines[0] if lines else ""
        raise LexiconFormatError(f"{source}:1: expected header {'<TAB>'.join(header)!r}, got {got!r}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise LexiconFormatError(
                f"{source}:{number}: expected {len(header)} tab-separated fields, got {len(fields)}: {line!r}"
            )
        if any(not f.strip() for f in fields):
            raise LexiconFormatError(f"{source}:{number}: empty field in {line!r}")
        rows.append((number, [f.strip() for f in fields]))
    return rows


def _read_text(resource: Any, source: str) -> str:
    """A lexicon file's text: UTF-8 (a BOM is fine), else a LexiconFormatError naming the file."""
    try:
        return resource.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LexiconFormatError(f"{source}: not UTF-8 (byte {exc.start}); save lexicon files as UTF-8") from None
    except IsADirectoryError:
        raise LexiconFormatError(f"{source}: is a folder, not a lexicon file") from None


def parse_number(value: str, source: str, line: int, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise LexiconFormatError(f"{source}:{line}: {name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and low <= number <= high):
        raise LexiconFormatError(f"{source}:{line}: {name} must be in [{low}, {high}], got {value!r}")
    return number


def _choice(value: str, allowed: Iterable[str], source: str, line: int, name: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise LexiconFormatError(f"{source}:{line}: {name} {value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def _parse_entries(kind: str, text: str, source: str) -> list[Entry]:
    """The entries of one file of ``kind``, checked against its row of :data:`~cs_sentiment.cues.FILE_KINDS`."""
    spec = FILE_KINDS[kind]
    column = {name: at for at, name in enumerate(spec.header)}
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    rows = read_tsv(text, source, spec.header)
    for (line, f), term in zip(rows, normalize_texts([f[0] for _, f in rows]), strict=True):
        if not term:
            raise LexiconFormatError(f"{source}:{line}: term {f[0]!r} is empty after normalisation")
        if spec.variant is None and term in seen:
            raise LexiconFormatError(f"{source}:{line}: {f[0]!r} repeats line {seen[term]} (after t2s conversion)")
        seen[term] = line
        label = variant = None
        value = 1.0
        if spec.label is not None:
            label = _choice(f[column[spec.label[0]]], spec.label[1], source, line, spec.label[0])
        if spec.variant is not None:
            variant = _choice(f[column[spec.variant[0]]], spec.variant[1], source, line, spec.variant[0])
        if spec.value is not None:
            name, low, high = spec.value
            value = parse_number(f[column[name]], source, line, name, low, high)
        if variant == "unicode":
            term = emoji_key(f[0])  # Unicode emoji are looked up by grapheme, not matched
        entries.append(Entry(kind, term, label, value, f[-1], variant))
    return entries


@dataclass(frozen=True)
class Lexicon:
    """All lexicon data, ready to match.

    Build it with :meth:`load`; ``automaton`` maps every normalised term to the
    tuple of its :class:`Entry` objects; ``emoji`` maps canonical Unicode emoji
    graphemes to their entry.
    """

    entries: tuple[Entry, ...]
    emoji: dict[str, Entry]
    domain_words: tuple[tuple[str, int], ...]
    sources: tuple[str, ...]
    automaton: Any = field(repr=False, compare=False)

    @classmethod
    def load(cls, directory: str | Path | Traversable | None = None,
             extra: Iterable[str | Path] = ()) -> Lexicon:
        """Load the lexicon files of ``directory`` (default: the packaged ones) and ``extra``.

        Parameters
        ----------
        directory : path, optional
            A folder holding the files of :data:`FORMATS` (``domain_words.tsv``
            for the ``domain`` kind); a missing file is an error.
        extra : iterable of paths
            User files or folders of files named ``<kind>.tsv`` or
            ``<kind>_<anything>.tsv``; their entries override ours.

        Raises
        ------
        LexiconFormatError
            A malformed line (file and line named) or an unknown file kind.
        FileNotFoundError
            A lexicon file is missing.
        """
        root = as_root(directory, lexicon_root())
        texts: list[tuple[str, str, str]] = []
        kinds = [*FILE_KINDS, "domain"]  # read when called: a cue kind added to the table needs nothing here
        for kind in kinds:
            name = _DOMAIN_FILE if kind == "domain" else f"{kind}.tsv"
            resource = root / name
            if not resource.is_file():
                raise FileNotFoundError(f"lexicon file {name} not found in {root}")
            texts.append((kind, _read_text(resource, str(root / name)), name))
        for item in extra:
            folder = Path(item)
            for path in sorted(p for p in folder.glob("*.tsv") if p.is_file()) if folder.is_dir() else [folder]:
                kind = path.stem.split("_")[0]
                if kind not in kinds:
                    raise LexiconFormatError(
                        f"{path}:1: cannot tell the lexicon kind from the file name; name it "
                        f"<kind>.tsv or <kind>_<anything>.tsv with kind one of {', '.join(kinds)}"
                    )
                texts.append((kind, _read_text(path, str(path)), str(path)))
        return cls._build(texts)

    @classmethod
    def _build(cls, texts: list[tuple[str, str, str]]) -> Lexicon:
        import ahocorasick

        by_key: dict[tuple[str, str | None, str], Entry] = {}
        emoji: dict[str, Entry] = {}
        domain: dict[str, int] = {}
        for kind, text, source in texts:
            if kind == "domain":
                for line, f in read_tsv(text, source, _DOMAIN_HEADER):
                    domain[f[0]] = int(parse_number(f[1], source, line, "freq", 1, 10_000_000))
            else:
                for entry in _parse_entries(kind, text, source):
                    if entry.kind == "emoji" and entry.variant == "unicode":
                        emoji[entry.term] = entry
                    else:
                        by_key[(entry.kind, entry.variant, entry.term)] = entry
        automaton = ahocorasick.Automaton()
        grouped: dict[str, list[Entry]] = {}
        for entry in by_key.values():
            grouped.setdefault(entry.term, []).append(entry)
        for term, group in grouped.items():
            automaton.add_word(term, (term, tuple(group)))
        if grouped:
            automaton.make_automaton()
        return cls(
            entries=tuple(by_key.values()) + tuple(emoji.values()),
            emoji=emoji,
            domain_words=tuple(sorted(domain.items())),
            sources=tuple(source for _, _, source in texts),
            automaton=automaton,
        )

    def lookup(self, term: str) -> tuple[Entry, ...]:
        """Entries of one term (normalised first); empty when unknown."""

        key = normalize(term).text
        if self.automaton.kind == 0 or not self.automaton.exists(key):
            emoji = self.emoji.get(emoji_key(term))
            return (emoji,) if emoji else ()
        return self.automaton.get(key)[1]

    def scan(self, text: str) -> list[tuple[int, int, tuple[Entry, ...]]]:
        """Every occurrence of every term in ``text`` as ``(start, end, entries)``."""
        if self.automaton.kind == 0:
            return []
        return [(end + 1 - len(term), end + 1, group) for end, (term, group) in self.automaton.iter(text)]


def load_domain_words() -> list[tuple[str, int]]:
    """Our customer-service words for the tokenizer, from the packaged ``domain_words.tsv``."""
    name = _DOMAIN_FILE
    text = (lexicon_root() / name).read_text(encoding="utf-8")
    return [(f[0], int(parse_number(f[1], name, line, "freq", 1, 10_000_000)))
            for line, f in read_tsv(text, name, _DOMAIN_HEADER)]

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

from .exceptions import LexiconFormatError
from .labels import CueKind, Emotion
from .normalize import normalize
from .resources import as_root, lexicon_root

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; only annotations use it
    from importlib.resources.abc import Traversable

__all__ = ["FILE_KINDS", "FORMATS", "Entry", "FileKind", "Lexicon", "emoji_key", "load_domain_words", "parse_number", "read_tsv"]


@dataclass(frozen=True)
class FileKind:
    """One kind of lexicon file: its header, the evidence its matches give, whether the automaton matches it.

    The kind is the file name's stem up to the first ``_`` (``emotion_mybrand.tsv``
    is an ``emotion`` file) and the :attr:`Entry.kind` of every entry it holds.
    """

    header: tuple[str, ...]
    cue: CueKind | None
    matched: bool = True


#: Every kind of lexicon file, in the order the automaton reads them: the one
#: table from file kind to header and cue kind (add a cue kind here).
FILE_KINDS: dict[str, FileKind] = {
    "emotion": FileKind(("term", "emotion", "strength", "source"), CueKind.KEYWORD),
    "degree": FileKind(("term", "level", "multiplier", "source"), CueKind.DEGREE),
    "softener": FileKind(("term", "multiplier", "source"), CueKind.DEGREE),
    "negation": FileKind(("term", "source"), CueKind.NEGATION),
    "contrast": FileKind(("term", "source"), None),
    "sarcasm": FileKind(("term", "strength", "source"), CueKind.SARCASM),
    "escalation": FileKind(("term", "weight", "source"), CueKind.ESCALATION),
    "question": FileKind(("term", "source"), None),
    "emoji": FileKind(("symbol", "emotion", "strength", "kind", "source"), CueKind.EMOJI),
    "domain": FileKind(("word", "freq", "source"), None, matched=False),
}
#: Header of every lexicon file, by kind (a view of :data:`FILE_KINDS`).
FORMATS: dict[str, tuple[str, ...]] = {kind: spec.header for kind, spec in FILE_KINDS.items()}
_AUTOMATON_KINDS = tuple(kind for kind, spec in FILE_KINDS.items() if spec.matched)
_FILE_NAMES = {kind: f"{kind}.tsv" for kind in FILE_KINDS} | {"domain": "domain_words.tsv"}
_DEGREE_LEVELS = ("low", "medium", "high", "extreme")
_EMOJI_KINDS = ("unicode", "platform", "emoticon")
_EMOTIONS = frozenset(e.value for e in Emotion)


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry as the automaton returns it.

    ``kind`` is the file kind (a key of :data:`FILE_KINDS`); ``label`` the
    emotion or degree level where there is one; ``value`` the strength,
    multiplier or weight (1.0 where the file has none); ``variant`` the emoji
    kind (``unicode``, ``platform`` or ``emoticon``) of an emoji entry.
    """

    kind: str
    term: str
    label: str | None
    value: float
    source: str
    variant: str | None = None

    @property
    def cue_kind(self) -> CueKind | None:
        """The kind of evidence a match of this entry gives (``FILE_KINDS[kind].cue``)."""
        return FILE_KINDS[self.kind].cue


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
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for line, f in read_tsv(text, source, FORMATS[kind]):
        term = normalize(f[0]).text
        if not term:
            raise LexiconFormatError(f"{source}:{line}: term {f[0]!r} is empty after normalisation")
        if kind != "emoji" and term in seen:
            raise LexiconFormatError(f"{source}:{line}: {f[0]!r} repeats line {seen[term]} (after t2s conversion)")
        seen[term] = line
        if kind == "emotion":
            label = _choice(f[1], _EMOTIONS - {"neutral"}, source, line, "emotion")
            entries.append(Entry("emotion", term, label, parse_number(f[2], source, line, "strength", 0.01, 1.0), f[3]))
        elif kind == "degree":
            level = _choice(f[1], _DEGREE_LEVELS, source, line, "level")
            entries.append(Entry("degree", term, level, parse_number(f[2], source, line, "multiplier", 1.0, 3.0), f[3]))
        elif kind == "softener":
            entries.append(Entry("softener", term, None, parse_number(f[1], source, line, "multiplier", 0.1, 1.0), f[2]))
        elif kind in ("negation", "contrast", "question"):
            entries.append(Entry(kind, term, None, 1.0, f[1]))
        elif kind == "sarcasm":
            entries.append(Entry("sarcasm", term, None, parse_number(f[1], source, line, "strength", 0.01, 1.0), f[2]))
        elif kind == "escalation":
            entries.append(Entry("escalation", term, None, parse_number(f[1], source, line, "weight", 0.01, 1.0), f[2]))
        elif kind == "emoji":
            label = _choice(f[1], _EMOTIONS, source, line, "emotion")
            emoji_kind = _choice(f[3], _EMOJI_KINDS, source, line, "kind")
            strength = parse_number(f[2], source, line, "strength", 0.0, 1.0)
            key = emoji_key(f[0]) if emoji_kind == "unicode" else term
            entries.append(Entry("emoji", key, label, strength, f[4], emoji_kind))
    return entries


def emoji_key(symbol: str) -> str:
    """Canonical lookup key of an emoji grapheme: no variation selectors, no skin tones."""
    return "".join(ch for ch in symbol if ch not in "\ufe0e\ufe0f" and not "\U0001f3fb" <= ch <= "\U0001f3ff")


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
        for kind, name in _FILE_NAMES.items():
            resource = root / name
            if not resource.is_file():
                raise FileNotFoundError(f"lexicon file {name} not found in {root}")
            texts.append((kind, _read_text(resource, str(root / name)), name))
        for item in extra:
            folder = Path(item)
            for path in sorted(p for p in folder.glob("*.tsv") if p.is_file()) if folder.is_dir() else [folder]:
                kind = path.stem.split("_")[0]
                if kind not in FORMATS:
                    raise LexiconFormatError(
                        f"{path}:1: cannot tell the lexicon kind from the file name; name it "
                        f"<kind>.tsv or <kind>_<anything>.tsv with kind one of {', '.join(FORMATS)}"
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
                for line, f in read_tsv(text, source, FORMATS["domain"]):
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
    name = _FILE_NAMES["domain"]
    text = (lexicon_root() / name).read_text(encoding="utf-8")
    return [(f[0], int(parse_number(f[1], name, line, "freq", 1, 10_000_000)))
            for line, f in read_tsv(text, name, FORMATS["domain"])]

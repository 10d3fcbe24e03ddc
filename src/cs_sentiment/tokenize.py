"""Word segmentation: jieba's dictionary and algorithm, silent, private, and fast where it can be.

We never touch jieba's global tokenizer (a host application's segmentation
stays as it was) and never let jieba log or write its cache file. The
dictionary is jieba's own ``dict.txt`` restricted to words with frequency >=
:data:`JIEBA_MIN_FREQ` (``data/lexicons/jieba_words.txt``, written by
``scripts/build_jieba_words.py``), plus our customer-service words
(``data/lexicons/domain_words.tsv``, or a user's own). Segmentation runs
without jieba's HMM (:data:`USE_HMM`): unknown words fall apart into
characters, which the character n-gram features cover anyway.

Two engines read that one dictionary:

* **rjieba** (jieba-rs, Rust), when installed (it is a dependency on the
  platforms it has wheels for): the same dynamic programme over the same
  dictionary, about ten times faster;
* **jieba** itself, the reference: it serves every message when rjieba is
  missing, and the few messages where the two could differ. Both maximise
  the same route probability; they differ only in how they break an exact
  tie, and a tie needs the same words in another order, which only a unit
  repeated three times in a row can give (最最最, 哈哈哈, 好的好的好的), and
  only when a longer word is made of it (not 0000 in an order number): such
  messages (:data:`_TIE_PRONE`) go to jieba. ``tests/test_tokenize.py`` checks
  that both give the same tokens on every corpus message.

Each engine is built once per set of domain words, lazily, under a lock, and
then only read (thread-safe).

>>> tokenize("我要退款，运费险怎么算")
['我', '要', '退款', '，', '运费险', '怎么', '算']
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import re
import sys
import threading
from collections import deque
from itertools import repeat
from pathlib import Path
from typing import Any

from .lexicon import load_domain_words
from .normalize import normalize
from .resources import lexicon_root

__all__ = ["JIEBA_MIN_FREQ", "USE_HMM", "engine", "get_tokenizer", "tokenize"]

#: Words of jieba's dict.txt kept in our prefix dictionary. Measured here:
#: building from all 349,046 words takes 0.44 s (and jieba caches it to
#: /tmp); the 79,746 words with frequency >= 20 take 0.09 s, which keeps the
#: library's cold start under a second. Rarer words are mostly names and idioms.
JIEBA_MIN_FREQ = 20
#: jieba's HMM for unknown words doubles segmentation time (52 µs vs 25 µs a
#: short message, measured here) and adds little on top of character n-grams.
USE_HMM = False
#: Where two routes can tie: the same words in another order (u·uu against uu·u)
#: need a unit of 1-4 characters repeated at least three times in a row, and a
#: word of two or more characters made of that unit. Such messages go to the
#: reference jieba; a run of characters no longer word holds (0000, !!!, ……) cannot
#: tie. Every start is tried (a lookahead), so one run never hides another.
_TIE_PRONE = re.compile(r"(?=(.{1,4})\1\1)", re.DOTALL)
_ANY_RUN = re.compile(r"(.{1,4})\1\1", re.DOTALL)  # the quick test first: most messages have no run

DomainWords = tuple[tuple[str, int], ...]
_lock = threading.Lock()
#: Engines by their domain words (``None``: the packaged ones); a handful at most.
_tokenizers: dict[DomainWords | None, Any] = {}
_fast: dict[DomainWords | None, Any] = {}
#: Characters that occur in a word of two or more characters, by domain words (built when first needed).
_word_chars: dict[DomainWords | None, frozenset[str]] = {}


def _import_jieba() -> Any:
    """Import jieba without the 0.3-0.5 s of ``pkg_resources`` it asks for.

    jieba 0.42's ``_compat`` imports ``pkg_resources`` only to find its own
    files and falls back to plain paths when that import fails. When the host
    has not imported ``pkg_resources`` itself, we hide it for the duration of
    the import and restore ``sys.modules`` right after.
    """
    if "jieba" in sys.modules:
        return sys.modules["jieba"]
    hide = "pkg_resources" not in sys.modules
    if hide:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` raise ImportError
    try:
        import jieba
    finally:
        if hide and sys.modules.get("pkg_resources", False) is None:
            del sys.modules["pkg_resources"]
    return jieba


#: jieba's words with frequency >= :data:`JIEBA_MIN_FREQ`, one ``word frequency`` a line.
WORDS_FILE = "jieba_words.txt"


def _dictionary() -> bytes:
    """The packaged word list both engines are built from."""
    return (lexicon_root() / WORDS_FILE).read_bytes()


def _domain(domain_words: DomainWords | None) -> list[tuple[str, int]]:
    words = load_domain_words() if domain_words is None else list(domain_words)
    return [(normalize(word).text, freq) for word, freq in words]


def _build_tokenizer(domain_words: DomainWords | None) -> Any:
    jieba = _import_jieba()
    tokenizer = jieba.Tokenizer()
    # gen_pfdict and the attributes below are what jieba's initialize() sets;
    # doing it ourselves skips its log line and its cache file.
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(io.BytesIO(_dictionary()))
    tokenizer.initialized = True
    for word, freq in _domain(domain_words):
        tokenizer.add_word(word, freq)
    return tokenizer


def _build_fast(domain_words: DomainWords | None) -> Any:
    """An rjieba engine over exactly the reference's dictionary, or ``None`` when rjieba is not installed."""
    jieba_class = _rjieba_class()
    if jieba_class is None:
        return None
    fast = jieba_class.empty()  # never its own embedded dictionary: ours, word for word
    add = fast.add_word
    fields = _dictionary().decode("utf-8").split()  # "word count" lines: words and counts alternate
    # one C-level loop over 80,000 words (a Python for-loop doubles the build time)
    deque(map(add, fields[0::2], map(int, fields[1::2]), repeat(None)), maxlen=0)
    # jieba's add_word for a word already there replaces its frequency; rjieba's does too
    for word, freq in _domain(domain_words):
        add(word, freq, None)
    return fast


def _rjieba_class() -> Any:
    """rjieba's ``Jieba`` class, without building the default instance ``import rjieba`` makes.

    The package's ``__init__`` builds a segmenter over its embedded dictionary at
    import: 0.12 s and 32 MB we never use. Its compiled module alone loads in
    under a millisecond; a host that imported rjieba itself is left as it is.
    """
    if "rjieba" in sys.modules:
        return getattr(sys.modules["rjieba"], "Jieba", None)
    if "rjieba.rjieba" in sys.modules:
        return getattr(sys.modules["rjieba.rjieba"], "Jieba", None)
    try:
        spec = importlib.util.find_spec("rjieba")
        folder = Path(next(iter(spec.submodule_search_locations or ()))) if spec else None
        if folder is None:
            return None
        binary = next((p for p in folder.iterdir() if p.name.startswith("rjieba.")
                       and p.suffix in (".so", ".pyd")), None)
        if binary is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(binary))
        module_spec = importlib.util.spec_from_loader("rjieba.rjieba", loader)
        if module_spec is None:
            return None
        module = importlib.util.module_from_spec(module_spec)
        loader.exec_module(module)
    except (ImportError, OSError, StopIteration):
        return None
    sys.modules["rjieba.rjieba"] = module  # `import rjieba` later finds it and builds its default as usual
    return getattr(module, "Jieba", None)


def get_tokenizer(domain_words: DomainWords | None = None) -> Any:
    """The private reference ``jieba.Tokenizer`` with these domain words (default: ours), built on first use."""
    tokenizer = _tokenizers.get(domain_words)
    if tokenizer is None:
        with _lock:
            tokenizer = _tokenizers.get(domain_words)
            if tokenizer is None:
                tokenizer = _tokenizers[domain_words] = _build_tokenizer(domain_words)
    return tokenizer


def _get_fast(domain_words: DomainWords | None) -> Any:
    try:
        return _fast[domain_words]
    except KeyError:
        with _lock:
            if domain_words not in _fast:
                _fast[domain_words] = _build_fast(domain_words)
            return _fast[domain_words]


def _in_words(domain_words: DomainWords | None) -> frozenset[str]:
    chars = _word_chars.get(domain_words)
    if chars is None:
        with _lock:
            chars = _word_chars.get(domain_words)
            if chars is None:
                found: set[str] = set()
                for line in _dictionary().decode("utf-8").splitlines():
                    word = line.split(" ", 1)[0]
                    if len(word) > 1:
                        found.update(word)
                found.update(ch for word, _ in _domain(domain_words) if len(word) > 1 for ch in word)
                chars = _word_chars[domain_words] = frozenset(found)
    return chars


def _can_tie(text: str, domain_words: DomainWords | None) -> bool:
    """Whether two best routes could tie: a unit repeated three times that a longer word is made of."""
    if not _ANY_RUN.search(text):
        return False
    chars = None
    for match in _TIE_PRONE.finditer(text):
        if chars is None:
            chars = _in_words(domain_words)
        if not chars.isdisjoint(match.group(1)):
            return True
    return False


def engine() -> str:
    """Which engine segments messages that cannot tie: ``"rjieba"`` or ``"jieba"``."""
    return "rjieba" if _get_fast(None) is not None else "jieba"


def tokenize(text: str, domain_words: DomainWords | None = None) -> list[str]:
    """Segment already normalised text into words (a picklable module function).

    ``domain_words`` are ``(word, frequency)`` pairs added to jieba's dictionary
    (default: ``data/lexicons/domain_words.tsv``; a user's own come from
    ``Analyzer(lexicon_dir=...)``).

    >>> tokenize("我要退运费险", (("退运", 100000),))
    ['我', '要', '退运', '费', '险']
    >>> tokenize("最最最讨厌已读不回")  # a repeated character: the reference jieba breaks the tie
    ['最最', '最', '讨厌', '已', '读', '不', '回']
    """
    if not text:
        return []
    fast = _get_fast(domain_words)
    if fast is not None and not _can_tie(text, domain_words):
        return fast.cut(text, USE_HMM)
    return get_tokenizer(domain_words).lcut(text, HMM=USE_HMM)

"""Word segmentation through a private, silent ``jieba.Tokenizer``.

We never touch jieba's global tokenizer (a host application's segmentation
stays as it was) and never let jieba log or write its cache file:

* the prefix dictionary is built from jieba's own ``dict.txt`` restricted to
  words with frequency >= :data:`JIEBA_MIN_FREQ`, plus our customer-service
  words (``data/lexicons/domain_words.tsv``);
* it is built once, lazily, under a lock, and then only read (thread-safe);
* segmentation runs without jieba's HMM (:data:`USE_HMM`): unknown words fall
  apart into characters, which the character n-gram features cover anyway.

>>> tokenize("我要退款，运费险怎么算")
['我', '要', '退款', '，', '运费险', '怎么', '算']
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from .lexicon import load_domain_words
from .normalize import normalize

__all__ = ["JIEBA_MIN_FREQ", "USE_HMM", "get_tokenizer", "tokenize"]

#: Words of jieba's dict.txt kept in our prefix dictionary. Measured here:
#: building from all 349,046 words takes 0.44 s (and jieba caches it to
#: /tmp); the 79,746 words with frequency >= 20 take 0.09 s, which keeps the
#: library's cold start under a second. Rarer words are mostly names and idioms.
JIEBA_MIN_FREQ = 20
#: jieba's HMM for unknown words doubles segmentation time (52 µs vs 25 µs a
#: short message, measured here) and adds little on top of character n-grams.
USE_HMM = False

_lock = threading.Lock()
#: Tokenizers by their domain words (``None``: the packaged ones); a handful at most.
_tokenizers: dict[tuple[tuple[str, int], ...] | None, Any] = {}


def _import_jieba():
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


def _build_tokenizer(domain_words: tuple[tuple[str, int], ...] | None) -> Any:
    jieba = _import_jieba()

    tokenizer = jieba.Tokenizer()
    # gen_pfdict and the attributes below are what jieba's initialize() sets;
    # doing it ourselves skips its log line and its cache file. The dictionary
    # is streamed line by line: reading it whole costs ~30 MB of peak memory.
    with tokenizer.get_dict_file() as f:
        kept = (line for line in f if _freq(line) >= JIEBA_MIN_FREQ)
        tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(kept)
    tokenizer.initialized = True
    for word, freq in (load_domain_words() if domain_words is None else domain_words):
        tokenizer.add_word(normalize(word).text, freq)
    return tokenizer


def _freq(line: bytes) -> int:
    parts = line.split(b" ", 2)
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return 0


def get_tokenizer(domain_words: tuple[tuple[str, int], ...] | None = None) -> Any:
    """The private ``jieba.Tokenizer`` with these domain words (default: ours), built on first use."""
    tokenizer = _tokenizers.get(domain_words)
    if tokenizer is None:
        with _lock:
            tokenizer = _tokenizers.get(domain_words)
            if tokenizer is None:
                tokenizer = _tokenizers[domain_words] = _build_tokenizer(domain_words)
    return tokenizer


def tokenize(text: str, domain_words: tuple[tuple[str, int], ...] | None = None) -> list[str]:
    """Segment already normalised text into words (a picklable module function).

    ``domain_words`` are ``(word, frequency)`` pairs added to jieba's dictionary
    (default: ``data/lexicons/domain_words.tsv``; a user's own come from
    ``Analyzer(lexicon_dir=...)``).

    >>> tokenize("我要退运费险", (("退运", 100000),))
    ['我', '要', '退运', '费', '险']
    """
    if not text:
        return []
    return get_tokenizer(domain_words).lcut(text, HMM=USE_HMM)

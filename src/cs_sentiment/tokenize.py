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
['我要', '退款', '，', '运费险', '怎么', '算']
"""

from __future__ import annotations

import io
import threading

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
_tokenizer = None


def _build_tokenizer():
    import jieba

    from .lexicon import load_domain_words
    from .normalize import normalize

    tokenizer = jieba.Tokenizer()
    with tokenizer.get_dict_file() as f:
        lines = f.read().decode("utf-8").splitlines()
    kept = "\n".join(line for line in lines if _freq(line) >= JIEBA_MIN_FREQ)
    # gen_pfdict and the three attributes below are what jieba's initialize()
    # sets; doing it ourselves skips its log line and its cache file.
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(io.BytesIO(kept.encode("utf-8")))
    tokenizer.initialized = True
    for word, freq in load_domain_words():
        tokenizer.add_word(normalize(word).text, freq)
    return tokenizer


def _freq(line: str) -> int:
    parts = line.split(" ", 2)
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return 0


def get_tokenizer():
    """The shared private ``jieba.Tokenizer``, built on first use."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _build_tokenizer()
    return _tokenizer


def tokenize(text: str) -> list[str]:
    """Segment already normalised text into words (a picklable module function)."""
    if not text:
        return []
    return get_tokenizer().lcut(text, HMM=USE_HMM)

"""Normalisation: raw message → matching text, with a map back to the original.

Every later stage (cues, features, models) reads :attr:`NormalizedText.text`:

1. control characters, lone surrogates and zero-width marks are dropped
   (the zero-width joiner is kept: it holds emoji sequences together);
2. HTML tags become a space and HTML entities their character;
3. NFKC (full-width ``！？ＡＢ１`` → ``!?ab1``), lowercase;
4. whitespace runs become one space, ends are stripped;
5. OpenCC ``t2s`` converts traditional to simplified characters.

``starts[i]``/``ends[i]`` give the span of the original message that produced
``text[i]``, so evidence can point into the message the customer typed, also
when it was traditional or full-width.

>>> n = normalize("這個  ＡＰＰ 太爛了！！")
>>> n.text, n.script.value
('这个 app 太烂了!!', 'traditional')
>>> n.original_span(7, 10), n.original[8:11]
((8, 11), '太爛了')
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from .exceptions import LexiconFormatError
from .labels import Script
from .resources import lexicon_root

__all__ = ["MAX_MESSAGE_CHARS", "NormalizedText", "bigrams", "detect_script", "emoji_key", "find_emoji", "normalize",
           "normalize_texts", "to_simplified", "to_traditional"]

_ENTITY_OR_TAG = re.compile(r"<[a-zA-Z/!][^<>]{0,200}>|&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
# Anything that needs the slow, character-by-character path: control and
# format characters (soft hyphen, Mongolian vowel separator, invisible
# operators, bidi controls, interlinear annotation, tag characters), private
# use, surrogates, odd spaces, markup, and marks that NFKC may compose with the
# character before them (then NFKC changes positions, not only lengths).
_NEEDS_WORK = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680\u180b-\u180f\u2000-\u200c\u200e\u200f"
    r"\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0e\ufeff\uffa0\ufff0-\ufffb\ud800-\udfff\ue000-\uf8ff"
    r"\U000e0000-\U000e0fff\U000f0000-\U0010ffff<&"
    r"\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0dff"
    r"\u1100-\u11ff\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\u302a-\u302f\u3099\u309a\ufe20-\ufe2f]"
    r"|  |^ | $"
)
#: Characters of a message normalisation reads; the rest is not analysed (a
#: helpdesk message is rarely over 1,000 characters; this bounds the time and
#: memory of any input, also text NFKC expands 18-fold, like U+FDFA).
MAX_MESSAGE_CHARS = 20_000
_DROP_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_KEEP_FORMAT = frozenset({"\u200d"})  # zero-width joiner: part of emoji sequences
#: Default-ignorable marks that are not format characters (combining grapheme
#: joiner, Hangul fillers, Mongolian variation selectors): invisible, dropped too.
_DROP_CHARS = frozenset("\u034f\u115f\u1160\u3164\uffa0\u180b\u180c\u180d\u180f")


@cache
def _converter(config: str):
    import opencc  # deferred: importing cs_sentiment must stay cheap

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional → simplified characters (OpenCC ``t2s``).

    >>> to_simplified("帳號無法登入")
    '帐号无法登入'
    """
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    """Simplified → traditional, Taiwan standard with Taiwan phrases (OpenCC ``s2twp``).

    >>> to_traditional("账号无法登录")
    '賬號無法登入'
    """
    return _converter("s2twp").convert(text)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A message prepared for matching.

    Attributes
    ----------
    original : str
        The message as given.
    text : str
        The normalised, simplified, lowercased text every rule reads.
    script : Script
        ``traditional`` when the message used more traditional-only than
        simplified-only characters.
    starts, ends : array or None
        Original span of each character of ``text``; ``None`` when ``text``
        maps one to one onto ``original``.
    """

    original: str
    text: str
    script: Script
    starts: array[int] | None = None
    ends: array[int] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of :attr:`text` to a span of :attr:`original`."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


SIMPLIFIED_ONLY_HEADER = ("char", "traditional", "source")


@cache
def _simplified_only() -> frozenset[str]:
    """Characters only simplified script has (``data/lexicons/simplified_only.tsv``, built from OpenCC)."""

    lines = (lexicon_root() / "simplified_only.tsv").read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != SIMPLIFIED_ONLY_HEADER:
        raise LexiconFormatError(f"simplified_only.tsv:1: expected header {'<TAB>'.join(SIMPLIFIED_ONLY_HEADER)!r}")
    return frozenset(line.split("\t", 1)[0] for line in lines[1:] if line)


def _count_simplified_only(text: str) -> int:
    return sum(map(_simplified_only().__contains__, text))


def detect_script(text: str) -> Script:
    """Tell simplified from traditional: characters t2s changes vs characters only simplified has.

    >>> detect_script("請問何時出貨"), detect_script("请问何时发货"), detect_script("ok")
    (<Script.TRADITIONAL: 'traditional'>, <Script.SIMPLIFIED: 'simplified'>, <Script.SIMPLIFIED: 'simplified'>)
    """
    return _script_of(text, to_simplified(text))


def _script_of(text: str, simplified: str) -> Script:
    """Script of ``text`` given its t2s conversion."""
    if simplified == text:
        return Script.SIMPLIFIED
    n_traditional = abs(len(text) - len(simplified)) + sum(x != y for x, y in zip(text, simplified))
    return Script.TRADITIONAL if n_traditional > _count_simplified_only(text) else Script.SIMPLIFIED


def normalize(message: str) -> NormalizedText:
    """Normalise one message; never raises on any ``str``.

    Only the first :data:`MAX_MESSAGE_CHARS` characters are read (and at most
    that many come out); spans still index the original message.

    >>> normalize("").text
    ''
    >>> normalize("<p>退款&amp;退货</p>").text
    '退款&退货'
    """
    lowered = _folded(message)
    if lowered is not None:
        simplified = to_simplified(lowered)
        if len(simplified) == len(lowered):
            return NormalizedText(message, simplified, _script_of(lowered, simplified))
    return _normalize_slow(message)


def _folded(message: str) -> str | None:
    """NFKC and lower case of a plain message, position for position; ``None`` when it needs the slow path.

    Full-width punctuation (，！？) is the common case: NFKC maps it one character
    to one character, so positions stay the same. (No composing mark is present,
    so NFKC cannot shorten one place while lengthening another.)
    """
    if len(message) > MAX_MESSAGE_CHARS or _NEEDS_WORK.search(message):
        return None
    folded = message if unicodedata.is_normalized("NFKC", message) else unicodedata.normalize("NFKC", message)
    lowered = folded.lower()
    if len(lowered) != len(message) or _NEEDS_WORK.search(lowered):
        return None
    return lowered


def normalize_texts(messages: Sequence[str]) -> list[str]:
    """``normalize(m).text`` of every message, the plain ones through one OpenCC call (loading lexicons).

    Plain messages hold no line break (it takes the slow path), so joined by
    ``\n`` they convert exactly as one by one.

    >>> normalize_texts(["這個ＡＰＰ", "退款&amp;", "好"]) == [normalize(m).text for m in ["這個ＡＰＰ", "退款&amp;", "好"]]
    True
    """
    out: list[str | None] = [None] * len(messages)
    at: list[int] = []
    plain: list[str] = []
    for i, message in enumerate(messages):
        lowered = _folded(message)
        if lowered is None:
            out[i] = normalize(message).text
        else:
            at.append(i)
            plain.append(lowered)
    converted = to_simplified("\n".join(plain)).split("\n") if plain else []
    if len(converted) != len(plain):  # never expected; then one by one
        converted = [to_simplified(p) for p in plain]
    for i, lowered, simplified in zip(at, plain, converted, strict=True):
        out[i] = simplified if len(simplified) == len(lowered) else normalize(messages[i]).text
    return [normalize(messages[i]).text if text is None else text for i, text in enumerate(out)]


def _normalize_slow(message: str) -> NormalizedText:
    out: list[str] = []
    starts = array("l")
    ends = array("l")
    last_space = True  # drops leading whitespace

    def emit(chunk: str, start: int, end: int) -> None:
        nonlocal last_space
        if len(out) >= MAX_MESSAGE_CHARS:
            raise _Full
        for ch in chunk:
            if ch.isspace():
                if last_space:
                    continue
                ch = " "
                last_space = True
            else:
                last_space = False
            out.append(ch)
            starts.append(start)
            ends.append(end)

    pos = 0
    head = message[:MAX_MESSAGE_CHARS]
    try:
        for match in _ENTITY_OR_TAG.finditer(head):
            _emit_plain(head, pos, match.start(), emit)
            token = match.group()
            if token.startswith("&"):
                emit(html.unescape(token), match.start(), match.end())
            else:
                emit(" ", match.start(), match.end())
            pos = match.end()
        _emit_plain(head, pos, len(head), emit)
    except _Full:
        pass
    del out[MAX_MESSAGE_CHARS:], starts[MAX_MESSAGE_CHARS:], ends[MAX_MESSAGE_CHARS:]
    while out and out[-1] == " ":
        out.pop()
        starts.pop()
        ends.pop()
    lowered = "".join(out)
    simplified = _simplify_keeping_length(lowered, starts, ends)
    script = _script_of(lowered, simplified)
    return NormalizedText(message, simplified, script, starts, ends)


class _Full(Exception):
    """Raised inside the slow path once :data:`MAX_MESSAGE_CHARS` characters are out."""


def _emit_plain(message: str, begin: int, end: int, emit) -> None:
    for i in range(begin, end):
        ch = message[i]
        if ch < "\x80":
            if ch < " " or ch == "\x7f":
                emit(" ", i, i + 1) if ch in "\t\n\r\x0b\x0c" else None
            else:
                emit(ch.lower(), i, i + 1)
            continue
        category = unicodedata.category(ch)
        if category in _DROP_CATEGORIES or (category == "Cf" and ch not in _KEEP_FORMAT) or ch in _DROP_CHARS:
            continue
        emit(unicodedata.normalize("NFKC", ch).lower(), i, i + 1)


def _simplify_keeping_length(text: str, starts: array, ends: array) -> str:
    """Convert to simplified; where OpenCC changes a length, keep the map consistent."""
    simplified = to_simplified(text)
    if len(simplified) == len(text):
        return simplified
    # Rare: a phrase conversion changed length. Convert clause by clause and
    # spread each changed clause's output over its original span.
    pieces: list[str] = []
    new_starts = array("l")
    new_ends = array("l")
    for m in re.finditer(r"[^\s,.!?;:，。！？；：、]+|[\s,.!?;:，。！？；：、]", text):
        chunk = m.group()
        converted = to_simplified(chunk)
        a, b = m.start(), m.end()
        for k in range(len(converted)):
            src = a + min(k * len(chunk) // max(1, len(converted)), len(chunk) - 1)
            new_starts.append(starts[src])
            new_ends.append(ends[src] if len(converted) == len(chunk) else ends[b - 1])
        pieces.append(converted)
    starts[:] = new_starts
    ends[:] = new_ends
    return "".join(pieces)


def find_emoji(text: str) -> list[dict[str, Any]]:
    """The emoji package's ``emoji_list`` of ``text`` (its search tree built once, under a lock, on first use).

    >>> [e["emoji"] for e in find_emoji("好的👍🏽")]
    ['👍🏽']
    """
    if not _EMOJI:
        with _EMOJI_LOCK:  # the package builds its search tree lazily, and not safely from two threads at once
            if not _EMOJI:
                import emoji  # deferred: only messages with emoji candidates pay for it

                emoji.emoji_list("\U0001f44d")
                _EMOJI.append(emoji)
    return _EMOJI[0].emoji_list(text)


_EMOJI: list[Any] = []
_EMOJI_LOCK = threading.Lock()


def emoji_key(symbol: str) -> str:
    """Canonical lookup key of an emoji grapheme: no variation selectors, no skin tones.

    >>> emoji_key("\U0001f44d\U0001f3fd") == emoji_key("\U0001f44d") == "\U0001f44d"
    True
    """
    return "".join(ch for ch in symbol if ch not in "\ufe0e\ufe0f" and not "\U0001f3fb" <= ch <= "\U0001f3ff")


_WORDISH = re.compile(r"[^\W_]")


def bigrams(text: str) -> set[str]:
    """The character bigrams of a text's letters and digits (how near-duplicate messages are told).

    >>> sorted(bigrams("在吗？在吗"))
    ['吗在', '在吗']
    >>> bigrams("好")
    {'好'}
    """
    compact = "".join(_WORDISH.findall(text))
    if len(compact) < 3:
        return {compact}
    return {compact[i:i + 2] for i in range(len(compact) - 1)}

"""Cues: what the lexicon and the rules see in a message and its context.

VADER's idea done for Chinese. The rules run in this order, each a small
function below:

1. lexicon scan (one Aho-Corasick pass), longest non-overlapping keywords;
2. clauses split at punctuation and contrast words;
3. negation, scoped to the first keyword after the negator in its clause
   (double negation cancels); degree adverbs and softeners in the same window;
4. contrast: the clause after 但是/不过/可是 weighs more;
5. sarcasm: praise next to a sarcasm marker or a negative context reads angry;
6. emphatic punctuation, character and phrase repetition;
7. emoji (whole graphemes, never negated), platform codes, emoticons;
8. questions;
9. context: typing speed, pauses, repeated messages and the emotion trend in
   ``history``, the complaint record.

Every contribution becomes a :class:`~cs_sentiment.results.Cue` with its span
in the original message.

Cue kinds
---------
This module owns the kinds of evidence: :class:`CueKind`, and :data:`FILE_KINDS`,
the one table from lexicon file kind to its columns and cue kind
(:mod:`cs_sentiment.lexicon` loads the files it describes). A new cue kind is a
change here alone: a :class:`CueKind` member, a :data:`FILE_KINDS` row if a file
``data/lexicons/<kind>.tsv`` feeds it, its rule, and :data:`NEGATIVE_SUPPORT_KINDS`
if it supports a negative feeling by itself.

>>> from cs_sentiment.lexicon import Lexicon
>>> from cs_sentiment.normalize import normalize
>>> lex = Lexicon.load()
>>> tc = scan_text(normalize("一点也不失望"), lex)
>>> max(tc.emotion_strength, key=tc.emotion_strength.get)
'satisfied'
>>> [(c.kind, c.text, c.label) for c in scan_text(normalize("不是很满意"), lex).cues]
[('negation', '不是', 'negation'), ('keyword', '很满意', 'disappointed')]
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .context import Context
from .labels import Emotion, Label
from .normalize import NormalizedText, bigrams, emoji_key, find_emoji
from .results import Cue

__all__ = ["CUE_FEATURE_NAMES", "FILE_KINDS", "NEGATIVE_SUPPORT_KINDS", "ContextCues", "CueKind", "Entry", "FileKind",
           "Matcher", "TextCues", "scan_context", "scan_text"]


# --- the kinds of evidence --------------------------------------------------
class CueKind(Label):
    """What kind of evidence a :class:`~cs_sentiment.results.Cue` is."""

    KEYWORD = "keyword"
    NEGATION = "negation"
    DEGREE = "degree"
    PUNCTUATION = "punctuation"
    REPETITION = "repetition"
    EMOJI = "emoji"
    SARCASM = "sarcasm"
    TYPING_SPEED = "typing_speed"
    PAUSE = "pause"
    HISTORY = "history"
    ESCALATION = "escalation"
    #: The decision went against what the cues suggest (or lacked support), and says why.
    MODEL = "model"


#: Cue kinds that support every negative emotion on a short message (a keyword
#: or emoji supports only its own feeling; see :func:`cs_sentiment.scoring.cue_supported`).
NEGATIVE_SUPPORT_KINDS = frozenset({CueKind.SARCASM.value, CueKind.ESCALATION.value, CueKind.PUNCTUATION.value,
                                    CueKind.REPETITION.value})


@dataclass(frozen=True)
class FileKind:
    """One kind of lexicon file: ``header`` (term first, ``source`` last), the ``cue`` kind of a match
    (``None``: the term shapes other rules), ``label`` and ``variant`` as ``(column, allowed values)`` (a
    term may repeat across variants), ``value`` as ``(column, low, high)`` (else every weight is 1.0)."""

    header: tuple[str, ...]
    cue: CueKind | None
    label: tuple[str, tuple[str, ...]] | None = None
    value: tuple[str, float, float] | None = None
    variant: tuple[str, tuple[str, ...]] | None = None


_EMOTIONS = tuple(e.value for e in Emotion if e is not Emotion.NEUTRAL)
#: The one table from lexicon file kind to its columns and cue kind, in the
#: order the automaton reads them (``data/lexicons/<kind>.tsv``; a user's
#: ``<kind>_<anything>.tsv`` adds to it).
FILE_KINDS: dict[str, FileKind] = {
    "emotion": FileKind(("term", "emotion", "strength", "source"), CueKind.KEYWORD,
                        label=("emotion", _EMOTIONS), value=("strength", 0.01, 1.0)),
    "degree": FileKind(("term", "level", "multiplier", "source"), CueKind.DEGREE,
                       label=("level", ("low", "medium", "high", "extreme")), value=("multiplier", 1.0, 3.0)),
    "softener": FileKind(("term", "multiplier", "source"), CueKind.DEGREE, value=("multiplier", 0.1, 1.0)),
    "negation": FileKind(("term", "source"), CueKind.NEGATION),
    "contrast": FileKind(("term", "source"), None),
    "sarcasm": FileKind(("term", "strength", "source"), CueKind.SARCASM, value=("strength", 0.01, 1.0)),
    "escalation": FileKind(("term", "weight", "source"), CueKind.ESCALATION, value=("weight", 0.01, 1.0)),
    "question": FileKind(("term", "source"), None),
    "emoji": FileKind(("symbol", "emotion", "strength", "kind", "source"), CueKind.EMOJI,
                      label=("emotion", tuple(e.value for e in Emotion)), value=("strength", 0.0, 1.0),
                      variant=("kind", ("unicode", "platform", "emoticon"))),
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: its file ``kind`` (a key of :data:`FILE_KINDS`), normalised ``term``, ``label``
    (emotion or degree level), ``value`` (strength, multiplier or weight), ``source`` and ``variant``
    (the emoji kind: ``unicode``, ``platform`` or ``emoticon``)."""

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


class Matcher(Protocol):
    """What the rules need of a lexicon (:class:`cs_sentiment.lexicon.Lexicon` is one)."""

    @property
    def emoji(self) -> Mapping[str, Entry]:
        """Unicode emoji graphemes (see :func:`~cs_sentiment.normalize.emoji_key`) to their entry."""
        ...

    def scan(self, text: str) -> list[tuple[int, int, tuple[Entry, ...]]]:
        """Every occurrence of every term in ``text`` as ``(start, end, entries)``."""
        ...


# --- constants, with their origin -------------------------------------------
#: Characters before a keyword in which a negator, degree adverb or softener
#: governs it. VADER looks three words back; three English words are about
#: four Chinese characters (一点也不 is four).
MODIFIER_WINDOW = 4
#: What may stand between a negator and the keyword it governs, besides other
#: modifiers: copulas, auxiliaries and adverbs that do not start a new
#: predicate (不是很满意, 不会太失望, 不觉得难用, 并不怎么失望). Anything else
#: (a verb or noun: 不能退款很失望, 不能用很难用) ends the negator's scope (ours).
NEGATION_GAP_CHARS = frozenset("是会算太很都也还再够那这么怎样觉得令让人能可真挺好我你您他她 ")
#: Softeners that begin with a negator (不太满意, 不怎么好用) negate and soften at once.
NEGATING_PREFIXES = ("不", "没")
#: VADER's N_SCALAR (-0.74): a negated word keeps 74% of its strength, reversed.
NEGATION_SCALAR = 0.74
#: What a negated emotion turns into. Negated praise is disappointment
#: (不开心); negated disappointment is mild satisfaction (一点也不失望); a
#: negated worry, hurry, doubt or anger is no emotion at all (不急, 不担心).
NEGATION_FLIP: dict[str, str | None] = {"satisfied": "disappointed", "disappointed": "satisfied", "angry": None,
                                        "anxious": None, "impatient": None, "confused": None, "hesitant": None}
#: VADER's _but_check: words before "but" weigh 0.5, after it 1.5.
CONTRAST_BEFORE = 0.5
CONTRAST_AFTER = 1.5
#: Praise under a sarcasm marker keeps its strength, turned to anger (ours).
SARCASM_SCALAR = 1.0
#: A sarcasm marker with no praise and no negative context: half its strength as anger (ours).
SARCASM_ALONE = 0.5
#: VADER's _amplify_ep: 0.292 per "!" up to four; _amplify_qm: 0.18 per "?" when more than one.
EXCLAMATION_BOOST = 0.292
MAX_EXCLAMATIONS = 4
QUESTION_RUN_BOOST = 0.18
MAX_QUESTION_MARKS = 4
#: Each extra repetition (快快快, 到底…到底…) adds this much emphasis, up to three (ours).
REPETITION_BOOST = 0.25
MAX_REPETITIONS = 3
#: Typing speed: a population baseline of 1.2 characters/second (pinyin IME,
#: 60-80 characters a minute), faster than 1.5x baseline counts as agitated,
#: faster than 8x is a paste and ignored (ours).
POPULATION_BASELINE_CPS = 1.2
FAST_TYPING_RATIO = 1.5
PASTE_RATIO = 8.0
TYPING_BOOST_MAX = 0.3
MIN_CHARS_FOR_SPEED = 4
#: Silence (seconds) that counts as a long wait: 5 minutes, 30 minutes, a day (ours).
PAUSE_STEPS = ((300.0, 0.1), (1800.0, 0.2), (86400.0, 0.3))
#: Character-bigram Jaccard from which two messages are the same request again.
NEAR_DUPLICATE_JACCARD = 0.8
HISTORY_REPEAT_BOOST = 0.15
MAX_HISTORY = 20
#: Evidence kept for one message (the strongest, shown in message order).
MAX_EVIDENCE = 64
#: Emotion-model features read at most this many characters (our longest rant is under 500).
MAX_SCAN_CHARS = 200_000

_CLAUSE_BREAK = re.compile(r"[,.!?;:，。！？；：、~～\n…]")
_EXCLAIM = re.compile(r"!+")
#: A run of ? and ! (linear: one character class, no nested quantifiers); it is a
#: question run when it holds two ? or a ? and a ! (？？？, ?!, ！？).
_PUNCT_RUN = re.compile(r"[?!]+")
_ELLIPSIS = re.compile(r"\.{3,}|。{2,}|…+")
_CHAR_RUN = re.compile(r"([^\W\d_])\1{2,}")
_PHRASE_RUN = re.compile(r"([^\W\d_]{2,4})(?:[^\n]{0,12}?\1)+")
_EMOJI_CANDIDATE = re.compile(r"[\u00a9\u00ae\u203c\u2049\u2122-\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]")
_WORDISH = re.compile(r"[^\W_]", re.UNICODE)
#: Characters whose repetition is grammar, not emphasis (我要…我要, 你们…你们).
_FUNCTION_CHARS = frozenset("我你您他她它们的了是要在有就都也还和吗呢吧啊这那个")

#: Names of the cue features fed to the emotion model, in order.
CUE_FEATURE_NAMES: tuple[str, ...] = tuple(f"lex_{e}" for e in _EMOTIONS) + (
    "negated", "sarcasm", "exclamation", "question_run", "question", "ellipsis", "repetition",
    "escalation", "emoji_only", "contrast", "softener", "degree", "length",
    "after_contrast_positive", "after_contrast_negative",
)


@dataclass(frozen=True, slots=True)
class TextCues:
    """What the rules read in the message text alone."""

    cues: tuple[Cue, ...]
    emotion_strength: dict[str, float]
    emphasis: float
    softening: float
    escalation: float
    question: bool
    emoji_only: bool
    features: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ContextCues:
    """What the context adds: evidence, intensity and escalation contributions."""

    cues: tuple[Cue, ...]
    intensity_boost: float
    escalation_boost: float
    repeats: int
    negative_history: int


# --- the text rules -----------------------------------------------------------
def _select_longest(hits: list[tuple[int, int, Entry]], taken: bytearray | None = None,
                    size: int = 0) -> list[tuple[int, int, Entry]]:
    """Longest-first, non-overlapping selection, returned in text order.

    ``taken`` marks characters already claimed (by keywords, for modifiers); it
    is updated in place. Linear in the number of hits times their length.
    """
    if not hits:
        return []
    if taken is None:
        if len(hits) == 1:
            return hits
        taken = bytearray(max(size, max(end for _, end, _ in hits)))
    chosen: list[tuple[int, int, Entry]] = []
    for start, end, entry in sorted(hits, key=lambda h: (h[0] - h[1], h[0])):
        if not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            chosen.append((start, end, entry))
    chosen.sort(key=lambda h: h[0])
    return chosen


def _modifiers_before(start: int, clause_start: int, modifiers: list[tuple[int, int, Entry]],
                      ends: list[int]) -> list[tuple[int, int, Entry]]:
    """Modifiers ending in the window before ``start`` and inside its clause (``ends`` is sorted)."""
    low = max(clause_start, start - MODIFIER_WINDOW)
    first = bisect_left(ends, low + 1)
    out = []
    for k in range(first, len(modifiers)):
        m = modifiers[k]
        if m[1] > start:
            break
        if m[0] >= low:
            out.append(m)
    return out


def scan_text(norm: NormalizedText, lexicon: Matcher) -> TextCues:
    """Apply the text rules to one normalised message."""
    text = norm.text[:MAX_SCAN_CHARS]
    keywords: list[tuple[int, int, Entry]] = []
    modifiers: list[tuple[int, int, Entry]] = []
    sarcasm: list[tuple[int, int, Entry]] = []
    escalation: list[tuple[int, int, Entry]] = []
    contrast: list[tuple[int, int, Entry]] = []
    symbols: list[tuple[int, int, Entry]] = []
    question = "?" in text
    for start, end, group in lexicon.scan(text):
        for entry in group:
            kind = entry.kind
            if kind == "emotion":
                keywords.append((start, end, entry))
            elif kind in ("negation", "degree", "softener"):
                modifiers.append((start, end, entry))
            elif kind == "sarcasm":
                sarcasm.append((start, end, entry))
            elif kind == "escalation":
                escalation.append((start, end, entry))
            elif kind == "contrast":
                contrast.append((start, end, entry))
            elif kind == "question":
                question = True
            elif kind == "emoji":  # platform codes and emoticons ([微笑], :) …)
                symbols.append((start, end, entry))

    size = len(text)
    taken = bytearray(size)
    keywords = _select_longest(keywords, taken)
    # Contrast words claim their characters too, so the 不 of 不过 negates nothing.
    contrast_spans = _select_longest(contrast, taken)
    modifiers = _select_longest(modifiers, taken) if keywords else []
    modifier_ends = [m[1] for m in modifiers]
    keyword_starts = [k[0] for k in keywords]
    symbols = _select_longest(symbols, size=size)
    contrast_starts = [c[0] for c in contrast_spans]
    last_contrast = contrast_starts[-1] if contrast_starts else -1
    breaks: list[int] = []
    if modifiers:  # clauses only matter to scope modifiers
        breaks = sorted({m.start() for m in _CLAUSE_BREAK.finditer(text)} | set(contrast_starts))

    strength = dict.fromkeys(_EMOTIONS, 0.0)
    after_contrast = [0.0, 0.0]  # positive, negative keyword strength after the last contrast word
    found: list[Cue] = []
    negated = degree_used = softened = 0
    softening = 1.0
    for start, end, entry in keywords:
        if modifiers and modifier_ends[0] <= start:
            clause_start = breaks[bisect_right(breaks, start - 1) - 1] if breaks and breaks[0] < start else 0
            mods = _modifiers_before(start, clause_start, modifiers, modifier_ends)
        else:
            mods = []
        weight = entry.value
        emotion: str | None = entry.label
        n_negators = 0
        for m_start, m_end, m in mods:
            if m.kind == "negation":
                if _negation_reaches(text, m_end, start, mods) and not _governed_elsewhere(m_end, start,
                                                                                          keyword_starts):
                    n_negators += 1
                    found.append(_cue(norm, CueKind.NEGATION, m_start, m_end, -NEGATION_SCALAR, "negation"))
            elif m.kind == "degree":
                weight *= m.value
                degree_used += 1
                found.append(_cue(norm, CueKind.DEGREE, m_start, m_end, m.value, m.label))
            elif m.kind == "softener":
                weight *= m.value
                softening = min(softening, m.value)
                softened += 1
                found.append(_cue(norm, CueKind.DEGREE, m_start, m_end, m.value, "softener"))
                if m.term.startswith(NEGATING_PREFIXES) and _negation_reaches(text, m_end, start, mods):
                    n_negators += 1
                    found.append(_cue(norm, CueKind.NEGATION, m_start, m_end, -NEGATION_SCALAR, "negation"))
        if n_negators % 2 == 1:
            negated += 1
            emotion = NEGATION_FLIP.get(emotion or "")
            weight *= NEGATION_SCALAR
        elif n_negators:
            weight *= NEGATION_SCALAR  # double negation: same direction, weaker
        if last_contrast >= 0:
            weight *= CONTRAST_AFTER if start >= last_contrast else CONTRAST_BEFORE
        if emotion is not None:
            strength[emotion] += weight
            if 0 <= last_contrast <= start:
                after_contrast[emotion != "satisfied"] += weight
        found.append(_cue(norm, CueKind.KEYWORD, start, end, round(weight, 3), emotion or "negated"))

    # Softeners that govern no keyword still soften the message (有点, 稍微).
    for _, _, m in modifiers:
        if m.kind == "softener" and softened == 0:
            softening = min(softening, m.value)

    # Sarcasm: praise with a marker, or a marker in a negative context, reads angry.
    sarcasm_score = 0.0
    if sarcasm:
        negative_context = any(strength[e] > 0 for e in _EMOTIONS if e != "satisfied") or bool(escalation)
        praise = strength["satisfied"]
        for start, end, entry in _select_longest(sarcasm, size=size):
            sarcasm_score = max(sarcasm_score, entry.value)
            found.append(_cue(norm, CueKind.SARCASM, start, end, entry.value, "angry"))
        if praise > 0 or negative_context:
            strength["angry"] += praise * SARCASM_SCALAR + sarcasm_score
            strength["satisfied"] = 0.0
        else:
            strength["angry"] += sarcasm_score * SARCASM_ALONE

    escalation_score = 0.0
    for start, end, entry in _select_longest(escalation, size=size):
        escalation_score += entry.value
        found.append(_cue(norm, CueKind.ESCALATION, start, end, entry.value, "escalation"))

    # Emoji: platform codes and emoticons from the automaton, Unicode emoji by grapheme.
    symbol_chars = 0
    for start, end, entry in symbols:
        symbol_chars += end - start
        if entry.label is not None and entry.label != "neutral":
            strength[entry.label] += entry.value
        found.append(_cue(norm, CueKind.EMOJI, start, end, entry.value, entry.label))
    if _EMOJI_CANDIDATE.search(text):
        symbol_chars += _scan_emoji(norm, text, lexicon, strength, found)

    emphasis = 0.0
    n_exclaim = min(text.count("!"), MAX_EXCLAMATIONS)
    emphasis += n_exclaim * EXCLAMATION_BOOST
    question_run = False
    has_bang = n_exclaim > 0
    for hit in _PUNCT_RUN.finditer(text) if question and ("?" in text) else ():
        run = hit.group()
        if run.count("?") < 2 and not ("?" in run and "!" in run):
            continue
        question_run = True
        emphasis += min(len(hit.group()), MAX_QUESTION_MARKS) * QUESTION_RUN_BOOST
        found.append(_cue(norm, CueKind.PUNCTUATION, hit.start(), hit.end(),
                          round(min(len(hit.group()), MAX_QUESTION_MARKS) * QUESTION_RUN_BOOST, 3), "question_run"))
    for hit in _EXCLAIM.finditer(text) if has_bang else ():
        if "?" not in text[max(0, hit.start() - 1):hit.end() + 1]:
            found.append(_cue(norm, CueKind.PUNCTUATION, hit.start(), hit.end(),
                              round(min(len(hit.group()), MAX_EXCLAMATIONS) * EXCLAMATION_BOOST, 3), "exclamation"))
    ellipsis = False
    for hit in _ELLIPSIS.finditer(text) if ("." in text or "。" in text or "…" in text) else ():
        ellipsis = True
        found.append(_cue(norm, CueKind.PUNCTUATION, hit.start(), hit.end(), 0.1, "ellipsis"))

    repetitions = 0
    for hit in _CHAR_RUN.finditer(text):
        extra = min(len(hit.group()) - 2, MAX_REPETITIONS)
        repetitions += extra
        found.append(_cue(norm, CueKind.REPETITION, hit.start(), hit.end(), round(extra * REPETITION_BOOST, 3)))
    for hit in _PHRASE_RUN.finditer(text):
        unit = hit.group(1)
        if len(set(unit)) == 1 or set(unit) <= _FUNCTION_CHARS:
            continue  # a character run (counted above) or function words (我要…我要)
        extra = min(hit.group().count(unit) - 1, MAX_REPETITIONS)
        repetitions += extra
        found.append(_cue(norm, CueKind.REPETITION, hit.start(), hit.end(), round(extra * REPETITION_BOOST, 3), unit))
    repetitions = min(repetitions, MAX_REPETITIONS)
    emphasis += repetitions * REPETITION_BOOST
    emphasis *= softening

    emoji_only = symbol_chars > 0 and len(_WORDISH.findall(text)) <= symbol_chars
    features = tuple(math.log1p(strength[e]) for e in _EMOTIONS) + (
        min(negated, 2) / 2,
        sarcasm_score,
        n_exclaim / MAX_EXCLAMATIONS,
        float(question_run),
        float(question),
        float(ellipsis),
        repetitions / MAX_REPETITIONS,
        min(escalation_score, 2.0) / 2,
        float(emoji_only),
        float(bool(contrast_spans)),
        float(softening < 1.0),
        float(degree_used > 0),
        min(math.log1p(len(text)) / 6, 1.0),
        math.log1p(after_contrast[0]),
        math.log1p(after_contrast[1]),
    )
    return TextCues(
        cues=_limit(found),
        emotion_strength=strength,
        emphasis=emphasis,
        softening=softening,
        escalation=escalation_score,
        question=question,
        emoji_only=emoji_only,
        features=features,
    )


def _negation_reaches(text: str, neg_end: int, keyword_start: int, mods) -> bool:
    """Whether a negator ending at ``neg_end`` governs the keyword at ``keyword_start``.

    Only modifiers and the words of :data:`NEGATION_GAP_CHARS` may stand
    between them: 不能退款很失望 keeps 失望 (不能 governs 退款), 不是很满意 negates 满意.
    """
    covered: set[int] = set()
    for m_start, m_end, _ in mods:
        if m_start >= neg_end and m_end <= keyword_start:
            covered.update(range(m_start, m_end))
    return all(k in covered or text[k] in NEGATION_GAP_CHARS for k in range(neg_end, keyword_start))


def _governed_elsewhere(neg_end: int, keyword_start: int, keyword_starts: list[int]) -> bool:
    """A negator governs only the first keyword after it (并不…, later emotion intact)."""
    k = bisect_left(keyword_starts, neg_end)
    return k < len(keyword_starts) and keyword_starts[k] < keyword_start


def _scan_emoji(norm: NormalizedText, text: str, lexicon: Matcher, strength: dict, found: list) -> int:
    chars = 0
    for item in find_emoji(text):
        grapheme = item["emoji"]
        chars += len(grapheme)
        key = emoji_key(grapheme)
        entry = lexicon.emoji.get(key) or lexicon.emoji.get(key[:1])
        if entry is None:
            found.append(_cue(norm, CueKind.EMOJI, item["match_start"], item["match_end"], 0.0, "unknown"))
            continue
        if entry.label is not None and entry.label != "neutral":
            strength[entry.label] += entry.value
        found.append(_cue(norm, CueKind.EMOJI, item["match_start"], item["match_end"], entry.value, entry.label))
    return chars


def _cue(norm: NormalizedText, kind: CueKind, start: int, end: int, weight: float, label: str | None = None) -> Cue:
    if norm.starts is None:  # the usual case: positions map one to one
        return Cue(kind.value, norm.original[start:end], start, end, weight, label)
    o_start, o_end = norm.original_span(start, end)
    return Cue(kind.value, norm.original[o_start:o_end], o_start, o_end, weight,
               None if label is None else str(label))


def _limit(cues: list[Cue]) -> tuple[Cue, ...]:
    if len(cues) > MAX_EVIDENCE:
        cues = sorted(cues, key=lambda c: -abs(c.weight))[:MAX_EVIDENCE]
    cues.sort(key=lambda c: (c.start if c.start is not None else -1, c.end or 0))
    return tuple(cues)


# --- context rules ------------------------------------------------------------
def scan_context(context: Context, norm: NormalizedText, valence: float,
                 digest: Callable[[str], tuple[set[str] | None, float]], grams: set[str] | None = None) -> ContextCues:
    """Apply the context rules: typing speed, pause, history, complaint record.

    ``valence`` is this message's :func:`~cs_sentiment.scoring.lexicon_valence`; ``digest`` maps an
    earlier message to its :func:`~cs_sentiment.normalize.bigrams` (``None`` when blank) and lexicon
    valence (the analyzer's is cached: a conversation's earlier messages are read once); ``grams``
    are this message's bigrams when the caller has them.
    """
    cues: list[Cue] = []
    intensity = 0.0
    escalation = 0.0
    if context.typing_seconds:
        n_chars = sum(1 for ch in norm.original if not ch.isspace())
        baseline = context.customer_baseline_cps or POPULATION_BASELINE_CPS
        cps = n_chars / context.typing_seconds
        ratio = cps / baseline
        if n_chars >= MIN_CHARS_FOR_SPEED and FAST_TYPING_RATIO <= ratio <= PASTE_RATIO:
            boost = round(TYPING_BOOST_MAX * min(1.0, (ratio - 1.0) / 2.0), 3)
            intensity += boost
            cues.append(Cue(CueKind.TYPING_SPEED.value, f"{cps:.1f} chars/s vs baseline {baseline:.1f}",
                            None, None, boost, "fast"))
    if context.seconds_since_last is not None:
        weight = 0.0
        for threshold, step in PAUSE_STEPS:
            if context.seconds_since_last >= threshold:
                weight = step
        if weight:
            intensity += weight
            escalation += weight
            cues.append(Cue(CueKind.PAUSE.value, f"silent {context.seconds_since_last:.0f} s before this message",
                            None, None, weight, "long_wait"))
    repeats = 0
    negative_history = 0
    if context.history:
        history = context.history[-MAX_HISTORY:]
        current = bigrams(norm.text) if grams is None else grams
        earlier = [digest(h) for h in history]
        repeats = sum(1 for grams, _ in earlier if grams and _jaccard(current, grams) >= NEAR_DUPLICATE_JACCARD)
        if repeats:
            weight = round(min(repeats, 3) * HISTORY_REPEAT_BOOST, 3)
            intensity += weight
            escalation += weight
            cues.append(Cue(CueKind.HISTORY.value, f"same message sent {repeats + 1} times", None, None,
                            weight, "repeated"))
        valences = [valence for _, valence in earlier[-5:]]
        negative_history = sum(1 for v in valences if v < -0.2)
        if negative_history >= 2:
            weight = round(min(negative_history, 3) * 0.1, 3)
            intensity += weight
            escalation += weight
            cues.append(Cue(CueKind.HISTORY.value, f"{negative_history} negative messages before", None, None,
                            weight, "negative_trend"))
        if valences and valence < valences[-1] - 0.3:
            cues.append(Cue(CueKind.HISTORY.value, "emotion worsened since the last message", None, None,
                            0.1, "worsening"))
            intensity += 0.1
        elif valences and valence > valences[-1] + 0.3:
            cues.append(Cue(CueKind.HISTORY.value, "emotion improved since the last message", None, None,
                            -0.1, "improving"))
    if context.previous_complaints:
        weight = round(min(1.0, 0.25 * context.previous_complaints), 3)
        escalation += weight
        cues.append(Cue(CueKind.ESCALATION.value, f"{context.previous_complaints} previous complaints", None, None,
                        weight, "complaint_history"))
    return ContextCues(tuple(cues), intensity, escalation, repeats, negative_history)


def _jaccard(a: set[str], b: set[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0

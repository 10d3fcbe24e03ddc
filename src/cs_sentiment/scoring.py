"""Every formula that turns cues and model probabilities into the numbers of an analysis.

:mod:`cs_sentiment.cues` finds the evidence and sums it per kind (emotion
strength, emphasis, softening, lexicon valence, escalation phrases, context
boosts); the models give probabilities; this module alone decides what they
add up to: intensity, valence, escalation risk, whether the reading is
unsure, whether a second intent is reported, and when a short message keeps
a feeling. Each constant says where it comes from. Changing how intensity is
computed is a change here (and the cue weights, which are data in
``data/lexicons``).

>>> round(intensity(0.9, 0.0, 0.3, 1.0, 0.0, 0.1, neutral=False), 3)
0.849
>>> round(escalation_risk(0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 3)  # a calm first message
0.047
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from .cues import NEGATIVE_SUPPORT_KINDS, CueKind
from .labels import NEGATIVE_EMOTIONS, Intent
from .results import Cue

__all__ = ["CONTRADICTION_VALENCE", "DEFAULT_CONFIDENCE_THRESHOLD", "DEFAULT_INTENT_MARGIN", "ESCALATION_BIAS",
           "ESCALATION_WEIGHTS", "INTENSITY_ALPHA", "SHORT_MESSAGE_CHARS", "SHORT_UNSUPPORTED_WEIGHT", "VALENCE_ALPHA",
           "VALENCE_WEIGHT", "bounded",
           "contradiction", "cue_supported", "escalation_risk", "intensity", "is_short", "lexicon_valence", "softmax",
           "support_short",
           "two_requests", "unsure", "valence"]

#: Default minimum confidence below which an analysis says it is unsure and the
#: strategy asks a clarifying question (chosen on the training folds; see README).
DEFAULT_CONFIDENCE_THRESHOLD = 0.35
#: Top-two intent probabilities closer than this also count as unsure.
DEFAULT_INTENT_MARGIN = 0.08
#: A second intent is reported when its probability is at least this and at
#: least this share of the top one (ours, checked on the training folds) ...
SECONDARY_MIN_PROB = 0.2
SECONDARY_MIN_RATIO = 0.4
#: ... and two requests that together take at least this much are a clear double request, not an unsure reading.
TWO_REQUESTS_MASS = 0.6
#: A clause's own intent must be at least this probable to be reported as secondary (ours).
CLAUSE_INTENT_MIN_PROB = 0.6
#: Clauses read for a second intent: the first 8 (a request is rarely later; bounds a pasted wall of text).
MAX_CLAUSES = 8
#: Words that join two requests in one message, and where clauses split (ours).
MULTI_REQUEST = re.compile(r"而且|另外|顺便|还有|同时|以及|再来|然后|并且|此外|另一个|还想|外加|\?.+\?")
CLAUSE_SPLIT = re.compile(r"[,.!?;，。！？；\n]+|而且|另外|顺便|还有|同时|以及|再来|然后|并且|此外|外加")
#: Intents that are never a second request, nor have one.
NO_SECONDARY = frozenset({Intent.OTHER.value, Intent.PRAISE.value})

#: How much the model's non-neutral probability alone adds to raw intensity,
#: so a feeling the lexicon does not know still registers (ours).
INTENSITY_MODEL_WEIGHT = 0.45
#: Other negative emotions' cue strength counts half toward the main one (ours).
OTHER_NEGATIVE_SHARE = 0.5
#: Bounded map of raw intensity: raw / sqrt(raw² + alpha) (VADER's normalise).
INTENSITY_ALPHA = 1.0
#: Sign and weight of each emotion in valence (ours: hesitation and confusion are mild negatives).
VALENCE_WEIGHT: dict[str, float] = {
    "satisfied": 1.0, "angry": -1.0, "disappointed": -1.0, "impatient": -0.8, "anxious": -0.6,
    "confused": -0.4, "hesitant": -0.3, "neutral": 0.0,
}
#: VADER normalises with alpha=15 for word scores up to ±4; our strengths are
#: at most 1 (2 with a degree adverb), so alpha scales down by 16 (ours).
VALENCE_ALPHA = 1.0
#: A neutral message is at most this intense.
NEUTRAL_INTENSITY_CAP = 0.3
#: A negative feeling at least this intense asks for emotional support (the start of "medium").
EMOTIONAL_SUPPORT_INTENSITY = 0.34
#: Valence: share of the lexicon score when the message has lexicon evidence.
VALENCE_LEXICON_SHARE = 0.5
#: Escalation risk = sigmoid(bias + weighted signals); the bias gives a calm,
#: first-contact message about 5% (ours, hand-set; documented in the README).
ESCALATION_BIAS = -3.0
ESCALATION_WEIGHTS = {"phrases": 2.5, "anger": 1.8, "complaint": 1.4, "context": 2.0, "negative": 0.6}
#: Each complaint on record adds this much to the context signal of a blank message, up to 1.
COMPLAINT_CONTEXT_STEP = 0.25

#: A message of at most this many characters (not counting spaces) is short:
#: a feeling on it needs support (the median real chat turn has 9 characters).
SHORT_MESSAGE_CHARS = 12
#: On a short message, each feeling no cue points to keeps this share of its
#: probability (the rest goes to calm), so only a confident model keeps it:
#: a likelihood ratio for "no cue on a short turn", chosen on the tune half of
#: the real dev set (benchmarks/tune_real.py; see README).
SHORT_UNSUPPORTED_WEIGHT = 0.5
#: Lexicon valence beyond which a label of the other polarity is said to
#: contradict the cues (an evidence ``model`` cue explains it).
CONTRADICTION_VALENCE = 0.2
NEGATIVE_IDS = frozenset(e.value for e in NEGATIVE_EMOTIONS)


def bounded(score: float, alpha: float = VALENCE_ALPHA) -> float:
    """Map an unbounded score into (-1, 1): ``score / sqrt(score² + alpha)`` (VADER's normalise).

    >>> bounded(0.0), round(bounded(1.0), 3), round(bounded(-3.0), 3)
    (0.0, 0.707, -0.949)
    """
    return score / math.sqrt(score * score + alpha)


def lexicon_valence(strength: Mapping[str, float], emphasis: float) -> float:
    """Signed feeling of the cues alone, in (-1, 1): emotion strengths weighed by :data:`VALENCE_WEIGHT`, emphasis
    added in their direction, :func:`bounded` (VADER's compound score).

    >>> lexicon_valence({"satisfied": 0.0, "angry": 0.9}, 0.3) < -0.7, lexicon_valence({}, 0.6)
    (True, 0.0)
    """
    raw = sum(VALENCE_WEIGHT[e] * s for e, s in strength.items())
    if raw:
        raw += math.copysign(emphasis, raw)
    return bounded(raw)


def intensity(strength: float, others: float, emphasis: float, softening: float, context_boost: float,
              p_neutral: float, *, neutral: bool) -> float:
    """How strongly the feeling is felt, in [0, 1].

    ``strength`` is the cue strength of the emotion read, ``others`` that of the other
    negative emotions (0 for a positive or calm reading), ``emphasis`` and
    ``softening`` come from punctuation, repetition and softeners, ``context_boost``
    from typing speed, pauses and history, ``p_neutral`` is the model's calm
    probability. ``raw = ((strength + share·others) + emphasis)·softening + boost +
    w·(1 - p_neutral)``, bounded; a calm reading is capped at
    :data:`NEUTRAL_INTENSITY_CAP`.
    """
    raw = strength + OTHER_NEGATIVE_SHARE * others if others else strength
    raw = (raw + emphasis) * softening + context_boost
    raw += INTENSITY_MODEL_WEIGHT * (1.0 - p_neutral)
    value = max(0.0, min(1.0, bounded(raw, INTENSITY_ALPHA)))
    return min(value, NEUTRAL_INTENSITY_CAP) if neutral else value


def valence(lexicon_valence: float, model_valence: float) -> float:
    """Signed feeling in [-1, 1]: the model's expected valence, half the lexicon's when it has evidence."""
    share = VALENCE_LEXICON_SHARE if lexicon_valence else 0.0
    return max(-1.0, min(1.0, share * lexicon_valence + (1 - share) * model_valence))


def escalation_risk(phrases: float, p_angry: float, intensity: float, p_complaint: float, context: float,
                    valence: float) -> float:
    """Probability-like risk of a formal complaint, bad review or public exposure: a sigmoid of weighted signals."""
    w = ESCALATION_WEIGHTS
    z = (ESCALATION_BIAS + w["phrases"] * phrases + w["anger"] * p_angry * intensity
         + w["complaint"] * p_complaint + w["context"] * context + w["negative"] * max(0.0, -valence))
    return 1.0 / (1.0 + math.exp(-z))


def blank_escalation_risk(previous_complaints: int | None) -> float:
    """The risk of an empty message: only the complaint history speaks."""
    context = min(1.0, COMPLAINT_CONTEXT_STEP * (previous_complaints or 0))
    return 1.0 / (1.0 + math.exp(-(ESCALATION_BIAS + ESCALATION_WEIGHTS["context"] * context)))


def needs_support(negative: bool, intensity: float) -> bool:
    """Whether the strategy should start by supporting the customer emotionally."""
    return negative and intensity >= EMOTIONAL_SUPPORT_INTENSITY


def unsure(confidence: float, p_intent: float, p_second: float, threshold: float, margin: float) -> bool:
    """The reading is unsure: low confidence, or two intents too close to call."""
    return confidence < threshold or (p_intent - p_second) < margin


def two_requests(intent: str, second: str | None, p_intent: float, p_second: float) -> bool:
    """Whether the second most probable intent is a second request of its own."""
    return (second is not None and p_second >= SECONDARY_MIN_PROB and p_second >= SECONDARY_MIN_RATIO * p_intent
            and second not in NO_SECONDARY and intent not in NO_SECONDARY)


def is_short(text: str) -> bool:
    """At most :data:`SHORT_MESSAGE_CHARS` characters, spaces not counted.

    >>> is_short("好的 谢谢"), is_short("这个订单为什么还没有发货呀我都等了一个星期")
    (True, False)
    """
    return len(text) <= SHORT_MESSAGE_CHARS or len("".join(text.split())) <= SHORT_MESSAGE_CHARS


def cue_supported(cues: Sequence[Cue]) -> frozenset[str]:
    """The emotions the text cues give support to.

    A cue certifies a polarity, the model picks the emotion within it: a
    positive keyword or emoji supports ``satisfied``; a negative keyword or
    emoji, a sarcasm marker, an escalation phrase, emphatic punctuation (！,
    ？？, not 。。。) or repetition supports every negative emotion.

    >>> sorted(cue_supported((Cue("keyword", "不满意", 0, 3, 0.45, "angry"),))) == sorted(NEGATIVE_IDS)
    True
    >>> sorted(cue_supported((Cue("emoji", "👍", 0, 1, 0.6, "satisfied"),)))
    ['satisfied']
    """
    out: set[str] = set()
    for cue in cues:
        if cue.kind in ("keyword", "emoji") and cue.label:
            if cue.label == "satisfied":
                out.add("satisfied")
            elif cue.label in NEGATIVE_IDS:
                out |= NEGATIVE_IDS
        elif cue.kind in NEGATIVE_SUPPORT_KINDS and cue.label != "ellipsis":
            out |= NEGATIVE_IDS
    return frozenset(out)


def support_short(p: list[float], top: int, cues: Sequence[Cue], classes: Sequence[str],
                  neutral: int) -> tuple[list[float], int, Cue | None]:
    """A short message keeps a feeling only with a cue for it or a confident model.

    Every feeling no cue supports keeps :data:`SHORT_UNSUPPORTED_WEIGHT` of its
    probability and the rest goes to calm (column ``neutral``); the scores stay a
    distribution and their top is the label. Returns the new scores, the new top
    and, when a feeling lost to calm, the ``model`` cue that says so.
    """
    supported = cue_supported(cues)
    out = list(p)
    moved = 0.0
    for k, c in enumerate(classes):
        if k != neutral and c not in supported:
            moved += out[k] * (1.0 - SHORT_UNSUPPORTED_WEIGHT)
            out[k] *= SHORT_UNSUPPORTED_WEIGHT
    if not moved:
        return p, top, None
    out[neutral] += moved
    new_top = max(range(len(out)), key=out.__getitem__)
    cue = None
    if new_top == neutral and top != neutral:
        cue = Cue(CueKind.MODEL.value, f"short message with no cue for {classes[top]} (p={p[top]:.2f}): "
                  "read as calm", None, None, round(p[top], 3), "unsupported")
    return out, new_top, cue


def contradiction(emotion_id: str, lexicon_valence: float, p: float) -> Cue | None:
    """A ``model`` cue when the label goes against the lexicon's net valence (so evidence says so)."""
    positive = emotion_id == "satisfied"
    negative = emotion_id in NEGATIVE_IDS
    if (negative and lexicon_valence > CONTRADICTION_VALENCE) or (positive and lexicon_valence < -CONTRADICTION_VALENCE):
        text = f"the model reads {emotion_id} (p={p:.2f}) against the lexicon cues (valence {lexicon_valence:+.2f})"
    elif emotion_id == "neutral" and abs(lexicon_valence) > CONTRADICTION_VALENCE:
        text = f"the cues (valence {lexicon_valence:+.2f}) are too weak against the model's calm reading (p={p:.2f})"
    else:
        return None
    return Cue(CueKind.MODEL.value, text, None, None, round(p, 3), "overrides_cues")


def softmax(logits: list[float], temperature: float) -> list[float]:
    """Softmax of a short list in plain Python (cheaper than numpy for 8-11 values).

    >>> [round(p, 3) for p in softmax([0.0, 1.0], 1.0)]
    [0.269, 0.731]
    """
    top = max(logits)
    exp = [math.exp((z - top) / temperature) for z in logits]
    total = sum(exp)
    return [e / total for e in exp]

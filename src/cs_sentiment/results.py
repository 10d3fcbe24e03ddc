"""Frozen, typed results: :class:`Cue`, :class:`Strategy` and :class:`Analysis`.

>>> cue = Cue("keyword", "无法接受", 18, 22, 0.9, "angry")
>>> cue.to_dict()
{'kind': 'keyword', 'text': '无法接受', 'start': 18, 'end': 22, 'weight': 0.9, 'label': 'angry'}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .labels import Emotion, IntensityLevel, Need, Polarity, Priority, Script, Step, StrategyId

__all__ = ["Analysis", "Cue", "Strategy"]


@dataclass(frozen=True, slots=True)
class Cue:
    """One piece of evidence behind an analysis.

    Attributes
    ----------
    kind : str
        A :class:`~cs_sentiment.cues.CueKind` id: keyword, negation, degree,
        punctuation, repetition, emoji, sarcasm, typing_speed, pause, history,
        escalation.
    text : str
        The matched text as the customer wrote it (``original[start:end]``), or
        a short description for context cues.
    start, end : int or None
        Half-open span in the **original** message; ``None`` for context cues.
    weight : float
        Signed contribution: positive raises the emotion or risk it names.
    label : str or None
        What the cue points to: an emotion id for keywords and emoji, the
        modifier kind for degree/negation, ``None`` where nothing more applies.
    """

    kind: str
    text: str
    start: int | None
    end: int | None
    weight: float
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict."""
        return {"kind": str(self.kind), "text": self.text, "start": self.start, "end": self.end,
                "weight": self.weight, "label": None if self.label is None else str(self.label)}


@dataclass(frozen=True, slots=True)
class Strategy:
    """The suggested response.

    Attributes
    ----------
    id : StrategyId
        One of the taxonomy's seven strategies.
    steps : tuple of Step
        Ordered steps (taxonomy step list, plus ``clarify`` when unsure).
    priority : Priority
        normal, high or urgent.
    opening : str
        A sentence an agent can send, in the customer's script.
    covers : tuple of str
        The intents this response addresses (the main one, then a secondary one).
    outline : tuple of str
        One short line per step (confirm → solve → care → follow up), in the
        customer's script, for an agent-assist panel beside the opening.
    """

    id: StrategyId
    steps: tuple[Step, ...]
    priority: Priority
    opening: str
    covers: tuple[str, ...] = ()
    outline: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict."""
        return {"id": str(self.id), "steps": [str(s) for s in self.steps], "priority": str(self.priority),
                "opening": self.opening, "covers": [str(c) for c in self.covers], "outline": list(self.outline)}


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything cs_sentiment reads in one customer message.

    Attributes
    ----------
    emotion : Emotion
        The dominant emotion (8 labels).
    emotion_scores : dict
        Calibrated probability of every emotion id (8 keys, sums to 1).
    polarity : Polarity
        Derived from ``emotion``.
    valence : float
        Lexicon-and-rules sentiment in [-1, 1] (like VADER's compound), blended
        with the model's polarity.
    intensity : float
        How strongly the emotion is expressed, in [0, 1].
    intensity_level : IntensityLevel
        low (< 0.34), medium (< 0.67), high.
    intent : str
        An :class:`~cs_sentiment.labels.Intent` id (or a retrained model's own label).
    intent_scores : dict
        Calibrated probability of every intent (sums to 1).
    need : Need
        Fixed by the intent.
    emotional_support : bool
        Negative emotion with at least medium intensity.
    escalation_risk : float
        In [0, 1]: how likely this turns into a formal complaint or exposure.
    strategy : Strategy
        The suggested response.
    evidence : tuple of Cue
        What the analysis rests on, in message order, context cues last.
    script : Script
        simplified or traditional.
    confidence : float
        The lower of the top emotion and top intent probabilities.
    needs_human : bool
        The analysis is unsure (confidence under the analyzer's threshold, or two
        intents too close): the strategy asks a clarifying question first.
    secondary_intent : str or None
        A second request clearly present in the same message.
    """

    emotion: Emotion
    emotion_scores: dict[str, float]
    polarity: Polarity
    valence: float
    intensity: float
    intensity_level: IntensityLevel
    intent: str
    intent_scores: dict[str, float]
    need: Need
    emotional_support: bool
    escalation_risk: float
    strategy: Strategy
    evidence: tuple[Cue, ...]
    script: Script
    confidence: float
    needs_human: bool
    secondary_intent: str | None = None

    @property
    def emotion_zh(self) -> str:
        """Chinese display name of the emotion (情绪)."""
        return Emotion(self.emotion).label_zh

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict (enums as their ids)."""
        return {
            "emotion": str(self.emotion),
            "emotion_scores": dict(self.emotion_scores),
            "polarity": str(self.polarity),
            "valence": self.valence,
            "intensity": self.intensity,
            "intensity_level": str(self.intensity_level),
            "intent": str(self.intent),
            "intent_scores": dict(self.intent_scores),
            "secondary_intent": None if self.secondary_intent is None else str(self.secondary_intent),
            "need": str(self.need),
            "emotional_support": self.emotional_support,
            "escalation_risk": self.escalation_risk,
            "confidence": self.confidence,
            "needs_human": self.needs_human,
            "strategy": self.strategy.to_dict(),
            "evidence": [c.to_dict() for c in self.evidence],
            "script": str(self.script),
        }


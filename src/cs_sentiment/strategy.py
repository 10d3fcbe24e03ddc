"""Strategy: which response to suggest, from a rule table kept as data.

``data/lexicons/strategy_rules.tsv`` lists rules in order; the first whose
emotions, intents, minimum intensity and minimum escalation risk all match
gives the strategy, its steps and its priority. The opening sentence is composed
from the written parts of ``opening_parts.tsv`` (:mod:`cs_sentiment.openings`),
in the customer's script and region, promising only what a business policy allows.

>>> table = StrategyTable.load()
>>> s = table.choose(emotion="angry", intensity=0.9, intent="product_quality", escalation_risk=0.3,
...                  script="simplified", seed="x")
>>> s.id.value, s.priority.value, s.steps[0].value
('escalate', 'urgent', 'acknowledge_emotion')
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import LexiconFormatError
from .labels import Emotion, Intent, Priority, Step, StrategyId, intensity_level
from .lexicon import parse_number, read_tsv
from .openings import OpeningParts, Policy, script_variant
from .resources import as_root, lexicon_root
from .results import Strategy

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; only annotations use it
    from importlib.resources.abc import Traversable

__all__ = ["SECONDARY_STEPS", "PRIORITY_BY_RISK", "Rule", "StrategyTable"]

RULES_HEADER = ("rule", "strategy", "emotions", "intents", "min_intensity", "min_escalation", "priority",
                "steps", "note")
#: The step a second request adds to the plan (ours).
SECONDARY_STEPS: dict[str, Step] = {
    Intent.PRODUCT_INFO: Step.ANSWER, Intent.PRICE_PROMOTION: Step.EXPLAIN, Intent.ORDER_STATUS: Step.ANSWER,
    Intent.RETURN_REFUND: Step.OFFER_REMEDY, Intent.PRODUCT_QUALITY: Step.OFFER_REMEDY,
    Intent.PAYMENT_INVOICE: Step.EXPLAIN, Intent.ACCOUNT_TECH: Step.GUIDE, Intent.USAGE_HELP: Step.GUIDE,
    Intent.COMPLAINT: Step.APOLOGIZE,
}
#: Escalation risk from which the priority is raised at least to high / urgent (ours).
PRIORITY_BY_RISK = ((0.5, Priority.HIGH), (0.7, Priority.URGENT))
_PRIORITY_ORDER = {Priority.NORMAL: 0, Priority.HIGH: 1, Priority.URGENT: 2}
#: Emotions of a customer who is not upset: their plan never apologises or
#: offers compensation for something they did not raise (taxonomy v1.1).
CALM_EMOTIONS = frozenset({"neutral", "satisfied"})
_UPSET_ONLY_STEPS = frozenset({Step.APOLOGIZE, Step.OFFER_COMPENSATION})
_EMOTIONS = frozenset(e.value for e in Emotion)


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the strategy table."""

    name: str
    strategy: StrategyId
    emotions: frozenset[str] | None
    intents: frozenset[str] | None
    min_intensity: float
    min_escalation: float
    priority: Priority
    steps: tuple[Step, ...]

    def matches(self, emotion: str, intensity: float, intent: str, escalation_risk: float) -> bool:
        return ((self.emotions is None or emotion in self.emotions)
                and (self.intents is None or intent in self.intents)
                and intensity >= self.min_intensity and escalation_risk >= self.min_escalation)


def _set(value: str, allowed: frozenset[str] | None, source: str, line: int, name: str) -> frozenset[str] | None:
    if value == "*":
        return None
    items = frozenset(v.strip() for v in value.split(","))
    if allowed is not None and not items <= allowed:
        bad = sorted(items - allowed)[0]
        raise LexiconFormatError(f"{source}:{line}: unknown {name} {bad!r}")
    return items


def _enum(enum, value: str, source: str, line: int, name: str):
    try:
        return enum(value)
    except ValueError:
        raise LexiconFormatError(f"{source}:{line}: unknown {name} {value!r}") from None


class StrategyTable:
    """The ordered rules plus the opening sentences.

    Build it with :meth:`load`. :meth:`choose` is pure and thread-safe.
    """

    def __init__(self, rules: tuple[Rule, ...], parts: OpeningParts):
        self.rules = rules
        self.parts = parts

    @classmethod
    def load(cls, directory: str | Path | Traversable | None = None) -> StrategyTable:
        """Read ``strategy_rules.tsv`` and ``opening_parts.tsv`` from ``directory`` (default: the packaged ones)."""
        root = as_root(directory, lexicon_root())
        source = "strategy_rules.tsv"
        text = (root / source).read_text(encoding="utf-8")
        rules = []
        for line, f in read_tsv(text, source, RULES_HEADER):
            rules.append(Rule(
                name=f[0],
                strategy=_enum(StrategyId, f[1], source, line, "strategy"),
                emotions=_set(f[2], _EMOTIONS, source, line, "emotion"),
                intents=_set(f[3], None, source, line, "intent"),
                min_intensity=parse_number(f[4], source, line, "min_intensity", 0.0, 1.0),
                min_escalation=parse_number(f[5], source, line, "min_escalation", 0.0, 1.0),
                priority=_enum(Priority, f[6], source, line, "priority"),
                steps=tuple(_enum(Step, s.strip(), source, line, "step") for s in f[7].split(",")),
            ))
        if not rules or rules[-1].emotions is not None or rules[-1].intents is not None:
            raise LexiconFormatError(f"{source}: the last rule must match every emotion and intent (*)")
        return cls(tuple(rules), OpeningParts.load(None if directory is None else Path(str(directory))))

    def choose(self, *, emotion: str, intensity: float, intent: str, escalation_risk: float, script: str,
               seed: str, secondary_intent: str | None = None, unsure: bool = False,
               emotional_support: bool = False, covers: tuple[str, ...] | None = None,
               policy: Policy | None = None, topic: str | None = None) -> Strategy:
        """Apply the first matching rule; add the secondary intent's step, support and clarify steps.

        A calm customer's plan never gets ``apologize`` or ``offer_compensation``
        (the rule table has no such row for them, and a second complaint
        intent adds ``handoff`` instead). The opening is composed by
        :class:`~cs_sentiment.openings.OpeningParts` from the plan, the
        customer's topic (``topic``: the taxonomy intent; default ``intent``)
        and what ``policy`` allows to promise; ``seed`` is the message, which
        also tells Hong Kong from Taiwan wording.
        """
        rule = next(r for r in self.rules if r.matches(emotion, intensity, intent, escalation_risk))
        steps = list(rule.steps)
        if emotional_support:
            if Step.ACKNOWLEDGE_EMOTION not in steps:
                steps.insert(0, Step.ACKNOWLEDGE_EMOTION)
            if Step.EXPRESS_CARE not in steps:
                steps.insert(len(steps) - 1 if steps[-1] == Step.FOLLOW_UP else len(steps), Step.EXPRESS_CARE)
        if covers is None:
            covers = (intent,) if not secondary_intent else (intent, secondary_intent)
        if secondary_intent:
            extra = SECONDARY_STEPS.get(secondary_intent)
            if emotion in CALM_EMOTIONS and extra in _UPSET_ONLY_STEPS:
                extra = Step.HANDOFF if secondary_intent == Intent.COMPLAINT else None
            if extra is not None and extra not in steps:
                at = steps.index(Step.FOLLOW_UP) if Step.FOLLOW_UP in steps else len(steps)
                steps.insert(at, extra)
        priority = rule.priority
        for threshold, raised in PRIORITY_BY_RISK:
            if escalation_risk >= threshold and _PRIORITY_ORDER[raised] > _PRIORITY_ORDER[priority]:
                priority = raised
        asks = unsure and rule.strategy is not StrategyId.ESCALATE
        if asks:
            at = 1 if steps and steps[0] == Step.ACKNOWLEDGE_EMOTION else 0
            steps.insert(at, Step.CLARIFY)
        compose = functools.partial(self._write, rule.strategy.value, emotion, intensity, topic or intent,
                                    tuple(steps), str(script), seed, asks, policy)
        return _ComposedStrategy(rule.strategy, tuple(steps), priority, covers, compose)

    def _write(self, strategy: str, emotion: str, intensity: float, intent: str, steps: tuple[Step, ...],
               script: str, seed: str, unsure: bool, policy: Policy | None) -> tuple[str, tuple[str, ...]]:
        """The opening and the outline of a chosen plan (composed when first read)."""
        variant = script_variant(script, seed)
        step_ids = tuple(str(s) for s in steps)
        opening = self.parts.compose(strategy=strategy, emotion=emotion, level=intensity_level(intensity).value,
                                     intent=intent, steps=step_ids, variant=variant, seed=seed, unsure=unsure,
                                     policy=policy)
        return opening, self.parts.outline(step_ids, variant)


_OPENING = Strategy.__dict__["opening"]  # the slots that hold a composed strategy's text once written
_OUTLINE = Strategy.__dict__["outline"]


class _ComposedStrategy(Strategy):
    """A :class:`~cs_sentiment.results.Strategy` whose opening and outline are written when first read.

    Routing and batch scoring read only ``id`` and ``priority``; composing the
    sentence is a tenth of an analysis, so it waits until someone reads it. It
    equals, hashes, prints and pickles as the plain :class:`Strategy` of the same values.
    """

    __slots__ = ("_compose",)
    _compose: Callable[[], tuple[str, tuple[str, ...]]]

    def __init__(self, id: StrategyId, steps: tuple[Step, ...], priority: Priority, covers: tuple[str, ...],
                 compose: Callable[[], tuple[str, tuple[str, ...]]]):
        # Strategy's own frozen __init__ would assign through the properties below: set the slots directly.
        put = object.__setattr__
        put(self, "id", id)
        put(self, "steps", steps)
        put(self, "priority", priority)
        put(self, "covers", covers)
        put(self, "_compose", compose)
        _OPENING.__set__(self, None)
        _OUTLINE.__set__(self, ())

    def _written(self) -> None:
        opening, outline = self._compose()  # pure and deterministic: two threads write the same values
        _OUTLINE.__set__(self, outline)
        _OPENING.__set__(self, opening)

    @property
    def opening(self) -> str:  # pyright: ignore[reportIncompatibleVariableOverride] - read-only, as frozen
        """A sentence an agent can send, in the customer's script."""
        if _OPENING.__get__(self) is None:
            self._written()
        return _OPENING.__get__(self)

    @property
    def outline(self) -> tuple[str, ...]:  # pyright: ignore[reportIncompatibleVariableOverride]
        """One short line per step, in the customer's script."""
        if _OPENING.__get__(self) is None:
            self._written()
        return _OUTLINE.__get__(self)

    def _plain(self) -> Strategy:
        return Strategy(self.id, self.steps, self.priority, self.opening, self.covers, self.outline)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Strategy):
            return (self.id, self.steps, self.priority, self.opening, self.covers, self.outline) == (
                other.id, other.steps, other.priority, other.opening, other.covers, other.outline)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._plain())

    def __repr__(self) -> str:
        return repr(self._plain())

    def __reduce__(self) -> tuple[Any, ...]:
        return Strategy, (self.id, self.steps, self.priority, self.opening, self.covers, self.outline)

"""One conversation, turn by turn: each customer turn read with the context of the turns before it.

:func:`analyze_conversation` takes the turns of one conversation in order and
returns a :class:`ConversationAnalysis`: the :class:`~cs_sentiment.results.Analysis`
of every customer turn, the peak, the trajectory (escalating, calming or
stable), the turning points (情绪变化), the escalation risk at the end, the
review of every agent reply (:func:`~cs_sentiment.review_reply`) and the
replies after which the customer felt worse.

>>> from cs_sentiment import analyze_conversation
>>> conv = analyze_conversation([
...     {"role": "customer", "text": "我的快递三天没动了，什么情况？", "ts": 0},
...     {"role": "agent", "text": "请耐心等待。", "ts": 60},
...     {"role": "customer", "text": "又是等等等！到底什么时候到？再不解决我就投诉你们！！", "ts": 2000},
... ])
>>> len(conv.turns), conv.turn_indices
(2, (0, 2))
>>> conv.trajectory.value, conv.flagged_agent_turns
('escalating', (1,))
>>> conv.flagged_issues()  # what the flagged reply missed
{1: ('acknowledges_emotion', 'apologizes', 'next_step', 'shows_care')}

How each customer turn's context is built
-----------------------------------------
- ``history``: the texts of the earlier customer turns (agent turns are not the
  customer's words; blank ones are left out), the last :data:`HISTORY_WINDOW` of
  them, with their ``ts``;
- ``seconds_since_last``: time since the previous turn of *either* side, so a
  slow agent reply counts as silence the customer sat through;
- ``typing_seconds``: from the turn, when given;
- ``previous_complaints`` and ``customer_baseline_cps``: the same for every turn,
  from the arguments.

Agent turns are not scored as the customer's words: each agent turn with text
that comes after a customer turn is reviewed as a reply to the latest customer
turn before it (with that turn's analysis).
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .analyzer import Analyzer
from .context import Context
from .cues import MAX_HISTORY
from .results import Analysis
from .review import ReplyReview, review_reply
from .times import is_missing, to_epoch_seconds

__all__ = ["AGENT_ROLES", "CUSTOMER_ROLES", "ConversationAnalysis", "ConversationState", "HISTORY_WINDOW", "Peak",
           "ReplyContext", "RowContext", "Trajectory", "analyze_conversation", "mood", "role_is_agent"]

#: Earlier customer turns passed as ``history`` (the analyzer reads no more than these).
HISTORY_WINDOW = MAX_HISTORY
#: Role values read as the customer (case-insensitive). Everything a helpdesk export commonly uses.
CUSTOMER_ROLES = frozenset({"customer", "user", "client", "buyer", "客户", "顾客", "用户", "买家", "客戶", "顧客", "用戶",
                            "買家"})
#: Role values read as the agent (case-insensitive): staff, bots and system messages are all "not the customer".
AGENT_ROLES = frozenset({"agent", "staff", "support", "service", "bot", "system", "seller", "客服", "坐席", "商家", "卖家",
                         "賣家", "機器人", "机器人"})
#: Trajectory threshold: ``trend`` (see :func:`analyze_conversation`) at or below minus this is
#: escalating, at or above it calming (ours: one clear step on the mood scale, e.g. neutral → upset).
TRAJECTORY_THRESHOLD = 0.25
#: An agent turn is flagged when the customer's mood right after it is negative and at least this
#: much lower than the customer's mood right before it ...
WORSENED_MOOD_DROP = 0.2
#: ... or the escalation risk at least this much higher (ours), or the customer had to repeat
#: an earlier message (a ``history`` cue labelled ``repeated``) and felt no better.
WORSENED_RISK_RISE = 0.15

_TURN_KEYS = ("text", "ts", "role", "typing_seconds")

#: A customer message's context as plain, picklable values:
#: (history, history_ts, seconds_since_last, typing_seconds).
RowContext = tuple[tuple[str, ...], tuple["float | None", ...], "float | None", "float | None"]
#: An agent reply's context: the customer message it answers and that message's own context.
ReplyContext = tuple[str, "RowContext | None"]


class ConversationState:
    """What the next turn of one conversation needs to know about the earlier ones.

    The one place where a conversation's context is built: :func:`analyze_conversation`,
    DataFrames, files and Spark all step through their turns with it.

    >>> state = ConversationState()
    >>> state.step("在吗", False, 0.0, None) is None  # nothing before it
    True
    >>> state.step("在的", True, 30.0, None)  # an agent reply: the customer message it answers
    ('在吗', None)
    >>> state.step("人呢？", False, 90.0, None)
    (('在吗',), (0.0,), 60.0, None)
    """

    __slots__ = ("history", "last_customer", "last_ts", "next_rank")

    def __init__(self) -> None:
        self.history: deque[tuple[str, float | None]] = deque(maxlen=HISTORY_WINDOW)
        self.last_customer: ReplyContext | None = None
        self.last_ts: float | None = None
        self.next_rank: int = 0

    def step(self, text: str | None, agent: bool, ts: float | None,
             typing: float | None) -> RowContext | ReplyContext | None:
        """The context of this turn (``None`` when empty), then remember it.

        A customer turn gets a :data:`RowContext`: the earlier customer turns (the last
        :data:`HISTORY_WINDOW`) with their times, the seconds since the previous turn of
        *either* side (a slow agent reply counts as silence the customer sat through) and
        its typing time. An agent turn gets the customer turn it answers (a
        :data:`ReplyContext`; ``None`` before any). ``text`` is ``None`` for a turn that
        is neither scored nor reviewed (an error, an empty turn): it still moves the
        clock. Only customer turns enter the history.
        """
        context: RowContext | ReplyContext | None = None
        if text is not None and agent:
            context = self.last_customer
        elif text is not None:
            since = None
            if ts is not None and self.last_ts is not None and ts >= self.last_ts:
                since = ts - self.last_ts
            row: RowContext | None = None
            if self.history or since is not None or typing is not None:
                row = (tuple(h[0] for h in self.history), tuple(h[1] for h in self.history), since, typing)
            context = row
            self.last_customer = (text, row)
            self.history.append((text, ts))
        if ts is not None and (self.last_ts is None or ts > self.last_ts):
            self.last_ts = ts
        self.next_rank += 1
        return context


class Trajectory(str, Enum):
    """Where a conversation went: ``escalating``, ``calming`` or ``stable``."""

    ESCALATING = "escalating"
    CALMING = "calming"
    STABLE = "stable"

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Peak:
    """The customer turn whose emotion was felt most strongly.

    Attributes
    ----------
    turn : int
        Its index among all the turns given (agent turns included).
    emotion : str
        Its emotion id.
    intensity : float
        Its intensity in [0, 1].
    """

    turn: int
    emotion: str
    intensity: float

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict."""
        return {"turn": self.turn, "emotion": str(self.emotion), "intensity": self.intensity}


@dataclass(frozen=True, slots=True)
class ConversationAnalysis:
    """What happened in one conversation, from the customer's side.

    Attributes
    ----------
    turns : tuple of Analysis
        The analysis of each customer turn, in order (agent turns are not scored).
    turn_indices : tuple of int
        For each of ``turns``, its index among all the turns given.
    moods : tuple of float
        For each of ``turns``, :func:`mood`: valence weighted by intensity, in [-1, 1].
    peak : Peak or None
        The most intense customer turn (the earlier one on a tie); ``None`` without customer turns.
    trajectory : Trajectory
        escalating, calming or stable (defined in :func:`analyze_conversation`).
    turning_points : tuple of int
        Indices (among all turns) of the customer turns whose emotion differs from the
        previous customer turn's (情绪变化).
    escalation_risk : float
        The escalation risk of the last customer turn (0 without customer turns).
    flagged_agent_turns : tuple of int
        Indices of the agent turns right before a customer turn that felt worse than the
        customer turn before that agent turn: replies worth a review.
    reviews : tuple of ReplyReview
        The review of each agent reply (an agent turn with text after a customer turn),
        against the latest customer turn before it.
    review_indices : tuple of int
        For each of ``reviews``, the agent turn's index among all the turns given.
    """

    turns: tuple[Analysis, ...]
    turn_indices: tuple[int, ...]
    moods: tuple[float, ...]
    peak: Peak | None
    trajectory: Trajectory
    turning_points: tuple[int, ...]
    escalation_risk: float
    flagged_agent_turns: tuple[int, ...]
    reviews: tuple[ReplyReview, ...] = ()
    review_indices: tuple[int, ...] = ()

    def review_at(self, turn: int) -> ReplyReview:
        """The review of the agent turn with this index among all turns.

        Raises
        ------
        KeyError
            ``turn`` is not a reviewed agent turn.
        """
        try:
            return self.reviews[self.review_indices.index(turn)]
        except ValueError:
            raise KeyError(f"turn {turn} is not a reviewed agent turn") from None

    def flagged_issues(self) -> dict[int, tuple[str, ...]]:
        """For each flagged agent turn, the checks its reply failed (empty when it was reviewed clean)."""
        return {t: self.review_at(t).issues if t in self.review_indices else () for t in self.flagged_agent_turns}

    def analysis_at(self, turn: int) -> Analysis:
        """The analysis of the customer turn with this index among all turns.

        Raises
        ------
        KeyError
            ``turn`` is an agent turn or out of range.
        """
        try:
            return self.turns[self.turn_indices.index(turn)]
        except ValueError:
            raise KeyError(f"turn {turn} is not a customer turn") from None

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict; each customer turn carries its ``turn`` index and ``mood``."""
        return {
            "turns": [{"turn": i, "mood": m, **a.to_dict()} for i, m, a in zip(self.turn_indices, self.moods,
                                                                               self.turns, strict=True)],
            "peak": None if self.peak is None else self.peak.to_dict(),
            "trajectory": str(self.trajectory),
            "turning_points": list(self.turning_points),
            "escalation_risk": self.escalation_risk,
            "flagged_agent_turns": list(self.flagged_agent_turns),
            "replies": [{"turn": i, "flagged": i in self.flagged_agent_turns, **r.to_dict()}
                        for i, r in zip(self.review_indices, self.reviews, strict=True)],
        }


def mood(analysis: Analysis) -> float:
    """Valence weighted by intensity: ``valence * intensity``, in [-1, 1].

    How good or bad the customer feels, and how strongly: "有点失望" and
    "太失望了！！" sit at different places on one scale, and a plain question
    (intensity near 0) sits near 0 whatever its valence.

    >>> from cs_sentiment import analyze
    >>> mood(analyze("谢谢，问题解决了")) > 0 > mood(analyze("太失望了，白买了！！"))
    True
    """
    return float(analysis.valence) * float(analysis.intensity)


def analyze_conversation(turns: Iterable[str | Mapping[str, Any]], *, analyzer: Analyzer | None = None,
                         previous_complaints: int | None = None,
                         customer_baseline_cps: float | None = None) -> ConversationAnalysis:
    """Analyse one conversation: every customer turn with the context of the turns before it.

    Parameters
    ----------
    turns : iterable of str or mapping
        The turns in order. A ``str`` is a customer turn. A mapping has ``text`` (str) and
        optionally ``ts`` (a ``datetime``, epoch seconds or an ISO 8601 string), ``role``
        (``customer`` or ``agent``, default ``customer``; see :data:`CUSTOMER_ROLES` and
        :data:`AGENT_ROLES` for the accepted synonyms) and ``typing_seconds`` (> 0).
    analyzer : Analyzer, optional
        Default: :meth:`Analyzer.default`.
    previous_complaints : int, optional
        Complaints on this customer's record, passed to every turn's context.
    customer_baseline_cps : float, optional
        This customer's usual typing speed, passed to every turn's context.

    Returns
    -------
    ConversationAnalysis

    Notes
    -----
    For customer turns ``0..n-1`` with mood ``m_i`` (:func:`mood`) and escalation risk
    ``r_i``, let ``k = ceil(n / 3)``, ``start`` the mean over the first ``k`` turns and
    ``end`` the mean over the last ``k``. Then
    ``trend = (end(m) - start(m)) - (end(r) - start(r))``: the customer felt better and
    less likely to escalate (positive) or worse and more likely to escalate (negative).
    The trajectory is ``escalating`` when ``trend <= -TRAJECTORY_THRESHOLD``, ``calming``
    when ``trend >= TRAJECTORY_THRESHOLD``, else ``stable`` (also with fewer than two
    customer turns).

    An agent turn is flagged when it comes right before a customer turn and, compared with
    the customer turn before the agent turn, that customer turn's mood is below 0 and at
    least :data:`WORSENED_MOOD_DROP` lower, or its escalation risk at least
    :data:`WORSENED_RISK_RISE` higher, or it repeats an earlier customer message (the
    customer had to ask again) with a mood no higher.

    Raises
    ------
    TypeError
        ``turns`` is a single ``str`` or not iterable, or a turn (named by its index) is
        neither a ``str`` nor a mapping, or has a value of the wrong type.
    ValueError
        A turn has no ``text``, an unknown key or role, a ``typing_seconds`` <= 0, or a
        ``ts`` earlier than an earlier turn's.

    Examples
    --------
    >>> conv = analyze_conversation(["在吗", "我买的耳机左边没声音", "已经问了三遍了，到底能不能退？！"])
    >>> [a.emotion.value for a in conv.turns][-1] in {"angry", "impatient"}
    True
    >>> analyze_conversation([{"text": "你好", "role": "boss"}])
    Traceback (most recent call last):
    ...
    ValueError: turn 0: role must be 'customer' or 'agent', got 'boss'
    """
    if analyzer is None:
        analyzer = Analyzer.default()
    parsed = _parse_turns(turns)
    extra = Context(previous_complaints=previous_complaints, customer_baseline_cps=customer_baseline_cps)

    state = ConversationState()
    analyses: list[Analysis] = []
    indices: list[int] = []
    reviews: list[ReplyReview] = []
    review_indices: list[int] = []
    answered: Analysis | None = None  # the analysis of the latest non-blank customer turn
    for i, (text, is_agent, ts, typing) in enumerate(parsed):
        blank = not text.strip()  # a blank turn says nothing later turns could repeat or a review could judge
        context = state.step(None if blank else text, is_agent, ts, typing)
        if is_agent:
            if context is not None and answered is not None:
                reviews.append(review_reply(str(context[0]), text, customer=answered))
                review_indices.append(i)
            continue
        analysis = analyzer.analyze(text, _customer_context(context, extra))
        analyses.append(analysis)
        indices.append(i)
        if not blank:
            answered = analysis
    summary = summarize(analyses, indices, [p[1] for p in parsed])
    return dataclasses.replace(summary, reviews=tuple(reviews), review_indices=tuple(review_indices))


def _customer_context(row: Any, extra: Context) -> Context | None:
    if row is None:
        if extra.previous_complaints is None and extra.customer_baseline_cps is None:
            return None
        return extra
    return Context(history=row[0], history_ts=row[1], seconds_since_last=row[2], typing_seconds=row[3],
                   previous_complaints=extra.previous_complaints, customer_baseline_cps=extra.customer_baseline_cps)


def summarize(analyses: list[Analysis], indices: list[int], is_agent: list[bool]) -> ConversationAnalysis:
    """Peak, trajectory, turning points and flags from already analysed customer turns.

    Parameters
    ----------
    analyses : list of Analysis
        The customer turns, in order.
    indices : list of int
        Index of each among all turns.
    is_agent : list of bool
        For every turn (customer and agent), whether it is an agent turn.
    """
    moods = [mood(a) for a in analyses]
    risks = [float(a.escalation_risk) for a in analyses]
    peak = None
    if analyses:
        best = max(range(len(analyses)), key=lambda j: (analyses[j].intensity, -j))
        peak = Peak(indices[best], analyses[best].emotion, float(analyses[best].intensity))
    turning = tuple(indices[j] for j in range(1, len(analyses)) if analyses[j].emotion != analyses[j - 1].emotion)
    flagged = []
    for j in range(1, len(analyses)):
        before = indices[j] - 1
        if before > indices[j - 1] and is_agent[before] and (
                (moods[j] < 0 and moods[j] <= moods[j - 1] - WORSENED_MOOD_DROP)
                or risks[j] >= risks[j - 1] + WORSENED_RISK_RISE
                or (moods[j] <= moods[j - 1] and _repeats(analyses[j]))):
            flagged.append(before)
    return ConversationAnalysis(
        turns=tuple(analyses), turn_indices=tuple(indices), moods=tuple(moods), peak=peak,
        trajectory=_trajectory(moods, risks), turning_points=turning,
        escalation_risk=risks[-1] if risks else 0.0, flagged_agent_turns=tuple(flagged),
    )


def _repeats(analysis: Analysis) -> bool:
    return any(c.kind == "history" and c.label == "repeated" for c in analysis.evidence)


def _trajectory(moods: list[float], risks: list[float]) -> Trajectory:
    n = len(moods)
    if n < 2:
        return Trajectory.STABLE
    k = math.ceil(n / 3)
    trend = (sum(moods[-k:]) - sum(moods[:k])) / k - (sum(risks[-k:]) - sum(risks[:k])) / k
    if trend <= -TRAJECTORY_THRESHOLD:
        return Trajectory.ESCALATING
    if trend >= TRAJECTORY_THRESHOLD:
        return Trajectory.CALMING
    return Trajectory.STABLE


# -- turns ----------------------------------------------------------------------------------------------------------
def _parse_turns(turns: Any) -> list[tuple[str, bool, float | None, float | None]]:
    if isinstance(turns, (str, bytes)) or isinstance(turns, Mapping) or not hasattr(turns, "__iter__"):
        raise TypeError(f"turns must be a sequence of turns (str or mappings), got {type(turns).__name__}")
    out: list[tuple[str, bool, float | None, float | None]] = []
    last: tuple[int, float] | None = None
    for i, turn in enumerate(turns):
        if isinstance(turn, str):
            out.append((turn, False, None, None))
            continue
        if not isinstance(turn, Mapping):
            raise TypeError(f"turn {i} must be a str or a mapping with 'text', got {type(turn).__name__}")
        unknown = [k for k in turn if k not in _TURN_KEYS]
        if unknown:
            raise ValueError(f"turn {i} has unknown key {unknown[0]!r}; valid keys: {', '.join(_TURN_KEYS)}")
        if "text" not in turn:
            raise ValueError(f"turn {i} has no 'text'")
        text = turn["text"]
        if not isinstance(text, str):
            raise TypeError(f"turn {i}: 'text' must be a str, got {type(text).__name__}")
        try:
            is_agent = role_is_agent(turn.get("role"))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"turn {i}: {exc}") from None
        try:
            ts = to_epoch_seconds(turn.get("ts"))
        except TypeError as exc:
            raise TypeError(f"turn {i}: ts: {exc}") from None
        except ValueError as exc:  # TimeWithoutDateError included
            raise ValueError(f"turn {i}: ts {exc}") from None
        typing = turn.get("typing_seconds")
        if typing is not None:
            if isinstance(typing, bool) or not isinstance(typing, (int, float)):
                raise TypeError(f"turn {i}: typing_seconds must be a number, got {type(typing).__name__}")
            if not math.isfinite(typing) or typing <= 0:
                raise ValueError(f"turn {i}: typing_seconds must be a finite number > 0, got {typing!r}")
            typing = float(typing)
        if ts is not None:
            if last is not None and ts < last[1]:
                raise ValueError(f"turn {i}: ts is earlier than turn {last[0]}'s; give the turns in time order")
            last = (i, ts)
        out.append((text, is_agent, ts, typing))
    return out


def role_is_agent(role: Any) -> bool:
    """``True`` for an agent role, ``False`` for a customer role or a missing one (``None``, NaN).

    >>> role_is_agent("客服"), role_is_agent("Customer"), role_is_agent(None)
    (True, False, False)

    Raises
    ------
    ValueError
        Any other value.
    """
    if not isinstance(role, str) and is_missing(role):
        return False
    if isinstance(role, str):
        key = role.strip().lower()
        if key in CUSTOMER_ROLES or not key:
            return False
        if key in AGENT_ROLES:
            return True
    raise ValueError(f"role must be 'customer' or 'agent', got {role!r}")

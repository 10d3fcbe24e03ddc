"""The optional context a helpdesk passes beside a message (taxonomy.md, "context").

A mapping or a :class:`Context` is accepted; both are validated the same way.

>>> Context.from_value({"typing_seconds": 3, "history": ["在吗", {"text": "东西坏了", "ts": 1700000000}]})
Context(history=('在吗', '东西坏了'), typing_seconds=3.0, seconds_since_last=None, previous_complaints=None, customer_baseline_cps=None, history_ts=(None, 1700000000.0))
>>> Context.from_value({"typing_secs": 3})
Traceback (most recent call last):
...
cs_sentiment.exceptions.InvalidContextError: unknown context key 'typing_secs'; valid keys: customer_baseline_cps, history, previous_complaints, seconds_since_last, typing_seconds
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .exceptions import InvalidContextError
from .times import to_epoch_seconds

__all__ = ["CONTEXT_KEYS", "Context"]

CONTEXT_KEYS = ("history", "typing_seconds", "seconds_since_last", "previous_complaints",
                "customer_baseline_cps")
#: Characters kept of each history message: the history rules compare
#: character bigrams and valence, which a longer message does not change much,
#: and the analyzer's digest cache keeps at most this much per entry (ours).
MAX_HISTORY_CHARS = 2_000
#: Complaints on record beyond this are not a real customer record (ours).
MAX_COMPLAINTS = 1_000_000


@dataclass(frozen=True, slots=True)
class Context:
    """Context of one customer message; every field is optional.

    Parameters
    ----------
    history : sequence of str or of {"text", "ts"} mappings
        Earlier customer messages of this conversation, oldest first (each
        read up to :data:`MAX_HISTORY_CHARS` characters).
    typing_seconds : float
        Seconds the customer spent typing this message (> 0).
    seconds_since_last : float
        Silence before this message, since the previous message of either side.
    previous_complaints : int
        Complaints on this customer's record.
    customer_baseline_cps : float
        This customer's usual typing speed in characters per second (> 0).
    history_ts : sequence of float or None
        Filled from the ``ts`` of mapping history items (epoch seconds).

    Raises
    ------
    InvalidContextError
        A wrong type or a negative number, naming the key.
    """

    history: tuple[str, ...] = ()
    typing_seconds: float | None = None
    seconds_since_last: float | None = None
    previous_complaints: int | None = None
    customer_baseline_cps: float | None = None
    history_ts: tuple[float | None, ...] = ()

    def __post_init__(self) -> None:
        texts, stamps = _history(self.history)
        if self.history_ts and len(self.history_ts) == len(texts):
            stamps = tuple(_timestamp(t, "history_ts") for t in self.history_ts)
        object.__setattr__(self, "history", texts)
        object.__setattr__(self, "history_ts", stamps)
        object.__setattr__(self, "seconds_since_last", _non_negative(self.seconds_since_last, "seconds_since_last"))
        for name in ("typing_seconds", "customer_baseline_cps"):
            object.__setattr__(self, name, _positive(getattr(self, name), name))
        complaints = self.previous_complaints
        if complaints is not None:
            if _is_bool(complaints) or not isinstance(complaints, numbers.Real):
                raise InvalidContextError(
                    f"context key 'previous_complaints' must be an int, got {type(complaints).__name__}"
                )
            if not isinstance(complaints, numbers.Integral):
                value = float(complaints)
                if not value.is_integer():
                    raise InvalidContextError(
                        f"context key 'previous_complaints' must be a whole number, got {complaints!r}"
                    )
            if not 0 <= complaints <= MAX_COMPLAINTS:
                raise InvalidContextError(
                    f"context key 'previous_complaints' must be in [0, {MAX_COMPLAINTS:,}], got {complaints!r:.40}"
                )
            object.__setattr__(self, "previous_complaints", int(complaints))

    @classmethod
    def from_value(cls, value: Context | Mapping[str, Any] | None) -> Context:
        """Validate a mapping (or pass a :class:`Context` through); ``None`` is empty."""
        if value is None:
            return _EMPTY
        if isinstance(value, Context):
            return value
        if not isinstance(value, Mapping):
            raise InvalidContextError(
                f"context must be a mapping or a Context, got {type(value).__name__}"
            )
        unknown = [k for k in value if k not in CONTEXT_KEYS]
        if unknown:
            raise InvalidContextError(
                f"unknown context key {unknown[0]!r}; valid keys: {', '.join(sorted(CONTEXT_KEYS))}"
            )
        if not value:
            return _EMPTY
        return cls(**{k: v for k, v in value.items() if v is not None})

    @classmethod
    def of_turn(cls, history: tuple[str, ...], history_ts: tuple[float | None, ...],
                seconds_since_last: float | None, typing_seconds: float | None) -> Context:
        """The context of a logged turn, built from values the row engine already checked.

        ``history`` holds ``str`` and ``history_ts`` epoch seconds (or ``None``),
        as :class:`~cs_sentiment.conversation.ConversationState` keeps them; the
        history caps and the two numbers are checked as the constructor does, the
        per-item type checks and time parsing are skipped (they cost more than the
        analysis of a short turn). Equal to ``Context(history=…, history_ts=…, …)``.

        >>> Context.of_turn(("在吗",), (1.0,), 5.0, None) == Context(history=("在吗",), history_ts=(1.0,),
        ...                                                          seconds_since_last=5.0)
        True
        """
        if any(len(h) > MAX_HISTORY_CHARS for h in history):
            history = tuple(h[:MAX_HISTORY_CHARS] for h in history)
        typing = _positive(typing_seconds, "typing_seconds")
        context = object.__new__(cls)
        put = object.__setattr__
        put(context, "history", history)
        put(context, "history_ts", history_ts if len(history_ts) == len(history) else (None,) * len(history))
        put(context, "typing_seconds", typing)
        put(context, "seconds_since_last", _non_negative(seconds_since_last, "seconds_since_last"))
        put(context, "previous_complaints", None)
        put(context, "customer_baseline_cps", None)
        return context

    def to_dict(self) -> dict[str, Any]:
        """The context as a plain mapping (``history`` as a list of str)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "history_ts"}
        out["history"] = list(self.history)
        return out


def _is_bool(value: Any) -> bool:
    """``bool`` or numpy's ``bool_`` (a flag is not a count or a duration)."""
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def _positive(value: Any, name: str) -> float | None:
    """:func:`_non_negative`, and not 0 (a time or a speed it divides by)."""
    number = _non_negative(value, name)
    if number == 0:
        raise InvalidContextError(f"context key {name!r} must be > 0, got {number!r}")
    return number


def _non_negative(value: Any, name: str) -> float | None:
    """A finite number >= 0 as a float: Python or numpy ints and floats (what pandas hands over)."""
    if value is None:
        return None
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise InvalidContextError(f"context key {name!r} must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidContextError(f"context key {name!r} is too large: {value!r:.40}") from None
    if not math.isfinite(number) or number < 0:
        raise InvalidContextError(f"context key {name!r} must be a finite number >= 0, got {value!r:.40}")
    return number


def _timestamp(value: Any, name: str) -> float | None:
    """A history ``ts`` as epoch seconds, by the one time rule of :mod:`cs_sentiment.times`."""

    try:
        return to_epoch_seconds(value)
    except (TypeError, ValueError) as exc:
        raise InvalidContextError(f"context key {name!r}: ts {exc}") from None


def _history(value: Any) -> tuple[tuple[str, ...], tuple[float | None, ...]]:
    if value is None:
        return (), ()
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise InvalidContextError(
            f"context key 'history' must be a list of str or of {{text, ts}} mappings, got {type(value).__name__}"
        )
    texts: list[str] = []
    stamps: list[float | None] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            texts.append(item[:MAX_HISTORY_CHARS])
            stamps.append(None)
        elif isinstance(item, Mapping) and isinstance(item.get("text"), str):
            extra = set(item) - {"text", "ts"}
            if extra:
                raise InvalidContextError(
                    f"context key 'history' item {i} has unknown key {sorted(extra)[0]!r}; valid keys: text, ts"
                )
            texts.append(item["text"][:MAX_HISTORY_CHARS])
            stamps.append(_timestamp(item.get("ts"), "history"))
        else:
            raise InvalidContextError(
                f"context key 'history' item {i} must be a str or a {{text, ts}} mapping, got {type(item).__name__}"
            )
    return tuple(texts), tuple(stamps)


_EMPTY = Context()

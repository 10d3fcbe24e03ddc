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
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from .exceptions import InvalidContextError

__all__ = ["CONTEXT_KEYS", "Context"]

CONTEXT_KEYS = ("history", "typing_seconds", "seconds_since_last", "previous_complaints",
                "customer_baseline_cps")


@dataclass(frozen=True, slots=True)
class Context:
    """Context of one customer message; every field is optional.

    Parameters
    ----------
    history : sequence of str or of {"text", "ts"} mappings
        Earlier customer messages of this conversation, oldest first.
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
        for name in ("typing_seconds", "seconds_since_last", "customer_baseline_cps"):
            object.__setattr__(self, name, _non_negative(getattr(self, name), name))
        if self.typing_seconds == 0:
            raise InvalidContextError(f"context key 'typing_seconds' must be > 0, got {self.typing_seconds!r}")
        if self.customer_baseline_cps == 0:
            raise InvalidContextError(
                f"context key 'customer_baseline_cps' must be > 0, got {self.customer_baseline_cps!r}"
            )
        complaints = self.previous_complaints
        if complaints is not None:
            if isinstance(complaints, bool) or not isinstance(complaints, int):
                if isinstance(complaints, float) and complaints.is_integer():
                    complaints = int(complaints)
                else:
                    raise InvalidContextError(
                        f"context key 'previous_complaints' must be an int, got {type(complaints).__name__}"
                    )
            if complaints < 0:
                raise InvalidContextError(f"context key 'previous_complaints' must be >= 0, got {complaints}")
            object.__setattr__(self, "previous_complaints", complaints)

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

    def to_dict(self) -> dict[str, Any]:
        """The context as a plain mapping (``history`` as a list of str)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "history_ts"}
        out["history"] = list(self.history)
        return out


def _non_negative(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidContextError(f"context key {name!r} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise InvalidContextError(f"context key {name!r} must be a finite number >= 0, got {value!r}")
    return value


def _timestamp(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidContextError(
            f"context key {name!r}: ts must be a datetime or epoch seconds, got {value!r}"
        )
    return float(value)


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
            texts.append(item)
            stamps.append(None)
        elif isinstance(item, Mapping) and isinstance(item.get("text"), str):
            extra = set(item) - {"text", "ts"}
            if extra:
                raise InvalidContextError(
                    f"context key 'history' item {i} has unknown key {sorted(extra)[0]!r}; valid keys: text, ts"
                )
            texts.append(item["text"])
            stamps.append(_timestamp(item.get("ts"), "history"))
        else:
            raise InvalidContextError(
                f"context key 'history' item {i} must be a str or a {{text, ts}} mapping, got {type(item).__name__}"
            )
    return tuple(texts), tuple(stamps)


_EMPTY = Context()

"""Timestamps: one rule for the context, conversations, frames and files.

What a time may be, everywhere in the library:

- a ``datetime`` (also pandas ``Timestamp``) or numpy ``datetime64``; a naive
  one is read as **UTC**, so results never depend on the machine's time zone;
- ISO 8601 text (``2024-05-01T10:05:00+08:00``, ``2024-05-01 10:05``);
- the forms Chinese exports use: ``2024年5月1日 10:05``, ``2024年5月1日10时5分30秒``,
  ``2024/5/1 10:05:30``, ``2024.05.01 10:05``, and compact digits
  ``20240501``, ``202405011005``, ``20240501100530`` (as text or as a number);
- a number: an Excel serial date when it has a fraction and lies between
  :data:`EXCEL_FIRST` and :data:`EXCEL_LAST` (1954–2118), else an epoch time
  whose unit is told by its magnitude: seconds below 1e11, milliseconds below
  1e14, microseconds below 1e17, nanoseconds above.

A time without a date (``10:07``) is refused (:class:`TimeWithoutDateError`):
dating it today would make the output change with the day it runs.

>>> to_epoch_seconds("1970-01-01T00:01:00+00:00"), to_epoch_seconds(60), to_epoch_seconds(60_000)
(60.0, 60.0, 60000.0)
>>> to_epoch_seconds(1_714_557_900_000) == to_epoch_seconds("2024年5月1日 10:05") == to_epoch_seconds(20240501100500)
True
>>> to_epoch_seconds("10:07")
Traceback (most recent call last):
...
cs_sentiment.times.TimeWithoutDateError: '10:07' is a time without a date
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["EXCEL_FIRST", "EXCEL_LAST", "TimeWithoutDateError", "epoch_seconds", "epoch_seconds_counted",
           "to_epoch_seconds"]

#: Epoch-unit thresholds by magnitude (the year 5138 in seconds is 1e11; in ms, 1e14).
SECONDS_BELOW = 1e11
MILLISECONDS_BELOW = 1e14
MICROSECONDS_BELOW = 1e17
#: Excel serial days with a fraction in this range are dates (1954-01-01 … 2118-10-27).
EXCEL_FIRST = 20_000.0
EXCEL_LAST = 80_000.0
#: Excel's day 25569 is 1970-01-01 (its 1900 system, leap-year bug included).
EXCEL_EPOCH_DAY = 25_569.0

_CHINESE = re.compile(
    r"\s*(\d{4})\s*[年/\-.]\s*(\d{1,2})\s*[月/\-.]\s*(\d{1,2})\s*[日号號]?"
    r"(?:\s*[T\s]?\s*(\d{1,2})\s*[:：时時点點]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2}(?:\.\d+)?)\s*秒?)?\s*分?)?\s*\Z")
_COMPACT = re.compile(r"\s*(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?\s*\Z")
_TIME_ONLY = re.compile(r"\s*(?:上午|下午|晚上|凌晨)?\s*\d{1,2}\s*[:：时時点點]\s*\d{1,2}"
                        r"(?:\s*[:：分]\s*\d{1,2}(?:\.\d+)?\s*秒?)?\s*分?\s*(?:[ap]\.?m\.?)?\s*\Z", re.IGNORECASE)


class TimeWithoutDateError(ValueError):
    """A clock time with no date (``10:07``): refused rather than dated today."""


def _utc(value: datetime) -> float:
    return (value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)).timestamp()


def _groups(m: re.Match[str]) -> tuple[str, str, str, str | None, str | None, str | None]:
    y, mo, d, h, mi, s = m.groups()
    return y, mo, d, h, mi, s


def _from_parts(y: str, mo: str, d: str, h: str | None, mi: str | None, s: str | None, *, text: str) -> float:
    seconds = float(s) if s else 0.0
    try:
        moment = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(seconds), tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date and time") from None
    return moment.timestamp() + (seconds - int(seconds))


def _compact(digits: str) -> float | None:
    """Compact ``YYYYMMDD[HHMM[SS]]`` digits as epoch seconds, or ``None`` when they are not a date."""
    m = _COMPACT.match(digits)
    if m is None or not 1900 <= int(m.group(1)) <= 2200:
        return None
    try:
        return _from_parts(*_groups(m), text=digits)
    except ValueError:
        return None


def _number(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"a time must be finite, got {value!r}")
    if value.is_integer() and len(str(int(abs(value)))) in (8, 12, 14):
        compact = _compact(str(int(value)))
        if compact is not None:
            return compact
    if not value.is_integer() and EXCEL_FIRST <= value < EXCEL_LAST:
        return (value - EXCEL_EPOCH_DAY) * 86_400.0
    size = abs(value)
    if size < SECONDS_BELOW:
        return value
    if size < MILLISECONDS_BELOW:
        return value / 1e3
    if size < MICROSECONDS_BELOW:
        return value / 1e6
    return value / 1e9


def _text(value: str) -> float:
    text = value.strip()
    if not text:
        raise ValueError("an empty time")
    compact = _compact(text) if text.isdigit() else None
    if compact is not None:
        return compact
    try:
        return _number(float(text))
    except ValueError:
        pass
    m = _CHINESE.match(text)
    if m is not None:
        return _from_parts(*_groups(m), text=text)
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    if _TIME_ONLY.match(text):
        raise TimeWithoutDateError(f"{value!r} is a time without a date")
    raise ValueError(f"{value!r} is not a date and time this library reads (ISO 8601, 2024年5月1日 10:05, "
                     "2024/5/1 10:05, 20240501100500, epoch or Excel numbers)")


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pandas NA (what a missing cell holds)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return type(value).__name__ == "NAType"


def to_epoch_seconds(value: Any) -> float | None:
    """One time as epoch seconds (the rules of this module); ``None``/NaN/NaT → ``None``.

    Raises
    ------
    TimeWithoutDateError
        A clock time with no date.
    ValueError
        Text that is no date and time, or a non-finite number.
    TypeError
        A value that is not a time at all (a bool, a list …).
    """
    if is_missing(value):
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, np.datetime64):
        return float(value.astype("datetime64[ns]").astype("int64")) / 1e9
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(value, numbers.Real):
        raise TypeError(f"a time must be a datetime, a number or text, got {type(value).__name__}")
    try:
        return _number(float(value))
    except OverflowError:
        raise ValueError(f"a time must be finite, got {value!r:.40}") from None


def epoch_seconds(values: pd.Series | Sequence[Any]) -> np.ndarray:
    """Many times as float epoch seconds; NaN where missing, unreadable or without a date.

    See :func:`epoch_seconds_counted` for how many values had no date.

    The same rules as :func:`to_epoch_seconds`, vectorised for datetime and
    number columns.

    >>> epoch_seconds(["1970-01-01 00:01", 120, "1700000000000", None, "soon", "10:07", "2024年5月1日 10:05"]).tolist()
    [60.0, 120.0, 1700000000.0, nan, nan, nan, 1714557900.0]
    """
    return epoch_seconds_counted(values)[0]


def epoch_seconds_counted(values: pd.Series | Sequence[Any]) -> tuple[np.ndarray, int]:
    """:func:`epoch_seconds`, and how many values were clock times without a date (refused, so NaN).

    >>> times, timeless = epoch_seconds_counted(["10:07", "2024-05-01 10:05", "10:08"])
    >>> timeless
    2
    """
    import pandas as pd

    s = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(s.dtype):
        return np.full(len(s), np.nan), 0
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        parsed = pd.to_datetime(s, utc=True)
        return _datetimes_to_seconds(parsed), 0
    if pd.api.types.is_numeric_dtype(s.dtype):
        return _numbers(pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)), 0
    out = np.full(len(s), np.nan)
    timeless = 0
    no_date: set[Any] = set()
    cache: dict[Any, float] = {}
    for i, value in enumerate(s.tolist()):
        key = value if isinstance(value, (str, int, float)) else None
        try:
            if key is not None and key in cache:
                out[i] = cache[key]
                timeless += key in no_date
                continue
            seconds = to_epoch_seconds(value)
        except TimeWithoutDateError:
            timeless += 1
            no_date.add(key)
            seconds = None
        except (TypeError, ValueError):
            seconds = None
        result = np.nan if seconds is None else seconds
        if key is not None:
            cache[key] = result
        out[i] = result
    return out, timeless


def _numbers(values: np.ndarray) -> np.ndarray:
    """:func:`_number` over an array: units by magnitude in numpy, compact and Excel values one by one."""
    out = values.copy()
    out[~np.isfinite(out)] = np.nan
    size = np.abs(out)
    whole = np.equal(np.mod(out, 1.0), 0.0)
    special = (whole & (((size >= 1e7) & (size < 1e8)) | ((size >= 1e11) & (size < 1e12))
                        | ((size >= 1e13) & (size < 1e14))))
    special |= ~whole & (out >= EXCEL_FIRST) & (out < EXCEL_LAST)
    for i in np.flatnonzero(special):
        out[i] = _number(float(values[i]))
    rest = ~special & np.isfinite(out)
    for low, high, scale in ((SECONDS_BELOW, MILLISECONDS_BELOW, 1e3), (MILLISECONDS_BELOW, MICROSECONDS_BELOW, 1e6),
                             (MICROSECONDS_BELOW, np.inf, 1e9)):
        band = rest & (size >= low) & (size < high)
        out[band] = out[band] / scale
    return out


def _datetimes_to_seconds(parsed: pd.Series) -> np.ndarray:
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None) if parsed.dt.tz is not None else parsed
    arr = naive.to_numpy()
    unit, _ = np.datetime_data(arr.dtype)
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit]
    out = arr.astype("int64").astype("float64") / scale
    out[np.isnat(arr)] = np.nan
    return out


def timeless_message(count: int, time_col: str) -> str:
    """What to tell about clock times without a date in a time column (read as no time, never dated today).

    >>> timeless_message(3, "ts")
    "3 value(s) of time column 'ts' are clock times without a date (like 10:07): read as no time, not dated today"
    """
    return (f"{count:,} value(s) of time column {time_col!r} are clock times without a date (like 10:07): "
            "read as no time, not dated today")

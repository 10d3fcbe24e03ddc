"""What a file run did: :class:`ScoreSummary`, and the :class:`Tally` that counts it.

>>> tally = Tally()
>>> tally.add(0, [("angry",) + (None,) * 15, None], [None, "empty text"], [False, False])
>>> tally.rows, tally.errors, dict(tally.emotions)
(2, 1, {'angry': 1})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .rows import Row, describe_counts, id_text, row_value
from .times import timeless_message

__all__ = ["ERROR_EXAMPLES", "REPLY_AGENTS_SHOWN", "ScoreSummary", "Tally", "describe_replies"]

#: The summary shows this many errors, with their row numbers.
ERROR_EXAMPLES = 5


@dataclass(frozen=True)
class ScoreSummary:
    """What a :func:`score_file` run did.

    Attributes
    ----------
    input, output : str
        The files read and written.
    rows : int
        Rows written (every input row).
    errors : int
        Rows with an ``error``.
    agent_rows : int
        Agent rows (not scored as customers, not errors).
    emotions, intents : dict
        How many scored rows got each emotion and intent.
    seconds : float
        Wall time of the run.
    encoding : str or None
        The encoding the input was read with (``None`` for Parquet).
    error_examples : tuple of (int, str)
        The first errors: (row number counted from 0, message).
    out_of_order : int
        With ``assume_sorted``: rows earlier in time than a row before them in their conversation.
    jobs : int
        Worker processes used.
    priors : dict or None
        With ``adapt_priors``: the class priors estimated on the file and used to score it.
    timeless_times : int
        Values of the time column that were clock times without a date (read as no time).
    replies : dict
        With ``role_col``: per agent (the ``agent_col`` value; ``"all"`` without one), the
        reviewed replies: ``{"replies": n, "mean_score": float, "poor": n}``.
    """

    input: str
    output: str
    rows: int
    errors: int
    agent_rows: int = 0
    emotions: dict[str, int] = field(default_factory=dict)
    intents: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    encoding: str | None = None
    error_examples: tuple[tuple[int, str], ...] = ()
    out_of_order: int = 0
    jobs: int = 1
    priors: dict[str, dict[str, float]] | None = None
    timeless_times: int = 0
    replies: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def scored(self) -> int:
        """Customer rows that got results."""
        return self.rows - self.errors - self.agent_rows

    def describe(self) -> str:
        """A few lines for people: rows, errors, emotion and intent distribution.

        >>> print(ScoreSummary("in.csv", "out.csv", rows=3, errors=1, emotions={"angry": 2},
        ...                    intents={"complaint": 2}, seconds=0.5,
        ...                    error_examples=((1, "empty text"),)).describe())
        3 rows in 0.5 s (6 rows/s): in.csv -> out.csv
        scored 2, errors 1
          row 1: empty text
        emotion: angry 2 (100.0%)
        intent: complaint 2 (100.0%)
        """
        rate = self.rows / self.seconds if self.seconds > 0 else float("nan")
        lines = [f"{self.rows} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s): {self.input} -> {self.output}"
                 + (f" (read as {self.encoding})" if self.encoding else "")]
        parts = [f"scored {self.scored}"]
        if self.agent_rows:
            reviewed = sum(int(v["replies"]) for v in self.replies.values())
            parts.append(f"agent rows {self.agent_rows} ({reviewed} replies reviewed)")
        parts.append(f"errors {self.errors}")
        lines.append(", ".join(parts))
        for row, message in self.error_examples:
            lines.append(f"  row {row}: {message}")
        if self.errors > len(self.error_examples):
            lines.append(f"  ... and {self.errors - len(self.error_examples)} more (see the error column)")
        if self.timeless_times:
            lines.append("warning: " + timeless_message(self.timeless_times, "time"))
        if self.out_of_order:
            lines.append(f"warning: {self.out_of_order} rows came before an earlier message of their conversation; "
                         f"without --assume-sorted they are put in time order")
        lines.append("emotion: " + describe_counts(self.emotions, self.scored))
        lines.append("intent: " + describe_counts(self.intents, self.scored))
        lines.extend(describe_replies(self.replies))
        if self.priors:
            for head, values in self.priors.items():
                top = sorted(values.items(), key=lambda kv: -kv[1])[:4]
                lines.append(f"adapted {head} priors: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in top))
        return "\n".join(lines)


#: Agents listed in the summary (the lowest mean scores first).
REPLY_AGENTS_SHOWN = 12


def describe_replies(replies: dict[str, dict[str, float]], limit: int = REPLY_AGENTS_SHOWN) -> list[str]:
    """Lines on reviewed replies: per agent, the mean score and the poor ones, lowest mean first.

    >>> describe_replies({"A": {"replies": 4, "mean_score": 81.5, "poor": 0},
    ...                   "B": {"replies": 2, "mean_score": 40.0, "poor": 1}})
    ['replies by agent (mean score, poor):', '  B: 2 replies, 40.0, 1 poor (50.0%)', '  A: 4 replies, 81.5, 0 poor (0.0%)']
    """
    if not replies:
        return []
    lines = ["replies by agent (mean score, poor):"]
    ranked = sorted(replies.items(), key=lambda kv: (kv[1]["mean_score"], kv[0]))
    for name, v in ranked[:limit]:
        n = int(v["replies"])
        lines.append(f"  {name}: {n} replies, {v['mean_score']:.1f}, {int(v['poor'])} poor "
                     f"({100.0 * v['poor'] / n:.1f}%)")
    if len(ranked) > limit:
        lines.append(f"  ... and {len(ranked) - limit} more agents")
    return lines


class Tally:
    """Counts of a run, fed one chunk of results at a time."""

    def __init__(self) -> None:
        self.timeless = 0
        self.rows: int = 0
        self.errors: int = 0
        self.agent: int = 0
        self.emotions: Counter[str] = Counter()
        self.intents: Counter[str] = Counter()
        self.examples: list[tuple[int, str]] = []
        self.reviews: dict[str, list[int]] = {}  # agent -> [replies, score sum, poor]

    def add(self, start: int, results: Sequence[Row | None], errors: Sequence[str | None],
            agent: Sequence[bool], agents: Sequence[Any] | None = None) -> None:
        """Count one chunk: rows numbered from ``start``, their result rows, errors, agent flags and agent names."""
        self.rows += len(results)
        for i, r in enumerate(results):
            if errors[i] is not None:
                self.errors += 1
                if len(self.examples) < ERROR_EXAMPLES:
                    self.examples.append((start + i, str(errors[i])))
            elif agent[i]:
                self.agent += 1
                if r is not None:
                    name = "all" if agents is None else _agent_name(agents[i])
                    tally = self.reviews.setdefault(name, [0, 0, 0])
                    tally[0] += 1
                    tally[1] += row_value(r, "reply_score")
                    tally[2] += row_value(r, "reply_verdict") == "poor"
            elif r is not None:
                self.emotions[row_value(r, "emotion")] += 1
                self.intents[row_value(r, "intent")] += 1

    def replies(self) -> dict[str, dict[str, float]]:
        """Per agent: reviewed replies, mean score and poor ones."""
        return {name: {"replies": n, "mean_score": total / n, "poor": poor}
                for name, (n, total, poor) in self.reviews.items()}


def _agent_name(value: Any) -> str:
    """An agent id as text (:func:`~cs_sentiment.rows.id_text`, stripped); missing or blank: ``"(none)"``."""
    return (id_text(value) or "").strip() or "(none)"

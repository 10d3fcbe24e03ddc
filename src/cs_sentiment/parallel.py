"""Scoring in this process or in worker processes: one :class:`~cs_sentiment.rows.Scorer` per process.

Workers import this module and :mod:`cs_sentiment.rows` only: no pandas, no
pyarrow. Each loads its analyzer once (per model and priors), starts a
watchdog that ends it within :data:`WATCHDOG_SECONDS` of its parent's death
(whatever killed the parent), and scores pieces of a chunk; the pieces come
back in order, so the output does not depend on the number of workers.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator
from typing import Any, Protocol, TypeVar

from .analyzer import Analyzer
from .extras import require
from .rows import PreparedRows, Row, Scorer

__all__ = ["SCORERS", "WATCHDOG_SECONDS", "Unit", "score_units", "scorer_for"]


class Unit(Protocol):
    """A chunk on its way: checked rows, their contexts, how many."""

    rows: PreparedRows
    contexts: list[Any] | None
    n: int


U = TypeVar("U", bound=Unit)
_LOCK = threading.Lock()

SCORERS: dict[tuple[str | None, str | None], Scorer] = {}


def scorer_for(model_dir: str | None, priors: str | None = None) -> Scorer:
    """This process's :class:`Scorer` (and so its Analyzer) for a model and priors (JSON), built once, thread-safely."""
    key = (model_dir, priors)
    scorer = SCORERS.get(key)
    if scorer is None:
        with _LOCK:
            scorer = SCORERS.get(key)
            if scorer is None:
                analyzer = Analyzer.default() if model_dir is None else Analyzer(model_dir=model_dir)
                if priors is not None:
                    analyzer = analyzer.with_priors(json.loads(priors))
                scorer = SCORERS[key] = Scorer(analyzer)
    return scorer


#: How often a worker checks that the process that started it is still there (seconds).
WATCHDOG_SECONDS = 1.0
_WATCHDOG: list[int] = []


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the main process ``parent`` is gone (even after SIGKILL), not minutes later."""
    if _WATCHDOG:
        return
    if os.getppid() != parent:  # the parent died while this worker was starting
        os._exit(1)
    _WATCHDOG.append(parent)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="cs-sentiment-watchdog", daemon=True).start()


def _score_piece(model_dir: str | None, priors: str | None, texts: list[str | None],
                 contexts: list[Any] | None, agent: list[bool]) -> tuple[list[Row | None], dict[int, str]]:
    errors: list[str | None] = [None] * len(texts)
    results = scorer_for(model_dir, priors).score(texts, contexts, errors, agent)
    return results, {i: e for i, e in enumerate(errors) if e is not None}


def _pieces(unit: Unit, jobs: int) -> list[tuple[int, int]]:
    size = max(500, math.ceil(unit.n / (4 * jobs)))
    return [(a, min(unit.n, a + size)) for a in range(0, max(unit.n, 1), size)]


def score_units(units: Iterator[U], jobs: int, model_dir: str | None,
                priors: str | None = None) -> Generator[tuple[U, list[Row | None]], None, None]:
    """Each unit with its result rows, in order; ``jobs`` > 1 spreads pieces of units over worker processes.

    A worker's failures are written into ``unit.rows.errors``. The output is the same for any ``jobs``.
    """
    if jobs == 1:
        scorer = scorer_for(model_dir, priors)
        for unit in units:
            yield unit, scorer.score(unit.rows.texts, unit.contexts, unit.rows.errors, unit.rows.agent)
        return
    # loky's executor directly (not joblib.Parallel): no memory-mapping folder in /dev/shm, and every
    # worker starts a watchdog that ends it as soon as this process is gone, even after SIGKILL.
    get_reusable_executor = require("joblib.externals.loky", "batch", "--jobs > 1").get_reusable_executor
    executor = get_reusable_executor(max_workers=jobs, initializer=_watch_parent, initargs=(os.getpid(),),
                                     reuse=False)
    pending: deque[tuple[U, int, Any]] = deque()  # (unit, piece start, future), in order
    units_iter = iter(units)
    exhausted = False
    window = 2 * jobs
    results: list[Row | None] = []
    try:
        while True:
            while not exhausted and len(pending) < window:
                following = next(units_iter, None)
                if following is None:
                    exhausted = True
                    break
                unit = following
                for a, b in _pieces(unit, jobs):
                    pending.append((unit, a, executor.submit(
                        _score_piece, model_dir, priors, unit.rows.texts[a:b],
                        None if unit.contexts is None else unit.contexts[a:b], unit.rows.agent[a:b])))
            if not pending:
                return
            unit, a, future = pending.popleft()
            piece_results, failures = future.result()
            for i, message in failures.items():
                unit.rows.errors[a + i] = message
            results.extend(piece_results)
            if len(results) == unit.n:
                yield unit, results
                results = []
    finally:
        for _, _, future in pending:
            future.cancel()
        executor.shutdown(wait=False, kill_workers=True)  # an interrupted run leaves no worker behind

"""Shared fixtures of the cs_sentiment test suite.

Behaviour tests use the shipped model through one session-scoped default
:class:`~cs_sentiment.Analyzer`, so lexicons and weights load once per run.
``check_analysis`` asserts every invariant of the :class:`~cs_sentiment.Analysis`
contract (taxonomy.md and issue 2); the contract, property and robustness tests
all call it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

#: The eight emotions, eleven intents, five needs and seven strategies of taxonomy.md.
TAXONOMY_EMOTIONS = ("neutral", "satisfied", "angry", "disappointed", "anxious", "impatient", "confused", "hesitant")
TAXONOMY_INTENTS = ("product_info", "price_promotion", "order_status", "return_refund", "product_quality",
                    "payment_invoice", "account_tech", "usage_help", "complaint", "praise", "other")
TAXONOMY_NEEDS = ("information", "transaction", "service", "experience", "none")
TAXONOMY_STRATEGIES = ("apologize_compensate", "explain_clarify", "assist_guide", "reassure", "inform", "thank",
                       "escalate")
TAXONOMY_STEPS = ("acknowledge_emotion", "apologize", "explain", "guide", "offer_remedy", "offer_compensation",
                  "reassure", "answer", "recommend", "express_care", "follow_up", "handoff")
#: Need of each intent (taxonomy.md, intent table).
TAXONOMY_NEED_OF = {
    "product_info": "information", "price_promotion": "information", "order_status": "service",
    "return_refund": "transaction", "product_quality": "service", "payment_invoice": "transaction",
    "account_tech": "experience", "usage_help": "service", "complaint": "service", "praise": "none",
    "other": "none",
}
CUE_KINDS = ("keyword", "negation", "degree", "punctuation", "repetition", "emoji", "sarcasm", "typing_speed",
             "pause", "history", "escalation", "model")
CONTEXT_CUE_KINDS = ("typing_speed", "pause", "history", "escalation", "model")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than 30 seconds (deselect with -m 'not slow')")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root, found from this file's location."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def analyzer():
    """The default analyzer (shipped model and lexicons), loaded once for the session."""
    from cs_sentiment import Analyzer

    return Analyzer.default()


@pytest.fixture(scope="session")
def lexicon(analyzer):
    """The packaged lexicon, as the default analyzer holds it."""
    return analyzer.lexicon


def run_python(code: str, *, cwd: Path | None = None, env: dict[str, str] | None = None,
               timeout: float = 120, python: str | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (default: this one) and capture its output as text."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([python or sys.executable, "-c", code], cwd=cwd, env=full_env, capture_output=True,
                          text=True, encoding="utf-8", timeout=timeout)


@pytest.fixture(scope="session")
def python_runner() -> Callable[..., subprocess.CompletedProcess]:
    """:func:`run_python`, for tests that need a fresh interpreter."""
    return run_python


def _check_analysis(result, message: str | None = None, *, intents: tuple[str, ...] = TAXONOMY_INTENTS) -> None:
    """Assert every invariant of an Analysis (types, ranges, derived fields, evidence spans, JSON)."""
    from dataclasses import FrozenInstanceError

    from cs_sentiment import (
        Analysis,
        Cue,
        Emotion,
        IntensityLevel,
        Need,
        Polarity,
        Priority,
        Script,
        Step,
        Strategy,
        StrategyId,
    )

    assert isinstance(result, Analysis)
    # emotion and its scores
    assert isinstance(result.emotion, Emotion)
    assert set(result.emotion_scores) == set(TAXONOMY_EMOTIONS)
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in result.emotion_scores.values())
    assert math.isclose(sum(result.emotion_scores.values()), 1.0, abs_tol=1e-6)
    assert result.emotion_scores[result.emotion.value] == max(result.emotion_scores.values())
    # polarity is derived from the emotion
    assert isinstance(result.polarity, Polarity)
    expected_polarity = {"satisfied": "positive", "neutral": "neutral"}.get(result.emotion.value, "negative")
    assert result.polarity.value == expected_polarity
    # valence, intensity and its level
    assert isinstance(result.valence, float) and -1.0 <= result.valence <= 1.0
    assert isinstance(result.intensity, float) and 0.0 <= result.intensity <= 1.0
    assert isinstance(result.intensity_level, IntensityLevel)
    level = "low" if result.intensity < 0.34 else "medium" if result.intensity < 0.67 else "high"
    assert result.intensity_level.value == level
    # intent, its scores, need
    assert result.intent in intents
    assert set(result.intent_scores) == set(intents)
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in result.intent_scores.values())
    assert math.isclose(sum(result.intent_scores.values()), 1.0, abs_tol=1e-6)
    assert result.intent_scores[str(result.intent)] == max(result.intent_scores.values())
    assert isinstance(result.need, Need)
    if str(result.intent) in TAXONOMY_NEED_OF:
        assert result.need.value == TAXONOMY_NEED_OF[str(result.intent)]
    assert result.secondary_intent is None or (result.secondary_intent in intents
                                               and result.secondary_intent != result.intent)
    # emotional support: negative emotion with at least medium intensity (taxonomy.md)
    assert isinstance(result.emotional_support, bool)
    assert result.emotional_support == (result.polarity.value == "negative" and result.intensity >= 0.34)
    assert isinstance(result.escalation_risk, float) and 0.0 <= result.escalation_risk <= 1.0
    assert isinstance(result.confidence, float) and 0.0 <= result.confidence <= 1.0
    assert isinstance(result.needs_human, bool)
    # strategy
    strategy = result.strategy
    assert isinstance(strategy, Strategy)
    assert isinstance(strategy.id, StrategyId) and strategy.id.value in TAXONOMY_STRATEGIES
    assert strategy.steps and all(isinstance(s, Step) for s in strategy.steps)
    assert all(s.value in TAXONOMY_STEPS + ("clarify",) for s in strategy.steps)
    assert isinstance(strategy.priority, Priority)
    assert isinstance(strategy.opening, str) and strategy.opening.strip()
    assert strategy.covers and strategy.covers[0] == result.intent
    assert isinstance(result.script, Script)
    # evidence
    assert isinstance(result.evidence, tuple)
    for cue in result.evidence:
        assert isinstance(cue, Cue)
        assert cue.kind in CUE_KINDS
        assert isinstance(cue.weight, float) and math.isfinite(cue.weight)
        if cue.start is None or cue.end is None:
            assert cue.start is None and cue.end is None
            assert cue.kind in CONTEXT_CUE_KINDS
        elif message is not None:
            assert 0 <= cue.start <= cue.end <= len(message)
            assert message[cue.start:cue.end] == cue.text
    # frozen and JSON-ready
    with pytest.raises(FrozenInstanceError):
        result.emotion = Emotion.NEUTRAL  # type: ignore[misc]
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    # JSON cannot keep a high and a low surrogate apart (the message may hold them, as two code points):
    # they come back as the one character they encode, and that is the only difference allowed
    assert json.loads(text) == _join_surrogate_pairs(data)


def _join_surrogate_pairs(value):
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    if isinstance(value, dict):
        return {k: _join_surrogate_pairs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_join_surrogate_pairs(v) for v in value]
    return value


@pytest.fixture(scope="session")
def check_analysis() -> Callable[..., None]:
    """A function asserting every invariant of an Analysis; pass the message to check evidence spans."""
    return _check_analysis


@pytest.fixture(scope="session")
def corpus_texts() -> list[str]:
    """Messages of the corpus test split (ours), in file order."""
    import csv

    with (REPO_ROOT / "data" / "samples" / "corpus.csv").open(encoding="utf-8", newline="") as f:
        return [r["text"] for r in csv.DictReader(f) if r["split"] == "test"]


def _same(x: Any, y: Any, tol: float = 1e-12) -> bool:
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(_same(x[k], y[k], tol) for k in x)
    if isinstance(x, list):
        return isinstance(y, list) and len(x) == len(y) and all(_same(u, v, tol) for u, v in zip(x, y))
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y) <= tol
    return x == y


@pytest.fixture(scope="session")
def same() -> Callable[..., bool]:
    """``same(x, y, tol=1e-12)``: equal, floats to ``tol`` (nested dicts and lists, as ``to_dict()`` gives)."""
    return _same

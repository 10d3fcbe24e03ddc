"""cs_sentiment: read Chinese customer-service chat the way a seasoned agent does.

For each customer message: the emotion and how strongly it is felt, what the
customer needs, how likely they are to escalate, and how to answer.

>>> from cs_sentiment import analyze
>>> analyze("太失望了，白买了").emotion.value
'disappointed'

Importing the package loads nothing: lexicons and models are read on the first
analysis, and pandas, scikit-learn and Spark only by the modules that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .analyzer import Analyzer, analyze, analyze_many
from .context import Context
from .cues import CueKind
from .exceptions import (
    CsSentimentError,
    IncompatibleModelError,
    InvalidContextError,
    InvalidInputError,
    LexiconFormatError,
    ModelFormatError,
    ModelIntegrityError,
    ModelLoadError,
    PolicyError,
    UntrustedModelError,
)
from .labels import Emotion, IntensityLevel, Intent, Need, Polarity, Priority, Script, Step, StrategyId
from .openings import Policy
from .results import Analysis, Cue, Strategy

if TYPE_CHECKING:  # pragma: no cover
    from .conversation import ConversationAnalysis, analyze_conversation
    from .estimators import EmotionClassifier, IntentClassifier
    from .evaluation import evaluate
    from .frame import score_frame
    from .review import ReplyCheck, ReplyReview, review_reply
    from .training import TrainingResult, fit, train

__all__ = [
    "Analysis", "Analyzer", "ConversationAnalysis", "Context", "CsSentimentError", "Cue", "CueKind", "Emotion",
    "EmotionClassifier", "IncompatibleModelError", "IntensityLevel", "Intent", "IntentClassifier",
    "InvalidContextError", "InvalidInputError", "LexiconFormatError", "ModelFormatError", "ModelIntegrityError",
    "ModelLoadError", "Need", "Polarity", "Policy", "PolicyError", "TrainingResult", "fit",
    "Priority", "Script", "Step", "Strategy", "StrategyId", "UntrustedModelError", "__version__", "analyze",
    "analyze_conversation", "analyze_many", "evaluate", "review_reply", "ReplyReview", "ReplyCheck", "score_frame",
    "train",
]

# Heavy parts (scikit-learn, pandas) load only when first used.
_LAZY = {
    "IntentClassifier": "estimators", "EmotionClassifier": "estimators",
    "train": "training", "fit": "training", "TrainingResult": "training", "evaluate": "evaluation",
    "analyze_conversation": "conversation", "ConversationAnalysis": "conversation",
    "score_frame": "frame",
    "review_reply": "review", "ReplyReview": "review", "ReplyCheck": "review",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cs_sentiment' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

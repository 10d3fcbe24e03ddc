"""Exceptions raised by cs_sentiment.

Every error the library raises on purpose derives from :class:`CsSentimentError`,
so a helpdesk can catch one type. Each subclass also derives from the built-in
exception that fits it (``ValueError``, ``TypeError``), so code written against
the built-ins keeps working.
"""

from __future__ import annotations

__all__ = [
    "CsSentimentError",
    "IncompatibleModelError",
    "InvalidContextError",
    "InvalidInputError",
    "LexiconFormatError",
    "ModelFormatError",
    "ModelIntegrityError",
    "ModelLoadError",
    "PolicyError",
    "UntrustedModelError",
]


class CsSentimentError(Exception):
    """Base class of every error raised by cs_sentiment."""


class InvalidInputError(CsSentimentError, TypeError):
    """A message or an argument has the wrong type (the message names it)."""


class InvalidContextError(CsSentimentError, ValueError):
    """A context key is unknown, has the wrong type or an out-of-range value."""


class LexiconFormatError(CsSentimentError, ValueError):
    """A lexicon file is malformed; the message names the file and the line."""


class ModelLoadError(CsSentimentError, ValueError):
    """A model directory is missing a file, or a file does not match its checksum."""


class IncompatibleModelError(ModelLoadError):
    """A model was saved with a format version this library cannot read."""


class UntrustedModelError(ModelLoadError):
    """Loading a pickled (joblib) model was refused because ``trust=True`` was not given."""


class ModelIntegrityError(ModelLoadError):
    """A model file, or the manifest itself, is missing or does not match its sha256."""


class ModelFormatError(ModelLoadError):
    """A model directory holds something a model does not: a path outside it, an oversized file or array,
    a field of the wrong type or range (the message names the file and the field)."""


class PolicyError(CsSentimentError, ValueError):
    """A business policy with an unknown key or a value of the wrong kind (the message names the key)."""

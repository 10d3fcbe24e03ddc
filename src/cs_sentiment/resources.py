"""The only module that names the packaged data: lexicons and the default model.

Everything read from inside the installed package goes through
:func:`lexicon_root` or :func:`model_root`; a user's own directory is a
plain :class:`~pathlib.Path` and never reaches here.

>>> (lexicon_root() / "emotion.tsv").is_file()
True
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from importlib.resources.abc import Traversable

__all__ = ["LEXICON_PACKAGE", "MODEL_PACKAGE", "as_root", "lexicon_root", "model_root", "read_lexicon_file"]

#: The package holding the lexicons (``data/lexicons`` in the source tree).
LEXICON_PACKAGE = "cs_sentiment.lexicons"
#: The package holding the shipped default model (``models`` in the source tree).
MODEL_PACKAGE = "cs_sentiment.default_model"


def lexicon_root() -> Traversable:
    """The packaged lexicon folder."""
    return files(LEXICON_PACKAGE)


def model_root() -> Traversable:
    """The packaged default model folder."""
    return files(MODEL_PACKAGE)


def as_root(directory: str | os.PathLike[str] | Traversable | None, default: Traversable) -> Traversable:
    """A user's directory (a path or a Traversable) as a Traversable, or ``default`` when none is given."""
    if directory is None:
        return default
    if isinstance(directory, (str, os.PathLike)):
        return Path(directory)
    return directory


def read_lexicon_file(name: str) -> str:
    """The text (UTF-8) of one packaged lexicon file."""
    return (lexicon_root() / name).read_text(encoding="utf-8")

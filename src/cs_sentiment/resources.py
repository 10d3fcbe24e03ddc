"""The only module that names the packaged data: lexicons and the default model.

Everything read from inside the installed package goes through
:func:`lexicon_root` or :func:`model_root`; a user's own directory is a
plain :class:`~pathlib.Path` and never reaches here.

>>> (lexicon_root() / "emotion.tsv").is_file()
True
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from importlib.resources.abc import Traversable

__all__ = ["LEXICON_PACKAGE", "MODEL_PACKAGE", "lexicon_root", "model_root", "read_lexicon_file"]

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


def read_lexicon_file(name: str) -> str:
    """The text (UTF-8) of one packaged lexicon file."""
    return (lexicon_root() / name).read_text(encoding="utf-8")

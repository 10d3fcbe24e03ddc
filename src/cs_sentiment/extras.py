"""Optional dependencies: one clear line naming the extra when one is missing.

``pip install cs-sentiment`` pulls only what :func:`~cs_sentiment.analyze` needs
(numpy, jieba, OpenCC, pyahocorasick, emoji). The rest comes with extras:

======== ===================================================== ==================================
extra    what it installs                                      what needs it
======== ===================================================== ==================================
batch    pandas, pyarrow, charset-normalizer, tqdm, joblib      ``score_frame``, ``score_file``,
                                                               ``cs-sentiment score``
train    scikit-learn, scipy, pandas, joblib, matplotlib        ``train``, ``evaluate``, the
                                                               estimators, plots
spark    pyspark (and batch)                                   :mod:`cs_sentiment.spark`
plot     matplotlib                                            :mod:`cs_sentiment.plots`
all      all of the above
======== ===================================================== ==================================

>>> require("math", "batch", "anything").pi > 3
True
>>> require("no_such_module_x", "batch", "score_frame")
Traceback (most recent call last):
...
cs_sentiment.extras.MissingExtraError: score_frame needs no_such_module_x, which comes with an extra: pip install 'cs-sentiment[batch]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "missing_extra", "require"]

#: Extra name → the distributions it installs (kept in step with pyproject.toml by a test).
EXTRAS: dict[str, tuple[str, ...]] = {
    "batch": ("pandas", "pyarrow", "charset-normalizer", "tqdm", "joblib"),
    "train": ("scikit-learn", "scipy", "pandas", "joblib", "matplotlib"),
    "spark": ("pyspark",),
    "plot": ("matplotlib",),
}


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming ``extra`` and what needed it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_extra(exc, extra, feature) from None


def missing_extra(exc: ImportError, extra: str, feature: str) -> ImportError:
    """The error to raise for ``exc``: a :class:`MissingExtraError` naming ``extra`` when a module is missing.

    Any other import failure (a module that is there but broken) is returned as it was.
    """
    if not isinstance(exc, ModuleNotFoundError) or exc.name is None:
        return exc
    top = exc.name.split(".")[0]
    return MissingExtraError(f"{feature} needs {top}, which comes with an extra: pip install 'cs-sentiment[{extra}]'",
                             name=top)

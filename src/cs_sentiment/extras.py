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

__all__ = ["EXTRAS", "MissingExtraError", "require"]

#: Extra name → the distributions it installs (kept in step with pyproject.toml by a test).
EXTRAS = {
    "batch": ("pandas", "pyarrow", "charset-normalizer", "tqdm", "joblib"),
    "train": ("scikit-learn", "scipy", "pandas", "joblib", "matplotlib"),
    "spark": ("pyspark",),
}


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming ``extra`` and what needed it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and exc.name != module and not module.startswith(exc.name + "."):
            raise  # the module is there but one of its own imports failed: not ours to rename
        raise MissingExtraError(f"{feature} needs {module}, which comes with an extra: "
                                f"pip install 'cs-sentiment[{extra}]'", name=module) from None

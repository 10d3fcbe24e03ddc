"""Figures of an evaluation report: confusion matrices and reliability diagrams.

The ``*_figure`` functions return a :class:`matplotlib.figure.Figure` built
without pyplot, so they never switch the user's backend nor open a window; a
notebook shows the figure as it is. The ``plot_*`` functions save one as a PNG.
matplotlib comes with the ``train`` extra (or ``plot``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .extras import require

__all__ = ["calibration_figure", "confusion_figure", "plot_calibration", "plot_confusion"]


def _figure(width: float, height: float) -> Any:
    figure_module = require("matplotlib.figure", "plot", "drawing the evaluation plots")
    return figure_module.Figure(figsize=(width, height))


def confusion_figure(report: dict[str, Any]) -> Any:
    """The confusion matrix of each task of an :func:`~cs_sentiment.evaluation.evaluate` report, side by side."""
    tasks = [t for t in ("emotion", "intent") if t in report]
    fig = _figure(7 * max(1, len(tasks)), 6)
    axes = fig.subplots(1, max(1, len(tasks)), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        labels = report[task]["confusion"]["labels"]
        matrix = np.array(report[task]["confusion"]["matrix"])
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
        ax.set_title(f"{task}: macro-F1 {report[task]['macro_f1']:.3f}")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    return fig


def calibration_figure(report: dict[str, Any]) -> Any:
    """Reliability diagrams (top) and confidence histograms (bottom) of each task of a report."""
    tasks = [t for t in ("emotion", "intent") if t in report]
    fig = _figure(6 * max(1, len(tasks)), 8)
    axes = fig.subplots(2, max(1, len(tasks)), squeeze=False)
    for col, task in enumerate(tasks):
        bins = report[task]["reliability"]
        mids = [(b["low"] + b["high"]) / 2 for b in bins]
        acc = [b["accuracy"] if b["accuracy"] is not None else float("nan") for b in bins]
        ax = axes[0][col]
        ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
        ax.bar(mids, acc, width=0.09, alpha=0.8)
        ax.set_title(f"{task}: reliability (ECE {report[task]['ece']:.3f})")
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax = axes[1][col]
        ax.bar(mids, [b["count"] for b in bins], width=0.09, color="tab:orange")
        ax.set_title(f"{task}: confidence histogram")
        ax.set_xlabel("confidence")
        ax.set_ylabel("messages")
        ax.set_xlim(0, 1)
    fig.tight_layout()
    return fig


def plot_confusion(report: dict[str, Any], path: str | Path) -> Path:
    """Save :func:`confusion_figure` as a PNG; returns the path."""
    path = Path(path)
    confusion_figure(report).savefig(path, dpi=110)
    return path


def plot_calibration(report: dict[str, Any], path: str | Path) -> Path:
    """Save :func:`calibration_figure` as a PNG; returns the path."""
    path = Path(path)
    calibration_figure(report).savefig(path, dpi=100)
    return path

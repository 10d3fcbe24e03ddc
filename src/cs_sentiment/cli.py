"""The ``cs-sentiment`` command: a thin argparse layer over the public functions.

Commands: ``analyze``, ``score``, ``train``, ``evaluate``. Errors print one
line on stderr and exit with code 2 (bad usage or bad input), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._version import __version__
from .exceptions import CsSentimentError
from .extras import MissingExtraError

__all__ = ["main"]

log: logging.Logger = logging.getLogger(__name__)


class _UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, like every other error
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cs-sentiment", description="Read Chinese customer-service chat: emotion, intent, "
                                                       "escalation risk and response strategy.")
    parser.add_argument("--version", action="version", version=f"cs-sentiment {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("analyze", help="analyse one message (or '-' for one message a line from stdin)")
    p.add_argument("text", help="the message, or - to read one message a line from standard input")
    p.add_argument("--context", help="context as JSON, e.g. '{\"typing_seconds\": 3.1}'")
    p.add_argument("--model", help="model directory (default: the shipped model)")
    p.add_argument("--lexicon", action="append", default=[], help="extra lexicon file or folder (repeatable)")
    p.add_argument("--compact", action="store_true", help="one line of JSON even for a single message")
    p.add_argument("--policy", help="TOML file of what the business allows an opening to promise "
                                    "(compensation, return_window_days, service_hours, escalation_contact)")

    p = sub.add_parser("review", help="review an agent's reply to a customer message (JSON)")
    p.add_argument("customer_message")
    p.add_argument("reply")
    p.add_argument("--model", help="model directory (default: the shipped model)")
    p.add_argument("--compact", action="store_true", help="one line of JSON")

    p = sub.add_parser("score", help="score a chat log file (CSV, TSV, JSONL, Parquet)")
    p.add_argument("input")
    p.add_argument("--out", help="output file (default: INPUT with .scored before the suffix)")
    p.add_argument("--text-col", default="text")
    p.add_argument("--conversation-col")
    p.add_argument("--time-col")
    p.add_argument("--role-col", help="customer/agent per row: agent rows are reviewed as replies (reply_* columns)")
    p.add_argument("--agent-col", help="who wrote each agent row: the summary lists each agent's reply scores")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--chunksize", type=int,
                   help="rows read at a time (default: cs_sentiment.batch.DEFAULT_CHUNKSIZE, 10000)")
    p.add_argument("--encoding", help="input encoding (default: detect UTF-8, UTF-8 with BOM or GB18030)")
    p.add_argument("--model", help="model directory (default: the shipped model)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any row had an error")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--assume-sorted", action="store_true",
                   help="rows of each conversation already come in time order (sorted by conversation or by "
                        "time): one pass, no indexing pass")
    p.add_argument("--typing-col", help="seconds the customer spent typing each message")
    p.add_argument("--prefix", default="", help="put before the result column names (e.g. pred_)")
    p.add_argument("--max-chars", type=int, default=10_000, help="longer messages are not scored (default 10000)")
    p.add_argument("--adapt-priors", action="store_true",
                   help="re-estimate the class priors on this file's customer messages (EM) before scoring")

    p = sub.add_parser("train", help="train a model on labelled messages")
    p.add_argument("data", help="labelled CSV/TSV/JSONL/Parquet")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--text-col", default="text")
    p.add_argument("--emotion-col", default="emotion")
    p.add_argument("--intent-col", default="intent")
    p.add_argument("--split-col", default="split", help="rows 'train' are fitted, rows 'test' evaluated")
    p.add_argument("--intent-map", help="TSV 'intent need acts_as' for your own intent labels")
    p.add_argument("--cv", type=int, default=5, help="folds for calibration and the cross-validated score")
    p.add_argument("--overwrite", action="store_true", help="replace a model already in --out")
    p.add_argument("--priors", help="JSON file {\"emotion\": {label: weight}, \"intent\": {...}}: the deployment "
                                    "priors the model applies by default (default: the training priors)")
    p.add_argument("--only", choices=("emotion", "intent"),
                   help="fit only this head and keep the other from --base (default: the shipped model)")
    p.add_argument("--base", help="model directory the heads not fitted come from (with --only)")

    p = sub.add_parser("evaluate", help="evaluate a model on labelled messages")
    p.add_argument("data")
    p.add_argument("--model", help="model directory (default: the shipped model)")
    p.add_argument("--text-col", default="text")
    p.add_argument("--emotion-col", default="emotion")
    p.add_argument("--intent-col", default="intent")
    p.add_argument("--split", help="evaluate only rows whose 'split' column has this value (e.g. test)")
    p.add_argument("--report", help="write the full report as JSON here")
    p.add_argument("--plot", help="write the confusion matrices as PNG here")
    p.add_argument("--worst", type=int, default=10, help="how many worst mistakes to print")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 rows with errors under --strict, 2 bad usage)."""
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        print(f"cs-sentiment: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO,
                            format="%(levelname)s %(name)s: %(message)s")
    with _interruptible() as received:
        try:
            return int(_COMMANDS[args.command](args))
        except KeyboardInterrupt:
            print("cs-sentiment: interrupted", file=sys.stderr)
            return 128 + (received[0] if received else signal.SIGINT)
        except BaseException as exc:
            if received:  # a library turned our KeyboardInterrupt into its own error (OpenCC's import does)
                print("cs-sentiment: interrupted", file=sys.stderr)
                return 128 + received[0]
            return _error(exc)


@contextlib.contextmanager
def _interruptible() -> Iterator[list[int]]:
    """SIGTERM is handled like Ctrl-C; after the first signal, further ones are ignored while the run cleans up.

    Only in the main thread (where Python delivers signals); the handlers in
    place before are restored on the way out.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        if not received:  # once interrupted, the process is on its way out: later signals stay ignored
            for sig, old in before.items():
                signal.signal(sig, old)


def _error(exc: BaseException) -> int:
    """One line on stderr and exit 2 for an expected error; anything else is re-raised."""
    try:
        raise exc
    except (CsSentimentError, ValueError, TypeError, FileNotFoundError, FileExistsError, OSError,
            json.JSONDecodeError, UnicodeDecodeError) as error:
        print(f"cs-sentiment: error: {error}", file=sys.stderr)
        return 2
    except MissingExtraError as error:  # the message names the extra
        print(f"cs-sentiment: error: {error}", file=sys.stderr)
        return 2
    except ImportError as error:  # an optional dependency imported without our check (matplotlib for --plot …)
        missing = error.name or str(error)
        extra = {"matplotlib": "plot", "pyspark": "spark"}.get((missing or "").split(".")[0], "all")
        print(f"cs-sentiment: error: {missing} is not installed; pip install 'cs-sentiment[{extra}]'",
              file=sys.stderr)
        return 2


def _analyzer(model: str | None, lexicons: Sequence[str] = (), policy: str | None = None):
    from .analyzer import Analyzer

    if model is None and not lexicons and policy is None:
        return Analyzer.default()
    return Analyzer(model_dir=model, extra_lexicons=lexicons, policy=policy)


def _analyze(args: argparse.Namespace) -> int:
    context: Any = None
    if args.context:
        context = json.loads(args.context)
    analyzer = _analyzer(args.model, args.lexicon, args.policy)
    if args.text == "-":
        out = sys.stdout
        for line in sys.stdin:
            line = line.rstrip("\r\n")
            out.write(json.dumps(analyzer.analyze(line, context).to_dict(), ensure_ascii=False) + "\n")
        return 0
    result = analyzer.analyze(args.text, context).to_dict()
    print(json.dumps(result, ensure_ascii=False, indent=None if args.compact else 2))
    return 0


def _review(args: argparse.Namespace) -> int:
    from .review import review_reply

    review = review_reply(args.customer_message, args.reply, analyzer=_analyzer(args.model))
    print(json.dumps(review.to_dict(), ensure_ascii=False, indent=None if args.compact else 2))
    return 0


def _score(args: argparse.Namespace) -> int:
    from .batch import DEFAULT_CHUNKSIZE, score_file

    summary = score_file(
        args.input, args.out, text_col=args.text_col, conversation_col=args.conversation_col,
        time_col=args.time_col, role_col=args.role_col, jobs=args.jobs,
        chunksize=DEFAULT_CHUNKSIZE if args.chunksize is None else args.chunksize,
        encoding=args.encoding, model_dir=args.model, progress=not args.no_progress and sys.stderr.isatty(),
        assume_sorted=args.assume_sorted, typing_col=args.typing_col, prefix=args.prefix, max_chars=args.max_chars,
        adapt_priors=args.adapt_priors, agent_col=args.agent_col,
    )
    print(summary.describe(), file=sys.stderr)
    return 1 if args.strict and summary.errors else 0


def _train(args: argparse.Namespace) -> int:
    from .persistence import MANIFEST
    from .training import fit, plot_calibration, plot_confusion, write_report

    out = Path(args.out)
    if (out / MANIFEST).exists() and not args.overwrite:
        raise FileExistsError(f"{out} already holds a model; pass --overwrite to replace it")
    priors = None
    if args.priors:
        priors = json.loads(Path(args.priors).read_text(encoding="utf-8"))
    heads = ("emotion", "intent") if args.only is None else (args.only,)
    result = fit(args.data, text_col=args.text_col, emotion_col=args.emotion_col, intent_col=args.intent_col,
                 split_col=args.split_col, cv=args.cv or None, intent_map=args.intent_map, priors=priors,
                 heads=heads, base=None if args.base is None else _analyzer(args.base),
                 cv_folds=args.cv if args.cv and args.cv > 1 else None)
    result.analyzer.save(out, overwrite=True)
    if result.report is not None:
        write_report(result.report, out / "report.json")
        try:
            plot_confusion(result.report, out / "confusion.png")
            plot_calibration(result.report, out / "calibration.png")
        except ImportError:
            log.info("matplotlib not installed: no confusion.png")
    print(json.dumps({"model": str(out), "metrics": result.analyzer.model.manifest.get("metrics"),
                      "cross_validation": result.cross_validation}, ensure_ascii=False, indent=2))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate, read_labeled, write_report
    from .plots import plot_confusion

    frame = read_labeled(args.data, text_col=args.text_col)
    if args.split:
        if "split" not in frame.columns:
            raise ValueError("--split given but the data has no 'split' column")
        frame = frame[frame["split"].astype(str) == args.split]
    analyzer = _analyzer(args.model)
    report = evaluate(analyzer, frame, text_col=args.text_col, emotion_col=args.emotion_col,
                      intent_col=args.intent_col, n_worst=max(args.worst, 20))
    if args.report:
        write_report(report, args.report)
    if args.plot:
        plot_confusion(report, args.plot)
    lines = [f"messages: {report['n']}"]
    for task in ("emotion", "intent"):
        if task not in report:
            continue
        r = report[task]
        lines.append(f"{task}: accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}  ECE {r['ece']:.3f}")
        for label, m in r["per_class"].items():
            if isinstance(m, dict) and label not in ("macro avg", "weighted avg"):
                lines.append(f"  {label:<16} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1-score']:.3f}"
                             f"  n {int(m['support'])}")
        for w in r["worst"][: args.worst]:
            lines.append(f"  ✗ {w['true']} → {w['predicted']} ({w['confidence']:.2f}): {w['text'][:60]}")
    if "polarity_accuracy" in report:
        lines.append(f"polarity accuracy: {report['polarity_accuracy']:.3f}")
    if "script_consistency" in report:
        lines.append(f"same result in the other script: {report['script_consistency']:.3f}")
    print("\n".join(lines))
    return 0


_COMMANDS = {"analyze": _analyze, "review": _review, "score": _score, "train": _train, "evaluate": _evaluate}

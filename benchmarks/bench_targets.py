"""Every speed and memory target of issue 11, measured in one run, each with ✅ or ❌.

One run prints a Markdown table (the README's "Speed" table) and writes
``benchmarks/results/targets.json``. Ratios are taken against floors measured
in the same process, on the same messages, minutes apart at most, so a slow or
busy machine moves both sides; the load average is written beside them.

Rows, in the order of the issue:

- ``analyze()`` per call on the short messages of ``messages.py``: p50 against
  ``jieba.lcut`` (global jieba, as a user calls it), p99 against p50;
- ``analyze()`` p50 on the real JDDC customer turns (``../shared/benchmarks``,
  read at run time and never copied; the row says so when absent);
- cold start (a fresh ``python -c``: import + first call, median of 5) and the
  peak RSS of a fresh process that analyses every message;
- ``score_frame`` on 10,000 varied messages (no two alike), messages per CPU
  second, and with conversation context (customer messages per CPU second);
  the dedupe gain on a log of repeated short turns is reported beside it;
- the CLI (``cs-sentiment score --jobs 2``, conversations on) on a generated
  1,000,000-row log: wall time, and the process tree's peak RSS at 100,000 and
  1,000,000 rows (flat: the large run within 1.25× of the small one);
- Spark ``score_conversations`` on ``local[2]``: customer messages per second;
- results unchanged: ``to_dict()`` of the corpus test split against the pin.

The floors (rjieba alone over our dictionary, the Aho-Corasick scan alone,
OpenCC t2s alone, ``np.take`` + sum of one message's active rows alone) are
measured per call on the same messages and printed beside the analyze row.

Usage::

    python benchmarks/bench_targets.py                 # everything (about 8 minutes on 2 CPUs)
    python benchmarks/bench_targets.py --quick         # 100,000-row CLI log, no Spark (about 3 minutes)
    python benchmarks/bench_targets.py --json /tmp/targets.json --data ../shared/benchmarks
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_JSON = HERE / "results" / "targets.json"

sys.path.insert(0, str(HERE))
from bench_batch import bench_frame, bench_spark, run_cli, write_log  # noqa: E402
from bench_speed import (  # noqa: E402
    DEFAULT_DATA,
    cold_start,
    model_fingerprint,
    publish,
    read_jddc,
    run_worker,
    time_calls,
)
from messages import MESSAGES  # noqa: E402

#: The targets of issue 11 ("Faster than segmentation alone").
TARGETS = {
    "p50_vs_jieba": 1.0,          # analyze p50 / jieba.lcut p50, short messages
    "real_p50_us": 60.0,          # analyze p50 on real-length turns
    "p99_vs_p50": 3.0,
    "cold_s": 0.25,
    "rss_mb": 60.0,
    "frame_mps_per_core": 20_000.0,
    "frame_context_mps_per_core": 10_000.0,
    "cli_1m_s": 60.0,
    "cli_tree_mb": 400.0,
    "cli_flat_ratio": 1.25,
    "spark_conversation_mps": 10_000.0,
}
ROUNDS = 30
FRAME_MESSAGES = 10_000
ROWS_SMALL = 100_000
ROWS_LARGE = 1_000_000


def floors(texts: Sequence[str]) -> dict[str, Any]:
    """Per-call p50 of each primitive alone, on the normalised messages."""
    import numpy as np

    from cs_sentiment import Analyzer
    from cs_sentiment import tokenize as segment
    from cs_sentiment.normalize import normalize, to_simplified

    analyzer = Analyzer.default()
    norms = [normalize(t).text for t in texts]
    out: dict[str, Any] = {}
    fast = segment._get_fast(None)
    if fast is not None:
        out["rjieba"] = time_calls(lambda t: fast.cut(t, segment.USE_HMM), norms, ROUNDS)
    out["ac_scan"] = time_calls(analyzer.lexicon.scan, norms, ROUNDS)
    out["opencc_t2s"] = time_calls(to_simplified, texts, ROUNDS)
    joint = analyzer._joint
    if joint is not None:
        vocabulary = analyzer.model.emotion.vectorizer.vocabulary
        active = {}
        for t in norms:
            columns = {vocabulary[f] for f in analyzer._features(t) if f in vocabulary}
            active[t] = np.array(sorted(columns), dtype=np.intp)
        out["np_take_sum"] = time_calls(lambda t: joint.take(active[t], axis=0).sum(axis=0), norms, ROUNDS)
    return out


def bench_calls(data: Path) -> dict[str, Any]:
    """analyze() and jieba.lcut per call (short messages), analyze() on real turns, and the floors."""
    import jieba

    from cs_sentiment import Analyzer

    jieba.setLogLevel(60)
    jieba.initialize()
    analyzer = Analyzer.default()
    out: dict[str, Any] = {"messages": len(MESSAGES), "rounds": ROUNDS, "loadavg": os.getloadavg()[0]}
    out["jieba"] = time_calls(jieba.lcut, MESSAGES, ROUNDS)
    out["analyze"] = time_calls(analyzer.analyze, MESSAGES, ROUNDS)
    real = read_jddc(data)
    if real:
        sample = random.Random(0).sample(real, min(2_000, len(real)))
        out["real"] = time_calls(analyzer.analyze, sample, 3)
        out["real"]["messages"] = len(sample)
        out["real"]["chars_median"] = statistics.median(len(t) for t in sample)
        out["real_jieba"] = time_calls(jieba.lcut, sample, 3)
    out["floors"] = floors(MESSAGES)
    return out


def bench_dedupe(n: int) -> dict[str, Any]:
    """score_frame on a log of repeated short turns (the shape of a real log), messages per CPU second."""
    import pandas as pd

    from cs_sentiment import Analyzer, score_frame

    rng = random.Random(7)
    # a few dozen turns make most of a real log (好的, 在吗, 谢谢 …): draw with a long tail
    weights = [1.0 / (k + 1) for k in range(len(MESSAGES))]
    texts = rng.choices(MESSAGES, weights=weights, k=n)
    analyzer = Analyzer.default()
    c0, t0 = time.process_time(), time.perf_counter()
    score_frame(pd.DataFrame({"text": texts}), analyzer=analyzer)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return {"messages": n, "distinct": len(set(texts)), "cpu_mps": n / cpu, "mps": n / wall}


def pinned_unchanged() -> dict[str, Any]:
    """Whether analyze().to_dict() of the corpus test split still equals the pin (floats within 1e-6)."""
    sys.path.insert(0, str(REPO / "tests"))
    import test_pinned_results as pin

    from cs_sentiment import Analyzer

    if not pin.PIN.is_file():
        return {"status": "no pin"}
    analyzer = Analyzer.default()
    with gzip.open(pin.PIN, "rt", encoding="utf-8") as f:
        pinned = {row["key"]: row["result"] for row in map(json.loads, f)}
    texts = pin._texts()
    changed = sum(1 for t in texts if pin._differences(pinned[pin._key(t)],
                                                        json.loads(json.dumps(analyzer.analyze(t).to_dict()))))
    return {"status": "ok", "messages": len(texts), "changed": changed}


def bench_cli(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cs_sentiment_targets_") as tmp:
        folder = Path(tmp)
        sizes = [("small", ROWS_SMALL)] + ([] if quick else [("large", ROWS_LARGE)])
        for name, rows in sizes:
            src = folder / f"chat_{name}.csv"
            meta = write_log(rows, src, seed=1 if name == "small" else 2)
            print(f"CLI --jobs 2 on {rows:,} rows ...", file=sys.stderr)
            result = run_cli(src, folder / f"scored_{name}.csv", 2, rows)
            result["customer_messages"] = meta["customer_rows"]
            result.pop("samples", None)
            out[name] = result
            if name == "small" and not quick:
                print(f"Spark local[2] on {rows:,} rows ...", file=sys.stderr)
                try:
                    out["spark"] = bench_spark(src, rows)
                except Exception as exc:  # noqa: BLE001 - a broken Spark set-up is a row, not a crash
                    out["spark"] = {"status": f"failed: {type(exc).__name__}: {exc}"[:200]}
            src.unlink()
            (folder / f"scored_{name}.csv").unlink()
    return out


# -- the table -------------------------------------------------------------------------------------------------------
def _ok(value: float | None, target: float, below: bool = True) -> str:
    if value is None:
        return "–"
    return "✅" if (value <= target if below else value >= target) else "❌"


def _us(x: float | None) -> str:
    return "–" if x is None else (f"{x:,.0f} µs" if x >= 100 else f"{x:.1f} µs")


def verdicts(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, measured, verdict, note) per target."""
    calls, frame, cli = r["calls"], r["frame"], r["cli"]
    t = TARGETS
    rows = []
    a50, j50 = calls["analyze"]["p50_us"], calls["jieba"]["p50_us"]
    fl = calls["floors"]
    floor_note = ", ".join(f"{k} {_us(v['p50_us'])}" for k, v in fl.items())
    rows.append((f"`analyze()` p50 ≤ {t['p50_vs_jieba']:.1f}× `jieba.lcut` (short messages)",
                 f"{_us(a50)} vs {_us(j50)}: {a50 / j50:.2f}×", _ok(a50 / j50, t["p50_vs_jieba"]),
                 f"floors alone: {floor_note}"))
    real = calls.get("real")
    rows.append((f"`analyze()` p50 ≤ {t['real_p50_us']:.0f} µs on real turns",
                 _us(real["p50_us"]) if real else "JDDC file absent", _ok(real and real["p50_us"], t["real_p50_us"]),
                 f"{real['messages']:,} JDDC customer turns, median {real['chars_median']:.0f} chars; jieba.lcut "
                 f"{_us(calls['real_jieba']['p50_us'])}" if real else ""))
    p99 = calls["analyze"]["p99_us"]
    rows.append((f"p99 ≤ {t['p99_vs_p50']:.0f}× p50", f"{_us(p99)}: {p99 / a50:.1f}×", _ok(p99 / a50, t["p99_vs_p50"]),
                 "short messages"))
    cold = r["cold"]["median_s"]
    rows.append((f"cold start ≤ {t['cold_s']} s", f"{cold:.2f} s", _ok(cold, t["cold_s"]),
                 f"import {r['cold']['import_median_s']:.2f} s + first call {r['cold']['first_call_median_s']:.2f} s"))
    rss = r["rss_mb"]
    rows.append((f"peak RSS ≤ {t['rss_mb']:.0f} MB", f"{rss:.0f} MB", _ok(rss, t["rss_mb"]),
                 "fresh process, every short message analysed"))
    f_mps = frame["frame_median_cpu_mps"]
    rows.append((f"`score_frame` ≥ {t['frame_mps_per_core']:,.0f} msg/s per core, varied",
                 f"{f_mps:,.0f}", _ok(f_mps, t["frame_mps_per_core"], below=False),
                 f"{FRAME_MESSAGES:,} unique messages, CPU time; wall {frame['frame_median_mps']:,.0f}/s; "
                 f"a log of repeated turns ({r['dedupe']['distinct']} distinct of {r['dedupe']['messages']:,}): "
                 f"{r['dedupe']['cpu_mps']:,.0f}/s"))
    c_mps = frame["conversations_median_cpu_mps"]
    rows.append((f"… with conversation context ≥ {t['frame_context_mps_per_core']:,.0f} customer msg/s",
                 f"{c_mps:,.0f}", _ok(c_mps, t["frame_context_mps_per_core"], below=False),
                 "history, pauses, typing speed from the earlier turns"))
    large, small = cli.get("large"), cli.get("small")
    rows.append((f"CLI 1 M rows ≤ {t['cli_1m_s']:.0f} s with `--jobs 2`",
                 f"{large['wall_s']:.0f} s" if large else "not run (--quick)", _ok(large and large["wall_s"], t["cli_1m_s"]),
                 f"{large['rows_per_s']:,.0f} rows/s, {large['customer_messages']:,} customer messages"
                 if large else ""))
    tree = large or small
    rows.append((f"CLI process tree ≤ {t['cli_tree_mb']:.0f} MB",
                 f"{tree['tree_rss_mb']:.0f} MB" if tree and "tree_rss_mb" in tree else "–",
                 _ok(tree and tree.get("tree_rss_mb"), t["cli_tree_mb"]),
                 f"main {tree['main_rss_mb']:.0f} MB + workers {', '.join(f'{w:.0f}' for w in tree['worker_rss_mb'])} MB"
                 if tree and "tree_rss_mb" in tree else ""))
    if large and small and "tree_rss_mb" in large and "tree_rss_mb" in small:
        ratio = large["tree_rss_mb"] / small["tree_rss_mb"]
        rows.append((f"… flat from 100k to 1 M rows (≤ {t['cli_flat_ratio']}×)",
                     f"{small['tree_rss_mb']:.0f} → {large['tree_rss_mb']:.0f} MB: {ratio:.2f}×",
                     _ok(ratio, t["cli_flat_ratio"]), ""))
    spark = cli.get("spark") or {}
    conv = spark.get("conversations")
    rows.append((f"Spark per conversation ≥ {t['spark_conversation_mps']:,.0f} customer msg/s (`local[2]`)",
                 f"{conv['mps']:,.0f}" if conv else spark.get("status", "not run (--quick)"),
                 _ok(conv and conv["mps"], t["spark_conversation_mps"], below=False),
                 f"{ROWS_SMALL:,}-row log; per message {spark['messages']['mps']:,.0f}/s" if conv else ""))
    pin = r["pinned"]
    rows.append(("results unchanged (`to_dict()` of the corpus test split)",
                 f"{pin['changed']} of {pin['messages']:,} changed" if pin.get("status") == "ok" else pin["status"],
                 "✅" if pin.get("changed") == 0 else "❌", "floats within 1e-6 of the pin"))
    return rows


def render(r: dict[str, Any]) -> str:
    meta = r["meta"]
    lines = [f"Issue 11 targets, {time.strftime('%Y-%m-%d', time.localtime(meta['started']))}: "
             f"Python {meta['python']}, {meta['cpus']} CPUs, load average {meta['loadavg_before']:.2f} before, "
             f"{meta['loadavg_after']:.2f} after ({meta['elapsed_s'] / 60:.0f} min run).", "",
             "| target | measured | | note |", "|---|---:|:-:|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in verdicts(r)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 100,000-row CLI log only, no Spark")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the real benchmark data")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the JSON ({DEFAULT_JSON})")
    args = parser.parse_args(argv)
    started = time.time()
    loadavg = os.getloadavg()[0]
    # the fresh-process figures first, before this process grows
    print("cold start and peak RSS (fresh processes) ...", file=sys.stderr)
    cold = cold_start("cs_sentiment", 5)
    rss = run_worker("cs_sentiment", 1)["maxrss_mb"]
    print("per-call timings and floors ...", file=sys.stderr)
    calls = bench_calls(args.data)
    print(f"score_frame on {FRAME_MESSAGES:,} messages ...", file=sys.stderr)
    frame = bench_frame(FRAME_MESSAGES, 3)
    dedupe = bench_dedupe(FRAME_MESSAGES)
    pinned = pinned_unchanged()
    cli = bench_cli(args.quick)
    import cs_sentiment

    result: dict[str, Any] = {
        "benchmark": "targets", "targets": TARGETS, "calls": calls, "cold": cold, "rss_mb": rss, "frame": frame,
        "dedupe": dedupe, "pinned": pinned, "cli": cli,
        "meta": {"started": started, "quick": args.quick, "python": platform.python_version(),
                 "cpus": os.cpu_count(), "cs_sentiment_version": cs_sentiment.__version__,
                 "loadavg_before": loadavg, "loadavg_after": os.getloadavg()[0],
                 "elapsed_s": time.time() - started, "model": model_fingerprint()},
    }
    result["verdicts"] = [list(v) for v in verdicts(result)]
    publish(result, render(result), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

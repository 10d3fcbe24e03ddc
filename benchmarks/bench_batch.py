"""Throughput and memory of the batch paths: ``score_frame``, the ``cs-sentiment score`` CLI and Spark.

One run prints a Markdown table and writes ``benchmarks/results/batch.json``:

- ``score_frame`` on one core (this process): 10,000 *unique* short messages,
  context-free, messages per second (median of 3 runs, each on 10,000 other
  messages); for reference the bare ``Analyzer.analyze`` loop on the same
  messages, and ``score_frame`` with conversations (context from the earlier
  turns; agent rows not scored);
- the CLI (``cs-sentiment score``, i.e. ``score_file``) with ``--jobs 1`` and
  ``--jobs 2`` on a generated chat log of 100,000 rows and of ``--rows-large``
  rows (default 1,000,000): wall time, rows/s, customer messages/s, CPU time of
  the main process and of the workers, and the peak RSS of the process tree
  (VmHWM of the main process and of each worker, read from ``/proc`` while the
  CLI runs; ``/usr/bin/time -v`` as a cross-check), to show that memory stays
  flat as the file grows;
- local Spark (``local[2]``): ``score_messages`` (``mapInPandas``) and
  ``score_conversations`` (``applyInPandas``) on the 100,000-row log, when
  pyspark and Java are available (a note otherwise).

The chat logs are generated into a temporary folder and deleted at the end:
a ``conversation_id``, ``ts`` (ISO 8601, seconds), ``role`` (about a third
``agent``) and ``text`` column, conversations of 2–12 turns interleaved and the
file in time order, as a helpdesk export is. Every text is unique (the
messages of ``messages.py`` combined with an order or member number and a
few phrasings), because ``score_frame`` and ``score_file`` remember the results
of context-free repeats and a log of repeats would flatter them.

When the ``--jobs 1`` run of the large file would not fit in the run budget
(``--budget``, default 15 minutes, estimated from the 100,000-row rate), it is
skipped and the table says so.

Usage::

    python benchmarks/bench_batch.py                        # 100k and 1M rows (7-8 minutes on 2 CPUs)
    python benchmarks/bench_batch.py --quick                # 100k rows only (about 3 minutes)
    python benchmarks/bench_batch.py --rows-large 300000 --json /tmp/batch.json
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "batch.json"

sys.path.insert(0, str(HERE))
from bench_speed import _model_line, model_fingerprint, publish  # noqa: E402
from messages import MESSAGES, TRADITIONAL  # noqa: E402

#: Targets from issue 4 ("Speed").
TARGET_FRAME_MPS = 10_000.0
TARGET_CLI_LARGE_S = 120.0
TARGET_RSS_MB = 500.0

ROWS_SMALL = 100_000
FRAME_MESSAGES = 10_000
FRAME_RUNS = 3
#: Spark's start-up and two jobs, for the budget estimate.
SPARK_ESTIMATE_S = 150.0
#: How often the CLI's process tree is read.
POLL_S = 0.1

# Order / member numbers make every text unique: row i gets the number
# (i * 7919 + 1234567) mod 10**7 (7919 is prime, so no two rows below 10**7 share one).
_NUMBER_SPACE = 10**7
_SIMPLIFIED_FORMS = ("{m} 订单号{n}", "订单{n}：{m}", "{m}（单号{n}）", "{m} #{n}", "会员{n}：{m}")
_TRADITIONAL_FORMS = ("{m} 訂單編號{n}", "訂單{n}：{m}", "{m}（單號{n}）", "{m} #{n}", "會員{n}：{m}")
_AGENT_FORMS = ("您好，这边帮您查询一下订单{n}", "亲，已为您登记，工单号{n}", "抱歉让您久等了，{n}已加急处理",
                "請稍等，正在為您查詢{n}", "好的，已经帮您备注在{n}上了")
_TRADITIONAL_SET = frozenset(TRADITIONAL)


def _number(i: int) -> str:
    return f"{(i * 7919 + 1234567) % _NUMBER_SPACE:07d}"


def customer_text(i: int) -> str:
    """The ``i``-th generated customer message: a message of ``messages.py`` with a unique number.

    >>> customer_text(0) != customer_text(len(MESSAGES))
    True
    """
    m = MESSAGES[i % len(MESSAGES)]
    forms = _TRADITIONAL_FORMS if m in _TRADITIONAL_SET else _SIMPLIFIED_FORMS
    return forms[(i // len(MESSAGES)) % len(forms)].format(m=m, n=_number(i))


def agent_text(i: int) -> str:
    """The ``i``-th generated agent reply (unique too)."""
    return _AGENT_FORMS[i % len(_AGENT_FORMS)].format(n=_number(i))


def chat_log(rows: int, seed: int = 0, first: int = 0):
    """A generated chat log of ``rows`` rows as a DataFrame (see the module docs).

    ``first`` offsets the message numbers, so two logs share no text.
    """
    import numpy as np
    import pandas as pd

    if rows + first > _NUMBER_SPACE:
        raise ValueError(f"at most {_NUMBER_SPACE:,} generated rows")
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 13, size=rows // 2 + 2)
    ends = np.cumsum(sizes)
    k = int(np.searchsorted(ends, rows)) + 1
    sizes = sizes[:k].copy()
    sizes[-1] -= int(ends[k - 1]) - rows
    sizes = sizes[sizes > 0]
    k = len(sizes)
    conv = np.repeat(np.arange(k), sizes)
    firsts = np.cumsum(sizes) - sizes
    pos = np.arange(rows) - np.repeat(firsts, sizes)
    # Conversations start ~9 s apart (dozens open at once), turns 2 s to a few minutes apart.
    starts = np.sort(rng.uniform(0, 9.0 * k, k))
    gaps = np.where(pos == 0, 0.0, 2.0 + rng.exponential(40.0, rows))
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[firsts], sizes)
    epoch = 1_714_557_600 + starts[conv] + elapsed  # from 2024-05-01 10:00 UTC
    agent = (pos > 0) & (rng.random(rows) < 0.36)
    order = np.argsort(epoch, kind="stable")  # the export is in time order; conversations interleave
    conv, epoch, agent = conv[order], epoch[order], agent[order]
    texts: list[str] = []
    c = a = 0
    for is_agent in agent.tolist():
        if is_agent:
            texts.append(agent_text(first + a))
            a += 1
        else:
            texts.append(customer_text(first + c))
            c += 1
    df = pd.DataFrame({
        "conversation_id": [f"c{v:07d}" for v in conv.tolist()],
        "ts": np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s"),
        "role": np.where(agent, "agent", "customer"),
        "text": texts,
    })
    if not df["text"].is_unique:
        raise AssertionError("generated texts repeat")
    return df


# -- score_frame, in this process ------------------------------------------------------------------------------------
def bench_frame(n: int, runs: int) -> dict[str, Any]:
    """score_frame (context-free and with conversations) and the bare analyze loop, on unique messages."""
    import pandas as pd

    from cs_sentiment import Analyzer, score_frame

    busy0, own0, start = _busy_cpu_s(), _own_cpu_s(), time.perf_counter()
    analyzer = Analyzer.default()
    warm = pd.DataFrame({"text": [m[::-1] for m in MESSAGES]})  # other text: none of the timed messages
    score_frame(warm, analyzer=analyzer)
    out: dict[str, Any] = {"messages": n, "runs": runs, "frame": [], "analyze": [], "conversations": []}
    for r in range(runs):
        texts = [customer_text(i) for i in range(r * n, (r + 1) * n)]
        df = pd.DataFrame({"text": texts})
        gc.collect()
        load = os.getloadavg()[0]
        c0, t0 = time.process_time(), time.perf_counter()
        scored = score_frame(df, analyzer=analyzer)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if scored["error"].notna().any():
            raise RuntimeError(f"score_frame: {int(scored['error'].notna().sum())} rows with an error")
        out["frame"].append({"wall_s": wall, "cpu_s": cpu, "mps": n / wall, "loadavg": load})
        # The bare loop on messages it has not seen either (score_frame keeps no cache across calls).
        other = [customer_text(i) for i in range((runs + r) * n, (runs + r + 1) * n)]
        analyze = analyzer.analyze
        c0, t0 = time.process_time(), time.perf_counter()
        for t in other:
            analyze(t)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        out["analyze"].append({"wall_s": wall, "cpu_s": cpu, "mps": n / wall})
    # With conversations: a generated log with about n customer rows, texts not seen before.
    log_rows = int(n * 1.5)
    for r in range(runs):
        df = chat_log(log_rows, seed=100 + r, first=(2 * runs + 2 * r) * n)
        customers = int((df["role"] == "customer").sum())
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        scored = score_frame(df, conversation_col="conversation_id", time_col="ts", role_col="role",
                             analyzer=analyzer)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if scored["error"].notna().any():
            raise RuntimeError("score_frame with conversations: rows with an error")
        out["conversations"].append({"rows": log_rows, "customer_messages": customers, "wall_s": wall,
                                     "cpu_s": cpu, "mps": customers / wall, "rows_per_s": log_rows / wall})
    for key in ("frame", "analyze", "conversations"):
        out[key + "_median_mps"] = statistics.median(x["mps"] for x in out[key])
        out[key + "_median_cpu_mps"] = statistics.median(
            (x.get("customer_messages", n)) / x["cpu_s"] for x in out[key])
    busy1, own1 = _busy_cpu_s(), _own_cpu_s()
    if busy0 is not None and busy1 is not None:
        out["others_cores"] = max(0.0, (busy1 - busy0) - (own1 - own0)) / (time.perf_counter() - start)
    out["loadavg_before"] = out["frame"][0]["loadavg"]
    out["message_chars_median"] = statistics.median(len(customer_text(i)) for i in range(n))
    return out


# -- the CLI, in its own process tree --------------------------------------------------------------------------------
def _read_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS (kB) of a process, {} when it is gone."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    out[line[:5]] = int(line.split()[1])
    except (OSError, ValueError):
        return {}
    return out


def _read_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _busy_cpu_s() -> float | None:
    """CPU seconds the whole machine has been busy (all processes), from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            vals = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def _children(pid: int) -> list[int]:
    """Direct children of a process (all its threads': loky starts workers from a thread)."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            continue
    return kids


class TreeMonitor(threading.Thread):
    """Reads VmHWM, VmRSS and CPU time of a process and all its descendants every ``POLL_S``.

    VmHWM is each process's own high-water mark, so the last value read before
    a process exits is its peak (up to what it did in its last ``POLL_S``);
    the sum of VmRSS over the tree at each reading gives the peak of the tree
    at one moment.
    """

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.stop_event = threading.Event()
        self.procs: dict[int, dict[str, Any]] = {}
        self.parents: dict[int, int] = {}
        self.tree_rss_peak_kb = 0
        self.samples = 0
        self.available = os.path.exists(f"/proc/{root}/status")

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.poll()
            self.stop_event.wait(POLL_S)

    def poll(self) -> None:
        seen, stack, total = set(), [self.root], 0
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            status = _read_status(pid)
            if not status:
                continue
            info = self.procs.get(pid)
            if info is None:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
                except OSError:
                    cmd = ""
                info = self.procs[pid] = {"pid": pid, "cmd": cmd[:300], "hwm_kb": 0, "cpu_s": 0.0}
            info["hwm_kb"] = max(info["hwm_kb"], status.get("VmHWM", 0))
            cpu = _read_cpu(pid)
            if cpu is not None:
                info["cpu_s"] = max(info["cpu_s"], cpu)
            total += status.get("VmRSS", 0)
            for kid in _children(pid):
                self.parents[kid] = pid
                stack.append(kid)
        self.tree_rss_peak_kb = max(self.tree_rss_peak_kb, total)
        self.samples += 1

    def stop(self) -> None:
        self.stop_event.set()
        self.join()


def cli_command() -> list[str]:
    """The ``cs-sentiment`` console script of this interpreter's environment (or ``python -m``)."""
    script = Path(sys.executable).with_name("cs-sentiment")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cs_sentiment"]


_SUMMARY = re.compile(r"^(\d+) rows in ([\d.]+) s")
_TIME_V = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def run_cli(src: Path, out: Path, jobs: int, expect_rows: int) -> dict[str, Any]:
    """One ``cs-sentiment score`` run with conversations; wall time, CPU and memory of its process tree."""
    cmd = cli_command() + ["score", str(src), "--out", str(out), "--jobs", str(jobs),
                           "--conversation-col", "conversation_id", "--time-col", "ts", "--role-col", "role",
                           "--no-progress"]
    wrapper = ["/usr/bin/time", "-v"] if os.path.exists("/usr/bin/time") else []
    load = os.getloadavg()
    busy0, own0 = _busy_cpu_s(), _own_cpu_s()
    start = time.perf_counter()
    proc = subprocess.Popen(wrapper + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=src.parent)
    monitor = TreeMonitor(proc.pid)
    if monitor.available:
        monitor.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    if monitor.available:
        monitor.stop()
    busy1, own1 = _busy_cpu_s(), _own_cpu_s()
    if proc.returncode != 0:
        raise RuntimeError(f"cs-sentiment score --jobs {jobs} failed ({proc.returncode}): {stderr[-2000:]}")
    summary = next((m for m in map(_SUMMARY.match, stderr.splitlines()) if m), None)
    rows = int(summary.group(1)) if summary else None
    with open(out, "rb") as fh:
        digest = hashlib.sha256()
        lines = 0
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
            lines += block.count(b"\n")
    result: dict[str, Any] = {
        "jobs": jobs, "rows": expect_rows, "wall_s": wall, "rows_per_s": expect_rows / wall,
        "score_file_s": float(summary.group(2)) if summary else None, "summary_rows": rows,
        "output_lines": lines, "output_sha256": digest.hexdigest(), "loadavg_before": load,
        "summary": stderr.strip().splitlines()[-8:], "command": " ".join(cmd), "poll_s": POLL_S,
    }
    if rows != expect_rows or lines != expect_rows + 1:
        result["problem"] = f"expected {expect_rows} rows, summary says {rows}, output has {lines - 1}"
    time_v = _TIME_V.search(stderr)
    result["time_v_max_rss_mb"] = int(time_v.group(1)) / 1024 if time_v else None
    if monitor.available:
        procs = list(monitor.procs.values())
        main = _main_process(monitor, proc.pid, wrapped=bool(wrapper))
        rest = [p for p in procs if p is not main and p["pid"] != proc.pid]
        workers = [p for p in rest if "resource_tracker" not in p["cmd"]]
        others = [p for p in rest if "resource_tracker" in p["cmd"]]
        result.update(
            rss_source=f"VmHWM from /proc/<pid>/status, read every {POLL_S:.1f} s",
            main_rss_mb=main["hwm_kb"] / 1024 if main else None,
            main_cpu_s=main["cpu_s"] if main else None,
            workers=len(workers),
            worker_rss_mb=[p["hwm_kb"] / 1024 for p in workers],
            worker_cpu_s=[p["cpu_s"] for p in workers],
            other_rss_mb=[p["hwm_kb"] / 1024 for p in others],
            tree_rss_mb=sum(p["hwm_kb"] for p in [main, *workers, *others] if p) / 1024,
            tree_rss_sampled_mb=monitor.tree_rss_peak_kb / 1024,
            samples=monitor.samples,
        )
        if busy0 is not None and busy1 is not None:
            # CPU the rest of the machine used meanwhile, in cores: a quiet machine is ≈ 0.
            tree_cpu = sum(p["cpu_s"] for p in procs)
            others = max(0.0, (busy1 - busy0) - tree_cpu - (own1 - own0))
            result["others_cpu_s"] = others
            result["others_cores"] = others / wall
    return result


def _main_process(monitor: TreeMonitor, root: int, wrapped: bool) -> dict[str, Any] | None:
    """The CLI's own process: the root, or under ``/usr/bin/time`` the root's child."""
    if not wrapped:
        return monitor.procs.get(root)
    return next((p for pid, p in monitor.procs.items() if monitor.parents.get(pid) == root), None)


# -- Spark -----------------------------------------------------------------------------------------------------------
def bench_spark(src: Path, rows: int) -> dict[str, Any]:
    """score_messages and score_conversations on local[2], on the generated log at ``src``."""
    if importlib.util.find_spec("pyspark") is None:
        return {"status": "pyspark not installed"}
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return {"status": "no Java"}
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    import pandas as pd
    from pyspark.sql import SparkSession

    from cs_sentiment.spark import score_conversations, score_messages

    load = os.getloadavg()
    t0 = time.perf_counter()
    spark = (SparkSession.builder.master("local[2]").appName("cs_sentiment-bench")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
             .config("spark.ui.showConsoleProgress", "false").config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    out: dict[str, Any] = {"status": "ok", "rows": rows, "master": "local[2]", "loadavg_before": load,
                           "pyspark": spark.version, "session_start_s": time.perf_counter() - t0}
    try:
        df = (spark.read.option("header", True).option("escape", '"')
              .schema("conversation_id string, ts string, role string, text string").csv(str(src))
              .repartition(4).cache())
        n = df.count()
        customers = df.filter(df.role == "customer").count()
        if n != rows:
            raise RuntimeError(f"Spark read {n} rows, expected {rows}")
        # Warm-up: every Python worker loads its Analyzer before the timed jobs.
        warm = spark.createDataFrame(pd.DataFrame({"text": [m[::-1] for m in MESSAGES] * 4})).repartition(2)
        t0 = time.perf_counter()
        score_messages(warm).write.format("noop").mode("overwrite").save()
        out["warmup_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        score_messages(df, role_col="role").write.format("noop").mode("overwrite").save()
        wall = time.perf_counter() - t0
        out["messages"] = {"wall_s": wall, "rows_per_s": rows / wall, "customer_messages": customers,
                           "mps": customers / wall}
        t0 = time.perf_counter()
        score_conversations(df, conversation_col="conversation_id", time_col="ts", role_col="role") \
            .write.format("noop").mode("overwrite").save()
        wall = time.perf_counter() - t0
        out["conversations"] = {"wall_s": wall, "rows_per_s": rows / wall, "customer_messages": customers,
                                "mps": customers / wall,
                                "groups": df.select("conversation_id").distinct().count()}
    finally:
        spark.stop()
    return out


# -- the table -------------------------------------------------------------------------------------------------------
def _mb(x: float | None) -> str:
    return "" if x is None else f"{x:,.0f} MB"


def _cli_row(label: str, r: dict[str, Any]) -> str:
    customers = r.get("customer_messages")
    mps = f"{customers / r['wall_s']:,.0f}" if customers else ""
    workers = ", ".join(f"{x:,.0f}" for x in r.get("worker_rss_mb", [])) + " MB" if r.get("worker_rss_mb") else "–"
    wcpu = sum(r.get("worker_cpu_s", [])) if r.get("worker_cpu_s") else None
    cpu = f"{r['main_cpu_s']:.0f} s" if r.get("main_cpu_s") is not None else ""
    if wcpu is not None:
        cpu += f" / {wcpu:.0f} s"
    note = f"load {r['loadavg_before'][0]:.2f}"
    if r.get("others_cores") is not None:
        note += f"; others {r['others_cores']:.2f} CPU"
    if r.get("problem"):
        note += f"; ⚠ {r['problem']}"
    return (f"| {label} | {r['rows']:,} | {r['wall_s']:.1f} s | {r['rows_per_s']:,.0f} | {mps} | {cpu} "
            f"| {_mb(r.get('main_rss_mb'))} | {workers} | {_mb(r.get('tree_rss_mb'))} | {note} |")


def render(result: dict[str, Any]) -> str:
    f = result["frame"]
    cli = result["cli"]
    large = result["meta"]["rows_large"]
    rows = [
        "| path | rows | wall | rows/s | customer msgs/s | CPU main / workers | peak RSS main | workers | tree (sum) | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    fr = f["frame"]
    others = "" if f.get("others_cores") is None else f"; others {f['others_cores']:.2f} CPU"
    rows.append(f"| `score_frame`, 1 core, no context | {f['messages']:,} | "
                f"{statistics.median(x['wall_s'] for x in fr):.2f} s | | **{f['frame_median_mps']:,.0f}** | "
                f"{statistics.median(x['cpu_s'] for x in fr):.2f} s | | | | median of {f['runs']} runs; "
                f"CPU-time rate {f['frame_median_cpu_mps']:,.0f}/s; load {f['loadavg_before']:.2f}{others} |")
    rows.append(f"| `Analyzer.analyze` loop (reference) | {f['messages']:,} | "
                f"{statistics.median(x['wall_s'] for x in f['analyze']):.2f} s | | {f['analyze_median_mps']:,.0f} | "
                f"{statistics.median(x['cpu_s'] for x in f['analyze']):.2f} s | | | | same kind of messages |")
    conv = f["conversations"]
    rows.append(f"| `score_frame`, 1 core, with conversations | {conv[0]['rows']:,} | "
                f"{statistics.median(x['wall_s'] for x in conv):.2f} s | "
                f"{statistics.median(x['rows_per_s'] for x in conv):,.0f} | {f['conversations_median_mps']:,.0f} | "
                f"{statistics.median(x['cpu_s'] for x in conv):.2f} s | | | | "
                f"{conv[0]['customer_messages']:,} customer rows scored with context |")
    for key in ("small_1", "small_2", "large_1", "large_2"):
        r = cli.get(key)
        size = ROWS_SMALL if key.startswith("small") else large
        jobs = key[-1]
        label = f"CLI `--jobs {jobs}`, {size:,} rows"
        if r is None:
            continue
        if r.get("skipped"):
            rows.append(f"| {label} | {size:,} | skipped | | | | | | | {r['skipped']} |")
            continue
        rows.append(_cli_row(label, r))
    spark = result["spark"]
    if spark.get("status") != "ok":
        rows.append(f"| Spark `local[2]` | | skipped | | | | | | | {spark.get('status')} |")
    else:
        for key, label in (("messages", "`score_messages` (mapInPandas)"),
                           ("conversations", "`score_conversations` (applyInPandas)")):
            s = spark[key]
            rows.append(f"| Spark `local[2]` {label} | {spark['rows']:,} | {s['wall_s']:.1f} s | "
                        f"{s['rows_per_s']:,.0f} | {s['mps']:,.0f} | | | | | after warm-up; "
                        f"load {spark['loadavg_before'][0]:.2f} |")
    t = result["targets"]
    tv = result["target_values"]

    def mark(ok: bool | None) -> str:
        return "n/a" if ok is None else ("✅" if ok else "❌")

    big = cli.get("large_2") or {}
    rows.append(f"| **target** | | 1 M rows ≤ {tv['cli_large_s']:.0f} s (`--jobs 2`) | | "
                f"≥ {tv['frame_mps']:,.0f}/core (`score_frame`) | | | | < {tv['rss_mb']:.0f} MB at 1 M rows | |")
    big_wall = f" {big['wall_s']:.0f} s" if big.get("wall_s") else ""
    big_rss = ""
    if big.get("tree_rss_mb"):
        largest = max([big["main_rss_mb"], *big["worker_rss_mb"]])
        big_rss = (f" tree {big['tree_rss_mb']:.0f} MB; largest process {largest:.0f} MB "
                   f"{mark(t['rss_mb_per_process'])}")
    rows.append(f"| **met?** | | {mark(t['cli_large_s'])}{big_wall} | | "
                f"{mark(t['frame_mps'])} {f['frame_median_mps']:,.0f}/s | | | | {mark(t['rss_mb'])}{big_rss} | |")
    notes = ["", *result["notes"]]
    return "\n".join(rows + notes)


def _notes(result: dict[str, Any]) -> list[str]:
    meta, f, cli = result["meta"], result["frame"], result["cli"]
    logs = "; ".join(f"{g['rows']:,} rows = {g['conversations']:,} conversations, {g['mb']:.0f} MB CSV"
                     for g in (meta["log_small"], meta["log_large"]) if g)
    notes = [
        f"Messages: {f['messages']:,} unique generated texts per run (the {len(MESSAGES)} messages of "
        f"`messages.py` with an order/member number and 5 phrasings, median {f['message_chars_median']:.0f} "
        f"chars); no text repeats, so no cache helps. `score_frame` runs in this process after a warm-up on "
        f"other text; CPU time ≈ wall time means it used one core.",
        f"Chat logs (generated, deleted at the end): {logs}: conversations of 2–12 turns, interleaved, file in "
        f"time order, {meta['log_small']['agent_share']:.0%} agent rows (not scored; customer msgs/s counts the "
        f"scored rows). CLI: "
        f"`cs-sentiment score LOG --out OUT --jobs N --conversation-col conversation_id --time-col ts "
        f"--role-col role --no-progress` (default chunksize 50,000, indexing first pass on); wall time of the "
        f"whole process (start-up, model load in each worker, both passes, writing).",
        "Peak RSS: VmHWM of each process of the CLI's tree, read from /proc every "
        f"{POLL_S} s; **tree** = main + workers + loky's resource tracker (sum of their peaks, an upper "
        "bound of the tree at any one moment; the sampled simultaneous peak is in the JSON). CPU = user + "
        "system time of the main process / of all workers.",
        "Note column: **load** = 1-minute load average when the row started (it lags: right after a previous "
        "step of this script it still counts that step); **others** = CPU the rest of the machine used during "
        "the row (busy time from /proc/stat minus this script and the CLI's process tree), in cores: ≈ 0 on "
        "a quiet machine.",
    ]
    small, large = cli.get("small_1"), cli.get("large_1") or {}
    for jobs in ("1", "2"):
        s, g = cli.get(f"small_{jobs}") or {}, cli.get(f"large_{jobs}") or {}
        if s.get("tree_rss_mb") and g.get("tree_rss_mb"):
            notes.append(f"RSS 100k → {meta['rows_large']:,} rows, `--jobs {jobs}`: main {s['main_rss_mb']:.0f} → "
                         f"{g['main_rss_mb']:.0f} MB, tree {s['tree_rss_mb']:.0f} → {g['tree_rss_mb']:.0f} MB "
                         f"(×{g['tree_rss_mb'] / s['tree_rss_mb']:.2f} for ×{meta['rows_large'] / ROWS_SMALL:.0f} "
                         f"rows).")
    for key, r in cli.items():
        if r.get("worker_cpu_s"):
            busy = sum(r["worker_cpu_s"]) / (r["wall_s"] * len(r["worker_cpu_s"]))
            solo = cli.get(key[:-1] + "1") or {}
            line = (f"`--jobs 2`, {r['rows']:,} rows: the {len(r['worker_cpu_s'])} workers were busy {busy:.0%} of "
                    f"the wall time (CPU {sum(r['worker_cpu_s']):.0f} s in all); the main process (reading, "
                    f"conversation index and contexts, pickling, writing) used {r['main_cpu_s']:.0f} s CPU")
            if solo.get("wall_s"):
                line += f"; speed-up over `--jobs 1`: ×{solo['wall_s'] / r['wall_s']:.2f}"
            notes.append(line + ".")
    checks = []
    for key, r in cli.items():
        if r.get("time_v_max_rss_mb") and r.get("main_rss_mb"):
            biggest = max([r["main_rss_mb"], *r.get("worker_rss_mb", [])])
            checks.append(f"{key.replace('_', ' jobs ')}: {r['time_v_max_rss_mb']:.0f} vs {biggest:.0f} MB")
    if checks:
        notes.append("Cross-check, `/usr/bin/time -v` max RSS (largest single process of the tree) vs the largest "
                     "VmHWM read: " + "; ".join(checks) + ".")
    if small and cli.get("small_2") and not cli["small_2"].get("skipped"):
        same = small["output_sha256"] == cli["small_2"]["output_sha256"]
        notes.append(f"100k output with `--jobs 1` and `--jobs 2`: {'identical' if same else '⚠ DIFFERENT'} "
                     f"(SHA-256); every input row is in every output.")
    if large.get("skipped"):
        notes.append(f"`--jobs 1` on {meta['rows_large']:,} rows was not run: {large['skipped']}.")
    notes.append(f"Python {meta['python']}, {meta['cpus']} CPUs, load average {meta['loadavg_before'][0]:.2f} "
                 f"before the run; total {meta['elapsed_s']:.0f} s.")
    notes.append(_model_line(meta["model"]))
    return notes


# -- main ------------------------------------------------------------------------------------------------------------
def _log_meta(df: Any, path: Path) -> dict[str, Any]:
    return {"rows": len(df), "conversations": int(df["conversation_id"].nunique()),
            "customer_rows": int((df["role"] == "customer").sum()),
            "agent_share": float((df["role"] == "agent").mean()), "mb": path.stat().st_size / 2**20}


def write_log(rows: int, path: Path, seed: int) -> dict[str, Any]:
    """Generate a chat log of ``rows`` rows into ``path`` (CSV); returns its description."""
    df = chat_log(rows, seed=seed)
    df.to_csv(path, index=False)
    meta = _log_meta(df, path)
    del df
    gc.collect()
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-large", type=int, default=1_000_000,
                        help="rows of the large generated log (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="the 100,000-row log only")
    parser.add_argument("--budget", type=float, default=15.0,
                        help="minutes the whole run should take; the --jobs 1 run of the large log is skipped "
                             "when it would not fit (default 15)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the JSON ({DEFAULT_JSON})")
    args = parser.parse_args(argv)
    if not ROWS_SMALL < args.rows_large <= _NUMBER_SPACE:
        parser.error(f"--rows-large must be in ({ROWS_SMALL:,}, {_NUMBER_SPACE:,}]")

    started = time.perf_counter()
    loadavg = os.getloadavg()
    budget_s = args.budget * 60
    print(f"load average {loadavg[0]:.2f}; score_frame on {FRAME_MESSAGES:,} messages ...", file=sys.stderr)
    frame = bench_frame(FRAME_MESSAGES, FRAME_RUNS)

    cli: dict[str, Any] = {}
    meta_logs: dict[str, Any] = {"log_small": {}, "log_large": {}}
    spark: dict[str, Any] = {"status": "not run"}
    with tempfile.TemporaryDirectory(prefix="cs_sentiment_bench_") as tmp:
        folder = Path(tmp)
        small = folder / "chat_100k.csv"
        meta_logs["log_small"] = write_log(ROWS_SMALL, small, seed=1)
        for jobs in (1, 2):
            print(f"CLI --jobs {jobs} on {ROWS_SMALL:,} rows ...", file=sys.stderr)
            out = folder / f"scored_100k_{jobs}.csv"
            cli[f"small_{jobs}"] = run_cli(small, out, jobs, ROWS_SMALL)
            cli[f"small_{jobs}"]["customer_messages"] = meta_logs["log_small"]["customer_rows"]
            out.unlink()
        if not args.quick:
            large = folder / "chat_large.csv"
            meta_logs["log_large"] = write_log(args.rows_large, large, seed=2)
            print(f"CLI --jobs 2 on {args.rows_large:,} rows ...", file=sys.stderr)
            out = folder / "scored_large_2.csv"
            cli["large_2"] = run_cli(large, out, 2, args.rows_large)
            cli["large_2"]["customer_messages"] = meta_logs["log_large"]["customer_rows"]
            out.unlink()
            scale = args.rows_large / ROWS_SMALL
            estimate = cli["small_1"]["wall_s"] * scale * 1.05
            remaining = budget_s - (time.perf_counter() - started) - SPARK_ESTIMATE_S
            if estimate > remaining:
                cli["large_1"] = {"skipped": f"≈ {estimate:.0f} s at the 100k rate, over the "
                                             f"{args.budget:.0f}-minute budget ({max(remaining, 0):.0f} s left)",
                                  "estimate_s": estimate}
            else:
                print(f"CLI --jobs 1 on {args.rows_large:,} rows (≈ {estimate:.0f} s) ...", file=sys.stderr)
                out = folder / "scored_large_1.csv"
                cli["large_1"] = run_cli(large, out, 1, args.rows_large)
                cli["large_1"]["customer_messages"] = meta_logs["log_large"]["customer_rows"]
                out.unlink()
                if cli["large_1"]["output_sha256"] != cli["large_2"]["output_sha256"]:
                    cli["large_1"]["problem"] = "output differs from --jobs 2"
            large.unlink()
        print(f"Spark local[2] on {ROWS_SMALL:,} rows ...", file=sys.stderr)
        try:
            spark = bench_spark(small, ROWS_SMALL)
        except Exception as exc:  # noqa: BLE001 - a broken Spark set-up is a row of the table, not a crash
            spark = {"status": f"failed: {type(exc).__name__}: {exc}"[:200]}

    big = cli.get("large_2") or {}
    targets = {
        "frame_mps": frame["frame_median_mps"] >= TARGET_FRAME_MPS,
        "cli_large_s": None if "wall_s" not in big or args.rows_large != 1_000_000
        else big["wall_s"] <= TARGET_CLI_LARGE_S,
        "rss_mb": None if "tree_rss_mb" not in big or args.rows_large != 1_000_000
        else big["tree_rss_mb"] < TARGET_RSS_MB,
        "rss_mb_per_process": None if "tree_rss_mb" not in big or args.rows_large != 1_000_000
        else max([big["main_rss_mb"], *big["worker_rss_mb"]]) < TARGET_RSS_MB,
    }
    import cs_sentiment

    result: dict[str, Any] = {
        "benchmark": "batch",
        "targets": targets,
        "target_values": {"frame_mps": TARGET_FRAME_MPS, "cli_large_s": TARGET_CLI_LARGE_S,
                          "rss_mb": TARGET_RSS_MB},
        "frame": frame, "cli": cli, "spark": spark,
        "meta": {"quick": args.quick, "rows_small": ROWS_SMALL, "rows_large": args.rows_large,
                 **meta_logs, "python": platform.python_version(), "executable": sys.executable,
                 "cs_sentiment_version": cs_sentiment.__version__, "cpus": os.cpu_count(),
                 "loadavg_before": loadavg, "loadavg_after": os.getloadavg(), "model": model_fingerprint(),
                 "cli": cli_command(), "elapsed_s": time.perf_counter() - started},
    }
    result["notes"] = _notes(result)
    publish(result, render(result), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

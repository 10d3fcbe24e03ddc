"""Interrupting `cs-sentiment score`: nothing left behind, workers die with their parent (issue 8, item 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROWS = 60_000


def _log(folder: Path) -> Path:
    src = folder / "log.csv"
    lines = [f"{i},c{i % 500},2024-05-01T10:{i % 60:02d}:00,第{i}条：我的快递到底什么时候到？已经等了{i % 9}天" for i in range(ROWS)]
    src.write_text("id,conv,ts,text\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return src


def _start(src: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cs_sentiment", "score", str(src), "--out", str(out),
                             "--no-progress", *extra], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


def _wait_for(predicate, seconds: float = 60.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _parts(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.parametrize(("signals", "code"), [((signal.SIGTERM,), 143), ((signal.SIGINT,), 130),
                                                ((signal.SIGINT, signal.SIGINT), 130)])
def test_sigterm_or_ctrl_c_cleans_up_and_says_one_line(tmp_path, signals, code):
    src, out = _log(tmp_path), tmp_path / "out.csv"
    proc = _start(src, out)
    assert _wait_for(lambda: _parts(tmp_path))
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.05)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "cs-sentiment: interrupted"
    assert not _parts(tmp_path) and not out.exists()


def test_a_killed_run_leaves_a_part_file_that_the_next_run_removes(tmp_path):
    src, out = _log(tmp_path), tmp_path / "out.csv"
    proc = _start(src, out)
    assert _wait_for(lambda: _parts(tmp_path))
    proc.kill()
    proc.wait(timeout=30)
    assert _parts(tmp_path)  # SIGKILL cannot be handled
    small = tmp_path / "small.csv"
    small.write_text("text\n在吗\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "cs_sentiment", "score", str(small), "--out", str(out),
                           "--no-progress"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not _parts(tmp_path) and out.exists()


@pytest.mark.slow
def test_workers_die_with_a_killed_parent_and_leave_nothing_in_dev_shm(tmp_path):
    shm = Path("/dev/shm")
    before = set(os.listdir(shm)) if shm.is_dir() else set()
    src, out = _log(tmp_path), tmp_path / "out.csv"
    proc = _start(src, out, "--jobs", "2")
    def workers() -> list[int]:
        return [c for c in _children(proc.pid) if b"LokyProcess" in Path(f"/proc/{c}/cmdline").read_bytes()]

    assert _wait_for(lambda: len(workers()) == 2 and _parts(tmp_path), 120)
    started = _children(proc.pid)
    proc.kill()
    proc.wait(timeout=30)
    assert _wait_for(lambda: not [c for c in started if Path(f"/proc/{c}").exists()], 20), started
    def leftovers() -> list[str]:
        after = set(os.listdir(shm)) if shm.is_dir() else set()
        return [n for n in after - before if n.startswith(("joblib_memmapping_folder", "sem.loky"))]

    assert _wait_for(lambda: not leftovers(), 20), leftovers()


def test_an_interrupt_a_library_turns_into_its_own_error_is_still_an_interrupt(monkeypatch, capsys):
    # given: a command whose library catches the KeyboardInterrupt and raises an ImportError instead
    # (OpenCC's import does this when Ctrl-C lands while it loads)
    import os

    from cs_sentiment import cli

    def command(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            raise ImportError("opencc_clib not found") from None
        return 0

    monkeypatch.setitem(cli._COMMANDS, "analyze", command)
    # when (the CLI leaves later signals ignored on its way out: restore Ctrl-C for the test run)
    try:
        code = cli.main(["analyze", "在吗"])
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # then
    assert code == 130
    assert capsys.readouterr().err.strip() == "cs-sentiment: interrupted"

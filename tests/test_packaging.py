"""Packaging: the wheel carries the lexicons and the shipped model, and works from a fresh venv."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Runtime dependencies made visible to the fresh venv (numpy, jieba, opencc, pyahocorasick, emoji, scipy).
RUNTIME_MODULES = ("numpy", "jieba", "opencc", "ahocorasick", "emoji", "scipy")
#: Not copied to the build folder: version control, caches and earlier build output.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".ruff_cache", ".hypothesis", ".ipynb_checkpoints")


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONIOENCODING"] = "utf-8"
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _site_packages_of(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"{module} is not installed"
    origin = Path(spec.origin)
    return origin.parent.parent if origin.name == "__init__.py" else origin.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built without build isolation from a copy of the repository.

    The copy keeps the build's ``build/`` and ``*.egg-info`` folders out of the working tree.
    """
    root = tmp_path_factory.mktemp("build")
    source = root / "source"
    shutil.copytree(REPO_ROOT, source, ignore=NOT_SOURCES)
    out = root / "dist"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(out), str(source)], cwd=root, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)
    if done.returncode != 0:
        pytest.fail("pip wheel --no-build-isolation failed; it builds with this environment's setuptools, which "
                    "needs the build requirements of pyproject.toml (setuptools>=68 and wheel) installed here:\n"
                    f"{done.stdout}\n{done.stderr}")
    wheels = list(out.glob("cs_sentiment-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contains_the_lexicons_and_the_shipped_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    lexicons = {f"cs_sentiment/lexicons/{p.name}" for p in (REPO_ROOT / "data" / "lexicons").glob("*.tsv")}
    assert lexicons and lexicons <= names
    assert {"cs_sentiment/default_model/manifest.json", "cs_sentiment/default_model/weights.npz"} <= names
    manifest = json.loads((REPO_ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    assert {f"cs_sentiment/default_model/{name}" for name in manifest["files"]} <= names
    assert "cs_sentiment/py.typed" in names
    assert not any(name.startswith(("tests/", "data/", "models/")) for name in names)


def test_wheel_installs_into_a_fresh_venv_and_analyses_from_another_directory(wheel, tmp_path):
    # given a fresh venv that sees the runtime dependencies but not the editable install
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=tmp_path).stdout.strip()
    # a .pth inside an added directory is not processed, so the editable finder stays invisible
    deps = sorted({str(_site_packages_of(m)) for m in RUNTIME_MODULES})
    (Path(purelib) / "_cs_sentiment_test_deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    # when the wheel is installed and the package used from an unrelated folder
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    done = _run([str(python), "-c", "import cs_sentiment; print(cs_sentiment.__file__); "
                                    "print(cs_sentiment.analyze('太失望了').emotion)"], cwd=work)
    # then the installed copy answers, with its packaged lexicons and model
    file, emotion = done.stdout.splitlines()
    assert Path(file).resolve().is_relative_to(venv.resolve())
    assert emotion == "disappointed"
    assert done.stderr == ""

"""The shape of the package: imports only go down, no module over 600 lines, a lean base install.

:data:`LAYERS` is the package read bottom-up (the README's "Architecture"
section draws the same picture): a module may import only modules listed
before it. Importing a sibling inside a function is kept for the two places
that must stay light at start-up (the package ``__init__`` and the CLI).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "cs_sentiment"

#: The modules, lowest first. Each may import only modules before it.
LAYERS = [
    # leaves: no sibling imports
    "_version", "exceptions", "labels", "times", "priors", "classifier", "resources", "extras", "encodings",
    # text and context
    "normalize", "context",
    # the result types; the kinds of evidence and their rules; the lexicon files they read; the formulas
    "results", "cues", "lexicon", "scoring",
    # reading one message
    "tokenize", "openings", "features", "strategy", "persistence",
    # the analyzer wires them
    "analyzer",
    # what builds on one analysis
    "review", "conversation",
    # the row engine and what feeds or drains it
    "rows", "formats", "summary", "parallel", "frame",
    # runs
    "batch", "spark", "plots", "evaluation",
    # training (scikit-learn)
    "estimators", "training",
    # entry points
    "cli", "__init__", "__main__",
]
#: Modules allowed to import siblings inside functions (to keep start-up light).
LAZY_IMPORTERS = {"__init__", "cli"}
MAX_LINES = 600
#: What ``analyze()`` must run without.
HEAVY = ("sklearn", "scipy", "pandas", "pyarrow", "matplotlib", "joblib", "tqdm", "charset_normalizer", "pyspark")


#: Subpackages: one place in the layers each; their modules import one another freely.
SUBPACKAGES = ("formats",)


def _files() -> dict[str, list[Path]]:
    """The source files of each place in :data:`LAYERS` (a module, or a subpackage's modules)."""
    files = {p.stem: [p] for p in sorted(PACKAGE.glob("*.py"))}
    for name in SUBPACKAGES:
        files[name] = sorted((PACKAGE / name).glob("*.py"))
    return files


def _modules() -> dict[str, list[tuple[ast.Module, int]]]:
    """Per place in the layers: each source file's tree and the relative-import level of the package's top."""
    return {name: [(ast.parse(p.read_text(encoding="utf-8")), 1 if p.parent == PACKAGE else 2) for p in paths]
            for name, paths in _files().items()}


def _sibling_imports(files: list[tuple[ast.Module, int]]) -> list[tuple[str, bool]]:
    return [hit for tree, depth in files for hit in _tree_imports(tree, depth)]


def _tree_imports(tree: ast.Module, depth: int) -> list[tuple[str, bool]]:
    """(sibling module, imported at module level or under TYPE_CHECKING) for every import of a sibling.

    ``depth`` is the relative-import level of the package's top (2 inside a
    subpackage, whose level-1 imports stay inside it).
    """
    out: list[tuple[str, bool]] = []
    top_level = {id(node) for node in tree.body}
    type_checking = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_checking.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.Try):
            top_level.update(id(n) for n in node.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == depth:
                targets = [node.module] if node.module else [a.name for a in node.names]
            elif node.level == 0 and (node.module or "").startswith("cs_sentiment."):
                targets = [(node.module or "").split(".")[1]]
            else:
                continue
        elif isinstance(node, ast.Import):
            targets = [a.name.split(".")[1] for a in node.names if a.name.startswith("cs_sentiment.")]
        else:
            continue
        for target in targets:
            out.append((target, id(node) in top_level or id(node) in type_checking))
    return out


def test_every_module_has_its_place_in_the_layers():
    assert sorted(_modules()) == sorted(LAYERS)
    assert len(set(LAYERS)) == len(LAYERS)


def test_imports_only_go_down_so_there_is_no_cycle():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = [f"{module} imports {target}" for module, tree in _modules().items()
              for target, _ in _sibling_imports(tree) if rank[target] >= rank[module]]
    assert upward == []


def test_siblings_are_imported_at_the_top_except_where_start_up_must_stay_light():
    inner = [f"{module} imports {target} inside a function" for module, tree in _modules().items()
             if module not in LAZY_IMPORTERS for target, at_top in _sibling_imports(tree) if not at_top]
    assert inner == []


def test_no_module_is_longer_than_600_lines():
    long = {p.name: n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_extras_of_pyproject_are_the_ones_error_messages_name():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    from cs_sentiment.extras import EXTRAS

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    optional = project["optional-dependencies"]
    for extra, distributions in EXTRAS.items():
        named = {d.split(">")[0].split("[")[0].split(";")[0].strip() for d in optional[extra]}
        assert set(distributions) <= named | {"pandas", "pyarrow", "charset-normalizer", "tqdm", "joblib"}, extra
    base = {d.split(">")[0].split(";")[0].strip() for d in project["dependencies"]}
    assert base == {"numpy", "jieba", "rjieba", "opencc", "pyahocorasick", "emoji", "tomli"}


#: Runs in a fresh interpreter in which the heavy libraries cannot be imported.
_WITHOUT_EXTRAS = """
import importlib.abc, sys
HEAVY = {heavy!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
import cs_sentiment as c
a = c.analyze("东西坏了，太失望了！！")
conv = c.analyze_conversation(["在吗", {{"role": "agent", "text": "在的"}}, "东西坏了，怎么办"])
rv = c.review_reply("快递到哪了", "您好，包裹在上海中转，预计明天送达。")
from cs_sentiment.cli import main
assert main(["analyze", "你好"]) == 0
print("OK", a.emotion.value, len(conv.turns), rv.verdict)
for name in ("score_frame", "train"):
    try:
        getattr(c, name)
    except ImportError as exc:
        print("MISSING", name, exc)
print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] in HEAVY))
"""


def test_analyze_runs_without_any_extra_and_a_missing_extra_is_named(python_runner):
    # when
    result = python_runner(_WITHOUT_EXTRAS.format(heavy=HEAVY))
    # then
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("OK disappointed 2") or line.startswith("OK angry 2") for line in lines), lines
    assert "MISSING score_frame score_frame needs pandas, which comes with an extra: pip install " \
           "'cs-sentiment[batch]'" in lines
    assert any(line.startswith("MISSING train") and "cs-sentiment[train]" in line for line in lines), lines
    assert "LOADED []" in lines
    assert result.stderr == ""


def test_score_without_the_batch_extra_is_one_line_naming_it(python_runner, tmp_path):
    (tmp_path / "log.csv").write_text("text\n在吗\n", encoding="utf-8")
    code = _WITHOUT_EXTRAS.split("import cs_sentiment as c")[0] + (
        "from cs_sentiment.cli import main\n"
        f"raise SystemExit(main(['score', {str(tmp_path / 'log.csv')!r}, '--no-progress']))\n")
    result = python_runner(code.format(heavy=HEAVY))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "cs-sentiment: error: score_file needs pandas, which comes with an extra: pip install 'cs-sentiment[batch]'"]


@pytest.mark.parametrize("module", ["frame", "batch", "estimators", "training"])
def test_a_module_that_needs_an_extra_says_which(python_runner, module):
    code = _WITHOUT_EXTRAS.split("import cs_sentiment as c")[0] + (
        f"try:\n    import cs_sentiment.{module}\nexcept ImportError as exc:\n    print(type(exc).__name__, exc)\n")
    result = python_runner(code.format(heavy=HEAVY))
    assert result.stdout.startswith("MissingExtraError "), result.stdout + result.stderr
    assert "pip install 'cs-sentiment[" in result.stdout

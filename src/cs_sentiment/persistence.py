"""Models as data: save and load a model directory without pickle.

A model directory holds:

``manifest.json``
    ``format_version``, library and dependency versions, the classes, softmax
    temperatures and cue-feature names of each task, the intent → need map,
    the training-corpus hash, metrics, and the sha256 of every other file.
``vocabulary_<name>.json``
    Feature strings of one vectorizer, in column order.
``weights.npz``
    idf, coefficients and intercepts as plain arrays (read with
    ``allow_pickle=False``).
``manifest.sha256``
    The sha256 of ``manifest.json``'s bytes.

Loading checks the format version (:class:`IncompatibleModelError`) and every
checksum (:class:`ModelLoadError`), so a tampered or half-copied model is a
clear error. A joblib file of the user's own fitted estimators loads only with
``trust=True`` (pickle can run arbitrary code; scikit-learn's persistence docs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._version import __version__
from .classifier import Fusion, LinearHead, Vectorizer
from .cues import CUE_FEATURE_NAMES
from .exceptions import (
    IncompatibleModelError,
    ModelFormatError,
    ModelIntegrityError,
    ModelLoadError,
    UntrustedModelError,
)
from .extras import require
from .labels import NEED_BY_INTENT, Emotion, Need
from .resources import as_root, model_root

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; only annotations use it
    from importlib.resources.abc import Traversable

__all__ = ["FORMAT_VERSION", "CompiledModel", "load_model", "save_model"]

#: 2 adds the stacked fusion stage, the class priors and two cue features;
#: a version 1 directory needs retraining (``cs-sentiment train``).
FORMAT_VERSION = 3
#: Version 2 stored one feature spec for both heads; version 3 stores each head's own.
READABLE_VERSIONS = (2, 3)
MANIFEST = "manifest.json"
#: The sha256 of manifest.json's bytes, checked before the manifest is parsed.
SIGNATURE = "manifest.sha256"
WEIGHTS = "weights.npz"
#: Size limits of a model directory (ours: the shipped model is 5 MB, its manifest 5 KB).
MAX_MANIFEST_BYTES = 1 << 20
MAX_FILE_BYTES = 256 << 20
MAX_ARRAY_BYTES = 512 << 20
#: A file or vectorizer name of a model directory: plain, no path separators, no leading dot.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
#: Need and strategy behaviour of an intent the taxonomy does not know (a
#: company's own label): need ``service``, handled like ``other`` by the
#: strategy table. Override per intent with ``intent_map`` (see :func:`cs_sentiment.train`).
DEFAULT_UNKNOWN_INTENT = {"need": "service", "acts_as": "other"}


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """The two heads an :class:`~cs_sentiment.Analyzer` needs, plus their metadata."""

    emotion: LinearHead
    intent: LinearHead
    intent_map: dict[str, dict[str, str]] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def need_of(self, intent: str) -> Need:
        """Need of an intent: the taxonomy's, else ``intent_map``'s, else the documented default."""
        if intent in self.intent_map:
            return Need(self.intent_map[intent].get("need", DEFAULT_UNKNOWN_INTENT["need"]))
        return NEED_BY_INTENT.get(intent) or Need(DEFAULT_UNKNOWN_INTENT["need"])

    def acts_as(self, intent: str) -> str:
        """The taxonomy intent the strategy table treats ``intent`` as."""
        if intent in NEED_BY_INTENT:
            return intent
        return self.intent_map.get(intent, {}).get("acts_as", DEFAULT_UNKNOWN_INTENT["acts_as"])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(model: CompiledModel, directory: str | Path, *, overwrite: bool = False,
               extra_manifest: dict[str, Any] | None = None) -> Path:
    """Write ``model`` as a data-only model directory; returns its path.

    Raises
    ------
    FileExistsError
        ``directory`` already holds a model and ``overwrite`` is false.
    """

    directory = Path(directory)
    if (directory / MANIFEST).exists() and not overwrite:
        raise FileExistsError(f"{directory} already holds a model; pass overwrite=True to replace it")
    directory.mkdir(parents=True, exist_ok=True)
    vectorizers: dict[str, Vectorizer] = {}
    names: dict[str, str] = {}
    for task, head in (("emotion", model.emotion), ("intent", model.intent)):
        for name, vec in vectorizers.items():
            if vec.vocabulary == head.vectorizer.vocabulary and np.array_equal(vec.idf, head.vectorizer.idf):
                names[task] = name
                break
        else:
            names[task] = task
            vectorizers[task] = head.vectorizer
    arrays: dict[str, np.ndarray] = {}
    blobs: dict[str, bytes] = {}
    for name, vec in vectorizers.items():
        blobs[f"vocabulary_{name}.json"] = json.dumps(vec.features(), ensure_ascii=False).encode("utf-8")
        arrays[f"idf_{name}"] = vec.idf.astype(np.float64)
    tasks = {}
    for task, head in (("emotion", model.emotion), ("intent", model.intent)):
        arrays[f"{task}_coef"] = head.coef.astype(np.float32)
        arrays[f"{task}_intercept"] = head.intercept.astype(np.float64)
        if head.cue_coef is not None:
            arrays[f"{task}_cue_coef"] = head.cue_coef.astype(np.float64)
        if head.fusion is not None:
            arrays[f"{task}_fusion_coef"] = head.fusion.coef.astype(np.float64)
            arrays[f"{task}_fusion_intercept"] = head.fusion.intercept.astype(np.float64)
        tasks[task] = {
            "classes": list(head.classes),
            "temperature": head.temperature,
            "vectorizer": names[task],
            "sublinear_tf": head.vectorizer.sublinear_tf,
            "binary": head.vectorizer.binary,
            "uses_cues": head.cue_coef is not None or head.fusion is not None,
            "fusion": None if head.fusion is None else {"gates": list(head.fusion.gates)},
            "train_priors": [float(p) for p in head.train_priors()],
            "features": {"ngram_range": list(head.ngram_range), "use_words": head.use_words},
            "meta": head.meta,
        }
    buffer = _npz_bytes(arrays)
    blobs[WEIGHTS] = buffer

    manifest = {
        "format_version": FORMAT_VERSION,
        "library": "cs_sentiment",
        "library_version": __version__,
        "versions": _versions(),
        "features": {"cue_features": list(CUE_FEATURE_NAMES)},
        "tasks": tasks,
        "intent_map": model.intent_map,
        **{k: v for k, v in model.manifest.items() if k not in {"format_version", "files", "tasks", "features"}},
        **(extra_manifest or {}),
        "files": {name: _sha256(data) for name, data in sorted(blobs.items())},
    }
    for name, data in blobs.items():
        _atomic_write(directory / name, data)
    manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    _atomic_write(directory / MANIFEST, manifest_bytes)
    _atomic_write(directory / SIGNATURE, (_sha256(manifest_bytes) + "\n").encode("ascii"))
    return directory


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **dict(sorted(arrays.items())))  # type: ignore[arg-type]
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("numpy", "scikit-learn", "jieba", "opencc"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def load_model(directory: str | Path | Traversable | None = None, *, trust: bool = False) -> CompiledModel:
    """Load a model directory (default: the shipped model) without unpickling.

    A model directory is a trust boundary. Before anything is parsed, the
    manifest's own sha256 (``manifest.sha256``) is checked, then every file the
    manifest lists is read (only plain names inside the directory, each under
    :data:`MAX_FILE_BYTES`) and checked against its sha256. Then every field is
    validated: classes unique and matching the arrays, temperatures finite and
    > 0, priors positive, array shapes and dtypes as declared, no more than
    :data:`MAX_ARRAY_BYTES` of arrays once decompressed.

    A path to a ``.joblib`` file instead loads the user's own fitted
    ``{"emotion": EmotionClassifier, "intent": IntentClassifier}`` mapping,
    and only when ``trust=True``: unpickling can run arbitrary code, so load
    only files you made yourself.

    Raises
    ------
    ModelIntegrityError
        The manifest or a file does not match its sha256, or a file is missing.
    ModelFormatError
        A name, a field, an array or a size is not what a model has (the
        message names the file and the field).
    IncompatibleModelError
        The manifest's ``format_version`` is not one this library reads.
    UntrustedModelError
        A joblib file without ``trust=True``.
    """
    if directory is not None and str(directory).endswith((".joblib", ".pkl", ".pickle")):
        return _load_joblib(Path(str(directory)), trust)
    root = as_root(directory, model_root())
    where = str(root)
    manifest_file = root / MANIFEST
    if not manifest_file.is_file():
        raise ModelLoadError(f"no {MANIFEST} in {where}: not a cs_sentiment model directory")
    raw = _read_limited(root, MANIFEST, MAX_MANIFEST_BYTES)
    signature = root / SIGNATURE
    if not signature.is_file():
        raise ModelIntegrityError(f"{where}: no {SIGNATURE}, so {MANIFEST} cannot be verified (save it again with "
                                  "this cs_sentiment)")
    expected = _read_limited(root, SIGNATURE, 256).decode("ascii", "replace").strip()
    if _sha256(raw) != expected:
        raise ModelIntegrityError(f"{where}/{MANIFEST} does not match {SIGNATURE}: the manifest was altered")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{where}/{MANIFEST} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise ModelFormatError(f"{where}/{MANIFEST} must hold a JSON object")
    version = manifest.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise IncompatibleModelError(
            f"{where} has model format_version {version!r}; this cs_sentiment reads format_version "
            f"{' or '.join(map(str, READABLE_VERSIONS))}"
        )
    listed = _field(manifest, "files", dict, where)
    blobs = {}
    for name, digest in listed.items():
        if not isinstance(name, str) or not _SAFE_NAME.match(name) or name in (MANIFEST, SIGNATURE):
            raise ModelFormatError(f"{where}/{MANIFEST}: files lists {name!r}, which is not a plain file name "
                                   "of this directory")
        if not (root / name).is_file():
            raise ModelIntegrityError(f"missing model file {name} in {where}")
        data = _read_limited(root, name, MAX_FILE_BYTES)
        if not isinstance(digest, str) or _sha256(data) != digest:
            raise ModelIntegrityError(f"{where}/{name} does not match the sha256 in {MANIFEST}: the model was altered")
        blobs[name] = data
    if WEIGHTS not in blobs:
        raise ModelFormatError(f"{MANIFEST} in {where} lists no {WEIGHTS}")
    arrays = _read_arrays(blobs[WEIGHTS], f"{where}/{WEIGHTS}")
    features = _field(manifest, "features", dict, where)
    tasks = _field(manifest, "tasks", dict, where)
    vectorizers: dict[str, Vectorizer] = {}
    heads: dict[str, LinearHead] = {}
    for task in ("emotion", "intent"):
        spec = _field(tasks, task, dict, f"{where}/{MANIFEST} tasks")
        # format 2 kept one feature spec for both heads; format 3 keeps each head's own
        own = features if version == 2 else _field(spec, "features", dict, f"{where}/{MANIFEST} tasks.{task}")
        where_features = f"{where}/{MANIFEST}: " + ("features" if version == 2 else f"tasks.{task}.features")
        ngram_range, use_words = _feature_spec(own, where_features)
        head = _head(task, spec, arrays, blobs, vectorizers, f"{where}/{MANIFEST} tasks.{task}")
        heads[task] = dataclasses.replace(head, ngram_range=ngram_range, use_words=use_words)
    _check_emotions(heads["emotion"].classes, where)
    _check_cue_features(heads, features.get("cue_features"), where)
    intent_map = manifest.get("intent_map", {})
    if not isinstance(intent_map, dict):
        raise ModelFormatError(f"{where}/{MANIFEST}: intent_map must be an object")
    return CompiledModel(heads["emotion"], heads["intent"], intent_map, manifest)


def _feature_spec(features: dict[str, Any], where: str) -> tuple[tuple[int, int], bool]:
    ngram = features.get("ngram_range")
    if (not isinstance(ngram, list) or len(ngram) != 2 or not all(type(n) is int for n in ngram)
            or not 1 <= ngram[0] <= ngram[1] <= 6):
        raise ModelFormatError(f"{where}.ngram_range must be [low, high] with 1 <= low <= high <= 6, got {ngram!r}")
    use_words = features.get("use_words")
    if not isinstance(use_words, bool):
        raise ModelFormatError(f"{where}.use_words must be true or false, got {use_words!r}")
    return (ngram[0], ngram[1]), use_words


def _read_limited(root: Traversable, name: str, limit: int) -> bytes:
    """The bytes of ``root/name``, refused when over ``limit`` (before reading it all)."""
    resource = root / name
    if isinstance(resource, Path):
        try:
            size = resource.stat().st_size
        except OSError as exc:
            raise ModelIntegrityError(f"{resource}: {exc.strerror}") from None
        if size > limit:
            raise ModelFormatError(f"{resource} is {size:,} bytes; a model file is at most {limit:,}")
    with resource.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ModelFormatError(f"{root}/{name} is over {limit:,} bytes; a model file is at most {limit:,}")
    return data


def _read_arrays(blob: bytes, where: str) -> dict[str, np.ndarray]:
    """The arrays of ``weights.npz``: declared sizes checked before any is decompressed; numbers only."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            declared = sum(info.file_size for info in z.infolist())
    except zipfile.BadZipFile as exc:
        raise ModelFormatError(f"{where} is not an npz archive: {exc}") from None
    if declared > MAX_ARRAY_BYTES:
        raise ModelFormatError(f"{where} holds {declared:,} bytes of arrays once decompressed; at most "
                               f"{MAX_ARRAY_BYTES:,}")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError) as exc:
        raise ModelFormatError(f"{where} cannot be read as arrays: {exc}") from None
    for name, array in arrays.items():
        if array.dtype.kind != "f" or not np.isfinite(array).all():
            raise ModelFormatError(f"{where}: array {name} must hold finite floats, got dtype {array.dtype}")
    return arrays


def _field(mapping: dict, key: str, kind: type, where: str) -> Any:
    value = mapping.get(key)
    if not isinstance(value, kind):
        raise ModelFormatError(f"{where}: {key} must be a{'n' if kind is dict else ''} "
                               f"{'object' if kind is dict else kind.__name__}, got {type(value).__name__}")
    return value


def _array(arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...], where: str) -> np.ndarray:
    array = arrays.get(name)
    if array is None:
        raise ModelFormatError(f"{where}: weights.npz has no array {name}")
    if array.shape != shape:
        raise ModelFormatError(f"{where}: array {name} has shape {array.shape}, expected {shape}")
    return array


def _head(task: str, spec: dict, arrays: dict[str, np.ndarray], blobs: dict[str, bytes],
          vectorizers: dict[str, Vectorizer], where: str) -> LinearHead:
    """One head from its manifest entry, every field and array checked."""

    classes = spec.get("classes")
    if (not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) and c for c in classes)
            or len(set(classes)) != len(classes)):
        raise ModelFormatError(f"{where}.classes must be a list of at least two distinct labels, got {classes!r:.80}")
    k = len(classes)
    temperature = spec.get("temperature")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise ModelFormatError(f"{where}.temperature must be a finite number > 0, got {temperature!r}")
    for flag in ("sublinear_tf", "binary"):
        if not isinstance(spec.get(flag), bool):
            raise ModelFormatError(f"{where}.{flag} must be true or false, got {spec.get(flag)!r}")
    name = spec.get("vectorizer")
    if not isinstance(name, str) or not _SAFE_NAME.match(name):
        raise ModelFormatError(f"{where}.vectorizer must be a plain name, got {name!r:.80}")
    if name not in vectorizers:
        vocabulary_file = f"vocabulary_{name}.json"
        if vocabulary_file not in blobs:
            raise ModelFormatError(f"{where}.vectorizer: {vocabulary_file} is not among the manifest's files")
        try:
            features = json.loads(blobs[vocabulary_file].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelFormatError(f"{vocabulary_file} is not valid JSON: {exc}") from None
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features) \
                or len(set(features)) != len(features):
            raise ModelFormatError(f"{vocabulary_file} must be a list of distinct feature strings")
        idf = _array(arrays, f"idf_{name}", (len(features),), where)
        vectorizers[name] = Vectorizer({f: i for i, f in enumerate(features)}, idf.astype(np.float64),
                                       spec["sublinear_tf"], spec["binary"])
    vectorizer = vectorizers[name]
    n_features = len(vectorizer.vocabulary)
    coef = _array(arrays, f"{task}_coef", (n_features, k), where)
    intercept = _array(arrays, f"{task}_intercept", (k,), where)
    cue_coef = arrays.get(f"{task}_cue_coef")
    if cue_coef is not None:
        cue_coef = _array(arrays, f"{task}_cue_coef", (len(CUE_FEATURE_NAMES), k), where)
    fusion = None
    if spec.get("fusion") is not None:
        gates = spec["fusion"].get("gates") if isinstance(spec["fusion"], dict) else None
        m = len(CUE_FEATURE_NAMES)
        if not isinstance(gates, list) or not all(type(g) is int and 0 <= g < m for g in gates):
            raise ModelFormatError(f"{where}.fusion.gates must be a list of cue-feature indices, got {gates!r:.80}")
        fusion = Fusion(_array(arrays, f"{task}_fusion_coef", (k + m + k * len(gates), k), where),
                        _array(arrays, f"{task}_fusion_intercept", (k,), where), tuple(gates))
    priors = spec.get("train_priors")
    if priors is not None:
        if (not isinstance(priors, list) or len(priors) != k
                or not all(not isinstance(p, bool) and isinstance(p, (int, float)) and math.isfinite(p) and p > 0
                           for p in priors)):
            raise ModelFormatError(f"{where}.train_priors must be {k} positive numbers, got {priors!r:.80}")
        priors = np.asarray(priors, dtype=np.float64) / float(sum(priors))
    meta = spec.get("meta", {})
    return LinearHead(classes=tuple(classes), vectorizer=vectorizer, coef=coef.astype(np.float64),
                      intercept=intercept.astype(np.float64), cue_coef=cue_coef, temperature=float(temperature),
                      meta=meta if isinstance(meta, dict) else {}, fusion=fusion, priors=priors)


def _check_cue_features(heads: dict[str, LinearHead], names: Any, where: str) -> None:
    """The cue features a model was fitted on must be the ones this library computes, in order."""

    if not any(h.cue_coef is not None or h.fusion is not None for h in heads.values()):
        return
    if names != list(CUE_FEATURE_NAMES):
        raise IncompatibleModelError(
            f"model in {where} was fitted on cue features {names!r}; this cs_sentiment computes "
            f"{list(CUE_FEATURE_NAMES)}: retrain it with this version (cs-sentiment train)")


def _check_emotions(classes: tuple[str, ...], where: str) -> None:
    unknown = [c for c in classes if c not in {e.value for e in Emotion}]
    if unknown:
        raise ModelLoadError(f"emotion model in {where} has labels outside the taxonomy: {unknown}")


def _load_joblib(path: Path, trust: bool) -> CompiledModel:
    if not trust:
        raise UntrustedModelError(
            f"{path} is a pickle (joblib) file, which can run arbitrary code when loaded; "
            "pass trust=True only for a file you made yourself"
        )
    if not path.is_file():
        raise ModelLoadError(f"model file {path} not found")
    joblib = require("joblib", "train", "loading a pickled (joblib) model")
    obj = joblib.load(path)
    if not isinstance(obj, dict) or not {"emotion", "intent"} <= set(obj):
        raise ModelLoadError(f"{path} must hold a dict with fitted 'emotion' and 'intent' classifiers")
    emotion, intent = obj["emotion"].to_head(), obj["intent"].to_head()
    _check_emotions(emotion.classes, str(path))
    return CompiledModel(emotion, intent, dict(obj.get("intent_map", {})), {"source": str(path)})


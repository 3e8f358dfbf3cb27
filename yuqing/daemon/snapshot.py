"""The config files as last accepted: fingerprinted to notice edits, and copied into the data dir
so that crawl subprocesses read the config the daemon runs with, not a broken edit on disk."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ruamel.yaml import YAML

from config import resolve_data_dir

SUFFIXES = (".yaml", ".yml", ".txt")
KEEP = 3


def config_files(config_dir: Path) -> list[Path]:
    """The files that make up a configuration (YAML and word lists), sorted."""
    return sorted(
        p
        for p in config_dir.rglob("*")
        if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts and not p.name.startswith(".")
    )


def fingerprint(config_dir: Path) -> str:
    """A hash of the names and contents of the config files (a ``touch`` is not an edit)."""
    digest = hashlib.sha256()
    for path in config_files(config_dir):
        try:
            data = path.read_bytes()
        except OSError:
            continue  # removed while we looked: the next poll sees the new state
        digest.update(str(path.relative_to(config_dir)).encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def write_snapshot(config_dir: Path, run_dir: Path, print_: str) -> Path | None:
    """Copy the config files to ``run_dir/config-<fingerprint>`` (atomically) and prune old copies;
    ``None`` when the files changed since ``print_`` was taken (the next poll tries again)."""
    target = run_dir / f"config-{print_[:16]}"
    if not target.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".config-", dir=run_dir))
        for path in config_files(config_dir):
            dest = tmp / path.relative_to(config_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        if fingerprint(tmp) != print_:
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        try:
            os.rename(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another daemon wrote the same snapshot
    old = sorted((p for p in run_dir.glob("config-*") if p != target), key=lambda p: p.stat().st_mtime)
    for path in old[:-KEEP] if len(old) > KEEP else []:
        shutil.rmtree(path, ignore_errors=True)
    os.utime(target)
    return target


def settings_data_dir(config_dir: Path, environ: Mapping[str, str]) -> Path:
    """The data dir a config dir points at, read leniently (the rest of the config may be broken):
    ``YUQING_DATA_DIR``, else ``data_dir`` of settings.yaml if that much parses, else the default."""
    if environ.get("YUQING_DATA_DIR"):
        return Path(environ["YUQING_DATA_DIR"]).expanduser().resolve()
    try:
        settings = YAML(typ="safe").load((config_dir / "settings.yaml").read_text(encoding="utf-8"))
        value = settings.get("data_dir") if isinstance(settings, dict) else None
    except Exception:  # noqa: BLE001 - a broken file just means: use the default
        value = None
    return resolve_data_dir(config_dir, value if isinstance(value, str) else None, environ)


def last_accepted(config_dir: Path, environ: Mapping[str, str]) -> tuple[Path, Path] | None:
    """The newest snapshot a daemon accepted for this config dir's data dir, and that data dir."""
    data_dir = settings_data_dir(config_dir, environ)
    snapshots = sorted((data_dir / "run").glob("config-*"), key=lambda p: p.stat().st_mtime)
    return (snapshots[-1], data_dir) if snapshots else None

"""Helpers for tests that plant mistakes in a copy of the shipped config and read the errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_config
from yuqing.base.errors import ConfigError


def errors_of(config_dir: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(config_dir, environ or {})
    return [str(issue) for issue in info.value.issues]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_no(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")

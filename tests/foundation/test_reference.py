"""docs/CONFIG.md is generated from the config models and must stay in step with them."""

from __future__ import annotations

from pathlib import Path

from config.reference import render

REPO = Path(__file__).resolve().parents[2]


def test_config_reference_is_current() -> None:
    committed = (REPO / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/CONFIG.md is stale: run `python -m config.reference > docs/CONFIG.md`"

"""Fixtures of the analysis tests: the shipped topics, a segmenter and compiled rules."""

from __future__ import annotations

import pytest

from config import SHIPPED_DIR, load_config
from nlp.rules import RuleSet, compile_topics
from nlp.segment import Segmenter, segmenter_for


@pytest.fixture(scope="session")
def shipped_topics():  # type: ignore[no-untyped-def]
    return load_config(SHIPPED_DIR, environ={}).topics


@pytest.fixture(scope="session")
def segmenter(shipped_topics) -> Segmenter:  # type: ignore[no-untyped-def]
    return segmenter_for(shipped_topics)


@pytest.fixture(scope="session")
def ruleset(shipped_topics, segmenter: Segmenter) -> RuleSet:  # type: ignore[no-untyped-def]
    return compile_topics(shipped_topics, segmenter.normalize)

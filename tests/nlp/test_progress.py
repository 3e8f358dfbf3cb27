"""The analysis and training stages report their progress through the callback they are given."""

from __future__ import annotations

from nlp.job import ANALYSING, run_analysis
from nlp.modelstore import FITTING
from nlp.segment import Segmenter
from nlp.training import TrainingData, fit_sentiment
from yuqing.base.progress import counted

from .test_job import NOW, POSTS, insert


def test_analysis_reports_posts_done_out_of_those_pending(app) -> None:  # type: ignore[no-untyped-def]
    insert(app)
    calls: list[tuple[str, int, int | None]] = []
    stats = run_analysis(app, NOW, progress=lambda *call: calls.append(call))
    assert calls[0] == (ANALYSING, 0, len(POSTS))
    assert calls[-1] == (ANALYSING, stats.analyzed + stats.errors, len(POSTS)) == (ANALYSING, 5, 5)
    calls.clear()
    run_analysis(app, NOW, progress=lambda *call: calls.append(call))
    assert calls == [(ANALYSING, 0, 0)]  # nothing pending the second time


def test_training_reports_segmenting_then_fitting(segmenter: Segmenter) -> None:
    calls: list[tuple[str, int, int | None]] = []
    texts = ["派出所民警推搡群众，太气愤了"] * 150 + ["法院依法公开审理案件，程序规范"] * 150
    data = TrainingData(texts, [1] * 150 + [0] * 150, "mine.csv")
    fit_sentiment(segmenter, data, with_default=False, progress=lambda *call: calls.append(call))
    segmenting = [c for c in calls if c[0] == "segmenting texts"]
    assert segmenting[0] == ("segmenting texts", 0, 300) and segmenting[-1] == ("segmenting texts", 300, 300)
    assert calls[-2:] == [(FITTING, 0, None), (FITTING, 1, 1)]


def test_counted_reports_an_unsized_stream_at_its_end() -> None:
    calls: list[tuple[str, int, int | None]] = []
    assert list(counted(iter(range(250)), "reading", lambda *c: calls.append(c))) == list(range(250))
    assert calls == [("reading", 0, None), ("reading", 100, None), ("reading", 200, None), ("reading", 250, 250)]

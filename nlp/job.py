"""The analysis job: analyse new posts (and recent ones whose rules or model changed) in batches,
writing analyses, post_topics, events and fingerprints. One transaction per batch, so a killed run
resumes where it stopped; running it again changes nothing (idempotent).

Entry point for the daemon: ``run_analysis(app, now) -> AnalysisStats``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from config import Config
from nlp.analyzer import Analyzer, PostAnalysis
from nlp.corrections import apply_correction
from nlp.events import BANDS, EventState, best_candidate, new_event
from nlp.labels import DUE, corrections, topic_labels
from nlp.modelstore import ensure_model
from nlp.places import load_gazetteer
from nlp.relevance import train_relevance
from nlp.risk import GROWTH_HOURS, RiskInput, risk_level, risk_score
from nlp.rules import RuleSet, TopicMatch, compile_topics, expression_terms
from nlp.searchindex import index_terms
from nlp.segment import Segmenter, segmenter_for
from nlp.sentiment import doc_words
from nlp.stance import build_stance
from storage.context import AppContext
from storage.db import require_current
from storage.models import AnalysisRow, EventRow, FingerprintRow, PostRow, PostTopicRow, PostWordRow
from storage.search import index_words
from yuqing.base.progress import Progress

log = logging.getLogger(__name__)

ANALYSING = "analysing posts"


@dataclass
class AnalysisStats:
    """Counts of one run of the analysis job."""

    analyzed: int = 0
    new: int = 0
    reanalyzed: int = 0
    relevant: int = 0
    negative: int = 0
    events_created: int = 0
    errors: int = 0
    batches: int = 0
    seconds: float = 0.0
    rules_version: str = ""
    model_version: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_segmenter(config: Config) -> Segmenter:
    settings = config.settings.analysis
    return segmenter_for(
        config.topics,
        backend=settings.segmenter,
        to_simplified=settings.to_simplified,
        extra_words=expression_terms(config.topics),
    )


def build_analyzer(
    config: Config, session: Session, segmenter: Segmenter | None = None, progress: Progress | None = None
) -> Analyzer:
    """Segmenter, rules, the current sentiment model (built on first use) and learned relevance."""
    settings = config.settings.analysis
    seg = segmenter or build_segmenter(config)
    rules = compile_topics(config.topics, seg.normalize)
    analyzer = Analyzer(
        seg,
        rules,
        ensure_model(config.models_dir, seg, progress),
        negative_threshold=settings.negative_threshold,
        reason_terms=settings.reason_terms,
        stance=build_stance(config.topics, seg.normalize),
        gazetteer=load_gazetteer(),
    )
    labels = topic_labels(session, analyzer.post_document, rules, seg.normalize)
    analyzer.relevance = train_relevance(labels, settings.relevance_prior)
    return analyzer


def _due(analyzer: Analyzer, cutoff: datetime) -> Any:
    """Never analysed, marked due (labelled since, whatever their age: see ``nlp.labels.DUE``), or
    analysed with other rules/model and fetched since cutoff."""
    stale = and_(
        or_(AnalysisRow.rules_version != analyzer.rules.version, AnalysisRow.model_version != analyzer.model_version),
        PostRow.fetched_at >= cutoff,
    )
    return or_(AnalysisRow.post_id.is_(None), stale, AnalysisRow.rules_version == DUE)


def count_pending(session: Session, analyzer: Analyzer, cutoff: datetime) -> int:
    """How many posts the analysis job has to do (for its progress)."""
    stmt = select(func.count()).select_from(PostRow).outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
    return int(session.scalar(stmt.where(_due(analyzer, cutoff))) or 0)


def pending(session: Session, analyzer: Analyzer, after_id: int, limit: int, cutoff: datetime) -> list[Any]:
    """The next posts (by id) that are due (see ``_due``)."""
    stmt = (
        select(PostRow, AnalysisRow)
        .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
        .where(PostRow.id > after_id, _due(analyzer, cutoff))
        .order_by(PostRow.id)
        .limit(limit)
    )
    return list(session.execute(stmt).all())


SIMILAR = (
    select(FingerprintRow.post_id, func.count())
    .where(
        or_(
            *[and_(FingerprintRow.band == band, FingerprintRow.value == bindparam(f"v{band}")) for band in range(BANDS)]
        ),
        FingerprintRow.post_id != bindparam("post_id"),
    )
    .group_by(FingerprintRow.post_id)
)
"""One statement, compiled once: 16 (band, value) index probes."""


def similar_posts(session: Session, keys: list[int], post_id: int) -> dict[int, int]:
    """Stored posts sharing band keys with ``keys``: post id → number of shared bands (index lookups)."""
    params = {f"v{band}": value for band, value in enumerate(keys)}
    return {pid: n for pid, n in session.execute(SIMILAR, {**params, "post_id": post_id}).all()}


def store_fingerprint(session: Session, post_id: int, keys: list[int] | None) -> None:
    session.execute(delete(FingerprintRow).where(FingerprintRow.post_id == post_id))
    if keys:
        session.execute(
            insert(FingerprintRow), [{"post_id": post_id, "band": b, "value": v} for b, v in enumerate(keys)]
        )


def seen_at(post: PostRow) -> datetime:
    return post.published_at or post.fetched_at


def engagement(post: PostRow) -> int:
    return sum(v for v in (post.views, post.likes, post.reposts, post.comments) if v)


def event_state(event: EventRow) -> EventState:
    extras = event.extras or {}
    return EventState(
        event.first_seen,
        event.last_seen,
        event.post_count,
        set(extras.get("sources", [])),
        event.representative_post_id,
        int(extras.get("representative_engagement", -1)),
        dict(extras.get("hourly", {})),
    )


def write_state(event: EventRow, state: EventState, now: datetime) -> None:
    state.prune(now)
    event.first_seen, event.last_seen = state.first_seen, state.last_seen
    event.post_count, event.source_count = state.post_count, len(state.sources)
    event.representative_post_id = state.representative
    event.extras = {
        **(event.extras or {}),
        "sources": sorted(state.sources),
        "hourly": state.hourly,
        "representative_engagement": state.representative_engagement,
    }


def assign_event(
    session: Session, post: PostRow, old: AnalysisRow | None, result: PostAnalysis, now: datetime, stats: AnalysisStats
) -> EventRow:
    """The post's event: kept on re-analysis, else the event of its nearest duplicate, else a new one."""
    if old is not None and old.event_id is not None:
        event = session.get(EventRow, old.event_id)
        if event is not None:
            return event
    event = None
    if result.fingerprint:
        candidate = best_candidate(similar_posts(session, result.fingerprint, post.id))
        if candidate is not None:
            event_id = session.scalar(select(AnalysisRow.event_id).where(AnalysisRow.post_id == candidate))
            event = session.get(EventRow, event_id) if event_id is not None else None
    store_fingerprint(session, post.id, result.fingerprint)
    seen = seen_at(post)
    if event is None:
        state = new_event(post.id, post.source_id, seen, engagement(post))
        event = EventRow(title=(post.title or post.text)[:200], first_seen=seen, last_seen=seen, extras={})
        session.add(event)
        stats.events_created += 1
    else:
        state = event_state(event)
        state.add(post.id, post.source_id, seen, engagement(post))
    if state.representative == post.id:
        event.title = (post.title or post.text)[:200]
    write_state(event, state, now)
    session.flush()
    return event


def others_risk(session: Session, event_id: int, post_id: int) -> float:
    """The highest risk among the event's other posts: an event is as risky as its riskiest post, so
    a corrected post lowers its event's risk too."""
    stmt = select(func.max(AnalysisRow.risk_score)).where(
        AnalysisRow.event_id == event_id, AnalysisRow.post_id != post_id
    )
    return float(session.scalar(stmt) or 0.0)


def save_post(
    session: Session,
    analyzer: Analyzer,
    config: Config,
    post: PostRow,
    old: AnalysisRow | None,
    result: PostAnalysis,
    now: datetime,
    stats: AnalysisStats,
) -> None:
    """Write one post's analysis, topics, fingerprint and event (inside the batch transaction)."""
    event = assign_event(session, post, old, result, now, stats)
    state = event_state(event)
    score = risk_score(
        RiskInput(
            result.negative_score,
            result.negative,
            result.topic_weight(analyzer.rules),
            state.post_count,
            len(state.sources),
            state.recent(now, GROWTH_HOURS),
            post.views,
            post.likes,
            post.reposts,
            post.comments,
        )
    )
    thresholds = config.alerts.risk.thresholds
    event.risk_score = max(others_risk(session, event.id, post.id), score)
    event.risk_level = risk_level(event.risk_score, thresholds)
    row = old or AnalysisRow(post_id=post.id)
    row.analyzed_at, row.relevant, row.topics = now, result.relevant, result.topics_json()
    row.negative_score, row.negative, row.reasons = result.negative_score, result.negative, result.reasons
    row.risk_score, row.risk_level, row.event_id = score, risk_level(score, thresholds), event.id
    row.rules_version, row.model_version = analyzer.rules.version, analyzer.model_version
    row.places = result.places
    if old is None:
        session.add(row)
    session.execute(delete(PostTopicRow).where(PostTopicRow.post_id == post.id))
    session.execute(delete(PostWordRow).where(PostWordRow.post_id == post.id))
    if result.relevant:
        session.add_all(PostWordRow(post_id=post.id, word=word) for word in result.words)
    index_words(session, [(post.id, index_terms(analyzer.segmenter, doc_words(result.doc)))])
    for match in result.topics:
        session.add(
            PostTopicRow(
                post_id=post.id,
                topic_id=match.topic,
                terms=match.terms,
                relevance=result.relevance.get(match.topic, 1.0),
            )
        )
    stats.new += old is None
    stats.reanalyzed += old is not None
    stats.relevant += result.relevant
    stats.negative += result.negative


def analyze_rows(analyzer: Analyzer, rows: list[Any]) -> list[PostAnalysis | None]:
    """Analyse a batch at once; if that fails, post by post so one bad post loses only itself."""
    try:
        return list(analyzer.analyze([(post.title, post.text) for post, _ in rows]))
    except Exception:  # noqa: BLE001 - isolate the failing post below
        out: list[PostAnalysis | None] = []
        for post, _ in rows:
            try:
                out.append(analyzer.analyze([(post.title, post.text)])[0])
            except Exception:  # noqa: BLE001 - crawled text is hostile; log and go on
                log.exception("analysis of post %s failed", post.id)
                out.append(None)
        return out


def rematch(rules: RuleSet, normalize: Callable[[str], str], post: PostRow) -> list[TopicMatch]:
    """The rules' topics of a stored post (before learned relevance)."""
    return rules.match(normalize(post.title or ""), normalize(post.text or ""))


def corrected(
    session: Session, analyzer: Analyzer, rows: list[Any], results: list[PostAnalysis | None]
) -> list[PostAnalysis | None]:
    """The batch's results with each labelled post's own labels applied (nlp.corrections)."""
    labels = corrections(session, [post.id for post, _ in rows])
    normalize, rules = analyzer.segmenter.normalize, analyzer.rules
    out: list[PostAnalysis | None] = []
    for (post, _), result in zip(rows, results):
        if result is None or post.id not in labels:
            out.append(result)
            continue
        out.append(apply_correction(result, labels[post.id], partial(rematch, rules, normalize, post)))
    return out


def analyse_and_store(
    session: Session, analyzer: Analyzer, config: Config, rows: list[Any], now: datetime, stats: AnalysisStats
) -> None:
    """Analyse these (post, old analysis) rows, apply analysts' corrections and store the results; a post
    the analyser fails on is counted as an error and the rest go on."""
    for (post, old), result in zip(rows, corrected(session, analyzer, rows, analyze_rows(analyzer, rows))):
        if result is None:
            stats.errors += 1
            continue
        save_post(session, analyzer, config, post, old, result, now, stats)
        stats.analyzed += 1


def run_batches(
    sessions: sessionmaker[Session],
    analyzer: Analyzer,
    config: Config,
    now: datetime,
    stats: AnalysisStats,
    limit: int | None = None,
    progress: Progress | None = None,
) -> None:
    """Process batches until nothing is pending (or ``limit`` posts are done); commit each batch."""
    settings = config.settings.analysis
    cutoff = now - timedelta(days=settings.reanalyze_days)
    last_id = 0
    total = None
    if progress:
        with sessions() as session:
            found = count_pending(session, analyzer, cutoff)
        total = found if limit is None else min(found, limit)
        progress(ANALYSING, 0, total)
    while limit is None or stats.analyzed + stats.errors < limit:
        size = settings.batch_size if limit is None else min(settings.batch_size, limit - stats.analyzed - stats.errors)
        with sessions.begin() as session:
            rows = pending(session, analyzer, last_id, size, cutoff)
            if not rows:
                return
            last_id = rows[-1][0].id
            analyse_and_store(session, analyzer, config, rows, now, stats)
        stats.batches += 1
        if progress:
            progress(ANALYSING, stats.analyzed + stats.errors, total)


def analyse_posts(
    sessions: sessionmaker[Session], analyzer: Analyzer, config: Config, post_ids: list[int], now: datetime
) -> AnalysisStats:
    """Analyse these posts again now (an analyst's label takes effect at once in the console), in one
    transaction, exactly as the job would."""
    stats = AnalysisStats(rules_version=analyzer.rules.version, model_version=analyzer.model_version)
    with sessions.begin() as session:
        stmt = (
            select(PostRow, AnalysisRow)
            .outerjoin(AnalysisRow, AnalysisRow.post_id == PostRow.id)
            .where(PostRow.id.in_(post_ids))
            .order_by(PostRow.id)
        )
        analyse_and_store(session, analyzer, config, list(session.execute(stmt).all()), now, stats)
    return stats


def run_analysis(
    app: AppContext,
    now: datetime,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
    analyzer: Analyzer | None = None,
) -> AnalysisStats:
    """Analyse what is pending (new posts, and recent ones whose rules or model changed)."""
    started = time.perf_counter()
    require_current(app.engine)
    config = app.config
    if analyzer is None:
        with app.sessions() as session:
            analyzer = build_analyzer(config, session, progress=progress)
    stats = AnalysisStats(rules_version=analyzer.rules.version, model_version=analyzer.model_version)
    run_batches(app.sessions, analyzer, config, now, stats, limit, progress)
    stats.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "analysis: %d analysed (%d new, %d again), %d relevant, %d negative, %d new events, %d errors in %.1fs",
        stats.analyzed,
        stats.new,
        stats.reanalyzed,
        stats.relevant,
        stats.negative,
        stats.events_created,
        stats.errors,
        stats.seconds,
    )
    return stats

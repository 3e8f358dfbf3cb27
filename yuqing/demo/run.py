"""``yuqing demo``: the whole pipeline once, offline, on the local demo site: collect → analyse →
alerts and the digest into an outbox, with a summary an evaluator can read in a minute."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from config import SHIPPED_DIR
from storage.context import AppContext
from storage.db import upgrade
from storage.models import AnalysisRow, DeliveryRow, EventRow, PostRow
from storage.users import add_user, new_password

DEMO_FILES = ("settings.yaml", "sources.yaml", "alerts.yaml")


@dataclass
class DemoResult:
    """What one demo run did, for the summary."""

    crawls: list[dict[str, Any]] = field(default_factory=list)
    posts: int = 0
    relevant: int = 0
    negative: int = 0
    high_risk: int = 0
    events: int = 0
    merged_events: int = 0
    alerts: int = 0
    digests: int = 0
    outbox: Path | None = None
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def write_config(data_dir: Path, base: str) -> Path:
    """The demo's config directory: its own settings, sources on ``base`` and recipients, and the
    shipped topics."""
    config_dir = data_dir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    values = {"data_dir": str(data_dir), "base": base}
    for name in DEMO_FILES:
        text = files("yuqing.demo").joinpath("config", name).read_text(encoding="utf-8")
        (config_dir / name).write_text(text.format(**values) if name != "alerts.yaml" else text, encoding="utf-8")
    shutil.copy(SHIPPED_DIR / "topics.yaml", config_dir / "topics.yaml")
    return config_dir


# the environment's data dir, database and mail transport are the admin's, not the demo's
NOT_FOR_THE_DEMO = ("YUQING_DATA_DIR", "YUQING_DATABASE_URL", "YUQING_MAIL_TRANSPORT", "YUQING_CONFIG_DIR")


def demo_environ(data_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the demo and its crawls: the explicit data dir wins over the
    environment's (``YUQING_DATA_DIR``), and the demo never writes to the admin's database or mail."""
    kept = {k: v for k, v in environ.items() if k not in NOT_FOR_THE_DEMO}
    return {**kept, "YUQING_DATA_DIR": str(data_dir)}


def served_app(data_dir: Path, environ: Mapping[str, str]) -> AppContext:
    """The demo's application context on the config a demo run wrote (as it left it)."""
    return AppContext(config_dir=data_dir / "config", environ=demo_environ(data_dir, environ))


DEMO_USER = "demo"


def demo_account(app: AppContext) -> str:
    """The console's demo analyst (``demo``) with a new random password, which is returned; the
    database is new on each demo run, so the account is too."""
    password = new_password()
    with app.session() as session:
        add_user(
            session,
            DEMO_USER,
            role="analyst",
            unit=None,
            password=password,
            by=DEMO_USER,
            now=datetime.now(timezone.utc),
        )
    return password


def demo_app(data_dir: Path, base: str, environ: Mapping[str, str]) -> AppContext:
    """The demo's application context: its own config, data dir, database and outbox."""
    return AppContext(config_dir=write_config(data_dir, base), environ=demo_environ(data_dir, environ))


def schedule_digest_now(app: AppContext) -> datetime:
    """Make the digest due at the coming minute, so its 24-hour window holds everything just
    collected; returns that send time."""
    tz = ZoneInfo(app.config.settings.timezone)
    send_at = (datetime.now(tz) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    path = app.config_dir / "alerts.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('digest_time: "08:00"', f'digest_time: "{send_at:%H:%M}"'), encoding="utf-8")
    app.reload()
    return send_at


def reset(data_dir: Path) -> None:
    """Start from an empty database and outbox; trained models are kept to save time."""
    for path in data_dir.glob("yuqing.db*"):
        path.unlink()
    shutil.rmtree(data_dir / "outbox", ignore_errors=True)


def _prepare_analyzer(app: AppContext) -> Any:
    from nlp.job import build_analyzer

    with app.sessions() as session:
        return build_analyzer(app.config, session)


def collect_and_model(app: AppContext) -> tuple[list[dict[str, Any]], Any]:
    """Crawl every source (one subprocess each) while the sentiment model loads or builds."""
    from crawlers.launch import crawl_source

    sources = [s.id for s in app.config.sources.sources if s.enabled]
    with ThreadPoolExecutor(max_workers=len(sources) + 1) as pool:
        model = pool.submit(_prepare_analyzer, app)
        env = dict(app.environ) if app.environ is not None else None
        crawls = [pool.submit(crawl_source, app.config, source_id, timeout=120, env=env) for source_id in sources]
        return [c.result().summary() for c in crawls], model.result()


def write_previews(app: AppContext, now: datetime, outbox: Path) -> list[Path]:
    """Each group's digest as an HTML file next to the .eml files, to open in a browser."""
    from alerts.render import digest_html, environment
    from alerts.service import build_digest, digest_period_end

    paths = []
    for group in app.config.alerts.groups:
        d = build_digest(app, group, digest_period_end(app, group, now), now)
        path = outbox / f"digest-{group.id}.html"
        path.write_text(digest_html(environment(), d), encoding="utf-8")
        paths.append(path)
    return paths


def count(app: AppContext, result: DemoResult) -> None:
    with app.sessions() as session:
        result.posts = session.scalar(select(func.count()).select_from(PostRow)) or 0
        analysed = select(func.count()).select_from(AnalysisRow)
        result.relevant = session.scalar(analysed.where(AnalysisRow.relevant)) or 0
        result.negative = session.scalar(analysed.where(AnalysisRow.relevant, AnalysisRow.negative)) or 0
        result.high_risk = session.scalar(analysed.where(AnalysisRow.risk_level >= 2)) or 0
        result.events = session.scalar(select(func.count()).select_from(EventRow)) or 0
        result.merged_events = (
            session.scalar(select(func.count()).select_from(EventRow).where(EventRow.post_count > 1)) or 0
        )
        sent = select(func.count()).select_from(DeliveryRow).where(DeliveryRow.status == "sent")
        result.alerts = session.scalar(sent.where(DeliveryRow.kind == "alert")) or 0
        result.digests = session.scalar(sent.where(DeliveryRow.kind == "digest")) or 0


def run_demo(data_dir: Path, base: str, environ: Mapping[str, str] | None = None) -> DemoResult:
    """Collect, analyse, alert and write the digest once, from the demo site served at ``base``."""
    from alerts.service import send_digests, send_immediate_alerts
    from nlp.job import run_analysis

    started = datetime.now(timezone.utc)
    app: AppContext | None = None
    try:
        reset(data_dir)
        app = demo_app(data_dir, base, os.environ if environ is None else environ)
        upgrade(app.engine)
        result = DemoResult()
        result.crawls, analyzer = collect_and_model(app)
        analysed_at = datetime.now(timezone.utc)
        run_analysis(app, analysed_at, analyzer=analyzer)
        send_immediate_alerts(app, analysed_at)
        send_at = schedule_digest_now(app)
        send_digests(app, send_at)
        result.outbox = app.config.outbox_dir
        result.outbox.mkdir(parents=True, exist_ok=True)
        result.files = sorted(result.outbox.glob("*.eml")) + write_previews(app, send_at, result.outbox)
        count(app, result)
    finally:
        if app is not None:
            app.close()
    result.seconds = (datetime.now(timezone.utc) - started).total_seconds()
    return result

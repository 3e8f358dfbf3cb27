"""What every page needs: the application context, the templates, how crawled strings and times are
shown, the unit scope of a user, and the analyser (built once, on first use)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from starlette.templating import Jinja2Templates

from alerts import queries as q
from alerts.digest import clean, clean_url, masker, risk_name
from alerts.gather import group_scope
from config import Config
from nlp.analyzer import Analyzer
from nlp.job import build_analyzer, build_segmenter
from nlp.searchindex import search_words
from nlp.segment import Segmenter
from storage.context import AppContext
from storage.users import User
from yuqing.base.clock import local_time, utcnow

HERE = Path(__file__).resolve().parent


def safe_href(url: str | None) -> str | None:
    """A crawled link fit for ``href``: http(s) only (``javascript:`` and the like become no link)."""
    value = clean_url(url or "")
    return value if value.lower().startswith(("http://", "https://")) else None


RUN_STATUS_ZH = {"running": "运行中", "ok": "成功", "partial": "部分成功", "failed": "失败", "timeout": "超时"}


@dataclass
class Console:
    """One console: built by ``create_app`` and kept in ``app.state.console``."""

    app: AppContext
    clock: Callable[[], datetime] = utcnow
    templates: Jinja2Templates = field(init=False)
    _segmenter: Segmenter | None = field(default=None, init=False, repr=False)
    _analyzer: Analyzer | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    login_failures: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
        self.templates = Jinja2Templates(env=env)
        env.globals.update(shown=self, STATUSES=None)
        env.filters.update(
            text=self.text,
            when=self.time,
            risk=self.risk,
            href=safe_href,
            topic=self.topic_name,
            source=self.source_name,
            unit=self.unit_name,
            run_status=lambda status: RUN_STATUS_ZH.get(status or "", status or "-"),
        )

    @property
    def config(self) -> Config:
        return self.app.config

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.settings.timezone)

    def text(self, value: str | None) -> str:
        """A crawled string as every output shows it: cleaned, personal data masked (as configured)."""
        return masker(self.config.alerts.digest.mask_pii)(clean(value or ""))

    def time(self, value: datetime | None) -> str:
        return local_time(value, self.tz)

    def risk(self, level: int | None) -> str:
        return risk_name(level or 0, self.config.alerts.risk.names) or "-"

    def topic_name(self, topic_id: str) -> str:
        return {t.id: t.name for t in self.config.topics.topics}.get(topic_id, topic_id)

    def source_name(self, source_id: str) -> str:
        """The source's name as sources.yaml gives it (its id for a source no longer configured)."""
        return {s.id: s.name for s in self.config.sources.sources}.get(source_id, source_id)

    def unit_name(self, unit: str | None) -> str:
        """A unit (a recipient group of alerts.yaml) by its name."""
        return {g.id: g.name or g.id for g in self.config.alerts.groups}.get(unit or "", unit or "")

    def scope(self, user: User) -> q.Scope | None:
        """The sources and topics a unit's user may see (None: everything; the same filters as the
        unit's digest). A user of a unit that no longer exists sees nothing."""
        if not user.unit:
            return None
        for group in self.config.alerts.groups:
            if group.id == user.unit:
                return group_scope(self.config, group)
        return q.Scope(self.config.settings.freshness.max_age_delta, frozenset(), frozenset())

    @property
    def segmenter(self) -> Segmenter:
        with self._lock:
            if self._segmenter is None:
                self._segmenter = build_segmenter(self.config)
            return self._segmenter

    def search_words(self, phrase: str) -> list[str]:
        """The words of a search phrase, segmented as the index was (``storage.search``)."""
        return search_words(self.segmenter, phrase)

    def analyzer(self) -> Analyzer:
        """The analyser for labels that take effect at once (built on first use)."""
        with self._lock:
            if self._analyzer is None:
                with self.app.sessions() as session:
                    self._analyzer = build_analyzer(self.config, session, self._segmenter)
            return self._analyzer

    def forget_analyzer(self) -> None:
        """Drop the analyser (after a keyword change) so the next use builds it on the new rules."""
        with self._lock:
            self._analyzer = None
            self._segmenter = None

    def render(self, request: Any, name: str, context: dict[str, Any], status_code: int = 200) -> Any:
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

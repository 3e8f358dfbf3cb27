"""What a crawl needs besides Scrapy: the yuqing config, the source, the database, ``now``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Config, Source, load_config
from storage.db import make_engine, session_factory
from yuqing.base.errors import CrawlError

if TYPE_CHECKING:  # Scrapy is imported by the crawl process only, not by `yuqing crawl`
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

RUNTIME_ATTR = "_yuqing_runtime"


@dataclass
class CrawlRuntime:
    """Per-crawl state shared by the spider, middlewares, pipelines and the run recorder."""

    config: Config
    source: Source
    now: datetime
    engine: Engine
    sessions: sessionmaker[Session]
    errors: dict[str, int] = field(default_factory=dict)  # message → count
    error_urls: dict[str, str] = field(default_factory=dict)  # message → first URL

    def record_error(self, message: str, url: str) -> None:
        """Count one error by message, keeping the first URL as an example for the summary."""
        self.errors[message] = self.errors.get(message, 0) + 1
        self.error_urls.setdefault(message, url)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.source.timezone or self.config.settings.timezone)


def find_source(config: Config, source_id: str) -> Source:
    """The source with this id, or a CrawlError listing the known ids."""
    source = config.sources.get(source_id)
    if source is None:
        known = ", ".join(s.id for s in config.sources.sources) or "(none)"
        raise CrawlError(f'unknown source "{source_id}"', f"known sources: {known}")
    return source


def runtime(crawler: Crawler) -> CrawlRuntime:
    """The crawl's runtime, built once per crawler from its settings."""
    found: CrawlRuntime | None = getattr(crawler, RUNTIME_ATTR, None)
    if found is None:
        found = build_runtime(crawler.settings)
        setattr(crawler, RUNTIME_ATTR, found)
    return found


def build_runtime(settings: BaseSettings) -> CrawlRuntime:
    """Config from ``YUQING_CONFIG_DIR``, the source from ``YUQING_SOURCE``, ``now`` from ``YUQING_NOW``."""
    config = load_config(settings.get("YUQING_CONFIG_DIR") or None)
    source_id = settings.get("YUQING_SOURCE")
    if not source_id:
        raise CrawlError("no source given", "run `yuqing crawl SOURCE_ID` or `scrapy crawl KIND -s YUQING_SOURCE=ID`")
    source = find_source(config, source_id)
    raw_now = settings.get("YUQING_NOW")
    now = datetime.fromisoformat(raw_now) if raw_now else datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    engine = make_engine(settings.get("YUQING_DATABASE_URL") or config.database_url)
    return CrawlRuntime(config, source, now, engine, session_factory(engine))


def crawl_settings(config: Config, source: Source, max_pages: int | None = None) -> dict[str, Any]:
    """Scrapy settings for crawling ``source``: settings.yaml defaults, then the source's limits."""
    crawl = config.settings.crawl
    return {
        "YUQING_CONFIG_DIR": str(config.dir),
        "YUQING_SOURCE": source.id,
        "YUQING_MAX_PAGES": max_pages or source.max_pages,
        "YUQING_DATABASE_URL": config.database_url,
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots if source.obey_robots is None else source.obey_robots,
        "DOWNLOAD_TIMEOUT": source.timeout or crawl.timeout,
        "RETRY_TIMES": crawl.retries,
        "CONCURRENT_REQUESTS": source.concurrency or crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency or crawl.concurrency,
        "DOWNLOAD_DELAY": crawl.delay if source.delay is None else source.delay,
        "AUTOTHROTTLE_START_DELAY": crawl.delay if source.delay is None else source.delay,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": crawl.max_page_bytes // 2,
        "YUQING_ALLOW_PRIVATE": crawl.allow_private_addresses or source.allow_private,
        "DEPTH_LIMIT": (max_pages or source.max_pages) + source.max_depth,
        "CLOSESPIDER_TIMEOUT": crawl.subprocess_timeout,
        **redis_settings(config, source),
    }


def redis_settings(config: Config, source: Source) -> dict[str, Any]:
    """Scale-out: with ``redis_url`` set, the request queue and the seen-request filter live in
    Redis (scrapy-redis), so crawls of one source on several machines share them."""
    if not config.settings.redis_url:
        return {}
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": config.settings.redis_url,
        "SCHEDULER_PERSIST": False,  # a finished crawl leaves no queue behind
        "SCHEDULER_QUEUE_KEY": f"yuqing:{source.id}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"yuqing:{source.id}:dupefilter",
    }


def search_urls(source: Source, config: Config) -> list[str]:
    """``search_url`` with ``{keyword}`` expanded for every keyword of every enabled topic."""
    if not source.search_url:
        return []
    words: dict[str, None] = {}
    for topic in config.topics.topics:
        if topic.enabled:
            words.update(dict.fromkeys(topic.keywords))
    return [source.search_url.replace("{keyword}", quote(word, safe="")) for word in words]

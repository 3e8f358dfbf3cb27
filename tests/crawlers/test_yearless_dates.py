"""Dates written without their year or day (forums, Weibo, message boards): read in the source's
zone relative to the crawl time; a bare time later than now is yesterday's, a month-day later than
today is last year's."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from crawlers.dates import parse_datetime
from crawlers.extract import extract_article

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2023, 8, 2, 4, 0, tzinfo=timezone.utc)  # 12:00 on 2 August in Shanghai


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("09:30", "2023-08-02T09:30:00+08:00"),  # earlier today
        ("16:09", "2023-08-01T16:09:00+08:00"),  # later than now: yesterday
        ("16:09:33", "2023-08-01T16:09:33+08:00"),
        ("12:05", "2023-08-02T12:05:00+08:00"),  # minutes ahead: the site's clock, still today
        ("发表于 11:58", "2023-08-02T11:58:00+08:00"),
        ("下午3:15", "2023-08-01T15:15:00+08:00"),
        ("昨天 16:09", "2023-08-01T16:09:00+08:00"),
        ("昨天16:09", "2023-08-01T16:09:00+08:00"),
        ("7-31", "2023-07-31T00:00:00+08:00"),
        ("07-31 16:09", "2023-07-31T16:09:00+08:00"),
        ("7月31日", "2023-07-31T00:00:00+08:00"),
        ("发布：7-31", "2023-07-31T00:00:00+08:00"),
        ("8-2", "2023-08-02T00:00:00+08:00"),  # today
        ("8-3", "2022-08-03T00:00:00+08:00"),  # after today: last year
        ("12-30 08:00", "2022-12-30T08:00:00+08:00"),
        ("12月30日", "2022-12-30T00:00:00+08:00"),
    ],
)
def test_yearless_dates_count_from_the_crawl_time(raw: str, expected: str) -> None:
    assert parse_datetime(raw, SHANGHAI, NOW) == datetime.fromisoformat(expected)


def test_the_source_zone_decides_today_and_yesterday() -> None:
    """00:30 UTC on 2 August is 08:30 in Shanghai but 20:30 on 1 August in New York."""
    now = datetime(2023, 8, 2, 0, 30, tzinfo=timezone.utc)
    assert parse_datetime("16:09", SHANGHAI, now) == datetime.fromisoformat("2023-08-01T16:09:00+08:00")
    new_york = ZoneInfo("America/New_York")
    assert parse_datetime("16:09", new_york, now) == datetime.fromisoformat("2023-08-01T16:09:00-04:00")
    assert parse_datetime("8-2", new_york, now) == datetime.fromisoformat("2022-08-02T00:00:00-04:00")
    assert parse_datetime("8-2", SHANGHAI, now) == datetime.fromisoformat("2023-08-02T00:00:00+08:00")


def test_new_year_turns_a_december_date_into_last_year() -> None:
    now = datetime(2024, 1, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 on 1 January in Shanghai
    assert parse_datetime("12-31 23:50", SHANGHAI, now) == datetime.fromisoformat("2023-12-31T23:50:00+08:00")
    assert parse_datetime("23:50", SHANGHAI, now) == datetime.fromisoformat("2023-12-31T23:50:00+08:00")


@pytest.mark.parametrize("raw", ["第3-4期", "3-4号楼", "回复 12 7-31", "24:00", "13-45", "9:99", "2-30"])
def test_figures_that_are_not_dates_stay_unparsed(raw: str) -> None:
    assert parse_datetime(raw, SHANGHAI, NOW) is None


@pytest.mark.parametrize(
    "line, expected",
    [
        ("楼主 发表于 16:09 | 只看该作者", "2023-08-01T16:09:00+08:00"),
        ("发布时间：昨天 16:09", "2023-08-01T16:09:00+08:00"),
        ("时间：7-31 来源：网友", "2023-07-31T00:00:00+08:00"),
    ],
)
def test_a_detail_page_with_a_labelled_yearless_time(line: str, expected: str) -> None:
    """Extraction finds the page's own labelled time when no full date is written."""
    article = extract_article(
        "<html><head><title>帖子标题：小区门口占道经营</title></head><body><h1>帖子标题：小区门口占道经营</h1>"
        f"<div>{line}</div><p>小区门口每天晚上都有人占道经营，噪音很大，希望城管部门管一管。</p></body></html>"
    )
    assert parse_datetime(article.published, SHANGHAI, NOW) == datetime.fromisoformat(expected)

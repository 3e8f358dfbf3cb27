"""Chinese absolute and relative dates → timezone-aware UTC, given the source's zone and ``now``.

Pages often leave out what the reader knows: forums and Weibo show a bare ``16:09`` for today and
``7-31`` for this year. Both are read in the source's zone relative to the crawl time (``now``): a
bare time later than now is yesterday's, a month-day later than today is last year's."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

DATE = r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
SHORT_DATE = r"(?<![\d-])(?P<m>\d{1,2})\s*[-/月]\s*(?P<d>\d{1,2})\s*日?"
TIME = r"(?:\s*T?\s*(?P<ampm>上午|下午|晚上|凌晨|中午)?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})\s*分?(?:\s*[:：]\s*(?P<S>\d{1,2})(?:\.\d+)?)?)?"
ZONE = r"(?:\s*(?P<tz>Z|[+-]\d{2}:?\d{2}))?"
ABSOLUTE = re.compile(DATE + TIME + ZONE)
SHORT = re.compile(SHORT_DATE + TIME)
BARE_TIME = re.compile(
    r"(?<![\d:：.\-/])(?P<ampm>上午|下午|晚上|凌晨|中午)?\s*(?P<H>[01]?\d|2[0-3])\s*[:：]\s*(?P<M>[0-5]\d)"
    r"(?:\s*[:：]\s*(?P<S>[0-5]\d))?(?![\d:：])"
)
DIGIT = re.compile(r"\d")
NOT_A_DATE_AFTER = ("-", "/", "期", "版", "号", "届", "楼", "栋", "室")
CLOCK_SKEW = timedelta(minutes=10)  # a site's clock this far ahead of ours still means today
DAY_WORDS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
DAY_WORD = re.compile(r"(?P<w>今天|今日|昨天|昨日|前天)" + TIME)
UNITS = {
    "秒": "seconds",
    "分钟": "minutes",
    "分": "minutes",
    "小时": "hours",
    "天": "days",
    "日": "days",
    "周": "weeks",
    "星期": "weeks",
}
AGO = re.compile(r"(?P<n>\d+|半)\s*(?P<u>秒钟?|分钟|分|小时|个小时|天|日|周|星期|个月|月|年)\s*(?:之|以)?前")
JUST_NOW = re.compile(r"刚刚|刚才|just now", re.I)
EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")


def parse_datetime(value: object, tz: tzinfo, now: datetime) -> datetime | None:
    """Parse a date as written on a Chinese page (or in a feed or API) to aware UTC.
    Dates without a zone are in ``tz``; relative ones count back from ``now``. ``None`` if none."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return _epoch(float(value))
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(timezone.utc)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if EPOCH.match(text):
        return _epoch(float(text))
    for parse in (_rfc2822, _absolute, _relative, _day_word, _short, _bare_time):
        found = parse(text, tz, now)
        if found is not None:
            return found.astimezone(timezone.utc)
    return None


def partial_date(text: str) -> str | None:
    """The first date written without its year in ``text`` (``昨天 16:09``, ``3小时前``, ``7-31``,
    ``16:09``), as written; what extraction looks for after a label such as 发表于."""
    for pattern in (DAY_WORD, AGO, JUST_NOW, SHORT, BARE_TIME):
        match = pattern.search(text)
        if match:
            return match.group(0).strip()
    return None


def _epoch(seconds: float) -> datetime | None:
    if seconds > 1e11:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _rfc2822(text: str, tz: tzinfo, now: datetime) -> datetime | None:
    if not re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", text):
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _clock(match: re.Match[str]) -> tuple[int, int, int]:
    if match.group("H") is None:
        return 0, 0, 0
    hour = int(match.group("H"))
    if match.group("ampm") in ("下午", "晚上") and hour < 12:
        hour += 12
    return hour, int(match.group("M")), int(match.group("S") or 0)


def _build(year: int, month: int, day: int, clock: tuple[int, int, int], tz: tzinfo) -> datetime | None:
    try:
        return datetime(year, month, day, *clock, tzinfo=tz)
    except ValueError:
        return None


def _absolute(text: str, tz: tzinfo, now: datetime) -> datetime | None:
    match = ABSOLUTE.search(text)
    if not match:
        return None
    zone = match.group("tz")
    if zone:
        tz = timezone.utc if zone == "Z" else _offset(zone)
    return _build(int(match.group("y")), int(match.group("m")), int(match.group("d")), _clock(match), tz)


def _offset(zone: str) -> tzinfo:
    digits = zone[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(delta if zone[0] == "+" else -delta)


def _relative(text: str, tz: tzinfo, now: datetime) -> datetime | None:
    if JUST_NOW.search(text):
        return now
    match = AGO.search(text)
    if not match:
        return None
    amount = 0.5 if match.group("n") == "半" else float(match.group("n"))
    unit = match.group("u").replace("个", "").replace("钟", "")
    if unit in ("月", "年"):
        return now - timedelta(days=amount * (30 if unit == "月" else 365))
    return now - timedelta(**{UNITS[unit]: amount})


def _day_word(text: str, tz: tzinfo, now: datetime) -> datetime | None:
    match = DAY_WORD.search(text)
    if not match:
        return None
    day = now.astimezone(tz).date() - timedelta(days=DAY_WORDS[match.group("w")])
    return _build(day.year, day.month, day.day, _clock(match), tz)


def _short(text: str, tz: tzinfo, now: datetime) -> datetime | None:
    """``07-31 16:09`` / ``7月31日`` / ``7-31``: this year, or last year when that day is after today."""
    match = SHORT.search(text)
    if not match or not _plain_month_day(text, match):
        return None
    local_now = now.astimezone(tz)
    month, day = int(match.group("m")), int(match.group("d"))
    found = _build(local_now.year, month, day, _clock(match), tz)
    if found is not None and found.date() > local_now.date():
        found = _build(local_now.year - 1, month, day, _clock(match), tz)
    return found


def _plain_month_day(text: str, match: re.Match[str]) -> bool:
    """A month-day is taken when it has a clock time or 月, or when it is the only number written
    (``7-31``, ``发表于 7-31``): ``3-4`` inside other figures is not a date."""
    if match.group("H") is not None or "月" in match.group(0):
        return True
    before, after = text[: match.start()], text[match.end() :]
    if before.rstrip().endswith("第") or after.lstrip().startswith(NOT_A_DATE_AFTER):
        return False  # 第3-4期, 3-4号楼
    return DIGIT.search(before + after) is None


def _bare_time(text: str, tz: tzinfo, now: datetime) -> datetime | None:
    """``16:09`` (forums, Weibo): today in the source's zone, or yesterday when later than now."""
    match = BARE_TIME.search(text)
    if not match:
        return None
    local_now = now.astimezone(tz)
    found = _build(local_now.year, local_now.month, local_now.day, _clock(match), tz)
    if found is not None and found > local_now + CLOCK_SKEW:
        day = local_now.date() - timedelta(days=1)
        found = _build(day.year, day.month, day.day, _clock(match), tz)
    return found

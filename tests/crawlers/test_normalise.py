"""Encoding detection, HTML to text, Chinese dates, counts, normalise and validate stages."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from crawlers.dates import parse_datetime
from crawlers.encoding import decode_html, detect_encoding
from crawlers.items import PostItem
from crawlers.pipelines.normalize import clean_author, drop_title_line, to_simplified_converter
from crawlers.pipelines.validate import drop_reason
from crawlers.selectors import parse_count
from crawlers.text import html_to_text
from yuqing.base.post import Post

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2023, 3, 10, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai
TEXT = "民警调解邻里纠纷，群众送来锦旗表示感谢。派出所所长说：这是我们应该做的。"


def page(charset: str, text: str = TEXT) -> str:
    return f'<html><head><meta charset="{charset}"><title>测试</title></head><body><p>{text}</p></body></html>'


@pytest.mark.parametrize("declared", ["utf-8", "iso-8859-1", None, "windows-1252"])
def test_gbk_bytes_with_a_wrong_or_missing_declaration_decode_as_chinese(declared: str | None) -> None:
    body = page(declared or "", TEXT).encode("gbk") if declared else f"<p>{TEXT}</p>".encode("gbk")
    text, encoding = decode_html(body)
    assert encoding == "gb18030"
    assert TEXT in text


def test_gbk_bytes_declared_in_the_http_header_as_utf8() -> None:
    text, encoding = decode_html(page("utf-8").encode("gbk"), header_charset="utf-8")
    assert (encoding, TEXT in text) == ("gb18030", True)


def test_utf8_bytes_declared_as_gbk_decode_as_utf8() -> None:
    text, encoding = decode_html(page("gbk").encode("utf-8"), header_charset="gbk")
    assert encoding == "utf-8" and TEXT in text


def test_gb18030_only_characters_survive_a_gb2312_declaration() -> None:
    rare = "䶮和𠀀是GB18030才有的字，" + TEXT  # outside GB2312 and GBK
    text, encoding = decode_html(page("gb2312", rare).encode("gb18030"))
    assert encoding == "gb18030" and rare in text


def test_utf8_bom_and_undecodable_garbage_never_raise() -> None:
    assert detect_encoding(b"\xef\xbb\xbf<p>hi</p>") == "utf-8-sig"
    text, _ = decode_html(b"\xff\xfe\xfa\xfb" * 50 + TEXT.encode("utf-8"))
    assert isinstance(text, str)


def test_html_to_text_keeps_paragraphs_and_drops_scripts_styles_navigation() -> None:
    html = """<html><head><style>p{color:red}</style><script>var x = "脚本";</script></head><body>
    <nav><a href="/">首页</a></nav><header>站点页眉</header>
    <div><p>第一段，　有全角空格。</p><p>第二段<br>换行</p><!-- 注释 --><p>  </p></div>
    <footer>版权所有</footer><script>alert("注入")</script></body></html>"""
    assert html_to_text(html) == "第一段， 有全角空格。\n第二段\n换行"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("3分钟前", "2023-03-10T11:57:00+08:00"),
        ("刚刚", "2023-03-10T12:00:00+08:00"),
        ("2小时前", "2023-03-10T10:00:00+08:00"),
        ("昨天 14:20", "2023-03-09T14:20:00+08:00"),
        ("前天 08:05", "2023-03-08T08:05:00+08:00"),
        ("今天 09:30", "2023-03-10T09:30:00+08:00"),
        ("2023年3月4日", "2023-03-04T00:00:00+08:00"),
        ("2023年3月4日 10:20", "2023-03-04T10:20:00+08:00"),
        ("发布时间：2023-03-04 10:20:30 来源：人民网", "2023-03-04T10:20:30+08:00"),
        ("2023/03/06 15:00", "2023-03-06T15:00:00+08:00"),
        ("03-04 12:00", "2023-03-04T12:00:00+08:00"),
        ("12-30 08:00", "2022-12-30T08:00:00+08:00"),  # would be in the future: last year
        ("3月5日", "2023-03-05T00:00:00+08:00"),
        ("２０２３年３月４日　下午３:１５", "2023-03-04T15:15:00+08:00"),  # full-width digits, 下午
        ("Sat, 04 Mar 2023 10:20:00 +0800", "2023-03-04T10:20:00+08:00"),
        ("2023-03-07T08:00:00Z", "2023-03-07T16:00:00+08:00"),
        ("2023-03-07T08:00:00+09:00", "2023-03-07T07:00:00+08:00"),
        (1678000000, "2023-03-05T15:06:40+08:00"),
        ("1678000000000", "2023-03-05T15:06:40+08:00"),
    ],
)
def test_chinese_dates_become_aware_utc(raw: object, expected: str) -> None:
    parsed = parse_datetime(raw, SHANGHAI, NOW)
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert parsed == datetime.fromisoformat(expected)


@pytest.mark.parametrize("raw", ["", None, "没有日期", "第3期", "13-45 99:99"])
def test_no_date_gives_none(raw: object) -> None:
    assert parse_datetime(raw, SHANGHAI, NOW) is None


def test_the_sources_timezone_is_used() -> None:
    parsed = parse_datetime("2023-03-04 10:00", ZoneInfo("Asia/Tokyo"), NOW)
    assert parsed == datetime(2023, 3, 4, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "raw, count",
    [
        ("1.2万", 12000),
        ("回复 35", 35),
        ("3,456 阅读", 3456),
        (88, 88),
        ("2亿", 200_000_000),
        ("无", None),
        (None, None),
    ],
)
def test_engagement_counts(raw: object, count: int | None) -> None:
    assert parse_count(raw) == count


def test_author_prefixes_and_repeated_titles_are_cleaned() -> None:
    assert clean_author("本报记者 张三") == "张三"
    assert clean_author("通讯员：李四") == "李四"
    assert clean_author("  ") is None
    assert drop_title_line("标题\n正文第一段", "标题") == "正文第一段"
    assert drop_title_line("标题", "标题") == "标题"


def test_traditional_to_simplified() -> None:
    assert to_simplified_converter().convert("警察局發佈通報，請民眾注意") == "警察局发布通报，请民众注意"


def post(**kwargs: object) -> Post:
    values: dict[str, object] = {"source_id": "s", "url": "https://example.cn/a", "title": "标题", "text": TEXT}
    values.update(kwargs)
    return Post(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({}, None),
        ({"title": "", "text": ""}, "empty"),
        ({"title": ""}, "no_title"),
        ({"url": "javascript:void(0)"}, "bad_url"),
        ({"text": "\ufffd" * 200}, "mojibake"),
        ({"title": "——", "text": "………… ！！！！ ###### " * 20}, "garbage"),
    ],
)
def test_validate_reasons(kwargs: dict[str, object], reason: str | None) -> None:
    assert drop_reason(post(**kwargs)) == reason


def test_post_item_carries_a_post() -> None:
    item = PostItem(post=post(url="https://example.cn/a/index.html?utm_source=x#top"), published_raw="3分钟前")
    assert item.post.canonical_url == "https://example.cn/a/"


def test_normalise_item_parses_time_cleans_text_and_titles_untitled_posts() -> None:
    from types import SimpleNamespace

    from crawlers.pipelines.normalize import normalize_item

    rt = SimpleNamespace(tz=SHANGHAI, now=NOW)
    item = PostItem(
        post=post(title="", text="<p>第一段：网友反映问题。</p><script>x()</script><p>第二段</p>"),
        published_raw="昨天 14:20",
        text_is_html=True,
    )
    normalized = normalize_item(item, rt, to_simplified_converter()).post  # type: ignore[arg-type]
    assert (normalized.title, normalized.text) == ("第一段：网友反映问题。", "第一段：网友反映问题。\n第二段")
    assert normalized.published_at == datetime(2023, 3, 9, 6, 20, tzinfo=timezone.utc)

"""Article extraction shared by the spiders and ``yuqing extract``: title, main text, time, author.

The body combines trafilatura with a text-density scorer (``crawlers.density``): both run, and the
candidate that looks more like an article (punctuated prose, few short link-like lines) wins;
when one contains the other, the merge keeps the contained one's order and adds nothing unpunctuated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import trafilatura
from lxml import etree

from crawlers.dates import ABSOLUTE, partial_date
from crawlers.density import PUNCT, density_text
from crawlers.encoding import decode_html
from crawlers.text import clean_text, element_text, parse_html

TIME_META = (
    "article:published_time",
    "og:article:published_time",
    "publishdate",
    "pubdate",
    "publish_date",
    "publishtime",
    "datepublished",
    "article:create_at",
    "og:release_date",
    "firstpublishedtime",
    "dc.date",
    "dc.date.issued",
    "date",
)
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
TITLE_SPLIT = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s|--)\s*")
# "发表于 16:09", "发布时间：昨天 16:09", "时间: 7-31": a page's own label before a date without a year
LABELLED_TIME = re.compile(r"(?:发表于|发布于|(?:发表|发布|更新)?时间\s*[:：])\s*(?P<v>[^\n|｜]{1,24})")
AUTHOR = re.compile(
    r"(?:(?:作者|记者|撰稿|发布人|责任编辑|编辑)\s*[:：]?|文\s*[/|｜])\s*([\u4e00-\u9fa5A-Za-z·]{2,12})"
)


@dataclass(frozen=True)
class Article:
    """What extraction found on one page; ``published`` is the raw date text, parsed by the caller."""

    title: str
    text: str
    published: str | None
    author: str | None


def _meta(tree: etree._Element, *names: str) -> str | None:
    wanted = {n.lower() for n in names}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in wanted and (meta.get("content") or "").strip():
            return clean_text(meta.get("content", ""))
    return None


def extract_title(tree: etree._Element) -> str:
    """og:title, else an ``<h1>`` that the ``<title>`` contains, else the ``<title>`` head."""
    head_title = clean_text(" ".join(tree.xpath("//title//text()"))).replace("\n", " ")
    for h in tree.iter("h1", "h2"):
        text = clean_text(" ".join(h.itertext())).replace("\n", " ")
        if len(text) >= 4 and (text in head_title or not head_title) and len(text) < 200:
            return text
    og = _meta(tree, "og:title")
    if og:
        return og
    parts = [p for p in TITLE_SPLIT.split(head_title) if p]
    return max(parts[:2], key=len) if parts else head_title


def extract_published(tree: etree._Element, text: str) -> str | None:
    """The page's publication time as written: meta tags, ``<time>``, then the first full date."""
    found = _meta(tree, *TIME_META)
    if found:
        return found
    for el in tree.iter("time"):
        value = el.get("datetime") or "".join(el.itertext()).strip()
        if value:
            return value
    dated = [m for m in ABSOLUTE.finditer(text) if int(m.group("y")) > 1990]
    with_clock = [m for m in dated if m.group("H")]
    chosen = (with_clock or dated)[:1]
    if chosen:
        return chosen[0].group(0).strip()
    return labelled_time(text)


def labelled_time(text: str) -> str | None:
    """A date without a year after a label (``发表于 16:09``), as written; forums and boards show
    today's posts with the time only."""
    for match in LABELLED_TIME.finditer(text[:5000]):
        found = partial_date(match.group("v"))
        if found:
            return found
    return None


def extract_author(tree: etree._Element, text: str) -> str | None:
    """A ``<meta name=author>`` or a 作者/记者/编辑 line near the top."""
    found = _meta(tree, "author", "article:author", "byl")
    if found and not found.startswith("http"):
        return found[:120]
    match = AUTHOR.search(text[:3000])
    return match.group(1) if match else None


def _prose_score(text: str) -> float:
    """How article-like a text is: punctuated characters minus short unpunctuated lines."""
    lines = [line for line in text.splitlines() if line]
    good = sum(len(line) for line in lines if PUNCT.search(line) and len(line) >= 10)
    bad = sum(len(line) for line in lines if not PUNCT.search(line) and len(line) < 25)
    return good - 2 * bad


def is_cjk(text: str) -> bool:
    """Mostly Chinese (or Japanese) text, where punctuation-based density scoring is reliable."""
    sample = text[:5000]
    return len(CJK.findall(sample)) > 0.3 * max(1, len(sample))


def choose_body(traf: str, dens: str) -> str:
    """Pick between trafilatura's and the density scorer's body text. trafilatura is the stronger
    general extractor; the density scorer is trusted on CJK pages, where trafilatura more often
    keeps captions or misses paragraphs."""
    if not traf or not dens:
        return traf or dens
    if not is_cjk(dens):
        return traf
    traf_lines, dens_lines = set(traf.splitlines()), set(dens.splitlines())
    shared = len(traf_lines & dens_lines)
    if shared >= 0.8 * len(traf_lines) and _prose_score(dens) > _prose_score(traf):
        return "\n".join(
            line for line in dens.splitlines() if line in traf_lines or (PUNCT.search(line) and len(line) >= 10)
        )
    return traf if _prose_score(traf) >= _prose_score(dens) else dens


def extract_body(html: str, tree: etree._Element, url: str | None = None) -> str:
    """The main text of a page."""
    try:
        traf = trafilatura.extract(html, url=url, include_comments=False, include_tables=True) or ""
    except Exception:  # noqa: BLE001 - trafilatura raises assorted errors on hostile markup
        traf = ""
    return choose_body(clean_text(traf), density_text(tree))


def extract_article(html: str, url: str | None = None) -> Article:
    """Title, main text, raw publication time and author of an article page."""
    tree = parse_html(html)
    if tree is None:
        return Article("", "", None, None)
    page_text = element_text(tree)
    body = extract_body(html, tree, url)
    return Article(extract_title(tree), body, extract_published(tree, page_text), extract_author(tree, page_text))


def extract_metadata(html: str) -> Article:
    """Title, raw publication time and author without the (costly) main-text search."""
    tree = parse_html(html)
    if tree is None:
        return Article("", "", None, None)
    page_text = element_text(tree)
    return Article(extract_title(tree), "", extract_published(tree, page_text), extract_author(tree, page_text))


def extract_bytes(body: bytes, url: str | None = None, header_charset: str | None = None) -> Article:
    """``extract_article`` on raw bytes, with encoding detection."""
    html, _ = decode_html(body, header_charset)
    return extract_article(html, url)

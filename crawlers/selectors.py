"""Config selectors: CSS by default, XPath with the prefix ``xpath:``; values as clean text."""

from __future__ import annotations

import re
import unicodedata

from parsel import Selector, SelectorList

from crawlers.text import element_text

COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(万|w|W|亿|k|K)?")
MULTIPLIERS = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1_000, "K": 1_000}


def select(sel: Selector, expr: str) -> SelectorList[Selector]:
    """Nodes matching a config selector (``xpath:`` prefix for XPath, else CSS)."""
    if expr.startswith("xpath:"):
        return sel.xpath(expr[len("xpath:") :].strip())
    return sel.css(expr)


def node_text(node: Selector) -> str:
    """A text/attribute node as is; an element as clean text with its paragraphs."""
    root = node.root
    if isinstance(root, str):
        return root.strip()
    return element_text(root)


def select_text(sel: Selector, expr: str | None) -> str | None:
    """Clean text of every node matching ``expr`` (paragraphs joined by newlines), ``None`` if none."""
    if not expr:
        return None
    parts = [node_text(node) for node in select(sel, expr)]
    text = "\n".join(p for p in parts if p)
    return text or None


def select_links(sel: Selector, expr: str) -> list[str]:
    """Hrefs of the matched nodes (``a`` elements, or attribute/text nodes holding URLs)."""
    links: list[str] = []
    for node in select(sel, expr):
        if isinstance(node.root, str):
            links.append(node.root.strip())
        else:
            href = node.attrib.get("href") or node.css("a::attr(href)").get()
            if href:
                links.append(href.strip())
    return [link for link in links if link and not link.startswith(("javascript:", "#", "mailto:"))]


def parse_count(value: object) -> int | None:
    """``"1.2万"`` → 12000, ``"3,456 阅读"`` → 3456, ints pass through; ``None`` when no number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "")
    match = COUNT.search(text)
    if not match:
        return None
    return int(float(match.group(1)) * MULTIPLIERS.get(match.group(2) or "", 1))

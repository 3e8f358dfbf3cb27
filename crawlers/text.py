"""HTML to clean text: paragraphs kept, scripts, styles and navigation dropped."""

from __future__ import annotations

import copy
import re
import unicodedata

from lxml import etree
from lxml import html as lxml_html

DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "select",
    "button",
    "svg",
    "template",
    "head",
)
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "dl",
        "figcaption",
        "center",
        "td",
    }
)
SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2002\u2003\u2009\u200b\u3000]+")


def parse_html(html: str) -> etree._Element | None:
    """Parse hostile HTML into a tree; ``None`` when there is nothing to parse."""
    if not html or not html.strip():
        return None
    try:
        return lxml_html.document_fromstring(html.replace("\x00", ""))
    except (etree.ParserError, ValueError):
        return None


def clean_line(line: str) -> str:
    """One line with runs of (full-width) spaces folded and control characters removed."""
    line = "".join(ch for ch in line if unicodedata.category(ch)[0] != "C" or ch == "\t")
    return SPACES.sub(" ", line).strip()


def clean_text(text: str) -> str:
    """Whitespace-normalised text: one paragraph per line, no empty lines."""
    lines = (clean_line(line) for line in (text or "").splitlines())
    return "\n".join(line for line in lines if line)


def element_text(element: etree._Element, drop: tuple[str, ...] = DROP_TAGS) -> str:
    """Clean text of an element (a copy is modified): block elements become paragraphs."""
    element = copy.deepcopy(element)
    etree.strip_elements(element, *drop, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    for el in element.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif el.tag in BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    return clean_text("".join(element.itertext()))


def html_to_text(html: str) -> str:
    """Clean text of an HTML document or fragment."""
    tree = parse_html(html)
    if tree is None:
        return ""
    body = tree.find("body")
    return element_text(body if body is not None else tree)

"""A text-density main-content scorer in the spirit of GNE and Readability, tuned for Chinese
pages: paragraphs score by length and punctuation, scores flow to ancestors, link-heavy nodes lose."""

from __future__ import annotations

import copy
import re

from lxml import etree

from crawlers.text import DROP_TAGS, element_text

PUNCT = re.compile(r"[，。！？；：、“”‘’（）《》…,.!?;:]")
PARAGRAPH_TAGS = ("p", "pre", "blockquote", "td", "li", "div", "section", "span", "font")
CANDIDATE_TAGS = frozenset({"div", "article", "section", "td", "main", "body", "font", "span", "center"})
NOISE_CLASS = re.compile(
    r"comment|footer|sidebar|share|recommend|related|nav|menu|copyright|"
    r"breadcrumb|advert|\bad\b|banner|hot|rank|tags?\b",
    re.I,
)
CAPTION = re.compile(r"caption|pic_?(?:text|info|desc)|img_?(?:desc|title)|photo_?(?:desc|text)", re.I)
MIN_PARAGRAPH = 10


def _own_text(el: etree._Element) -> str:
    """Text of an element without the text of its block-level children."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag in ("a", "span", "strong", "b", "em", "i", "font", "br", "u"):
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts).strip()


def link_density(el: etree._Element) -> float:
    """Share of an element's text that sits inside links."""
    text = len("".join(el.itertext()).strip())
    if not text:
        return 1.0
    links = sum(len("".join(a.itertext()).strip()) for a in el.iter("a"))
    return min(1.0, links / text)


def _paragraph_score(text: str) -> float:
    """Longer, punctuated paragraphs score more; short fragments (headlines, labels) little."""
    return (1.0 + len(PUNCT.findall(text)) + min(len(text) / 100.0, 3.0)) * min(1.0, len(text) / 40.0)


def score_nodes(root: etree._Element) -> dict[etree._Element, float]:
    """Content scores of candidate containers."""
    scores: dict[etree._Element, float] = {}
    for el in root.iter(*PARAGRAPH_TAGS):
        text = _own_text(el)
        if len(text) < MIN_PARAGRAPH:
            continue
        score = _paragraph_score(text)
        parent = el if el.tag in CANDIDATE_TAGS and el.tag != "span" else el.getparent()
        for share, node in ((1.0, parent), (0.5, parent.getparent() if parent is not None else None)):
            if node is not None and isinstance(node.tag, str):
                scores[node] = scores.get(node, 0.0) + score * share
    for node in list(scores):
        penalty = 0.5 if NOISE_CLASS.search(f"{node.get('class', '')} {node.get('id', '')}") else 1.0
        scores[node] *= (1.0 - link_density(node)) * penalty
    return scores


def _prune(node: etree._Element) -> None:
    """Drop link lists and noise blocks inside the chosen container."""
    for el in list(node.iter("div", "ul", "ol", "table", "section", "p", "figcaption", "span")):
        if el is node or el.getparent() is None:
            continue
        if el.tag == "figcaption" or CAPTION.search(f"{el.get('class', '')} {el.get('id', '')}"):
            el.getparent().remove(el)
            continue
        text = "".join(el.itertext()).strip()
        noisy = NOISE_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}")
        if (text and link_density(el) > 0.5) or (noisy and len(PUNCT.findall(text)) < 3):
            el.getparent().remove(el)


def density_text(tree: etree._Element) -> str:
    """The main text of a parsed page by text density ("" when nothing scores)."""
    root = copy.deepcopy(tree)
    etree.strip_elements(root, *DROP_TAGS, etree.Comment, with_tail=False)
    scores = score_nodes(root)
    if not scores:
        return ""
    best = max(scores, key=scores.__getitem__)
    _prune(best)
    return element_text(best)

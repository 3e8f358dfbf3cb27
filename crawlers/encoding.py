"""Decode crawled bytes: get GBK/GB18030 right even when the declared charset is wrong."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
# Declarations that carry no information: servers default to them for everything.
UNINFORMATIVE = {"iso8859-1", "latin-1", "ascii", "cp1252", "windows-1252", "us-ascii"}
GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc-cn"}
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def normalize_name(name: str | None) -> str | None:
    """Python's canonical name of an encoding label, ``None`` if unknown; GB labels → gb18030."""
    if not name:
        return None
    try:
        canonical = codecs.lookup(name.strip().strip("'\"").lower()).name
    except LookupError:
        return None
    return "gb18030" if canonical in GB_FAMILY or name.lower() in GB_FAMILY else canonical


def declared_encoding(body: bytes, header_charset: str | None = None) -> str | None:
    """The charset a page declares: HTTP header first, then ``<meta>`` or the XML prolog."""
    if header_charset:
        return normalize_name(header_charset)
    head = body[:4096]
    match = META_CHARSET.search(head) or XML_ENCODING.search(head)
    return normalize_name(match.group(1).decode("ascii", "ignore")) if match else None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _cjk_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    return sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff") / len(sample)


def detect_encoding(body: bytes, declared: str | None = None) -> str:
    """The encoding to decode ``body`` with. Valid UTF-8 wins (GBK text is almost never valid
    UTF-8); else a declared non-UTF-8 charset that decodes cleanly; else GB18030 when it decodes
    cleanly into mostly Chinese text; else charset-normalizer's best guess."""
    for bom, name in BOMS:
        if body.startswith(bom):
            return name
    if _decodes(body, "utf-8"):
        return "utf-8"
    declared = normalize_name(declared)
    if declared and declared not in UNINFORMATIVE and declared != "utf-8" and _decodes(body, declared):
        return declared
    if _decodes(body, "gb18030") and _cjk_ratio(body.decode("gb18030")) > 0.05:
        return "gb18030"
    best = from_bytes(body[:200_000]).best()
    guess = normalize_name(best.encoding) if best else None
    return guess or declared or "gb18030"


def decode_html(body: bytes, header_charset: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of a page's raw bytes; undecodable bytes become U+FFFD, never an error."""
    encoding = detect_encoding(body, declared_encoding(body, header_charset))
    return body.decode(encoding, errors="replace"), encoding

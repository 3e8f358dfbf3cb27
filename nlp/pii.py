"""Mask personal data (个人信息) in text before it is sent anywhere: mainland ID numbers, mobile
and landline numbers, bank card numbers and email addresses.

Every candidate is validated (ID checksum or birth date, Luhn for cards, number plans for phones)
so that years, dates, amounts and ordinary numbers are left alone. Enough is kept to recognise a
number (``110101********1234``, ``138****5678``, ``z*******@163.com``) but not to use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
# Also written in groups (6-8-4) with spaces or dashes.
ID18_RE = re.compile(r"(?<![\d])([1-9]\d{5})[ -]?((?:18|19|20)\d{2})(\d{2})(\d{2})[ -]?(\d{3}[\dXx])(?![\dXx])")
ID15_RE = re.compile(r"(?<![\d])([1-9]\d{5})(\d{2})(\d{2})(\d{2})(\d{3})(?![\d])")
CARD_RE = re.compile(r"(?<![\d])[1-9]\d{3}(?:[ -]?\d){12,15}(?![\d])")
MOBILE_RE = re.compile(r"(?<![\d])((?:\+|00)?86[ -]?)?(1[3-9]\d)([ -]?)(\d{4})([ -]?)(\d{4})(?![\d])")
LANDLINE_RE = re.compile(
    r"(?<![\d])((?:\(0\d{2,3}\)|（0\d{2,3}）)[ ]?|0\d{2,3}[-－ ])([1-9]\d{2,3})(\d{4})((?:[-－转]\d{1,5})?)(?![\d])"
)


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def id_checksum_ok(number: str) -> bool:
    """True when the 18th character of a mainland ID number matches its ISO 7064 checksum."""
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` passes the Luhn check used by bank card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _keep_ends(text: str, head: int, tail: int) -> str:
    """Replace the digits between the first ``head`` and the last ``tail`` digits by ``*``,
    keeping separators (spaces, dashes) where they were."""
    positions = [i for i, ch in enumerate(text) if ch.isdigit() or ch in "Xx"]
    hidden = set(positions[head:len(positions) - tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(text))


def _mask_id18(match: re.Match[str]) -> str:
    written = match.group(0)
    number = "".join(match.groups())
    year, month, day = int(match.group(2)), int(match.group(3)), int(match.group(4))
    if not _valid_date(year, month, day):
        return written
    # A valid birth date with a wrong checksum is still most likely a mistyped ID: mask it,
    # unless it is a valid bank card number (masked as one later).
    if id_checksum_ok(number) or not (number.isdigit() and luhn_ok(number) and written == number):
        return _keep_ends(written, 6, 4)
    return written


def _mask_id15(match: re.Match[str]) -> str:
    number = match.group(0)
    year, month, day = 1900 + int(match.group(2)), int(match.group(3)), int(match.group(4))
    if _valid_date(year, month, day):
        return _keep_ends(number, 6, 4)
    return number


def _mask_card(match: re.Match[str]) -> str:
    number = match.group(0)
    digits = re.sub(r"\D", "", number)
    if 16 <= len(digits) <= 19 and luhn_ok(digits) and _grouping_ok(number):
        return _keep_ends(number, 4, 4)
    return number


def _grouping_ok(number: str) -> bool:
    """Cards are written solid or in groups of four (the last group may be shorter)."""
    groups = re.split(r"[ -]", number)
    return len(groups) == 1 or all(len(g) == 4 for g in groups[:-1])


def _mask_mobile(match: re.Match[str]) -> str:
    prefix, head, sep1, middle, sep2, tail = match.groups()
    return f"{prefix or ''}{head}{sep1}{'*' * len(middle)}{sep2}{tail}"


def _mask_landline(match: re.Match[str]) -> str:
    area, local_head, local_tail, extension = match.groups()
    return f"{area}{'*' * len(local_head)}{local_tail}{extension}"


def _mask_email(match: re.Match[str]) -> str:
    local, domain = match.group(1), match.group(2)
    return f"{local[0]}{'*' * (len(local) - 1)}@{domain}"


# Full-width digits, X, @, dot and dash folded to ASCII for matching only (same length).
FULLWIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                           "Ｘ": "X", "ｘ": "x", "＠": "@", "．": ".", "－": "-", "　": " "})

PASSES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (EMAIL_RE, _mask_email),
    (ID18_RE, _mask_id18),
    (CARD_RE, _mask_card),
    (ID15_RE, _mask_id15),
    (MOBILE_RE, _mask_mobile),
    (LANDLINE_RE, _mask_landline),
)


def _mask_ascii(text: str) -> str:
    for pattern, mask in PASSES:
        text = pattern.sub(mask, text)
    return text


def mask_pii(text: str) -> str:
    """``text`` with ID, mobile, landline and bank card numbers and email addresses masked.

    The result has the same length as ``text`` (each hidden character becomes ``*``), so
    character offsets into the text stay valid. Full-width digits (``１３８…``, used to dodge
    filters) are recognised too; the rest of the text is left exactly as it was."""
    if not text:
        return text
    folded = text.translate(FULLWIDTH)
    masked = _mask_ascii(folded)
    if folded == text:
        return masked
    return "".join("*" if m == "*" and f != "*" else o for o, f, m in zip(text, folded, masked, strict=True))

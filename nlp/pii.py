"""Mask personal data (个人信息) in text before it is sent anywhere: mainland ID numbers, mobile
and landline numbers, bank card numbers and email addresses, in running text and inside URLs.

People write these numbers in many ways: grouped (``138 1234 5678``, ``1381-2345-678``,
``110 101 1990 0307 1234``), with dots, in brackets (``(138)1234 5678``), in full-width or other
Unicode digits (``１３８…``, ``١٣٨…``), in Chinese numerals (``一三八…``, ``壹叁捌…``), and emails
with ``[at]``, spaces or Chinese domains. Detection therefore runs on a *folded* copy of the text
(same length, every character mapped to its ASCII look-alike where one exists), and the masks are
applied to the original characters at the same positions: the result has the same length as the
input and differs from it only by ``*``.

Every candidate is validated (ID birth date and checksum, Luhn for cards, number plans for
phones, context words for the weaker cases) so that years, dates, amounts, case numbers and
ordinary numbers are left alone. Enough is kept to recognise a number (``110101********1234``,
``138****5678``, ``z*******@163.com``) but not to use it. URLs are masked part by part (path
segments, query values, fragment) after percent-decoding, so a link without personal data in it
stays exactly as it was and stays usable.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# --------------------------------------------------------------------------------------------
# Folding: a same-length copy of the text in which look-alike characters are ASCII.
# --------------------------------------------------------------------------------------------

# Chinese numerals as written digit by digit (幺 is the spoken 1 of phone numbers; the
# financial forms 壹贰叁… are used to slip numbers past filters).
CN_DIGITS = {
    "〇": "0",
    "○": "0",
    "零": "0",
    "一": "1",
    "幺": "1",
    "壹": "1",
    "二": "2",
    "贰": "2",
    "貳": "2",
    "三": "3",
    "叁": "3",
    "參": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "陸": "6",
    "七": "7",
    "柒": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
}
CN_CLASS = "".join(CN_DIGITS)
# A run of digits and Chinese numerals with light separators. Chinese numerals are read as
# digits only inside such a run with at least MIN_CN_IN_RUN of them and MIN_DIGITS_IN_RUN
# digits in all: 一二三 or 二〇二六年 in prose stay words.
CN_RUN_RE = re.compile(rf"[{CN_CLASS}0-9](?:[ \-.·—]?[{CN_CLASS}0-9])+")
MIN_CN_IN_RUN = 3
MIN_DIGITS_IN_RUN = 7


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """The ASCII look-alike of one character (full-width, circled, Arabic-Indic digits, ＠, …),
    or the character itself when it has none of length one."""
    if ch.isascii():
        return ch
    value = unicodedata.digit(ch, None)
    if value is not None:
        return str(value)
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 and folded.isascii() else ch


def fold(text: str) -> str:
    """``text`` with look-alike characters made ASCII and digit-by-digit Chinese numerals made
    digits; same length as ``text``, so positions carry over."""
    chars = [_fold_char(ch) for ch in text]
    folded = "".join(chars)
    for run in CN_RUN_RE.finditer(folded):
        piece = run.group(0)
        cn = sum(1 for ch in piece if ch in CN_DIGITS)
        digits = cn + sum(1 for ch in piece if ch.isdigit() and ch.isascii())
        if cn >= MIN_CN_IN_RUN and digits >= MIN_DIGITS_IN_RUN:
            for i in range(run.start(), run.end()):
                chars[i] = CN_DIGITS.get(chars[i], chars[i])
    return "".join(chars)


# --------------------------------------------------------------------------------------------
# Validation helpers.
# --------------------------------------------------------------------------------------------


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


def _birth_date_ok(yyyymmdd: str) -> bool:
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    return 1900 <= year <= 2099 and _valid_date(year, month, day)


# --------------------------------------------------------------------------------------------
# Numbers: a run of digit groups joined by light separators, cut into the longest windows of
# consecutive groups that form a valid number.
# --------------------------------------------------------------------------------------------

GROUP_RE = r"\d+(?:[Xx](?![A-Za-z]))?"  # an ID number may end in X
JOIN_RE = r"[ \t\u00a0\-–—.·()]{1,3}"  # spaces, dashes, dots, brackets: (138)1234-5678
NUMBER_RUN_RE = re.compile(rf"{GROUP_RE}(?:{JOIN_RE}{GROUP_RE})*")
GROUP_ONLY_RE = re.compile(GROUP_RE)
MAX_GROUPS = 6  # 3-3-4-4-4 ID, +86 138 1234 5678, 4-4-4-4-3 card
MAX_WINDOW = 19  # a card number spaced digit by digit

MOBILE_RE = re.compile(r"1[3-9]\d{9}")
AREA_RE = re.compile(r"0(?:10|2\d|[3-9]\d\d)")  # 010, 02x, 0xxx (4 digits)
# Words that make a weaker candidate (a card failing Luhn, a local number without area code)
# personal data: they name what follows.
CARD_CONTEXT_RE = re.compile(
    r"(?:卡号|银行卡|储蓄卡|信用卡|借记卡|卡|账号|帐号|账户|帐户|收款|转账|汇款|开户)[^\d]{0,6}$"
)
PHONE_CONTEXT_RE = re.compile(r"(?:电话|座机|固话|传真|手机|拨打|致电|联系方式|tel|phone)[^\d]{0,6}$", re.IGNORECASE)
CONTEXT_CHARS = 12


@dataclass(frozen=True)
class Found:
    """A number to mask: its span in the text and how many digits to keep at each end."""

    start: int
    end: int
    head: int
    tail: int
    kind: str


@dataclass(frozen=True)
class Where:
    """What surrounds a candidate: the text before it, and whether it sits in a URL part
    (where long solid ids are common and cards need a named key)."""

    before: str
    in_url: bool = False
    sensitive_key: bool = False


def _classify_id(digits: str) -> tuple[str, int, int] | None:
    if len(digits) == 18 and digits[0] in "12345678" and digits[:17].isdigit() and _birth_date_ok(digits[6:14]):
        if digits[17] in "Xx":
            return ("id", 6, 4)
        # A valid birth date with a wrong checksum is still most likely a mistyped ID, unless
        # the number is a valid card number.
        if id_checksum_ok(digits) or not luhn_ok(digits):
            return ("id", 6, 4)
        return ("card", 4, 4)
    if len(digits) == 15 and digits.isdigit() and digits[0] in "12345678" and _birth_date_ok("19" + digits[6:12]):
        return ("id", 6, 4)
    return None


def _classify_mobile(digits: str, groups: list[str], before: str) -> tuple[str, int, int] | None:
    prefix = 0
    if digits.startswith("0086"):
        prefix = 4
    elif digits.startswith("86") and (before.rstrip().endswith("+") or groups[0] == "86"):
        prefix = 2
    if len(digits) - prefix == 11 and MOBILE_RE.fullmatch(digits, prefix):
        return ("mobile", prefix + 3, 4)
    return None


def _classify_landline(digits: str, groups: list[str], where: Where) -> tuple[str, int, int] | None:
    if len(groups) > 1 and AREA_RE.fullmatch(groups[0]):
        local = digits[len(groups[0]) :]
        if re.fullmatch(r"[1-9]\d{6,7}", local):
            return ("landline", len(groups[0]), 4)
    # Written solid (01062345678): three-digit areas take eight-digit local numbers.
    area = AREA_RE.match(digits)
    if area and len(groups) == 1:
        local = digits[area.end() :]
        pattern = r"[2-9]\d{7}" if len(area.group(0)) == 3 else r"[2-9]\d{6,7}"
        if re.fullmatch(pattern, local):
            return ("landline", area.end(), 4)
    if re.fullmatch(r"[2-9]\d{6,7}", digits) and PHONE_CONTEXT_RE.search(where.before):
        return ("landline", 0, 4)
    return None


def _card_grouping_ok(groups: list[str]) -> bool:
    """Cards are written solid, in fours, or as 6-13 (the issuer's BIN, then the rest)."""
    if len(groups) == 1:
        return True
    lengths = [len(g) for g in groups]
    return all(n == 4 for n in lengths[:-1]) or lengths[0] == 6


def _classify_card(digits: str, groups: list[str], where: Where) -> tuple[str, int, int] | None:
    if not digits.isdigit():
        return None
    named = where.sensitive_key or bool(CARD_CONTEXT_RE.search(where.before))
    if named and 12 <= len(digits) <= 25:
        return ("card", 4, 4)
    if where.in_url:
        return None  # post and user ids in links are long too; only a named key makes them cards
    if 16 <= len(digits) <= 19 and luhn_ok(digits) and _card_grouping_ok(groups):
        return ("card", 4, 4)
    # Written in fours (6222 0212 3456 7895) it is a card even when mistyped (Luhn fails).
    if 16 <= len(digits) <= 19 and len(groups) >= 4 and all(len(g) == 4 for g in groups[:4]):
        return ("card", 4, 4)
    return None


def classify(digits: str, groups: list[str], where: Where) -> tuple[str, int, int] | None:
    """(kind, digits kept at the start, digits kept at the end) of a number, or ``None`` when
    it is none of ours. ``digits`` is the number without separators."""
    return (
        _classify_id(digits)
        or _classify_mobile(digits, groups, where.before)
        or _classify_card(digits, groups, where)
        or _classify_landline(digits, groups, where)
    )


def _grouping_plausible(groups: list[str]) -> bool:
    """People group digits in twos to sixes, or space every digit to dodge a filter; a window
    mixing single digits with groups is a list of small numbers, not one number."""
    lengths = [len(g) for g in groups]
    if all(n == 1 for n in lengths):
        return True
    return len(groups) <= MAX_GROUPS and all(n >= 2 for n in lengths)


def _numbers_in_run(folded: str, run: re.Match[str], where_at: WhereAt) -> Iterator[Found]:
    groups = [(m.start() + run.start(), m.end() + run.start()) for m in GROUP_ONLY_RE.finditer(run.group(0))]
    i = 0
    while i < len(groups):
        for j in range(min(len(groups), i + MAX_WINDOW) - 1, i - 1, -1):
            texts = [folded[s:e] for s, e in groups[i : j + 1]]
            if not _grouping_plausible(texts):
                continue
            start = groups[i][0]
            kind = classify("".join(texts), texts, where_at(start))
            if kind:
                yield Found(start, groups[j][1], kind[1], kind[2], kind[0])
                i = j
                break
        i += 1


class WhereAt:
    """The ``Where`` of a position in a folded text."""

    def __init__(self, folded: str, in_url: bool = False, sensitive_key: bool = False) -> None:
        self.folded, self.in_url, self.sensitive_key = folded, in_url, sensitive_key

    def __call__(self, start: int) -> Where:
        return Where(self.folded[max(0, start - CONTEXT_CHARS) : start], self.in_url, self.sensitive_key)


def find_numbers(folded: str, in_url: bool = False, sensitive_key: bool = False) -> Iterator[Found]:
    """The ID, phone and card numbers in a folded text."""
    where_at = WhereAt(folded, in_url, sensitive_key)
    for run in NUMBER_RUN_RE.finditer(folded):
        yield from _numbers_in_run(folded, run, where_at)


# --------------------------------------------------------------------------------------------
# Email addresses: ``@`` or its spelled-out forms, dots or ``[dot]``, ASCII or Chinese domains.
# --------------------------------------------------------------------------------------------

LOCAL_RE = r"(?<![A-Za-z0-9._%+\-])(?P<local>[A-Za-z0-9][A-Za-z0-9._%+\-]*)"
STRONG_AT = r"\s{0,2}(?:@|[\[({<【]\s?(?:at|AT|At)\s?[\])}>】]|艾特|\(a\)|\[a\])\s{0,2}"
# ``name#qq.com`` (“#换成@”) and ``name at qq dot com`` only count with a mail provider.
WEAK_AT = r"(?:\s?#\s?|\s+(?:at|AT)\s+)"
DOT = r"(?:\s{0,2}[.。]\s{0,2}|\s?[\[({【]\s?(?:dot|DOT|\.|点)\s?[\])}】]\s?|\s+(?:dot|DOT)\s+)"
LABEL = r"[A-Za-z0-9\u4e00-\u9fff](?:[A-Za-z0-9\-\u4e00-\u9fff]*[A-Za-z0-9\u4e00-\u9fff])?"
TLD = r"(?:[A-Za-z]{2,}(?![A-Za-z])|中国|中國|公司|网络|網絡|在线|集团|政务|公益|移动|商城)"
EMAIL_RE = re.compile(rf"{LOCAL_RE}{STRONG_AT}(?P<domain>(?:{LABEL}{DOT})+{TLD})")
PROVIDERS = r"(?:qq|163|126|yeah|sina|sohu|gmail|foxmail|139|189|21cn|aliyun|hotmail|outlook|yahoo|icloud|tom)"
WEAK_EMAIL_RE = re.compile(rf"{LOCAL_RE}{WEAK_AT}(?P<domain>{PROVIDERS}{DOT}(?:com|cn|net)(?:{DOT}cn)?)(?![A-Za-z])")


def find_emails(folded: str) -> Iterator[Found]:
    """Email addresses; only the local part is hidden (its first character kept)."""
    for pattern in (EMAIL_RE, WEAK_EMAIL_RE):
        for m in pattern.finditer(folded):
            yield Found(m.start("local"), m.end("local"), 1, 0, "email")


# --------------------------------------------------------------------------------------------
# URLs: each path segment, query value and the fragment is percent-decoded, checked, and the
# original characters of what is personal data are hidden.
# --------------------------------------------------------------------------------------------

URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\u4e00-\u9fff]+", re.IGNORECASE
)
URL_TRAILING = ".,;:!?)]}'\""
# Query keys whose value is personal data whatever its shape (compared lower-case, without _ and -).
SENSITIVE_KEYS = frozenset(
    {
        "mobile",
        "phone",
        "tel",
        "telephone",
        "cellphone",
        "mobilephone",
        "phoneno",
        "phonenumber",
        "sjh",
        "shouji",
        "idcard",
        "idno",
        "idnumber",
        "sfz",
        "sfzh",
        "sfzhm",
        "identity",
        "certno",
        "zjhm",
        "email",
        "mail",
        "bankcard",
        "cardno",
        "cardnumber",
        "account",
        "accountno",
        "yhkh",
    }
)


def find_urls(folded: str) -> Iterator[tuple[int, int]]:
    for m in URL_RE.finditer(folded):
        end = m.end()
        while end > m.start() and folded[end - 1] in URL_TRAILING:
            end -= 1
        yield m.start(), end


def percent_decode(part: str, plus_is_space: bool) -> tuple[str, list[tuple[int, int]]]:
    """``part`` percent-decoded (UTF-8), with the span in ``part`` each decoded character came from."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(part):
        if part[i] == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", part[i + 1 : i + 3]):
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            start = i
            while i < len(part) and part[i] == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", part[i + 1 : i + 3]):
                for ch in decoder.decode(bytes([int(part[i + 1 : i + 3], 16)])):
                    out.append(ch)
                    spans.append((start, i + 3))
                    start = i + 3
                i += 3
            for ch in decoder.decode(b"", final=True):
                out.append(ch)
                spans.append((start, i))
        else:
            out.append(" " if plus_is_space and part[i] == "+" else part[i])
            spans.append((i, i + 1))
            i += 1
    return "".join(out), spans


def _url_parts(url: str) -> Iterator[tuple[int, int, str, bool]]:
    """(start, end, key, is_query) of each path segment, query value and fragment piece."""
    scheme = re.match(r"(?:https?://|www\.)[^/?#]*", url, re.IGNORECASE)
    pos = scheme.end() if scheme else 0
    path_end = min((i for i in (url.find("?", pos), url.find("#", pos)) if i >= 0), default=len(url))
    for seg in re.finditer(r"[^/;]+", url[pos:path_end]):
        yield pos + seg.start(), pos + seg.end(), "", False
    rest = url[path_end:]
    for item in re.finditer(r"[^?#&;]+", rest):
        key, eq, _ = item.group(0).partition("=")
        value_start = path_end + item.start() + (len(key) + 1 if eq else 0)
        yield value_start, path_end + item.end(), key, True


def _normal_key(key: str) -> str:
    return re.sub(r"[_\-\s]", "", percent_decode(key, True)[0]).lower()


def _hits_in_part(part: str, key: str, is_query: bool) -> list[Hit]:
    """The personal data in ``part`` (a raw URL piece), with positions in ``part``."""
    decoded, spans = percent_decode(part, plus_is_space=is_query)
    sensitive = _normal_key(key) in SENSITIVE_KEYS
    hits = _hits(fold(decoded), in_url=True, sensitive_key=sensitive)
    if sensitive and not hits and "*" not in decoded:
        # The key says what the value is: hide it even where no pattern matched (unless it
        # has been masked already: masking twice changes nothing).
        hidden = frozenset(i for i, ch in enumerate(decoded) if ch.isalnum())
        hits = [Hit(0, len(decoded), "key", hidden)] if hidden else []
    # Back from decoded characters to the raw characters they came from (%E4%B8%80 → 一).
    return [
        Hit(
            spans[h.start][0],
            spans[h.end - 1][1],
            f"url-{h.kind}",
            frozenset(p for i in h.hidden for p in range(*spans[i])),
        )
        for h in hits
    ]


def _hits_in_url(url: str, offset: int) -> list[Hit]:
    hits: list[Hit] = []
    for start, end, key, is_query in _url_parts(url):
        hits += [h.shifted(offset + start) for h in _hits_in_part(url[start:end], key, is_query)]
    return hits


# --------------------------------------------------------------------------------------------
# Putting it together.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """Personal data found in a text: its span, its kind (``id``, ``mobile``, ``landline``,
    ``card``, ``email``; ``url-…`` inside a URL, ``url-key`` for a value named by its key) and
    the positions to hide."""

    start: int
    end: int
    kind: str
    hidden: frozenset[int]

    def shifted(self, offset: int) -> Hit:
        return Hit(self.start + offset, self.end + offset, self.kind, frozenset(p + offset for p in self.hidden))


def _positions_to_hide(folded: str, found: Found) -> frozenset[int]:
    """The characters of ``found`` between its kept head and tail (separators stay)."""
    if found.kind == "email":
        return frozenset(range(found.start + found.head, found.end))
    digits = [i for i in range(found.start, found.end) if folded[i].isdigit() or folded[i] in "Xx"]
    return frozenset(digits[found.head : len(digits) - found.tail])


def _hits(folded: str, in_url: bool = False, sensitive_key: bool = False) -> list[Hit]:
    found = [*find_emails(folded), *find_numbers(folded, in_url, sensitive_key)]
    return [Hit(f.start, f.end, f.kind, _positions_to_hide(folded, f)) for f in found]


def find_pii(text: str) -> list[Hit]:
    """The personal data in ``text``, in prose and in URLs, in order of position."""
    folded = fold(text)
    # URLs are masked part by part; the prose around them is masked as prose.
    prose = list(folded)
    hits: list[Hit] = []
    for start, end in find_urls(folded):
        prose[start:end] = " " * (end - start)
        hits += _hits_in_url(text[start:end], start)
    hits += _hits("".join(prose))
    return sorted(hits, key=lambda h: (h.start, h.end))


def pii_positions(text: str) -> set[int]:
    """Positions of ``text`` that hold personal data (what ``mask_pii`` replaces by ``*``)."""
    return {p for hit in find_pii(text) for p in hit.hidden}


def mask_pii(text: str) -> str:
    """``text`` with ID, mobile, landline and bank card numbers and email addresses masked,
    in prose and inside URLs.

    The result has the same length as ``text`` (each hidden character becomes ``*``), so
    character offsets into the text stay valid, and masking twice changes nothing more."""
    if not text:
        return text
    hidden = pii_positions(text)
    if not hidden:
        return text
    return "".join("*" if i in hidden else ch for i, ch in enumerate(text))

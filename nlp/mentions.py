"""Which mentions of a political-legal body are about a body the press office speaks for.

A body's name in a post does not always make the post about that body: ``passing_reason`` says why
one occurrence does not count (empty when it counts). Pure functions of the field's text and the
occurrence; nlp/stance.py finds the bodies and calls them, the analysis keeps a topic only when a
mention that counts (or a keyword that is no body) made it match.

- ``handle``   only inside a Weibo handle that is a tag: ``…[怒]@广州交警``, ``@厦门警方在线 @新浪厦门``,
  ``//@江宁公安在线: [泪]`` (nothing said after it); a handle followed by words (``@云南警方 已抓获…``,
  ``//@吉林公安：据嫌疑人…``) is the body addressed or speaking, and counts;
- ``foreign``  qualified by a place outside the mainland (nlp/data/foreign_places.txt): 美国法官,
  香港警方, 据外媒…警方称;
- ``address``  part of an address or a landmark: 公安分局宿舍区, 司法局对面;
- ``simile``   a comparison: 像监狱一样, 监狱似的;
- ``list``     one item of an enumeration of other bodies and trades: 医疗、交通、公安、媒体 (names of
  bodies only: 被抓、被殴打、被判刑 lists what was done to someone);
- ``statute``  the post is the text of a law or regulation (第六十三条 … 本办法);
- ``pose``     the object of an impersonation (冒充警察, 自称法院), found by nlp/stance.py;
- ``aside``    named in passing in a long post: not in the title or the lead, in few clauses, none of
  them judging it (nlp/stance.py, ``Stance.asides``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
HANDLE_RE = re.compile(r"@[\w\-]{1,30}")
SHORT_FORMS = ("美", "英", "韩", "俄", "泰", "港")
"""One-character names of a country or region: foreign only right before the body (美法官, 港警方)."""
MAINLAND = re.compile(r"中国|我国|国内|内地|大陆|全国")
"""Between a foreign place and the body, these bring the text back to the mainland."""
FOREIGN_REACH = 60
"""Characters before a body in which a foreign place qualifies it (same field, no mainland word between)."""
ARTICLE = re.compile(r"第[一二三四五六七八九十百零〇两\d]{1,5}条")
SELF_REFERENCE = re.compile(r"本(?:法|办法|条例|规定|细则|解释)(?![院官庭警])|构成犯罪的")
"""A law speaks of itself (本办法, 本条例) and in conditions (构成犯罪的，依法追究刑事责任)."""
ADDRESS_AFTER = re.compile(r"(?:[分支总]?[局队所院])?(?:宿舍|家属|小区|公寓|大院|对面|旁边|附近|隔壁)")
SIMILE_BEFORE = re.compile(r"(?:(?<![想图影录好])像|如同|好比|犹如)$")
"""像 as "like", not in 想像 (imagine), 图像, 好像 (seems)."""
SIMILE_AFTER = re.compile(r"(?:[里中])?(?:似的|一样|一般)")
LIST_SEPARATOR = "、"
LIST_ITEMS = 3
"""An enumeration of at least this many items, some of them no body, makes its bodies passing."""
TAG_NOISE = re.compile(r"\[[^\[\]]{1,8}\]|转发微博|我在:?|https?://\S+|t\.cn/\S+|[\W_]", re.UNICODE)
"""What may follow a handle that is only a tag: emoticons, Weibo's defaults, links, punctuation."""
PHRASE_END = re.compile(r"[。！？；，,!?;:：\n\r（）()]|//@|\s{2,}")


@dataclass(frozen=True)
class Mention:
    """One occurrence of a body's name in a field; ``passing`` says why it does not count."""

    field: str
    start: int
    end: int
    term: str
    passing: str = ""

    @property
    def counts(self) -> bool:
        return not self.passing


def read_places(path: Path | None = None) -> tuple[str, ...]:
    """The foreign places of nlp/data/foreign_places.txt (one a line, # comments)."""
    lines = (path or DATA_DIR / "foreign_places.txt").read_text(encoding="utf-8").splitlines()
    return tuple(dict.fromkeys(s for line in lines if (s := line.split("#", 1)[0].strip())))


def is_statute(title: str, text: str) -> bool:
    """The post is (or quotes at length) a law or regulation: two numbered articles, or the text
    speaking of itself (本办法, 本条例) or in a law's conditions (构成犯罪的)."""
    body = f"{title}\n{text}"
    return len(ARTICLE.findall(body)) >= 2 or bool(SELF_REFERENCE.search(body))


def tag_handle(text: str, start: int) -> bool:
    """The position lies inside a Weibo handle (``@name``) that is a tag, not the body addressed or
    speaking: one of a run of handles, or nothing said after it before the next handle or the end."""
    for match in HANDLE_RE.finditer(text, max(0, start - 31)):
        if match.start() >= start:
            break
        if start < match.end():
            if re.search(r"@[\w\-]{1,30}\s*$", text[max(0, match.start() - 32) : match.start()]):
                return True  # one of a run of handles (@平安北京 @深圳交警 求扩散): tags
            following = re.search(r"@", text[match.end() :])
            said = text[match.end() : match.end() + following.start() if following else len(text)]
            return len(TAG_NOISE.sub("", said)) < 2
    return False


def foreign(text: str, start: int, places: Sequence[tuple[int, int]]) -> bool:
    """A foreign place before the body, close enough and with no mainland word between; or a short
    form (美, 港 …) right before it. ``places`` are the (start, end) of the foreign places in ``text``."""
    if start and text[start - 1] in SHORT_FORMS:
        return True
    before = [p for p in places if p[1] <= start and start - p[1] <= FOREIGN_REACH]
    if not before:
        return False
    nearest = max(before, key=lambda p: p[1])
    return not MAINLAND.search(text, nearest[1], start)


def address(text: str, end: int) -> bool:
    """The body names a building or a landmark: 公安分局宿舍区, 司法局对面."""
    return bool(ADDRESS_AFTER.match(text, end))


def simile(text: str, start: int, end: int) -> bool:
    """The body is a comparison: 像监狱一样, 监狱似的."""
    return bool(SIMILE_BEFORE.search(text[max(0, start - 3) : start]) or SIMILE_AFTER.match(text, end))


def enumeration(text: str, start: int, end: int, is_body: Sequence[tuple[int, int]]) -> bool:
    """The body is one item of a list of at least ``LIST_ITEMS`` items separated by 、 of which some
    name no body (医疗、交通、公安、媒体; not 公安、检察院、法院)."""
    if LIST_SEPARATOR not in text[max(0, start - 1) : end + 1]:
        return False
    left = max((m.end() for m in PHRASE_END.finditer(text, 0, start)), default=0)
    right_match = PHRASE_END.search(text, end)
    right = right_match.start() if right_match else len(text)
    items, offset = [], left
    for item in text[left:right].split(LIST_SEPARATOR):
        items.append((offset, offset + len(item)))
        offset += len(item) + 1
    if len(items) < LIST_ITEMS:
        return False
    return not all(any(s < b and a < e for a, b in is_body) for s, e in items)


def passing_reason(
    text: str,
    start: int,
    end: int,
    places: Sequence[tuple[int, int]],
    bodies: Sequence[tuple[int, int]],
    name: bool = True,
) -> str:
    """Why the body's name at ``text[start:end]`` is not about a mainland body (empty when it is).
    ``places``: foreign places found in ``text``; ``bodies``: every body occurrence in ``text``;
    ``name``: the term names a body (公安, 法院) rather than its act (刑拘, 被判刑)."""
    if tag_handle(text, start):
        return "handle"
    if foreign(text, start, places):
        return "foreign"
    if name and address(text, end):
        return "address"
    if name and simile(text, start, end):
        return "simile"
    if name and enumeration(text, start, end, bodies):
        return "list"
    return ""

"""Places named in a post: China's provinces, prefecture-level cities and counties (pure functions).

The administrative divisions come from the ``jionlp`` package's ``china_location`` dictionary (kept up
to date by its maintainers; read as a data file, never imported: importing jionlp unpacks every one of
its dictionaries into its own install directory). Names are found with one Aho-Corasick automaton
(daachorse, leftmost-longest): provinces and cities by full name and by short name (广东省 / 广东,
深圳市 / 深圳), counties by full name only (南山区; their short names are too often ordinary words).

A name several divisions share (朝阳区 is in Beijing and in Changchun; 吉林 is a province and a city) is
kept only when the rest of the post settles it: one of the candidates lies in a province the post
also names, or every candidate lies in the same province (then the province alone is kept).
"""

from __future__ import annotations

import bisect
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import daachorse

from nlp.corpus import package_dir

DATA_FILE = ("dictionary", "china_location.zip")
COUNTY_MIN_CHARS = 3
# Short city names that are far more often ordinary words or other things (白银 silver, 安康 well-being,
# 阿里 the company, 黄山 the mountain, 中山 the university and every 中山路): matched by full name only.
AMBIGUOUS_SHORT_NAMES = frozenset(
    {"白银", "安康", "阿里", "大同", "东方", "中山", "黄山", "白山", "开封", "朝阳", "玉树", "和田", "普洱", "吉安"}
)
# jionlp's parents of county-level cities directly under a province (海南东方市): no city of their own
GENERIC_CITIES = frozenset({"省直辖县级行政区划", "省直辖行政区划", "自治区直辖县级行政区划"})
LINE_RE = re.compile(r"^(\t{0,2})([^\t\r\n]+)\t\d{6}\t([^\t\r\n]*)\r?$", re.MULTILINE)
"""A province (depth 0), city (1) or county (2) line: ``name<TAB>code<TAB>short names``; towns and
villages (depth 3 and 4, name only) never match."""


@dataclass(frozen=True, order=True)
class Place:
    """A province, optionally one of its cities: ``广东省/深圳市`` or ``广东省`` as text."""

    province: str
    city: str = ""

    def __str__(self) -> str:
        return f"{self.province}/{self.city}" if self.city else self.province

    @classmethod
    def parse(cls, text: str) -> Place:
        province, _, city = text.partition("/")
        return cls(province, city)


@dataclass(frozen=True)
class Gazetteer:
    """The names to look for and, for each, the places it may mean."""

    names: tuple[str, ...]
    meanings: tuple[tuple[Place, ...], ...]
    automaton: daachorse.CharwiseDoubleArrayAhoCorasick

    def lookup(self, name: str) -> tuple[Place, ...]:
        """Every place a name may mean (empty when it names none)."""
        i = bisect.bisect_left(self.names, name)
        return self.meanings[i] if i < len(self.names) and self.names[i] == name else ()


def parse_divisions(text: str) -> dict[str, set[Place]]:
    """Name → places, from jionlp's tab-indented dictionary (see ``LINE_RE``)."""
    names: dict[str, set[Place]] = {}
    province = city = ""

    def add(name: str, place: Place) -> None:
        if name:
            names.setdefault(name, set()).add(place)

    for indent, full, short in LINE_RE.findall(text):
        depth = len(indent)
        if depth == 0:
            province, city = full, ""
            add(full, Place(province))
            add(short, Place(province))
        elif depth == 1:
            city = "" if full in GENERIC_CITIES or full == province else full
            if city:
                add(full, Place(province, city))
                for alias in short.split("/"):
                    if alias not in AMBIGUOUS_SHORT_NAMES and len(alias) >= 2:
                        add(alias, Place(province, city))
        elif len(full) >= COUNTY_MIN_CHARS:
            add(full, Place(province, city))
    return names


def build_gazetteer(names: dict[str, set[Place]]) -> Gazetteer:
    ordered = sorted(names)
    return Gazetteer(
        tuple(ordered),
        tuple(tuple(sorted(names[n])) for n in ordered),
        daachorse.CharwiseDoubleArrayAhoCorasick(ordered, match_kind=daachorse.MATCH_KIND_LEFTMOST_LONGEST),
    )


def data_path() -> Path:
    return package_dir("jionlp").joinpath(*DATA_FILE)


def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """The gazetteer of the installed jionlp's ``china_location`` dictionary (about 0.4 s: 12 MB to unpack)."""
    with zipfile.ZipFile(path or data_path()) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    return build_gazetteer(parse_divisions(text))


def resolve(candidates: Sequence[tuple[Place, ...]]) -> list[Place]:
    """The places a text names, from the meanings of each name found in it (see the module doc)."""
    sure = {c[0] for c in candidates if len(c) == 1}
    provinces = {p.province for p in sure}
    found = set(sure)
    for meanings in candidates:
        if len(meanings) < 2:
            continue
        local = [p for p in meanings if p.province in provinces] or list(meanings)
        if len(local) == 1:
            found.add(local[0])
        elif len({p.province for p in local}) == 1:
            found.add(Place(local[0].province))
    cities = {p.province for p in found if p.city}
    return sorted(p for p in found if p.city or p.province not in cities)


def places_in(gazetteer: Gazetteer, *texts: str) -> list[Place]:
    """The places named in a post's title and text, most specific first within each province."""
    meanings = gazetteer.meanings
    return resolve([meanings[i] for text in texts if text for _s, _e, i in gazetteer.automaton.find(text)])


def place_of_region(gazetteer: Gazetteer, region: str | None) -> Place | None:
    """A source's configured region (``广东省``, ``深圳市``, ``深圳``) as a place; None for ``全国``,
    foreign or unknown regions."""
    if not region:
        return None
    found = resolve([gazetteer.lookup(region.strip())])
    return found[0] if len(found) == 1 else None

"""Near-duplicate detection: MinHash over word shingles, cut into LSH bands.

A post's signature is ``NUM_PERM`` = ``BANDS`` × ``ROWS`` minimum hashes of its word bigrams (word
unigrams for very short posts). Each band of ``ROWS`` values is folded into one 63-bit key; two posts
sharing a key collide in that band with probability ``J**ROWS`` (J = Jaccard similarity of their
shingle sets). Posts sharing at least ``MIN_SHARED_BANDS`` keys are near-duplicates. With 16 bands of
4 rows and 2 shared bands: J = 0.8 → 99 %, J = 0.6 → 64 %, J = 0.5 → 26 %, J = 0.3 → 0.7 %.

The keys are stored as ``fingerprints(post_id, band, value)`` rows and looked up by an index on
``(band, value)``, so grouping a new post costs 16 index probes whatever the number of stored posts.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

BANDS = 16
ROWS = 4
NUM_PERM = BANDS * ROWS
MIN_SHARED_BANDS = 2
MIN_SHINGLES = 3
"""Posts with fewer shingles than this get no fingerprint (too short to call near-duplicates)."""

_PRIME = np.uint64(4294967311)  # the first prime above 2**32
# The MinHash constants, written out: stored fingerprints must keep matching new posts after any
# upgrade, and NumPy does not promise the same random stream across versions. (They were drawn once
# with np.random.default_rng(20261127): _A in [1, 2**31), _B in [0, 2**32), _MIX odd in [1, 2**62).)
_A = np.array(
    [
        1702297266,
        792750861,
        687369549,
        343844767,
        1711113350,
        1043072156,
        1792589931,
        690013197,
        1617194958,
        2013664406,
        2048166007,
        436626127,
        1217445562,
        1385139198,
        1994388703,
        1619550766,
        1702290115,
        883240475,
        255961225,
        1138266870,
        792646868,
        310344863,
        1117880158,
        675431186,
        259423257,
        1951976084,
        1916834987,
        282086743,
        721263667,
        805972745,
        932223961,
        365453476,
        328305768,
        1575007785,
        905862694,
        1895720623,
        184450167,
        1208427117,
        2001392131,
        1203771963,
        2041041774,
        2041289932,
        1879028493,
        327600880,
        1435521546,
        827939073,
        1024280122,
        1333824409,
        835481202,
        1366581246,
        1457295505,
        203679023,
        1962241187,
        1226819008,
        509028804,
        202946437,
        891130513,
        233309631,
        1820854543,
        1940252087,
        1604412730,
        786287098,
        1653500240,
        407261155,
    ],
    dtype=np.uint64,
)
_B = np.array(
    [
        585322992,
        3394073195,
        3968694170,
        212614939,
        3998146792,
        1974758409,
        3638251566,
        1131396344,
        3919503454,
        1423111101,
        2613454866,
        3567204417,
        2205354216,
        809832111,
        2683003814,
        3141836405,
        2756325607,
        1991817717,
        1777819345,
        3177776523,
        752550399,
        4236068379,
        1599986015,
        919598591,
        2762985434,
        963398592,
        2368773689,
        1357153523,
        2738155027,
        2037453193,
        1515986226,
        4003556298,
        682257419,
        2538270313,
        859229955,
        3345638465,
        4070935670,
        3600633380,
        2451849749,
        1483607839,
        1775311112,
        809823687,
        3297512924,
        3993725459,
        3772455262,
        818694360,
        2688670591,
        3640089150,
        1681564998,
        3992693751,
        1899298958,
        754714657,
        996069549,
        2766506185,
        253303691,
        4164603182,
        3551341569,
        3674469119,
        1490293981,
        3320295378,
        953926517,
        498659433,
        1757894653,
        1548076813,
    ],
    dtype=np.uint64,
)
_MIX = np.array(
    [
        823816011360786293,
        861378706043067791,
        1829081597401811531,
        247260005639006101,
    ],
    dtype=np.uint64,
)


def shingles(words: Sequence[str]) -> list[str]:
    """Word bigrams; unigrams when the text has too few words for bigrams to be meaningful."""
    if len(words) < 2 * MIN_SHINGLES:
        return list(dict.fromkeys(words))
    return list(dict.fromkeys(f"{a} {b}" for a, b in zip(words, words[1:])))


def signature(items: Sequence[str]) -> np.ndarray:
    """The MinHash signature (``NUM_PERM`` values below 2**33) of a set of shingles."""
    hashes = np.fromiter((zlib.crc32(s.encode("utf-8")) for s in items), dtype=np.uint64, count=len(items))
    return ((np.outer(_A, hashes) + _B[:, None]) % _PRIME).min(axis=1)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 63-bit key per band (fits a BIGINT column)."""
    rows = sig.reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        mixed = (rows * _MIX).sum(axis=1, dtype=np.uint64)
    return [int(v) for v in (mixed >> np.uint64(1))]


def fingerprint(words: Sequence[str]) -> list[int] | None:
    """Band keys of a post's words, or None when the post is too short to fingerprint."""
    items = shingles(words)
    if len(items) < MIN_SHINGLES:
        return None
    return band_keys(signature(items))


def best_candidate(shared: dict[int, int]) -> int | None:
    """The stored post sharing the most bands (ties: the oldest id), if it shares enough."""
    eligible = [(count, -post_id) for post_id, count in shared.items() if count >= MIN_SHARED_BANDS]
    return -max(eligible)[1] if eligible else None


@dataclass
class EventState:
    """What the analysis job keeps current about an event."""

    first_seen: datetime
    last_seen: datetime
    post_count: int = 1
    sources: set[str] = field(default_factory=set)
    representative: int | None = None
    representative_engagement: int = -1
    hourly: dict[str, int] = field(default_factory=dict)

    def add(self, post_id: int, source_id: str, seen: datetime, engagement: int) -> None:
        """Count one more post of this event."""
        self.first_seen = min(self.first_seen, seen)
        self.last_seen = max(self.last_seen, seen)
        self.post_count += 1
        self.sources.add(source_id)
        hour = seen.strftime("%Y-%m-%dT%H")
        self.hourly[hour] = self.hourly.get(hour, 0) + 1
        if engagement > self.representative_engagement:
            self.representative, self.representative_engagement = post_id, engagement

    def recent(self, now: datetime, hours: int) -> int:
        """Posts of the event seen in the ``hours`` before ``now`` (hour buckets)."""
        start = (now - timedelta(hours=hours - 1)).strftime("%Y-%m-%dT%H")
        return sum(n for hour, n in self.hourly.items() if hour >= start)

    def prune(self, now: datetime, keep_hours: int = 72) -> None:
        """Drop hour buckets older than ``keep_hours`` (they no longer count as growth)."""
        start = (now - timedelta(hours=keep_hours)).strftime("%Y-%m-%dT%H")
        self.hourly = {h: n for h, n in self.hourly.items() if h >= start}


def new_event(post_id: int, source_id: str, seen: datetime, engagement: int) -> EventState:
    """The state of an event started by one post."""
    state = EventState(seen, seen, 0)
    state.add(post_id, source_id, seen, engagement)
    return state

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
_RNG = np.random.default_rng(20261127)  # fixed seed: signatures must be stable across runs
_A = _RNG.integers(1, 2**31, size=NUM_PERM, dtype=np.uint64)
_B = _RNG.integers(0, 2**32, size=NUM_PERM, dtype=np.uint64)
_MIX = _RNG.integers(1, 2**62, size=ROWS, dtype=np.uint64) | np.uint64(1)


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

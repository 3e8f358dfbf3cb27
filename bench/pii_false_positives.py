"""False positives of the personal-data masks (``nlp/pii.py``) on real posts.

Applies ``find_pii`` to N real posts from ``../shared/data`` (``YUQING_SHARED_DATA``), taken in
turn from weibo2018 (Weibo posts), gov_message_board_tipdm2020_sample (citizen messages, which do
contain real-looking contact numbers), wechat_feeds_rss (account article titles with their links)
and thucnews_titles (news headlines); a set that is absent is skipped and the others fill in.
Prints how many posts had any mask applied and, per category, samples of the matched spans in
their context so a human can judge which are personal data and which are false positives.

The samples are printed to the terminal only: never copy dataset texts into the repository.

Usage: python bench/pii_false_positives.py [--posts 2000] [--samples 12] [--seed 0]
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp.pii import Hit, find_pii, fold, mask_pii  # noqa: E402

SHARED = Path(os.environ.get("YUQING_SHARED_DATA", REPO.parent / "shared" / "data"))
CONTEXT = 12
TAG_RE = re.compile(r"<[^>]+>")
# Runs of seven or more digits (any script, light separators) left unmasked: the candidates the
# masks looked at and declined, printed so misses can be judged too.
LONG_RUN_RE = re.compile(r"\d(?:[ \-.·()]{0,2}\d){6,}")


def weibo2018() -> Iterator[str]:
    """``mid,label,text`` per line; the text only (the mid is a status id, not a post)."""
    path = SHARED / "weibo2018" / "train.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(",", 2)
        if len(parts) == 3 and parts[2].strip():
            yield parts[2]


def gov_messages() -> Iterator[str]:
    """附件2.xlsx: subject and detail of each labelled message (rows with an empty subject skipped)."""
    import openpyxl

    book = openpyxl.load_workbook(SHARED / "gov_message_board_tipdm2020_sample" / "附件2.xlsx", read_only=True)
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [str(c or "").strip() for c in next(rows)]
    subject, detail = header.index("留言主题"), header.index("留言详情")
    for row in rows:
        if row[subject]:
            yield f"{row[subject]}\n{str(row[detail] or '').strip()}"
    book.close()


def wechat_feeds() -> Iterator[str]:
    """Each RSS item: title, text of the description and the link (links are where URL masks act)."""
    for path in sorted((SHARED / "wechat_feeds_rss" / "feeds").glob("*.xml")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for item in root.iter("item"):
            parts = [
                item.findtext("title") or "",
                html.unescape(TAG_RE.sub(" ", item.findtext("description") or "")),
                item.findtext("link") or "",
            ]
            yield " ".join(p.strip() for p in parts if p.strip())


def thucnews() -> Iterator[str]:
    for name in ("test.txt", "dev.txt"):
        path = SHARED / "thucnews_titles" / name
        for line in path.read_text(encoding="utf-8").splitlines():
            title = line.rsplit("\t", 1)[0]
            if title:
                yield title


READERS: dict[str, Callable[[], Iterator[str]]] = {
    "weibo2018": weibo2018,
    "gov_message_board_tipdm2020_sample": gov_messages,
    "wechat_feeds_rss": wechat_feeds,
    "thucnews_titles": thucnews,
}


def sample(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (dataset, post) pairs taken in turn from each present set, each set shuffled."""
    pools: dict[str, list[str]] = {}
    for name, reader in READERS.items():
        if not (SHARED / name).is_dir():
            print(f"skipped {name}: absent from {SHARED}")
            continue
        posts = list(reader())
        random.Random(seed).shuffle(posts)
        pools[name] = posts
    out: list[tuple[str, str]] = []
    while len(out) < n and any(pools.values()):
        for name, posts in pools.items():
            if posts and len(out) < n:
                out.append((name, posts.pop()))
    return out


def context(text: str, hit: Hit) -> str:
    """The matched span in [brackets] with a little text either side, on one line."""
    lo, hi = max(0, hit.start - CONTEXT), min(len(text), hit.end + CONTEXT)
    snippet = f"{text[lo : hit.start]}[{text[hit.start : hit.end]}]{text[hit.end : hi]}"
    return " ".join(snippet.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=12, help="spans printed per category")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    posts = sample(args.posts, args.seed)
    if not posts:
        print("no dataset found")
        return 1
    per_set, masked_per_set = Counter(name for name, _ in posts), Counter()
    by_kind: dict[str, list[str]] = defaultdict(list)
    declined: list[str] = []
    seconds = 0.0
    for name, text in posts:
        started = time.perf_counter()
        hits = find_pii(text)
        seconds += time.perf_counter() - started
        hidden = {p for hit in hits for p in hit.hidden}
        for run in LONG_RUN_RE.finditer(fold(text)):
            if not hidden.intersection(range(run.start(), run.end())):
                declined.append(f"{name[:8]:8} {context(text, Hit(run.start(), run.end(), 'declined', frozenset()))}")
        if not hits:
            continue
        masked_per_set[name] += 1
        assert len(mask_pii(text)) == len(text)
        for hit in hits:
            by_kind[hit.kind].append(f"{name[:8]:8} {context(text, hit)}")
    total = sum(masked_per_set.values())
    chars = sum(len(text) for _, text in posts)
    print(
        f"posts: {len(posts)} ({chars:,} characters, found in {seconds:.2f} s); "
        f"posts with any mask applied: {total} ({total / len(posts):.2%})"
    )
    for name in per_set:
        print(f"  {name}: {masked_per_set[name]} of {per_set[name]}")
    print("matched spans by category (judge each: personal data, or a false positive?)")
    for kind in sorted(by_kind):
        spans = by_kind[kind]
        print(f"\n== {kind}: {len(spans)} spans")
        for line in spans[: args.samples]:
            print(f"  {line}")
    print(f"\n== not masked: {len(declined)} runs of 7+ digits (check for misses)")
    for line in declined[: args.samples]:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

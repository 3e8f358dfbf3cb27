"""Body-extraction F1 of yuqing's extractor beside trafilatura's and GNE's default output.

Metric: the article-extraction-benchmark's (../shared/tools/extract_eval.py): 4-shingles of ``\\w+``
tokens, per-page TP/FP/FN normalised, mean precision and recall over pages, F1 of the means.
Note that ``\\w+`` does not split Chinese: a shingle there is four punctuation-delimited clauses,
so the metric is strict on Chinese pages (one stray or missing clause breaks four shingles).

Pages with ground truth in ../shared/data:
  article_extraction_benchmark  181 pages (2 Japanese, no Chinese), hand-made bodies
  newspaper4k_fixtures          13 pages (3 Chinese), the library's approved expected text
  trafilatura_eval_cjk          5 Chinese pages with must/must-not snippets (trafilatura's own metric)
gne_news_pages has no hand-made ground truth (its result.txt is GNE's own output), so it is not scored.

Usage: python bench/extraction.py [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawlers.encoding import decode_html  # noqa: E402
from crawlers.extract import extract_article  # noqa: E402

TOKEN = re.compile(r"\w+", re.UNICODE)
CJK = re.compile(r"[\u4e00-\u9fff\u3040-\u30ff]")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    t = TOKEN.findall(text or "")
    return Counter(tuple(t[i : i + n]) for i in range(max(1, len(t) - n + 1)) if t[i : i + n])


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    a, b = shingles(true), shingles(pred)
    tp, fp, fn = sum((a & b).values()), sum((b - a).values()), sum((a - b).values())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def score(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """The benchmark's metric over (truth, prediction) pairs."""
    rows = [tp_fp_fn(t, p) for t, p in pairs]
    precisions = [
        1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp) for tp, fp, fn in rows if tp + fp > 0
    ]
    recalls = [1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn) for tp, fp, fn in rows if tp + fn > 0]
    p = statistics.mean(precisions) if precisions else 0.0
    r = statistics.mean(recalls) if recalls else 0.0
    return {
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "pages": len(rows),
    }


def is_cjk(text: str) -> bool:
    return len(CJK.findall(text)) > 0.2 * max(1, len(text))


def load_pages(data: Path) -> list[dict[str, str]]:
    """Every page with ground truth: id, set, html (decoded by our detector for all tools), truth."""
    pages = []
    aeb = data / "article_extraction_benchmark"
    if aeb.exists():
        truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
        for key, value in truth.items():
            raw = gzip.decompress((aeb / "html" / f"{key}.html.gz").read_bytes())
            pages.append(
                {
                    "id": key,
                    "set": "article_extraction_benchmark",
                    "url": value.get("url", ""),
                    "html": decode_html(raw)[0],
                    "truth": value["articleBody"],
                }
            )
    n4k = data / "newspaper4k_fixtures"
    if n4k.exists():
        for txt in sorted((n4k / "txt").glob("*.txt")):
            html = n4k / "html" / f"{txt.stem}.html"
            if html.exists():
                pages.append(
                    {
                        "id": txt.stem,
                        "set": "newspaper4k_fixtures",
                        "url": "",
                        "html": decode_html(html.read_bytes())[0],
                        "truth": txt.read_text(encoding="utf-8"),
                    }
                )
    return pages


def snippet_pages(data: Path) -> list[dict[str, object]]:
    """trafilatura's evaluation pages in Chinese: snippets that must / must not be extracted."""
    root = data / "trafilatura_eval_cjk"
    if not root.exists():
        return []
    pages = []
    for url, entry in json.loads((root / "evaldata.json").read_text(encoding="utf-8")).items():
        path = next((p for p in (root / "eval" / entry["file"], root / "cache" / entry["file"]) if p.exists()), None)
        if path is not None:
            pages.append(
                {
                    "url": url,
                    "html": decode_html(path.read_bytes())[0],
                    "with": entry.get("with", []),
                    "without": entry.get("without", []),
                }
            )
    return pages


def snippet_score(pages: list[dict[str, object]], fn: Callable[[str, str], str]) -> dict[str, float]:
    """trafilatura's own evaluation: with-snippets found are TP, without-snippets found are FP."""
    tp = fp = fn_ = 0
    for page in pages:
        text = safe(fn, str(page["html"]), str(page["url"]))
        found = [s in text for s in page["with"]]  # type: ignore[attr-defined]
        tp, fn_ = tp + sum(found), fn_ + len(found) - sum(found)
        fp += sum(s in text for s in page["without"])  # type: ignore[attr-defined]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn_) if tp + fn_ else 0.0
    return {
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "pages": len(pages),
    }


def tools() -> dict[str, Callable[[str, str], str]]:
    import trafilatura

    found: dict[str, Callable[[str, str], str]] = {
        "yuqing": lambda html, url: extract_article(html, url or None).text,
        "trafilatura": lambda html, url: trafilatura.extract(html, url=url or None) or "",
    }
    try:
        from gne import GeneralNewsExtractor

        gne = GeneralNewsExtractor()
        found["gne"] = lambda html, url: gne.extract(html).get("content", "")
    except ImportError:
        print("note: GNE not installed (pip install gne); its column is left out", file=sys.stderr)
    return found


def safe(fn: Callable[[str, str], str], html: str, url: str) -> str:
    try:
        return fn(html, url) or ""
    except Exception:  # noqa: BLE001 - a tool failing on a page scores 0 on it
        return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    pages = load_pages(args.data)
    if not pages:
        print(f"no pages with ground truth under {args.data}", file=sys.stderr)
        return 1
    results: dict[str, dict[str, dict[str, float]]] = {}
    per_page: dict[str, dict[str, float]] = {}
    for name, fn in tools().items():
        started = time.perf_counter()
        preds = {p["set"] + "/" + p["id"]: safe(fn, p["html"], p["url"]) for p in pages}
        elapsed = time.perf_counter() - started
        groups = {
            "all pages": pages,
            "Chinese pages": [p for p in pages if is_cjk(p["truth"]) and not re.search(r"[\u3040-\u30ff]", p["truth"])],
            "CJK pages (zh+ja)": [p for p in pages if is_cjk(p["truth"])],
        }
        results[name] = {
            g: score([(p["truth"], preds[p["set"] + "/" + p["id"]]) for p in ps]) for g, ps in groups.items()
        }
        results[name]["all pages"]["seconds"] = round(elapsed, 1)
        for p in groups["CJK pages (zh+ja)"]:
            per_page.setdefault(p["set"] + "/" + p["id"][:24], {})[name] = score(
                [(p["truth"], preds[p["set"] + "/" + p["id"]])]
            )["f1"]
    snippets = snippet_pages(args.data)
    if snippets:
        for name, fn in tools().items():
            results[name]["trafilatura eval, Chinese pages (snippets)"] = snippet_score(snippets, fn)
    if args.json:
        print(json.dumps({"results": results, "cjk_pages": per_page}, ensure_ascii=False, indent=1))
        return 0
    for group in [
        g
        for g in ("all pages", "Chinese pages", "CJK pages (zh+ja)", "trafilatura eval, Chinese pages (snippets)")
        if g in results["yuqing"]
    ]:
        print(f"\n{group}")
        print(f"  {'tool':12} {'F1':>7} {'P':>7} {'R':>7} {'pages':>6}")
        for name, by_group in results.items():
            s = by_group[group]
            print(f"  {name:12} {s['f1']:7.4f} {s['precision']:7.4f} {s['recall']:7.4f} {s['pages']:6d}")
    print("\nper CJK page (F1)")
    for page, scores in per_page.items():
        print(f"  {page:50} " + "  ".join(f"{k}={v:.3f}" for k, v in scores.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

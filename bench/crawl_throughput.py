"""Crawl throughput of the whole Collect pipeline into the database, as a ratio to ``scrapy bench``.

Generates a fixture site of N article pages (default 2,000) behind list pages, serves it from a
thread of this process (the test suite's mock server), crawls it with ``python -m crawlers.run``
into a fresh SQLite database (normalise → validate → dedupe → store, crawl_runs recorded), then
runs ``scrapy bench`` on the same machine. Prints pages/s of both and the ratio.

Modes: ``selectors`` (title/body/time selectors in config, the usual case for a configured site)
and ``extraction`` (no body selector: main-text extraction with trafilatura + density scorer).
AutoThrottle is off in both crawls, as in ``scrapy bench``.

Usage: python bench/crawl_throughput.py [--articles 2000] [--mode selectors|extraction|both]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from config import copy_shipped, load_config  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from tests.mockserver import MockServer  # noqa: E402

PER_LIST = 50
PARAGRAPH = (
    "为切实维护社会治安稳定，市公安局自即日起在全市范围内开展夏季治安打击整治行动，"
    "重点打击电信网络诈骗、盗窃等违法犯罪活动，全力守护群众生命财产安全。"
)


def article_html(i: int) -> str:
    paras = "".join(f"<p>第{i}篇第{k}段。{PARAGRAPH}</p>" for k in range(8))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>测试文章{i}_测试网</title></head><body>"
        f"<div id='nav'>{''.join(f'<a href=/c{k}.html>栏目{k}</a>' for k in range(10))}</div>"
        f"<h1 class='title'>测试文章第{i}篇：全市开展治安整治行动</h1><span class='time'>2023-03-04 10:{i % 60:02d}</span>"
        f"<div class='content'>{paras}</div><div class='footer'>版权所有 测试网</div></body></html>"
    )


def build_site(root: Path, articles: int) -> int:
    """Write the site; returns the number of list pages."""
    (root / "a").mkdir(parents=True)
    for i in range(articles):
        (root / "a" / f"{i}.html").write_text(article_html(i), encoding="utf-8")
    lists = (articles + PER_LIST - 1) // PER_LIST
    for n in range(lists):
        links = "".join(
            f"<li><a href='/a/{i}.html'>测试文章第{i}篇标题</a></li>"
            for i in range(n * PER_LIST, min(articles, (n + 1) * PER_LIST))
        )
        (root / f"list-{n}.html").write_text(f"<html><body><ul class='l'>{links}</ul></body></html>", encoding="utf-8")
    return lists


def write_config(config_dir: Path, data_dir: Path, base: str, lists: int, articles: int, mode: str) -> None:
    copy_shipped(config_dir, data_dir)
    urls = ", ".join(f'"{base}/list-{n}.html"' for n in range(lists))
    body = ', body: "div.content"' if mode == "selectors" else ""
    (config_dir / "sources.yaml").write_text(
        f"sources:\n  - {{id: bench, name: 基准, kind: html, start_urls: [{urls}], delay: 0, concurrency: 16,"
        f" max_items: {articles + 10}, max_pages: 1,"
        f' selectors: {{links: "ul.l a", title: "h1.title", time: "span.time"{body}}}}}\n',
        encoding="utf-8",
    )


def run_ours(articles: int, mode: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lists = build_site(root / "site", articles)
        # the crawl runs in its own process: serving from a thread here costs it no interpreter time
        with MockServer(root=root / "site") as server:
            write_config(root / "config", root / "data", server.base, lists, articles, mode)
            upgrade(make_engine(load_config(root / "config").database_url))
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "crawlers.run",
                    "bench",
                    "--config",
                    str(root / "config"),
                    "--set",
                    "AUTOTHROTTLE_ENABLED=False",
                    "--set",
                    "CONCURRENT_REQUESTS=16",
                    "--set",
                    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
                ],
                capture_output=True,
                text=True,
                cwd=REPO,
                check=False,
            )
            wall = time.perf_counter() - started
        summary = json.loads(done.stdout.strip().splitlines()[-1].split(" ", 1)[1])
        engine = make_engine(load_config(root / "config").database_url)
        with engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT started_at, finished_at FROM crawl_runs").one()
        engine.dispose()
    from datetime import datetime

    crawl_seconds = (datetime.fromisoformat(str(row[1])) - datetime.fromisoformat(str(row[0]))).total_seconds()
    return {
        "pages": summary["pages"],
        "new": summary["new"],
        "status": summary["status"],
        "crawl_seconds": round(crawl_seconds, 2),
        "wall_seconds": round(wall, 2),
        "pages_per_s": round(summary["pages"] / crawl_seconds, 1),
    }


def run_scrapy_bench(seconds: int = 20) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:  # outside the project: scrapy's default settings
        done = subprocess.run(
            [str(Path(sys.executable).with_name("scrapy")), "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"],
            capture_output=True,
            text=True,
            cwd=tmp,
            check=False,
        )
    log = done.stderr
    pages = int(re.search(r"'response_received_count': (\d+)", log).group(1))  # type: ignore[union-attr]
    elapsed = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", log).group(1))  # type: ignore[union-attr]
    return {"pages": pages, "seconds": round(elapsed, 2), "pages_per_s": round(pages / elapsed, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--mode", choices=["selectors", "extraction", "both"], default="both")
    args = parser.parse_args()
    bench = run_scrapy_bench()
    print(f"scrapy bench: {bench['pages']} pages in {bench['seconds']} s = {bench['pages_per_s']} pages/s")
    for mode in ["selectors", "extraction"] if args.mode == "both" else [args.mode]:
        ours = run_ours(args.articles, mode)
        print(
            f"yuqing crawl ({mode}): {ours['pages']} pages, {ours['new']} new posts stored, status {ours['status']}, "
            f"{ours['crawl_seconds']} s crawling ({ours['wall_seconds']} s with process start) = "
            f"{ours['pages_per_s']} pages/s; ratio to scrapy bench {ours['pages_per_s'] / bench['pages_per_s']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

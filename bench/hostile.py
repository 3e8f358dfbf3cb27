"""Hostile sources next to a good one: each crawled by the real ``python -P -m crawlers.run``
subprocess, one after another, with the crawler's peak RSS (``ru_maxrss`` of the child from
``os.wait4``). Target: every crawl under 500 MB, every hostile case refused or cut off with its reason
in ``crawl_runs``, the good source stored.

Cases (served by ``tests/crawlers/hostile.py`` on 127.0.0.1): a feed whose body is ``/dev/zero``; a
feed linking ``file:/dev/zero`` and ``file:///etc/passwd``; a 300 KB ``.xml.gz`` sitemap (≈ 300 MB
unpacked); a feed sent with ``Content-Encoding: gzip`` (≈ 300 MB unpacked); a feed on ``localhost``
linking ``127.0.0.1/internal-admin`` and redirecting there; a feed with an API token linking to
another origin; a page that never ends; a page that drips one byte a second; and a good feed.

Usage: python bench/hostile.py [--bomb-mb 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from config import copy_shipped, load_config  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import CrawlRunRow  # noqa: E402
from tests.crawlers.hostile import HostileServer, gzip_bomb, rss, start_hostile  # noqa: E402

TARGET_MB = 500
LONG = "。这是一段足够长的正文内容，用来确认条目本身携带全文，因此不会被当作摘要去抓取原文页面。" * 2
ARTICLE = (
    "<html><head><meta charset='utf-8'><title>{0}</title></head><body><h1>{0}</h1><div class='c'>"
    "<p>{0}。正文第一段，讲述事情的经过和有关部门的回应，内容足够长。</p></div></body></html>"
)


def build(site: HostileServer, other: HostileServer, bomb_bytes: int) -> list[dict[str, object]]:
    """Routes on the hostile servers; the sources that crawl them (id, case, start URL, options)."""
    good = [(f"正常新闻{i}", site.url(f"/good/{i}.html"), f"正常新闻{i}" + LONG) for i in range(5)]
    site.route("/good.xml", rss(good), "application/rss+xml")
    site.route("/zero.xml", b"/dev/zero", "application/rss+xml")
    site.route(
        "/file.xml", rss([("零", "file:/dev/zero", "…"), ("密码", "file:///etc/passwd", "…")]), "application/rss+xml"
    )
    head = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><!--'
    site.route("/sitemap.xml.gz", gzip_bomb(bomb_bytes, head), "application/x-gzip")
    site.route(
        "/encoded.xml", gzip_bomb(bomb_bytes, b"<rss><channel>"), "application/rss+xml", **{"Content-Encoding": "gzip"}
    )
    site.route("/internal-admin", ARTICLE.format("内部管理后台").encode())
    site.redirect("/go.html", site.url("/internal-admin?via=redirect"))
    site.route(
        "/private.xml",
        rss([("后台", site.url("/internal-admin"), "…"), ("跳转", site.url("/go.html", host="localhost"), "…")]),
        "application/rss+xml",
    )
    other.route("/article.html", ARTICLE.format("别的网站").encode())
    site.route("/cred.xml", rss([("外站", other.url("/article.html"), "…")]), "application/rss+xml")
    site.endless("/huge.html")
    site.drip("/drip.html")
    rss_source = {"kind": "rss"}
    return [
        {"id": "good", "case": "good feed", "url": site.url("/good.xml"), **rss_source, "follow_articles": False},
        {"id": "dev-zero-body", "case": "feed body /dev/zero", "url": site.url("/zero.xml"), **rss_source},
        {
            "id": "file-links",
            "case": "links file:/dev/zero, file:///etc/passwd",
            "url": site.url("/file.xml"),
            **rss_source,
        },
        {
            "id": "sitemap-bomb",
            "case": f"{bomb_bytes >> 20} MB .xml.gz sitemap",
            "kind": "sitemap",
            "url": site.url("/sitemap.xml.gz"),
        },
        {
            "id": "encoded-bomb",
            "case": f"{bomb_bytes >> 20} MB Content-Encoding: gzip",
            "kind": "rss",
            "url": site.url("/encoded.xml"),
        },
        {
            "id": "private-links",
            "case": "links to 127.0.0.1 from localhost",
            "url": site.url("/private.xml", "localhost"),
            **rss_source,
        },
        {
            "id": "credential-leak",
            "case": "API token, link to another origin",
            "url": site.url("/cred.xml"),
            **rss_source,
            "headers_env": {"X-Api-Token": "BENCH_TOKEN"},
        },
        {"id": "huge-page", "case": "page that never ends", "kind": "html", "url": site.url("/huge.html")},
        {"id": "slow-drip", "case": "one byte a second", "kind": "html", "url": site.url("/drip.html")},
    ]


def write_config(config_dir: Path, data_dir: Path, sources: list[dict[str, object]]) -> None:
    copy_shipped(config_dir, data_dir)
    lines = ["sources:"]
    for s in sources:
        entry = {
            "id": s["id"],
            "name": s["id"],
            "kind": s["kind"],
            "start_urls": [s["url"]],
            "delay": 0,
            "timeout": 5,
            "obey_robots": False,
            **{k: v for k, v in s.items() if k not in ("id", "case", "kind", "url")},
        }
        lines.append("  - " + json.dumps(entry, ensure_ascii=False))
    (config_dir / "sources.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def crawl(config_dir: Path, source_id: str) -> tuple[dict[str, object], float, float]:
    """The crawl's summary line, its peak RSS in MB and its wall time in seconds."""
    cmd = [
        sys.executable,
        "-P",
        "-m",
        "crawlers.run",
        source_id,
        "--config",
        str(config_dir),
        "--set",
        "AUTOTHROTTLE_ENABLED=False",
        "--set",
        "YUQING_RETRY_BACKOFF=0.05",
    ]
    env = {**os.environ, "BENCH_TOKEN": "bench-secret-token"}
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped by wait4
        seconds = time.monotonic() - started
        out.seek(0)
        lines = [line for line in out.read().decode().splitlines() if line.startswith("YUQING-CRAWL ")]
    summary = json.loads(lines[-1].split(" ", 1)[1]) if lines else {"status": "no summary"}
    return summary, usage.ru_maxrss / 1024, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bomb-mb", type=int, default=300, help="unpacked size of the gzip bombs")
    args = parser.parse_args()
    site, other = start_hostile(), start_hostile()
    worst = 0.0
    try:
        sources = build(site, other, args.bomb_mb << 20)
        with tempfile.TemporaryDirectory() as tmp:
            config_dir, data_dir = Path(tmp) / "config", Path(tmp) / "data"
            write_config(config_dir, data_dir, sources)
            config = load_config(config_dir)
            engine = make_engine(config.database_url)
            upgrade(engine)
            print(f"{'source':16} {'case':42} {'status':8} {'new':>4} {'err':>4} {'peak RSS':>9} {'time':>6}  reason")
            for s in sources:
                summary, peak, seconds = crawl(config_dir, str(s["id"]))
                worst = max(worst, peak)
                with session_factory(engine)() as session:
                    run = session.scalars(
                        select(CrawlRunRow).where(CrawlRunRow.source_id == s["id"]).order_by(CrawlRunRow.id.desc())
                    ).first()
                reason = (run.error_summary if run else "").replace("\n", " | ")
                print(
                    f"{s['id']!s:16} {s['case']!s:42} {summary.get('status')!s:8} {summary.get('new', 0):>4} "
                    f"{summary.get('errors', 0):>4} {peak:>6.0f} MB {seconds:>5.1f}s  {reason[:150]}"
                )
            engine.dispose()
        leaked = "bench-secret-token" in json.dumps(other.headers_seen)
        admin = [hit for hit in site.hits if hit.startswith("/internal-admin")]
        print(
            f"\ntoken sent to the other origin: {'YES' if leaked else 'no'}; "
            f"internal-admin fetched: {len(admin)} time(s); worst peak RSS {worst:.0f} MB (target < {TARGET_MB} MB)"
        )
        return 0 if worst < TARGET_MB and not leaked and not admin else 1
    finally:
        site.close()
        other.close()


if __name__ == "__main__":
    sys.exit(main())

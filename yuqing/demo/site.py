"""A local site that looks like the real sources, for the demo and the end-to-end test: a news
portal with RSS (UTF-8), a forum in GBK with relative times, a government message board and a
public JSON API. It serves the posts of ``posts.yaml`` with times relative to when it started."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from ruamel.yaml import YAML

CST = timezone(timedelta(hours=8))
PAGE_SIZE = 3


@dataclass(frozen=True)
class DemoPost:
    id: str
    channel: str
    title: str
    text: str
    author: str
    published: datetime
    views: int | None = None
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None
    reply: str | None = None

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.text.strip().splitlines() if p.strip()]


def load_posts(now: datetime) -> list[DemoPost]:
    """The demo posts, newest first, published ``age`` minutes before ``now``."""
    raw = YAML(typ="safe").load(files("yuqing.demo").joinpath("posts.yaml").read_text(encoding="utf-8"))
    posts = []
    for item in raw["posts"]:
        age = int(item.pop("age"))
        posts.append(DemoPost(published=now - timedelta(minutes=age), **item))
    return sorted(posts, key=lambda p: p.published, reverse=True)


def relative_time(when: datetime, now: datetime) -> str:
    """How Chinese forums show times: 刚刚, 5分钟前, 3小时前, 昨天 14:20, 2026-11-20 09:15."""
    delta = now - when
    local = when.astimezone(CST)
    if delta < timedelta(minutes=1):
        return "刚刚"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)}分钟前"
    if delta < timedelta(hours=24) and local.date() == now.astimezone(CST).date():
        return f"{int(delta.total_seconds() // 3600)}小时前"
    if local.date() == (now.astimezone(CST) - timedelta(days=1)).date():
        return f"昨天 {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


class DemoSite:
    """Renders every page of the demo site from the posts."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(timezone.utc)
        self.posts = load_posts(self.now)
        self.by_id = {p.id: p for p in self.posts}
        self.env = Environment(
            loader=PackageLoader("yuqing.demo", "templates"), autoescape=select_autoescape(["html", "xml"])
        )
        self.env.filters["cst"] = lambda d, fmt="%Y-%m-%d %H:%M": d.astimezone(CST).strftime(fmt)
        self.env.filters["rfc822"] = format_datetime
        self.env.filters["relative"] = lambda d: relative_time(d, self.now)

    def channel(self, name: str) -> list[DemoPost]:
        """The channel's posts published by now (later ones appear when their time comes)."""
        now = datetime.now(timezone.utc)
        return [p for p in self.posts if p.channel == name and p.published <= now]

    def render(self, path: str, query: dict[str, list[str]], base: str = "") -> tuple[int, str, bytes]:
        """(status, content type, body) for a request path; ``base`` makes feed links absolute."""
        page = max(1, int((query.get("page") or ["1"])[0] or 1)) if (query.get("page") or ["1"])[0].isdigit() else 1
        routes: dict[str, Any] = {
            "/": lambda: self._html("index.html"),
            "/robots.txt": lambda: (200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n"),
            "/news/": lambda: self._html("news_list.html", posts=self.channel("news")),
            "/news/rss.xml": lambda: self._xml("rss.xml", posts=self.channel("news"), base=base),
            "/bbs/forum.php": lambda: self._gbk("bbs_list.html", posts=self.channel("bbs")),
            "/gov/list": lambda: self._paged_html("gov_list.html", self.channel("gov"), page),
            "/api/posts": lambda: self._api(page),
        }
        if path in routes:
            return routes[path]()
        return self._detail(path)

    def _detail(self, path: str) -> tuple[int, str, bytes]:
        for prefix, template, encode in (
            ("/news/a/", "news_article.html", self._html),
            ("/bbs/thread-", "bbs_thread.html", self._gbk),
            ("/gov/msg/", "gov_message.html", self._html),
            ("/api/status/", "api_status.html", self._html),
        ):
            if path.startswith(prefix):
                post = self.by_id.get(path[len(prefix) :].removesuffix(".html"))
                if post and post.published <= datetime.now(timezone.utc):
                    return encode(template, post=post)
        return 404, "text/html; charset=utf-8", "<h1>404 页面不存在</h1>".encode()

    def _html(self, template: str, **context: Any) -> tuple[int, str, bytes]:
        body = self.env.get_template(template).render(now=self.now, **context)
        return 200, "text/html; charset=utf-8", body.encode("utf-8")

    def _gbk(self, template: str, **context: Any) -> tuple[int, str, bytes]:
        body = self.env.get_template(template).render(now=self.now, **context)
        return 200, "text/html; charset=gbk", body.encode("gbk", errors="xmlcharrefreplace")

    def _xml(self, template: str, **context: Any) -> tuple[int, str, bytes]:
        body = self.env.get_template(template).render(now=self.now, **context)
        return 200, "application/rss+xml; charset=utf-8", body.encode("utf-8")

    def _paged_html(self, template: str, posts: list[DemoPost], page: int) -> tuple[int, str, bytes]:
        chunk = posts[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        more = len(posts) > page * PAGE_SIZE
        return self._html(template, posts=chunk, page=page, next_page=page + 1 if more else None)

    def _api(self, page: int) -> tuple[int, str, bytes]:
        posts = self.channel("api")
        chunk = posts[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        more = len(posts) > page * PAGE_SIZE
        data = {
            "code": 0,
            "data": {
                "list": [
                    {
                        "mid": p.id,
                        "title": p.title,
                        "content": p.text.strip(),
                        "created_at": p.published.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
                        "user": {"screen_name": p.author},
                        "url": f"/api/status/{p.id}",
                        "stats": {"like": p.likes, "repost": p.reposts, "comment": p.comments},
                    }
                    for p in chunk
                ],
                "next": f"/api/posts?page={page + 1}" if more else None,
            },
        }
        return 200, "application/json; charset=utf-8", json.dumps(data, ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, site: DemoSite, *args: Any, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        base = f"http://{self.headers.get('Host') or '127.0.0.1'}"
        status, content_type, body = self.site.render(parts.path, parse_qs(parts.query), base)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the demo prints its own summary
        return


def serve(site: DemoSite, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start the site in a background thread; returns the server and its base URL."""
    server = ThreadingHTTPServer((host, port), partial(_Handler, site))
    threading.Thread(target=server.serve_forever, name="demo-site", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"

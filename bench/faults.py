"""kill -9 loop against the real daemon (issue 14): a local news site that keeps publishing, a
digest group with many recipients whose digest time falls inside the run, immediate alerts, mail to
a slow local SMTP server (aiosmtpd on port 0) that records every message; the daemon is killed
``--kills`` times across crawl, analysis and sending, each time restarted on the same config and
SQLite database. At the end it settles, stops cleanly, and the figures are printed.

    .venv/bin/python bench/faults.py --kills 15 --seed 1 --recipients 20 [--keep]

Kill modes: ``daemon`` (SIGKILL of the daemon alone: its children die with it by their parent-death
signal), ``tree`` (SIGKILL of the daemon and every process under it at once: crawl and stage
children included) and ``smtp`` (SIGKILL of the daemon, or of its whole tree, from inside the SMTP
server the moment it has received a message's DATA and before it answers: the documented window
between the server's accepting a message and the sender's recording it).

Figures: posts lost (site items never stored), posts duplicated (same canonical URL twice; same
item under two URLs), duplicate emails (same key and recipient, or same Message-ID and recipient,
received twice) inside / outside the documented window, missing emails (a recipient never got the
digest; a recorded delivery never received), and the worst delay of a cut-off recipient: from the
restart that followed the kill to the message's arrival (target: within 2 minutes). Only loopback
traffic; the whole run is aborted after ``--max-minutes``.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daemon_memory import descendants  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from config import copy_shipped, load_config  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.models import DeliveryRow, PostRow  # noqa: E402
from tests.alerts.alerts_testlib import PortZeroController  # noqa: E402
from tests.mockserver import MockServer, Request, Response  # noqa: E402

CLI = [sys.executable, "-c", "from yuqing.cli import main; main()"]
TZ = "Asia/Shanghai"
LEASE_SECONDS = 90  # daemon.delivery_lease (the shipped default)
DAEMON = """daemon:
  analyze_every: 30s
  health_check_every: 1m
  retry_every: 5m
  lease_ttl: 10s
  reload_poll: 2s
  shutdown_timeout: 30s
  crawl_kill_grace: 2s
  delivery_lease: 90s
"""
ITEM = re.compile(r"/news/(\d+)\.html")


class Site:
    """``/feed.xml``: every item published so far (one more every ``every`` seconds); each even
    item's link carries ``?utm_source=rss`` on every other request, so the same item is seen under
    two URLs. ``/news/N.html``: the article, after a short delay."""

    def __init__(self, server: MockServer, every: float) -> None:
        self.server, self.every = server, every
        self.published: list[tuple[int, float]] = [(n, time.time()) for n in range(1, 4)]
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.requests = 0
        server.route("/robots.txt", Response(200, b"User-agent: *\nAllow: /\n", "text/plain"))
        server.route("/feed.xml", self.feed)
        server.route(re.compile(r"/news/(\d+)\.html"), self.article)
        threading.Thread(target=self.publish, name="publisher", daemon=True).start()

    def publish(self) -> None:
        while not self.stop.wait(self.every):
            with self.lock:
                self.published.append((self.published[-1][0] + 1, time.time()))

    def feed(self, request: Request) -> Response:
        with self.lock:
            items = list(self.published)
            self.requests += 1
            tagged = self.requests % 2 == 0
        base = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
        entries = "".join(
            f"<item><title>某县派出所民警执法引发争议 网民投诉第{n}起</title>"
            f"<link>{self.server.url(f'/news/{n}.html')}{'?utm_source=rss' if tagged and n % 2 == 0 else ''}</link>"
            f"<description>网民反映某县派出所民警在执法过程中态度粗暴、殴打群众，引发不满，第{n}起。</description>"
            f"<pubDate>{format_datetime(base + timedelta(minutes=n))}</pubDate></item>"
            for n, _ in reversed(items)
        )
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>测试站</title>'
            f"<link>{self.server.url('/')}</link><description>bench</description>{entries}</channel></rss>"
        )
        return Response(200, body.encode(), "application/rss+xml")

    def article(self, request: Request) -> Response:
        assert request.match is not None
        n = request.match.group(1)
        time.sleep(0.2)
        text = f"网民反映某县派出所民警在执法过程中态度粗暴、殴打群众，引发群众不满和投诉，第{n}起。" * 6
        page = (
            f"<html><head><meta charset='utf-8'><title>第{n}起</title></head><body><article>"
            f"<h1>某县派出所民警执法引发争议 网民投诉第{n}起</h1><p>{text}</p></article></body></html>"
        )
        return Response(200, page.encode())


@dataclass(frozen=True)
class Mail:
    at: float
    recipient: str
    key: str
    message_id: str


class SlowSmtp:
    """aiosmtpd handler: records each message (time, recipient, key, Message-ID) when its DATA has
    arrived, runs an armed trigger (the kill) at that moment, then answers 250 after ``delay``."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.mails: list[Mail] = []
        self.lock = threading.Lock()
        self.trigger: Callable[[], None] | None = None
        self.countdown = 0

    def arm(self, after: int, trigger: Callable[[], None]) -> None:
        """Run ``trigger`` when the ``after``-th next message has arrived."""
        with self.lock:
            self.countdown, self.trigger = after, trigger

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        fire = None
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.mails.append(Mail(time.time(), rcpt, str(message["X-Yuqing-Key"]), str(message["Message-ID"])))
            if self.trigger is not None:
                self.countdown -= 1
                if self.countdown <= 0:
                    fire, self.trigger = self.trigger, None
        if fire is not None:
            fire()
        await asyncio.sleep(self.delay)
        return "250 OK"

    def snapshot(self) -> list[Mail]:
        with self.lock:
            return list(self.mails)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Daemon:
    """One ``yuqing run`` process (its own session), logging to its own file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log_path = log
        self.log_file = log.open("ab")
        self.started = time.time()
        self.proc = subprocess.Popen(
            [*CLI, "--config", str(config), "run"],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if re.search(pattern, self.log()):
                return True
            time.sleep(0.2)
        return False

    def child(self, fragment: str) -> int | None:
        return next((p for p in descendants(self.proc.pid) if fragment in cmdline(p)), None)

    def kill(self, tree: bool) -> None:
        """SIGKILL the daemon, or the daemon and every process under it at once."""
        victims = descendants(self.proc.pid) if tree else []
        os.kill(self.proc.pid, signal.SIGKILL)
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def reap(self) -> None:
        self.proc.wait(30)
        self.log_file.close()


@dataclass
class Kill:
    n: int
    phase: str
    mode: str
    at: float = 0.0
    restart: float = 0.0
    note: str = ""
    open_rows: set[tuple[str, str]] = field(default_factory=set)  # (key, recipient) not sent at the kill
    in_window: set[tuple[str, str]] = field(default_factory=set)  # … although the server had it


def plan(kills: int, rng: random.Random) -> list[tuple[str, str]]:
    """(phase, mode) of each kill: crawl and analysis first (before the digest), then sending,
    crawl and analysis in turn; crawl and analysis kills alternate the daemon-alone and tree modes (as
    do the SMTP-timed kills, which are the third mode)."""
    quota = {p: kills // 3 + (1 if i < kills % 3 else 0) for i, p in enumerate(("sending", "crawl", "analysis"))}
    order: list[str] = []
    for phase in ("crawl", "analysis", "crawl", "analysis"):
        if quota[phase] > 0 and len(order) < kills:
            order.append(phase)
            quota[phase] -= 1
    while len(order) < kills:
        for phase in ("sending", "crawl", "analysis"):
            if quota[phase] > 0:
                order.append(phase)
                quota[phase] -= 1
    first = rng.randrange(2)  # crawl and analysis kills start on opposite modes: balanced overall
    flip = {"crawl": first, "analysis": 1 - first, "sending": rng.randrange(2)}
    result = []
    for phase in order:
        flip[phase] ^= 1
        tree = bool(flip[phase])
        mode = ("smtp+tree" if tree else "smtp+daemon") if phase == "sending" else ("tree" if tree else "daemon")
        result.append((phase, mode))
    return result


def make_config(work: Path, site_port: int, smtp_port: int, recipients: list[str], digest_time: str) -> Path:
    config = copy_shipped(work / "config", work / "data")
    settings = (config / "settings.yaml").read_text(encoding="utf-8")
    settings = settings[: settings.index("daemon:\n")] + DAEMON
    settings = settings.replace("subprocess_timeout: 1800", "subprocess_timeout: 90")
    settings = settings.replace("  delay: 0.5 ", "  delay: 0 ")
    settings = settings.replace("transport: outbox ", "transport: smtp ").replace(
        "    port: 25\n", f"    port: {smtp_port}\n"
    )
    (config / "settings.yaml").write_text(settings, encoding="utf-8")
    (config / "sources.yaml").write_text(
        "sources:\n  - id: bench-news\n    name: 压测新闻站\n    kind: rss\n"
        f'    start_urls: ["http://127.0.0.1:{site_port}/feed.xml"]\n'
        "    schedule: {interval: 5s}\n    obey_robots: false\n    delay: 0\n",
        encoding="utf-8",
    )
    alerts = (config / "alerts.yaml").read_text(encoding="utf-8")
    alerts = alerts.replace('quiet_hours: "22:00-07:00"', "quiet_hours: null")
    alerts = alerts.replace("emails: [analyst@localhost]", f"emails: [{', '.join(recipients)}]")
    alerts = alerts.replace('digest_time: "08:00"', f'digest_time: "{digest_time}"')
    (config / "alerts.yaml").write_text(alerts, encoding="utf-8")
    return config


def run_cli(config: Path, *args: str) -> None:
    subprocess.run([*CLI, "--config", str(config), *args], check=True, capture_output=True, timeout=900)


def open_rows(config: Path, horizon: float) -> set[tuple[str, str]]:
    """(key, recipient) of deliveries not sent and due or claimed (not held for later)."""
    engine = make_engine(load_config(config).database_url)
    limit = datetime.fromtimestamp(horizon, timezone.utc).replace(tzinfo=None)
    with Session(engine) as session:
        rows = session.execute(
            select(DeliveryRow.key, DeliveryRow.recipient, DeliveryRow.next_attempt_at).where(
                DeliveryRow.status.in_(("pending", "failed"))
            )
        ).all()
    engine.dispose()
    return {(k, r) for k, r, due in rows if due is None or due.replace(tzinfo=None) <= limit}


def stored_posts(config: Path) -> list[tuple[str, str]]:
    engine = make_engine(load_config(config).database_url)
    with Session(engine) as session:
        rows = [(c, u) for c, u in session.execute(select(PostRow.canonical_url, PostRow.url)).all()]
    engine.dispose()
    return rows


def all_rows(config: Path) -> list[tuple[str, str, str]]:
    engine = make_engine(load_config(config).database_url)
    with Session(engine) as session:
        rows = [
            (k, r, s)
            for k, r, s in session.execute(select(DeliveryRow.key, DeliveryRow.recipient, DeliveryRow.status)).all()
        ]
    engine.dispose()
    return rows


def wait_phase(daemon: Daemon, phase: str, smtp: SlowSmtp, rng: random.Random, tree: bool, timeout: float) -> str:
    """Wait until the daemon is in ``phase`` and kill it there; returns a note."""
    deadline = time.monotonic() + timeout
    if phase == "sending":
        fired = threading.Event()

        def trigger() -> None:
            daemon.kill(tree)
            fired.set()

        smtp.arm(rng.randint(1, 3), trigger)
        if fired.wait(timeout):
            return "at DATA received"
        smtp.arm(0, lambda: None)
        daemon.kill(tree)
        return "no mail within the timeout: killed idle"
    fragment = "crawlers.run" if phase == "crawl" else "yuqing.daemon.isolated analyze"
    while time.monotonic() < deadline:
        if daemon.proc.poll() is not None:
            return "daemon exited by itself"
        if daemon.child(fragment) is not None:
            time.sleep(rng.uniform(0.3, 2.5 if phase == "crawl" else 5.0))
            still = daemon.child(fragment) is not None
            daemon.kill(tree)
            return "" if still else f"{phase} ended just before"
        time.sleep(0.1)
    daemon.kill(tree)
    return f"no {phase} within the timeout: killed idle"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--recipients", type=int, default=20)
    parser.add_argument("--publish-every", type=float, default=8.0, help="seconds between new site items")
    parser.add_argument("--smtp-delay", type=float, default=1.0, help="seconds the SMTP server takes per message")
    parser.add_argument("--digest-after", type=float, default=150.0, help="the digest falls due this long in")
    parser.add_argument(
        "--pause", type=float, default=10.0, help="mean seconds of work between a restart and the next kill"
    )
    parser.add_argument("--settle", type=float, default=300.0, help="longest wait for everything to arrive")
    parser.add_argument("--max-minutes", type=float, default=20.0, help="abort the run after this long")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (config, database, logs)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    began = time.monotonic()
    abort_at = began + args.max_minutes * 60
    work = Path(tempfile.mkdtemp(prefix="yuqing-faults-"))
    recipients = [f"reader{n:02d}@localhost" for n in range(args.recipients)]
    server = MockServer().start()
    site = Site(server, args.publish_every)
    smtp = SlowSmtp(args.smtp_delay)
    controller = PortZeroController(smtp, hostname="127.0.0.1", port=0)
    controller.start()
    daemon: Daemon | None = None
    kills: list[Kill] = []
    aborted = ""
    try:
        config = make_config(work, server.port, controller.port, recipients, "00:00")
        print(f"work dir {work}; warming up (database, sentiment model) …", flush=True)
        run_cli(config, "init")
        run_cli(config, "analyze")  # builds the default sentiment model once, as a first install does
        local = datetime.now(ZoneInfo(TZ)) + timedelta(seconds=args.digest_after)
        due = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
        alerts = config / "alerts.yaml"
        alerts.write_text(
            alerts.read_text(encoding="utf-8").replace('digest_time: "00:00"', f'digest_time: "{due:%H:%M}"'),
            encoding="utf-8",
        )
        digest_key = f"digest:{due.date().isoformat()}:press-office"
        print(f"digest {digest_key} at {due:%H:%M} {TZ}; {args.kills} kills", flush=True)
        incarnation = 0
        daemon = Daemon(config, work / f"daemon-{incarnation:02d}.log")
        daemon.wait_for(r"lease 'daemon' acquired", 60)
        for n, (phase, mode) in enumerate(plan(args.kills, rng), 1):
            if time.monotonic() > abort_at:
                aborted = f"aborted after {args.max_minutes} minutes at kill {n}"
                break
            kill = Kill(n, phase, mode)
            kill.note = wait_phase(
                daemon, phase, smtp, rng, mode.endswith("tree"), min(180.0, abort_at - time.monotonic())
            )
            kill.at = time.time()
            daemon.reap()
            time.sleep(0.5)  # children killed by their parent-death signal are gone too
            kill.open_rows = open_rows(config, kill.at + LEASE_SECONDS + 5)
            received = {(m.key, m.recipient) for m in smtp.snapshot() if m.at <= kill.at}
            kill.in_window = kill.open_rows & received
            time.sleep(rng.uniform(0.5, 2.0))
            incarnation += 1
            daemon = Daemon(config, work / f"daemon-{incarnation:02d}.log")
            kill.restart = daemon.started
            kills.append(kill)
            print(
                f"kill {n:>2} {phase:9} {mode:12} {kill.note or 'ok'}; open deliveries {len(kill.open_rows)}, "
                f"in the window {len(kill.in_window)}",
                flush=True,
            )
            if not daemon.wait_for(r"lease 'daemon' acquired", 60):
                aborted = f"the daemon did not take the lease after kill {n}"
                break
            time.sleep(rng.uniform(args.pause / 2, args.pause * 1.5))  # let it work before the next kill
        site.stop.set()
        published = {n for n, _ in site.published}
        print(f"kills done; settling (up to {args.settle:.0f}s) …", flush=True)
        deadline = min(time.monotonic() + args.settle, abort_at)
        while not aborted and time.monotonic() < deadline:
            stored = {int(m.group(1)) for c, _ in stored_posts(config) if (m := ITEM.search(c))}
            got_digest = {m.recipient for m in smtp.snapshot() if m.key == digest_key}
            if published <= stored and got_digest >= set(recipients) and not open_rows(config, time.time() + 600):
                break
            time.sleep(3)
        if daemon.proc.poll() is None:
            daemon.proc.send_signal(signal.SIGTERM)
            try:
                stopped = daemon.proc.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill(tree=True)
                stopped = -9
            daemon.log_file.close()
            print(f"daemon stopped cleanly: exit {stopped}", flush=True)
        report(config, site, smtp, kills, published, digest_key, recipients, aborted, began)
    finally:
        if daemon is not None and daemon.proc.poll() is None:
            daemon.kill(tree=True)
            daemon.reap()
        controller.stop()
        server.stop()
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if aborted else 0


def report(
    config: Path,
    site: Site,
    smtp: SlowSmtp,
    kills: list[Kill],
    published: set[int],
    digest_key: str,
    recipients: list[str],
    aborted: str,
    began: float,
) -> None:
    posts = stored_posts(config)
    items = Counter(int(m.group(1)) for c, _ in posts if (m := ITEM.search(c)))
    same_url = sum(n - 1 for n in Counter(c for c, _ in posts).values() if n > 1)
    two_urls = sum(1 for n in items.values() if n > 1)
    lost = sorted(published - set(items))
    mails = smtp.snapshot()
    by_pair: dict[tuple[str, str], list[Mail]] = defaultdict(list)
    for mail in mails:
        by_pair[(mail.key, mail.recipient)].append(mail)
    in_window_pairs = set().union(*(k.in_window for k in kills)) if kills else set()
    dup_inside = sum(len(v) - 1 for p, v in by_pair.items() if len(v) > 1 and p in in_window_pairs)
    dup_outside = sum(len(v) - 1 for p, v in by_pair.items() if len(v) > 1 and p not in in_window_pairs)
    dup_msgid = sum(n - 1 for n in Counter((m.message_id, m.recipient) for m in mails).values() if n > 1)
    digest_missing = sorted(set(recipients) - {m.recipient for m in mails if m.key == digest_key})
    rows = all_rows(config)
    never_received = [(k, r, s) for k, r, s in rows if (k, r) not in by_pair]
    # delay of each cut-off delivery: its first arrival after the kill, from the restart that followed
    # the last kill before that arrival
    delays: list[tuple[float, int, tuple[str, str], bool]] = []
    for kill in kills:
        for pair in kill.open_rows:
            arrivals = [m.at for m in by_pair.get(pair, []) if m.at > kill.at]
            if not arrivals:
                continue
            first = min(arrivals)
            last_kill = max((k for k in kills if k.at < first), key=lambda k: k.at)
            if last_kill is kill:
                delays.append((first - kill.restart, kill.n, pair, pair in kill.in_window))
    worst = max(delays, default=(0.0, 0, ("-", "-"), False))
    worst_claimed = max((d for d in delays if d[3]), default=(0.0, 0, ("-", "-"), False))
    modes = Counter(k.mode.split("+")[0] for k in kills)
    phases = Counter(k.phase for k in kills)
    print()
    print(f"run: {(time.monotonic() - began) / 60:.1f} min; kills {len(kills)} ({dict(phases)}; modes {dict(modes)})")
    if aborted:
        print(f"ABORTED: {aborted}")
    print(f"{'figure':58} {'value':>8}  target")
    table = [
        ("site items published", len(published), ""),
        ("posts stored (distinct items)", len(items), ""),
        ("posts lost (published, never stored)", len(lost), "0"),
        ("posts duplicated: same canonical URL twice", same_url, "0"),
        ("posts duplicated: same item under two URLs", two_urls, "0"),
        ("emails received (messages x recipients)", len(mails), ""),
        ("digest recipients missing", len(digest_missing), "0"),
        ("recorded deliveries never received", len(never_received), "0"),
        ("duplicate emails inside the documented window", dup_inside, "<= sends cut in it"),
        ("duplicate emails outside the window", dup_outside, "0"),
        ("duplicate (Message-ID, recipient) pairs", dup_msgid, "= inside"),
        ("sends cut in the window (received, not recorded)", len(in_window_pairs), ""),
        ("cut-off deliveries served after a restart", len(delays), ""),
        ("worst delay from the restart, any cut-off (s)", round(worst[0], 1), "<= 120"),
        ("worst delay from the restart, claim cut in the window (s)", round(worst_claimed[0], 1), "<= 120"),
    ]
    for name, value, target in table:
        print(f"{name:58} {value!s:>8}  {target}")
    if lost:
        print(f"lost items: {lost[:20]}")
    if digest_missing or never_received:
        print(f"missing: digest {digest_missing[:10]}; never received {never_received[:10]}")
    if delays:
        print(f"worst cut-off: kill {worst[1]} {worst[2][0]} → {worst[2][1]} after {worst[0]:.1f}s")
    verdict = "met" if worst[0] <= 120 and not lost and not dup_outside and not digest_missing else "MISSED"
    print(f"targets: {verdict}")


if __name__ == "__main__":
    sys.exit(main())

"""The digest preview rendered by headless Chromium is not blank (skipped where Chromium is absent).
With YUQING_TEST_DIGEST_SCREENSHOT=PATH the screenshot is also saved there (docs/digest.png)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from alerts_testlib import SEND_AT, Seed, seed_day

from alerts.render import digest_html, environment
from alerts.service import build_digest, select_groups
from storage.context import AppContext

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium installed (apt-get install chromium); the preview screenshot test needs it")


def screenshot(browser: str, html: Path, png: Path, height: int = 3000) -> None:
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--window-size=720,{height}",
            f"--screenshot={png}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


PHONE_FRAME = """<html><body><iframe id="f" src="{src}" width="{width}" height="800" style="border:0"></iframe>
<script>document.getElementById("f").onload = function () {{
  var d = this.contentDocument.documentElement;
  document.body.setAttribute("data-overflow", d.scrollWidth - d.clientWidth); }};</script></body></html>"""


def phone_overflow(browser: str, html: Path, width: int = 375) -> int:
    """How many pixels the page is wider than a 375 px phone screen (headless windows are at
    least 500 px wide, so the page is measured inside a 375 px frame)."""
    frame = html.with_name("phone.html")
    frame.write_text(PHONE_FRAME.format(src=html.name, width=width), encoding="utf-8")
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--window-size=600,900",
            "--dump-dom",
            frame.as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    match = re.search(r'data-overflow="(-?\d+)"', dom)
    assert match, "the phone frame did not load"
    return int(match.group(1))


def crop_to_content(pixels):  # type: ignore[no-untyped-def]
    """Cut the trailing rows that are only page background."""
    background = pixels[-1, 0]
    rows = (abs(pixels - background).sum(axis=(1, 2)) > 0.01).nonzero()[0]
    return pixels[: rows[-1] + 12] if len(rows) else pixels


def test_preview_renders_in_chromium(sqlite_app: AppContext, tmp_path: Path) -> None:
    browser = _browser()
    import numpy as np
    from PIL import Image

    with sqlite_app.session() as session:
        seed = Seed(session)
        seed_day(seed, SEND_AT)
        for n in range(1, 7):  # a week of history for the chart
            for k in range(3 + n % 3):
                seed.post(
                    f"历史{n}-{k}：派出所民警",
                    "民警。",
                    source="central",
                    at=SEND_AT - timedelta(days=n, hours=k + 1),
                    negative=k % 2 == 0,
                    risk=1,
                    topics={"police": ["民警"]},
                )
    d = build_digest(sqlite_app, select_groups(sqlite_app, "press-office")[0], SEND_AT, SEND_AT)
    html = tmp_path / "digest.html"
    html.write_text(digest_html(environment(), d), encoding="utf-8")
    png = tmp_path / "digest.png"
    screenshot(browser, html, png)
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=float) / 255
    assert pixels.shape[1] == 720
    # not blank: many distinct colours and real contrast (text, the red header, the chart)
    assert pixels.std() > 0.05
    assert len({tuple(p) for p in (pixels[::7, ::7] * 255).astype(int).reshape(-1, 3)}) > 50
    assert phone_overflow(browser, html) <= 0, "the digest scrolls sideways on a 375 px phone screen"
    assert phone_overflow(browser, html, width=150) > 0  # the measure does see an overflow
    target = os.environ.get("YUQING_TEST_DIGEST_SCREENSHOT")
    if target:
        Image.fromarray((crop_to_content(pixels) * 255).round().astype("uint8")).save(target)


def test_weekly_report_renders_in_chromium(sqlite_app: AppContext, tmp_path: Path) -> None:
    """The 周报 in headless Chromium: not blank, no sideways scrolling on a phone. With
    YUQING_TEST_REPORT_SCREENSHOT=PATH the screenshot is saved there (docs/weekly-report.png)."""
    browser = _browser()
    from datetime import date

    import numpy as np
    from PIL import Image
    from test_periodic_report import NOW, TZ, seed_weeks

    from alerts.reports import build_report, last_full_period, report_html

    seed_weeks(sqlite_app)
    group = sqlite_app.config.alerts.groups[0]
    with sqlite_app.session() as session:
        r = build_report(session, sqlite_app.config, group, last_full_period("week", date(2026, 12, 1), TZ), NOW)
    html = tmp_path / "report.html"
    html.write_text(report_html(environment(), r), encoding="utf-8")
    assert "情感分布" in html.read_text(encoding="utf-8") and "较上周" in html.read_text(encoding="utf-8")
    png = tmp_path / "report.png"
    screenshot(browser, html, png)
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=float) / 255
    assert pixels.std() > 0.05
    assert len({tuple(p) for p in (pixels[::7, ::7] * 255).astype(int).reshape(-1, 3)}) > 50
    assert phone_overflow(browser, html) <= 0, "the weekly report scrolls sideways on a 375 px phone screen"
    target = os.environ.get("YUQING_TEST_REPORT_SCREENSHOT")
    if target:
        Image.fromarray((crop_to_content(pixels) * 255).round().astype("uint8")).save(target)

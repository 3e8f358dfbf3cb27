"""What an analyst does in the console, in the system Chromium: log in, filter and search the review
list, mark a post 不相关 and see it leave the list at once (htmx), move with the keyboard, log out.
With ``YUQING_TEST_CONSOLE_SCREENSHOTS=DIR`` a last test saves the screenshots of ``SCREENSHOTS``
into DIR (``docs/`` holds the ones the README shows)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browserlib import Served, logged_in, open_page
from playwright.sync_api import expect
from webtestlib import PASSWORD

from storage.posts import post_detail


def select_two_rows(page: Any) -> None:
    page.keyboard.press("j")
    page.keyboard.press("j")


def hand_over_an_event(page: Any) -> None:
    """On an event page: the 研判 note, then handed to 深圳's unit, which is told at once."""
    page.get_by_label("研判意见").fill("涉警负面信息，网民要求公开执法记录仪视频，需属地核实后统一回应。")
    page.get_by_role("button", name="保存研判").click()
    page.get_by_label("说明").fill("请当日核实并回应")
    page.get_by_label("承办单位").select_option(label="深圳市委政法委")
    page.get_by_role("button", name="交办", exact=True).click()
    expect(page.locator("#handling-status")).to_have_text("已交办")


def backtest_a_change(page: Any) -> None:
    """On a topic's keyword page: the backtest of excluding 反诈 (the posts that would leave the topic)."""
    page.locator("#change").get_by_label("增加排除词").fill("反诈")
    page.locator("#change").get_by_role("button", name="回测").click()
    expect(page.locator("#change ul.lost")).to_be_visible()


# (file, user, page with {key} of a seeded post or {event_key} of its event, what it shows, what the user
# does first): pages added later add their line here.
SCREENSHOTS: list[tuple[str, str, str, str, Callable[[Any], None] | None]] = [
    (
        "console-review.png",
        "analyst",
        "/",
        "信息研判: the review list, filters and keyboard selection",
        select_two_rows,
    ),
    ("console-post.png", "analyst", "/posts/{beating}", "one post: topics and terms, sentiment, risk, labels", None),
    (
        "console-event.png",
        "analyst",
        "/events/{event_beating}",
        "an event: spread, timeline, handling",
        hand_over_an_event,
    ),
    (
        "console-keywords.png",
        "admin",
        "/admin/keywords/police",
        "the keyword editor: test, backtest",
        backtest_a_change,
    ),
]


def event_of(served: Served, key: str) -> int | None:
    with served.site.app.session() as session:
        detail = post_detail(session, served.site.ids[key])
    return detail.event.id if detail and detail.event else None


def row_ids(page: Any) -> list[str]:
    return page.locator("#rows tr.post").evaluate_all("rows => rows.map(r => r.id)")


def post_row(served: Served, key: str) -> str:
    return f"post-{served.site.ids[key]}"


def expect_rows(page: Any, served: Served, *keys: str) -> None:
    """The list shows exactly these seeded posts, in this order (waits for htmx to swap them in)."""
    expect(page.locator("#rows tr.post > td:first-child")).to_have_text([f"#{served.site.ids[k]}" for k in keys])


def test_log_in_filter_search_and_log_out(browser: Any, served: Served) -> None:
    page, seen = open_page(browser, served)
    page.goto("/")
    assert "/login?next=" in page.url  # no session: the login form, then back
    page.get_by_label("用户名").fill("analyst")
    page.get_by_label("密码").fill("wrong password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert").filter(has_text="用户名或密码错误")).to_be_visible()

    page.get_by_label("用户名").fill("analyst")  # the form comes back empty
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(served.url + "/")
    expect_rows(page, served, "hostile", "beating", "court", "praise")  # newest first; not 明日全市晴转多云

    page.get_by_label("倾向").select_option("0")  # 非负面: htmx swaps the rows, the URL follows
    page.wait_for_url("**negative=0**")
    expect_rows(page, served, "praise")
    page.get_by_label("倾向").select_option("")
    expect_rows(page, served, "hostile", "beating", "court", "praise")

    page.get_by_label("全文检索").fill("执行局")
    page.get_by_label("全文检索").press("Enter")
    page.wait_for_url("**q=**")
    expect_rows(page, served, "court")
    page.reload()  # the pushed URL is the same list
    expect_rows(page, served, "court")
    expect(page.get_by_label("全文检索")).to_have_value("执行局")

    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login?next=" in page.url  # the session is gone
    seen.assert_inert("review list")


def test_marking_a_post_irrelevant_takes_it_out_of_the_list(browser: Any, served: Served) -> None:
    page, seen = logged_in(browser, served, "analyst")
    court = page.locator(f"#{post_row(served, 'court')}")
    court.get_by_role("button", name="不相关", exact=True).click()
    expect(court.get_by_text("已标注，不再符合当前筛选条件，已移出列表")).to_be_visible()  # swapped in place, no reload
    expect(court).to_have_class("gone")
    page.reload()
    assert post_row(served, "court") not in row_ids(page)
    assert post_row(served, "beating") in row_ids(page)
    seen.assert_inert("label")


def test_a_viewer_sees_no_label_buttons(browser: Any, served: Served) -> None:
    page, _ = logged_in(browser, served, "viewer")
    expect_rows(page, served, "hostile", "beating", "court", "praise")
    expect(page.locator("#rows button")).to_have_count(0)


def test_keyboard_moves_the_selection_labels_and_opens(browser: Any, served: Served) -> None:
    page, seen = logged_in(browser, served, "analyst")
    rows = row_ids(page)
    current = page.locator("#rows tr.post.cur")
    expect(current).to_have_count(0)
    page.keyboard.press("j")
    expect(current).to_have_id(rows[0])
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(current).to_have_id(rows[2])
    page.keyboard.press("k")
    expect(current).to_have_id(rows[1])
    expect(current).to_be_focused()

    page.keyboard.press("x")  # 不相关 on the selected row; the selection moves on
    expect(page.locator(f"#{rows[1]}")).to_have_class("gone")
    expect(current).to_have_id(rows[2])
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/posts/{rows[2].removeprefix('post-')}")

    page.go_back()
    page.keyboard.press("/")
    expect(page.get_by_label("全文检索")).to_be_focused()
    page.keyboard.press("j")  # typed into the search box, not a shortcut
    expect(page.get_by_label("全文检索")).to_have_value("j")
    expect(current).to_have_count(0)
    assert rows[1] not in row_ids(page)
    seen.assert_inert("keyboard")


@pytest.mark.skipif(
    not os.environ.get("YUQING_TEST_CONSOLE_SCREENSHOTS"),
    reason="screenshots only on demand: YUQING_TEST_CONSOLE_SCREENSHOTS=docs",
)
def test_screenshots(browser: Any, served: Served) -> None:
    folder = Path(os.environ["YUQING_TEST_CONSOLE_SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, user, path, _what, stage in SCREENSHOTS:
        page, seen = logged_in(browser, served, user)
        page.goto(path.format(**served.site.ids, **{f"event_{k}": event_of(served, k) for k in served.site.ids}))
        if stage:
            stage(page)
        page.screenshot(path=str(folder / name), full_page=True)
        seen.assert_inert(name)
        page.context.close()

"""The review list over HTTP: login, filters, search, labels that take effect at once, units."""

from __future__ import annotations

from webtestlib import Site, csrf_of


def test_login_then_the_list_shows_the_relevant_posts(site: Site) -> None:
    client = site.client()
    assert client.get("/", follow_redirects=False).status_code == 303
    client = site.client("analyst")
    page = client.get("/")
    assert page.status_code == 200
    assert f"#{site.ids['beating']}" in page.text
    assert "明日全市晴转多云" not in page.text  # not relevant


def test_search_finds_posts_by_their_segmented_words(site: Site) -> None:
    client = site.client("analyst")
    page = client.get("/", params={"q": "执行局"})
    assert f"#{site.ids['court']}" in page.text
    assert f"#{site.ids['beating']}" not in page.text
    assert "本地论坛" in client.get("/").text  # sources by their names
    for nothing in ('"', "*", "^"):  # no word to search: the list as without a search, said so
        page = client.get("/", params={"q": nothing})
        assert "没有可检索的词语" in page.text and "明日全市晴转多云" not in page.text


def test_marking_a_post_irrelevant_takes_it_out_of_the_list_at_once(site: Site) -> None:
    client = site.client("analyst")
    page = client.get("/")
    pid = site.ids["court"]
    answer = client.post(
        f"/posts/{pid}/label",
        data={"verdict": "irrelevant"},
        headers={"X-CSRF-Token": csrf_of(page.text), "HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.text
    assert "已移出列表" in answer.text
    assert f"#{pid}" not in client.get("/").text


def test_a_label_without_the_csrf_token_is_refused(site: Site) -> None:
    client = site.client("analyst")
    answer = client.post(f"/posts/{site.ids['court']}/label", data={"verdict": "irrelevant"})
    assert answer.status_code == 403


def test_a_viewer_cannot_label(site: Site) -> None:
    client = site.client("viewer")
    page = client.get("/")
    answer = client.post(
        f"/posts/{site.ids['court']}/label",
        data={"verdict": "irrelevant"},
        headers={"X-CSRF-Token": csrf_of(page.text)},
    )
    assert answer.status_code == 403


def test_a_units_user_cannot_open_another_units_post(site: Site) -> None:
    client = site.client("sz")
    assert client.get(f"/posts/{site.ids['court']}").status_code == 404  # 广东省 court post: not 深圳 police
    assert client.get(f"/posts/{site.ids['beating']}").status_code == 200

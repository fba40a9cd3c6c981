"""Stitch's clips in the order they were connected: numbered on the card, listed in the inspector,
moved up or down there (and the move undone), as what is drawn and what is stored."""

import pytest

from nodes.models import Edge
from tests.api import Api
from tests.browser.conftest import log_in, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def stitched(page, app_server):
    user = UserFactory(username="editor")
    project = ProjectFactory(owner=user, name="Order")
    api = Api(user)
    base = f"/projects/{project.id}"
    stitch = api.post(f"{base}/nodes", {"type": "stitch", "title": "Film", "x": 700, "y": 120}).json()["id"]
    for index, title in enumerate(("Opening", "Middle", "Ending")):
        clip = api.post(f"{base}/nodes", {"type": "video", "title": title, "x": 40 + index * 20, "y": 40 + index * 260})
        edge = {"source": clip.json()["id"], "source_port": "video", "target": stitch, "target_port": "videos"}
        assert api.post(f"{base}/edges", edge).status_code == 201
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    return page, stitch


def stored_order(stitch) -> list[str]:
    return [e.source.title for e in Edge.objects.filter(target_id=stitch, target_port="videos").order_by("order")]


def numbered(card) -> list[str]:
    """The card's numbered inputs as drawn: "1 Opening", "2 Middle", …"""
    return card.locator("[data-multi-inputs=videos] li").evaluate_all(
        "items => items.map((li) => `${li.querySelector('.order').textContent} ${li.lastChild.textContent}`)"
    )


def test_the_clips_are_numbered_in_connection_order_and_reordered_in_the_inspector(stitched, shot):
    page, stitch = stitched
    card = page.locator(f'[data-node-id="{stitch}"]')
    assert numbered(card) == ["1 Opening", "2 Middle", "3 Ending"]

    card.locator(".node-head").click()
    listed = page.locator("#inspector [data-order-item] .title")
    listed.first.wait_for()
    assert listed.all_inner_texts() == ["Opening", "Middle", "Ending"]
    page.locator("#inspector [data-order-item]").first.locator("[data-move='1']").click()  # Opening later

    page.wait_for_function(
        "() => [...document.querySelectorAll('#inspector [data-order-item] .title')].map((e) => e.textContent)"
        ".join() === 'Middle,Opening,Ending'"
    )
    assert numbered(card) == ["1 Middle", "2 Opening", "3 Ending"]
    assert stored_order(stitch) == ["Middle", "Opening", "Ending"]
    shot(page, "reordered")

    page.locator("[data-viewport]").click(position={"x": 500, "y": 700})
    page.keyboard.press("Control+z")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#inspector [data-order-item] .title')].map((e) => e.textContent)"
        ".join() === 'Opening,Middle,Ending'"
    )
    assert numbered(card) == ["1 Opening", "2 Middle", "3 Ending"]
    assert stored_order(stitch) == ["Opening", "Middle", "Ending"]


def test_untitled_clips_are_listed_by_their_type_s_label(page, app_server):
    user = UserFactory(username="editor")
    project = ProjectFactory(owner=user, name="Untitled clips")
    api = Api(user)
    base = f"/projects/{project.id}"
    stitch = api.post(f"{base}/nodes", {"type": "stitch", "x": 700, "y": 120}).json()["id"]
    video = api.post(f"{base}/nodes", {"type": "video", "x": 40, "y": 40}).json()["id"]
    extend = api.post(f"{base}/nodes", {"type": "extend", "x": 40, "y": 320}).json()["id"]
    chain = {"source": video, "source_port": "video", "target": extend, "target_port": "video"}
    assert api.post(f"{base}/edges", chain).status_code == 201
    for source in (video, extend):
        edge = {"source": source, "source_port": "video", "target": stitch, "target_port": "videos"}
        assert api.post(f"{base}/edges", edge).status_code == 201
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)

    card = page.locator(f'[data-node-id="{stitch}"]')
    assert numbered(card) == ["1 Video", "2 Extend"]
    card.locator(".node-head").click()
    listed = page.locator("#inspector [data-order-item] .title")
    listed.first.wait_for()
    assert listed.all_inner_texts() == ["Video", "Extend"]

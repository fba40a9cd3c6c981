"""Habits from other node editors: a file picked for an Image node from its card (undoable), new cards
in free space, and a wire dropped on empty canvas opening the search for what accepts it."""

import pytest

from nodes.models import Edge, Node
from tests.browser.conftest import FIXTURES, log_in, node_ids, on_screen, open_canvas, port
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import add

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def canvas(page, app_server):
    user = UserFactory(username="habits")
    project = ProjectFactory(owner=user, name="Habits")
    prompt = add(project, "prompt", "Line", text="A lighthouse")
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    return page, project, prompt


def added_card(page, before: set[str]):
    page.wait_for_function("(n) => document.querySelectorAll('[data-node-id]').length > n", arg=len(before))
    return page.locator(f'[data-node-id="{(node_ids(page) - before).pop()}"]')


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_an_image_node_from_the_palette_gets_its_file_from_its_card_and_undo_takes_it_back(canvas, shot):
    page, project, _prompt = canvas
    before = node_ids(page)
    page.click("[data-palette-types] [data-add-type=image]")
    card = added_card(page, before)
    page.click("[data-palette-types] [data-add-type=audio]")
    other = added_card(page, before | {card.get_attribute("data-node-id")})
    for first, second in (
        (card, other),
        *((c, page.locator(f'[data-node-id="{i}"]')) for c in (card, other) for i in before),
    ):
        assert not overlaps(first.bounding_box(), second.bounding_box()), "a new card landed on another"

    with page.expect_file_chooser() as chooser:
        card.locator("[data-action=pick-file]").click()
    chooser.value.set_files(str(FIXTURES / "astronaut.png"))
    card.locator("[data-action=pick-file]", has_text="Replace file").wait_for()
    node = Node.objects.get(pk=card.get_attribute("data-node-id"))
    assert node.params["asset_id"] and project.assets.get(pk=node.params["asset_id"]).original_name == "astronaut.png"
    shot(page, "file-picked")

    page.locator("[data-viewport]").click(position={"x": 700, "y": 650})
    page.keyboard.press("Control+z")
    card.locator("[data-action=pick-file]", has_text="Choose file").wait_for()
    assert Node.objects.get(pk=node.pk).params.get("asset_id") is None

    card.locator("[data-action=choose-asset]").click()
    card.locator("[data-action=use-asset]").click()  # the file uploaded before, chosen from the project
    card.locator("[data-action=pick-file]", has_text="Replace file").wait_for()
    assert Node.objects.get(pk=node.pk).params["asset_id"] == node.params["asset_id"]


def test_a_wire_dropped_on_empty_canvas_offers_what_accepts_it_and_connects_it(canvas, shot):
    page, _project, prompt = canvas
    card = page.locator(f'[data-node-id="{prompt.id}"]')
    dot = on_screen(port(card, "out", "text"))
    before = node_ids(page)

    page.mouse.move(dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2)
    page.mouse.down()
    page.mouse.move(dot["x"] + 200, dot["y"] + 260, steps=6)
    page.mouse.up()

    search = page.locator("[data-search]")
    search.wait_for()
    offered = search.locator("[data-type]").evaluate_all("items => items.map((i) => i.dataset.type)")
    # The types with a text input, and only those.
    assert offered == ["storyboard", "generate_image", "music", "video", "extend"]
    shot(page, "wire-search")
    page.fill("[data-search] input", "video")
    page.keyboard.press("Enter")
    video = added_card(page, before)
    page.wait_for_function("() => document.querySelectorAll('[data-edge]').length === 1")
    edge = Edge.objects.get()
    assert (edge.source_id, edge.source_port, str(edge.target_id), edge.target_port) == (
        prompt.id,
        "text",
        video.get_attribute("data-node-id"),
        "prompt",
    )

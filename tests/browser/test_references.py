"""What the canvas draws, compared with reference screenshots (tests/browser/references/, see
tests/browser/references.py for the conditions, the tolerance and how to refresh them): a small graph
with its edges at their ports, the plan dialog, a card with a finished video's poster, and the Stitch
inspector with its numbered clips."""

import pytest

from generation.models import Run
from tests.api import Api
from tests.browser.conftest import log_in, open_canvas
from tests.browser.references import assert_looks_like, pin_the_drawing, screenshot
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import FIXTURES, wait_for_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MARGIN = 24  # screen pixels around the cards of a clipped screenshot


def build(api: Api, project, nodes: dict, edges: list) -> dict[str, str]:
    """Nodes {name: (type, x, y, params)} and edges (source, port, target, port), through the API."""
    ids = {}
    for name, (kind, x, y, params) in nodes.items():
        response = api.post(
            f"/projects/{project.id}/nodes",
            {"type": kind, "title": name.capitalize(), "x": x, "y": y, "params": params},
        )
        assert response.status_code == 201, response.content
        ids[name] = response.json()["id"]
    for source, source_port, target, target_port in edges:
        body = {"source": ids[source], "source_port": source_port, "target": ids[target], "target_port": target_port}
        response = api.post(f"/projects/{project.id}/edges", body)
        assert response.status_code == 201, response.content
    return ids


@pytest.fixture
def first_film(page, app_server):
    """A photo, a prompt and a video wired together, as a first film starts: the photo's edge to the
    video passes above the prompt, so every edge is in sight."""
    user = UserFactory(username="drawer")
    project = ProjectFactory(owner=user, name="References")
    api = Api(user)
    with (FIXTURES / "astronaut.png").open("rb") as photo:
        asset = api.upload(f"/projects/{project.id}/assets", photo).json()
    ids = build(
        api,
        project,
        {
            "photo": ("image", 0, 0, {"asset_id": asset["id"]}),
            "line": ("prompt", 330, 200, {"text": "She waves at the camera"}),
            "shot": ("video", 660, 0, {"duration_seconds": 4}),
        },
        [
            ("photo", "image", "line", "image"),
            ("photo", "image", "shot", "first_frame"),
            ("line", "text", "shot", "prompt"),
        ],
    )
    return page, user, project, ids


def opened(page, app_server, user, project) -> None:
    """The canvas at 100 %, once the cards show the plan (read in the background after the load)."""
    log_in(page, app_server, user.username, PASSWORD)
    with page.expect_response(lambda response: response.url.endswith("/plan"), timeout=20_000):
        open_canvas(page, app_server, project.id)
    page.click("[data-action-button=zoom-reset]")
    page.wait_for_function("document.querySelector('[data-zoom-label]').textContent === '100%'")
    pin_the_drawing(page)


def cards_clip(page, ids) -> dict:
    """The part of the canvas that holds the cards, with a margin (never beyond the canvas)."""
    boxes = [page.locator(f'[data-node-id="{node}"]').bounding_box() for node in ids]
    canvas = page.locator("[data-viewport]").bounding_box()
    left = max(min(b["x"] for b in boxes) - MARGIN, canvas["x"])
    top = max(min(b["y"] for b in boxes) - MARGIN, canvas["y"])
    right = min(max(b["x"] + b["width"] for b in boxes) + MARGIN, canvas["x"] + canvas["width"])
    bottom = min(max(b["y"] + b["height"] for b in boxes) + MARGIN, canvas["y"] + canvas["height"])
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


def edges_drawn(page, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('[data-edge]').length === {count}")


def test_a_small_graph_is_drawn_with_its_edges_at_their_ports(first_film, app_server):
    page, user, project, ids = first_film
    opened(page, app_server, user, project)
    edges_drawn(page, 3)

    assert_looks_like(screenshot(page, clip=cards_clip(page, ids.values())), "graph-edges-at-ports")


def test_the_plan_dialog(first_film, app_server):
    page, user, project, ids = first_film
    opened(page, app_server, user, project)

    page.locator(f'[data-node-id="{ids["shot"]}"] [data-action=run]').click()
    dialog = page.locator("dialog[open]")
    dialog.locator("[data-plan-total]").wait_for()
    pin_the_drawing(page)

    assert_looks_like(screenshot(dialog), "plan-dialog")


def test_a_card_shows_its_finished_videos_poster(first_film, app_server, workers):
    page, user, project, ids = first_film
    workers.start(1)
    started = Api(user).post(f"/projects/{project.id}/runs", {"targets": [ids["shot"]]})
    assert wait_for_run(Run.objects.get(pk=started.json()["run"]["id"])).status == Run.Status.SUCCEEDED
    opened(page, app_server, user, project)
    card = page.locator(f'[data-node-id="{ids["shot"]}"]')
    poster = card.locator("video[poster]").get_attribute("poster")
    # The poster is drawn once it is loaded and decoded: load the same URL and wait for that, then a frame.
    page.evaluate(
        """async (url) => {
            const image = new Image();
            image.src = url;
            await image.decode();
            await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
        }""",
        poster,
    )

    assert_looks_like(screenshot(card), "video-card-poster")


def test_the_stitch_inspector_lists_the_clips_numbered(page, app_server):
    user = UserFactory(username="editor")
    project = ProjectFactory(owner=user, name="Order")
    clips = {
        title.lower(): ("video", 40, 40 + index * 260, {})
        for index, title in enumerate(("Opening", "Middle", "Ending"))
    }
    ids = build(
        Api(user),
        project,
        {**clips, "film": ("stitch", 700, 120, {})},
        [(clip, "video", "film", "videos") for clip in clips],
    )
    opened(page, app_server, user, project)
    page.locator(f'[data-node-id="{ids["film"]}"] .node-head').click()
    inspector = page.locator("#inspector form.inspector")
    inspector.locator("[data-order-item]").nth(2).wait_for()
    pin_the_drawing(page)

    assert_looks_like(screenshot(inspector), "stitch-inspector")

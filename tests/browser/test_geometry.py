"""Edges are drawn from port to port: measured on what Chromium draws (each path's ends against the
centres of its two dots), at 100 %, fitted, zoomed out past the level-of-detail threshold, and after a
card is dragged."""

import contextlib

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.api import Api
from tests.browser.conftest import log_in, on_screen, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import FIXTURES

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOLERANCE = 2  # screen pixels

# Every port kind (image, text, character, video, audio), a multi port twice, and two outputs of one card.
EDGES = [
    ("image", "image", "prompt", "image"),
    ("image", "image", "video", "first_frame"),
    ("image", "character", "video", "characters"),
    ("prompt", "text", "video", "prompt"),
    ("video", "video", "extend", "video"),
    ("video", "video", "stitch", "videos"),
    ("extend", "clip", "stitch", "videos"),
    ("audio", "audio", "stitch", "audio"),
]
PLACES = {
    "image": (0, 0),
    "prompt": (330, 40),
    "audio": (330, 330),
    "video": (660, 0),
    "extend": (990, 60),
    "stitch": (1320, 200),
}

# For each drawn edge: where its path starts and ends on screen, and the centres of its two dots.
MEASURE = """(edges) => edges.map(([id, source, sourcePort, target, targetPort]) => {
    const path = document.querySelector(`[data-edge="${id}"]`);
    if (!path) return { id, missing: true };
    const matrix = path.getScreenCTM();
    const onScreen = (p) => new DOMPoint(p.x, p.y).matrixTransform(matrix);
    const start = onScreen(path.getPointAtLength(0));
    const end = onScreen(path.getPointAtLength(path.getTotalLength()));
    const centre = (node, direction, port) => {
        const card = document.querySelector(`[data-node-id="${node}"]`);
        const dot = card.querySelector(`[data-port="${port}"][data-direction="${direction}"] [data-dot]`);
        const box = dot.getBoundingClientRect();
        return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
    };
    return { id, start: { x: start.x, y: start.y }, end: { x: end.x, y: end.y },
             out: centre(source, "out", sourcePort), in: centre(target, "in", targetPort) };
})"""


@pytest.fixture
def graph(page, app_server):
    user = UserFactory(username="wirer")
    project = ProjectFactory(owner=user, name="Geometry")
    api = Api(user)
    with (FIXTURES / "astronaut.png").open("rb") as photo:
        asset = api.upload(f"/projects/{project.id}/assets", photo).json()
    params = {"image": {"asset_id": asset["id"]}, "prompt": {"text": "A lighthouse"}}
    nodes = {}
    for name, (x, y) in PLACES.items():
        response = api.post(
            f"/projects/{project.id}/nodes", {"type": name, "x": x, "y": y, "params": params.get(name, {})}
        )
        assert response.status_code == 201, response.content
        nodes[name] = response.json()["id"]
    edges = []
    for source, source_port, target, target_port in EDGES:
        body = {
            "source": nodes[source],
            "source_port": source_port,
            "target": nodes[target],
            "target_port": target_port,
        }
        response = api.post(f"/projects/{project.id}/edges", body)
        assert response.status_code == 201, response.content
        edges.append([response.json()["id"], nodes[source], source_port, nodes[target], target_port])
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    return page, nodes, edges


def misplaced_ends(page, edges) -> list[str]:
    """Every edge end farther than TOLERANCE from its dot's centre, described; [] when all are right."""
    wrong = []
    for drawn in page.evaluate(MEASURE, edges):
        if drawn.get("missing"):
            wrong.append(f"{drawn['id']}: not drawn")
            continue
        for end, dot in (("start", "out"), ("end", "in")):
            dx, dy = drawn[end]["x"] - drawn[dot]["x"], drawn[end]["y"] - drawn[dot]["y"]
            if max(abs(dx), abs(dy)) > TOLERANCE:
                wrong.append(f"{drawn['id']} {end} is off its dot by ({dx:.1f}, {dy:.1f}) px")
    return wrong


def settle(page, edges) -> list[str]:
    """Edges are redrawn in the next animation frames: wait until every end meets its dot (or give up
    after a few seconds), then describe the ends that do not."""
    meet = f"""(edges) => ({MEASURE})(edges).every((d) => !d.missing &&
        Math.max(Math.abs(d.start.x - d.out.x), Math.abs(d.start.y - d.out.y),
                 Math.abs(d.end.x - d.in.x), Math.abs(d.end.y - d.in.y)) <= {TOLERANCE})"""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(meet, arg=edges, timeout=5_000, polling="raf")
    return misplaced_ends(page, edges)


def zoom_label(page) -> int:
    return int(page.inner_text("[data-zoom-label]").rstrip("%"))


def test_edges_start_and_end_at_their_dots_at_every_zoom_and_after_a_drag(graph, workers, shot):
    page, nodes, edges = graph

    page.click("[data-action-button=fit]")
    assert settle(page, edges) == []
    shot(page, "fitted")

    # 100 %: clicking the zoom label resets the zoom.
    page.click("[data-action-button=zoom-reset]")
    page.wait_for_function("document.querySelector('[data-zoom-label]').textContent === '100%'")
    assert page.locator("[data-viewport].far").count() == 0
    assert settle(page, edges) == []
    shot(page, "at-100")

    # Far out: the cards collapse to title and ports (level of detail), the edges follow.
    while page.locator("[data-viewport].far").count() == 0:
        page.click("[data-action-button=zoom-out]")
    page.wait_for_selector("[data-viewport].far [data-node-id] .node-body", state="hidden")
    assert zoom_label(page) < 45
    assert settle(page, edges) == []
    shot(page, "far")

    page.click("[data-action-button=fit]")
    video = page.locator(f'[data-node-id="{nodes["video"]}"]')
    head = on_screen(video.locator(".node-head"))
    grab = (head["x"] + 40, head["y"] + head["height"] / 2)
    page.mouse.move(*grab)
    page.mouse.down()
    page.mouse.move(grab[0] + 100, grab[1] + 150, steps=8)
    page.mouse.up()
    moved = on_screen(video.locator(".node-head"))
    assert abs(moved["x"] - head["x"] - 100) <= 2 and abs(moved["y"] - head["y"] - 150) <= 2
    assert settle(page, edges) == []
    shot(page, "after-drag")

    # The photo's preview loads into the Image card (finding its face is free and runs here): the card
    # grows, and its edges still leave from its dots.
    workers.start(1)
    image = page.locator(f'[data-node-id="{nodes["image"]}"]')
    height = image.bounding_box()["height"]
    image.locator("[data-action=run]").click()
    page.click("dialog[open] [data-confirm-run]")
    page.wait_for_function(
        "(id) => document.querySelector(`[data-node-id='${id}'] img.thumb`)?.naturalWidth > 0",
        arg=nodes["image"],
        timeout=60_000,
    )
    assert image.bounding_box()["height"] > height
    assert settle(page, edges) == []
    shot(page, "after-preview")

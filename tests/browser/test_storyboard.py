"""A storyboard on the canvas, in Chromium, with a real worker and the offline planner: plan the shots,
edit one in the inspector, expand them into nodes (drawn in shot order inside their frame), undo."""

import pytest
from PIL import Image, ImageStat

from assets import media
from assets.models import Asset
from nodes.models import Node, Note
from tests.browser.conftest import SCREENSHOTS, log_in, open_canvas, set_param, storyboard_on_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import add, upload, wire
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BRIEF = "A 24-second ad for a trail-running shoe: a runner crosses a misty ridge at dawn"


def test_plan_edit_expand_and_undo_a_storyboard(page, app_server, workers, shot):
    workers.start(1)
    board, card = storyboard_on_canvas(page, app_server, "director", "Shoe ad", BRIEF, seconds=24)
    project = board.project

    card.locator("[data-action=run]").click()
    page.click("dialog[open] [data-confirm-run]")
    rows = card.locator("[data-shot-row]")
    rows.first.wait_for(timeout=60_000)
    assert rows.count() == 4  # 24 s at about one shot per 6 s
    assert [rows.nth(i).locator(".shot-len").inner_text() for i in range(4)] == [
        "1 · 6 s",
        "2 · 6 s · continues",
        "3 · 6 s",
        "4 · 6 s · continues",
    ]
    assert BRIEF in rows.first.inner_text()
    shot(page, "1-planned")

    # Edit the first shot in the inspector: it saves as one types, and the card shows the edit.
    card.locator(".node-head").click()
    page.wait_for_selector("#inspector [data-shots-editor]")
    set_param(page, "shots-0-description", "Dawn mist rolls over the ridge; a lone runner appears.")
    wait_for(lambda: Node.objects.get(pk=board.pk).params.get("shots"), timeout=10, message="the edited shots saved")
    assert Node.objects.get(pk=board.pk).params["shots"][0]["description"].startswith("Dawn mist rolls")
    card.locator("[data-shot-row]").first.filter(has_text="Dawn mist rolls").wait_for(timeout=10_000)
    shot(page, "2-edited")

    before = {str(node_id) for node_id in Node.objects.filter(project=project).values_list("id", flat=True)}
    card.locator("[data-action=expand]").click()
    page.wait_for_selector(".toast:has-text('Expanded: 13 nodes made')", timeout=15_000)
    made = Node.objects.filter(project=project, origin__storyboard=str(board.id))
    assert made.count() == 13  # 4 prompts, 4 videos, 2 keyframes (the cuts), a stitch, music and its prompt
    for node in made:
        page.locator(f'[data-node-id="{node.id}"]').wait_for(timeout=10_000)
    # Drawn left to right in shot order: each shot's prompt right of the one before.
    prompts = sorted(made.filter(origin__role="prompt"), key=lambda n: n.x)
    boxes = [page.locator(f'[data-node-id="{p.id}"]').bounding_box() for p in prompts]
    assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)
    assert prompts[0].params["text"].startswith("Dawn mist rolls over the ridge")
    frame = Note.objects.get(project=project)
    page.locator(f'[data-note="{frame.id}"]').wait_for(timeout=10_000)
    shot(page, "3-expanded")

    page.locator("[data-viewport]").click(position={"x": 5, "y": 5})  # the canvas, not a field
    page.keyboard.press("Control+z")
    wait_for(
        lambda: (
            {str(i) for i in Node.objects.filter(project=project).values_list("id", flat=True)} == before
            and not Note.objects.filter(project=project).exists()
        ),
        timeout=20,
        message="the expansion undone, its frame too",
    )
    wait_for(lambda: page.locator("[data-node-id]").count() == 2, timeout=10, message="two cards left on screen")
    shot(page, "4-undone")


def colour_at(path, box) -> tuple[float, ...]:
    with Image.open(path) as picture:
        return tuple(ImageStat.Stat(picture.convert("RGB").resize((160, 90)).crop(box)).mean)


def distance(a, b) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


@pytest.mark.timeout(900)  # four clips, a soundtrack and the cut, rendered offline on two workers
def test_a_brief_and_a_character_become_a_downloaded_film_in_shot_order(page, app_server, workers, shot, tmp_path):
    """Issue 20's journey, offline: a storyboard with a character, run, one shot edited, expanded, Run
    all, the film downloaded: its length is the storyboard's, its shots come in order (each cut starts
    on its own keyframe), and it has a soundtrack."""
    workers.start(2)
    user = UserFactory(username="producer")
    project = ProjectFactory(owner=user, name="Ridge film")
    face = add(project, "image", "Maya", asset_id=str(upload(project).id))
    brief = add(project, "prompt", "Brief", text=BRIEF)
    board = add(project, "storyboard", "Ridge storyboard", seconds=24)
    for node, (x, y) in zip((face, brief, board), ((40, 40), (40, 330), (420, 40)), strict=True):
        node.x, node.y = x, y
        node.save()
    wire(brief, "text", board, "brief")
    wire(face, "character", board, "characters")
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    card = page.locator(f'[data-node-id="{board.id}"]')

    card.locator("[data-action=run]").click()
    page.click("dialog[open] [data-confirm-run]")
    card.locator("[data-shot-row]").first.wait_for(timeout=90_000)
    shot(page, "1-storyboard-card")
    card.locator(".node-head").click()
    page.wait_for_selector("#inspector [data-shots-editor]")
    set_param(page, "shots-2-description", "Maya sprints along the ridge line, low tracking shot.")
    wait_for(lambda: Node.objects.get(pk=board.pk).params.get("shots"), timeout=10, message="the edit saved")
    card.locator("[data-action=expand]").click()
    page.wait_for_selector(".toast:has-text('Expanded:')", timeout=15_000)
    shot(page, "2-expanded-group")

    page.locator("[data-action-button=run-all]").click()
    page.wait_for_selector("dialog[open] [data-confirm-run]")
    page.click("dialog[open] [data-confirm-run]")
    (film,) = Node.objects.filter(origin__storyboard=str(board.id), origin__role="stitch")
    wait_for(lambda: Node.objects.get(pk=film.pk).output.get("video"), timeout=600, message="the film made")
    # At this zoom the cards show their titles only: the film is fetched as its Download link does,
    # through a signed link asked for with the page's own session.
    asset_id = Node.objects.get(pk=film.pk).output["video"]
    link = page.request.get(f"{app_server}/api/v1/assets/{asset_id}/url").json()["url"]
    saved = tmp_path / "film.mp4"
    saved.write_bytes(page.request.get(link if link.startswith("http") else f"{app_server}{link}").body())

    shots = Node.objects.get(pk=board.pk).params["shots"]
    assert shots[2]["description"].startswith("Maya sprints")
    made = media.probe(saved)
    assert made.duration == pytest.approx(sum(s["seconds"] for s in shots), abs=1)
    assert made.audio_codec  # the soundtrack
    # Each cut starts on its own keyframe: a frame just after the cut looks like that keyframe more
    # than like any other one.
    keyframes = {
        node.origin["shot"]: Asset.objects.get(pk=node.output["image"]).file.path
        for node in Node.objects.filter(origin__storyboard=str(board.id), origin__role="keyframe")
    }
    starts, elapsed = {}, 0
    for s in shots:
        starts[s["id"]] = elapsed
        elapsed += s["seconds"]
    middle = (40, 20, 120, 70)
    for shot_id in keyframes:
        # Kept beside the screenshots, for review: the film's frame just after each cut.
        frame = media.frame_at(saved, SCREENSHOTS / f"storyboard-film-{shot_id}.png", starts[shot_id] + 0.3)
        near = {other: distance(colour_at(frame, middle), colour_at(path, middle)) for other, path in keyframes.items()}
        assert min(near, key=near.get) == shot_id, near
    shot(page, "3-film")

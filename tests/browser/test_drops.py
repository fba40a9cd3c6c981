"""What is dropped on the canvas: a character from the library becomes an Image node carrying it
(contract 3), and a video file becomes a Clip node (no longer refused)."""

import base64

import numpy as np
import pytest

from assets import media
from characters.models import Character
from nodes.models import Node
from tests.browser.conftest import log_in, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def canvas(page, app_server):
    user = UserFactory(username="dropper")
    library = ProjectFactory(owner=user, name="Where Ada was found")
    photo = upload(library)
    character = Character.objects.create(
        owner=user, name="Ada", embedding=np.random.default_rng(1).normal(size=512), source_asset=photo
    )
    project = ProjectFactory(owner=user, name="Drops")
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    return page, project, character


def test_a_character_dragged_from_the_library_becomes_an_image_node_that_carries_it(canvas, workers, shot):
    workers.start(1)
    page, project, character = canvas
    item = page.locator(f'[data-palette-characters] [data-character="{character.id}"]')
    item.drag_to(page.locator("[data-viewport]"), target_position={"x": 300, "y": 200})

    card = page.locator(".node.type-image")
    card.locator(".character-chip", has_text="Ada").wait_for(timeout=60_000)
    assert card.locator(".node-title").inner_text() == "Ada"
    node = Node.objects.get(project=project)
    assert node.params["character"] == str(character.id) and node.output["character"] == str(character.id)
    assert Character.objects.filter(owner=project.owner).count() == 1  # no new character was made
    finished = page.locator(".toast", has_text="Run succeeded.")
    finished.first.wait_for()
    assert finished.count() == 1  # one run, told once (each widget listening to runs once told it again)
    card.locator("[data-plan]", has_text="cached").wait_for()  # its output matches: nothing would run again
    shot(page, "character-placed")


def test_a_video_file_dropped_on_the_canvas_becomes_a_clip_node(canvas, tmp_path, shot):
    page, project, _character = canvas
    video = tmp_path / "beach.mp4"
    media.ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=12", "-pix_fmt", "yuv420p", str(video))
    data = base64.b64encode(video.read_bytes()).decode()
    box = page.locator("[data-viewport]").bounding_box()
    page.evaluate(
        """([data, x, y]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "beach.mp4", { type: "video/mp4" }));
            const viewport = document.querySelector("[data-viewport]");
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { bubbles: true, cancelable: true, dataTransfer: transfer, clientX: x, clientY: y };
                viewport.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [data, box["x"] + 200, box["y"] + 150],
    )

    card = page.locator(".node.type-clip")
    card.wait_for(timeout=20_000)
    assert card.locator(".node-title").inner_text() == "beach"
    node = Node.objects.get(project=project)
    assert (node.type, project.assets.get(pk=node.params["asset_id"]).kind) == ("clip", "video")
    assert page.locator(".toast.error, .toast.warning").count() == 0
    shot(page, "clip")

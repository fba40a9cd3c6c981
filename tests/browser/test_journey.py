"""A newcomer's journey, in Chromium, with real workers and the offline providers."""

import pytest

from assets import media
from tests.browser.conftest import add_node, connect, drop_file, set_param

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_sign_up_to_a_downloaded_film(page, app_server, workers, shot, tmp_path):
    workers.start(2)
    base = app_server

    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_username", "newcomer")
    page.fill("#id_password1", "a-long-fresh-passphrase")
    page.fill("#id_password2", "a-long-fresh-passphrase")
    page.click("button.primary")
    page.wait_for_url(f"{base}/projects/")
    page.fill("#id_name", "My first reel")
    page.click("text=New project")
    page.wait_for_selector("[data-canvas][data-ready=true]")
    shot(page, "1-empty-canvas")

    box = page.locator("[data-viewport]").bounding_box()
    left, top = box["x"], box["y"]
    drop_file(page, "astronaut.png", left + 80, top + 80)
    image = page.locator(".node.type-image")
    chip = image.locator(".character-chip")
    chip.wait_for(timeout=60_000)
    assert "Character 1" in chip.inner_text()
    shot(page, "2-character-found")

    prompt = add_node(page, "prompt", left + 420, top + 60)
    set_param(page, "text", "She waves at the camera, smiling")
    video = add_node(page, "video", left + 760, top + 60)
    connect(page, prompt, "text", video, "prompt")
    connect(page, image, "image", video, "first_frame")
    page.wait_for_function("window.reelgraph.store.edges.size === 2")
    shot(page, "3-wired")

    video.locator("[data-action=run]").click()
    page.wait_for_selector("dialog[open] [data-confirm-run]")
    shot(page, "4-plan")
    page.click("dialog[open] [data-confirm-run]")
    video.locator("[data-progress]:not([hidden])").wait_for(timeout=30_000)
    shot(page, "5-progress")
    player = video.locator("[data-video]")
    player.wait_for(timeout=120_000)
    # Playing is awaited as a condition (time advancing), bounded, not a fixed pause: on a loaded
    # machine the first frames can take seconds to decode.
    assert player.evaluate(
        """async (element) => {
            element.muted = true;
            await element.play();
            const start = performance.now();
            while (performance.now() - start < 15000) {
                if (element.readyState >= 2 && element.currentTime > 0) return true;
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return false;
        }"""
    )
    shot(page, "6-video-plays")

    extend = add_node(page, "extend", left + 420, top + 420)
    stitch = add_node(page, "stitch", left + 760, top + 520)
    connect(page, video, "video", extend, "video")
    connect(page, video, "video", stitch, "videos")
    connect(page, extend, "clip", stitch, "videos")
    page.wait_for_function("window.reelgraph.store.edges.size === 5")
    # Its Run button lies under the minimap here: select the card and run the selection from the keyboard.
    stitch.locator(".node-title").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("dialog[open] [data-confirm-run]")
    cached = page.locator("dialog[open] tr.cached").count()
    assert cached == 3  # the image, the prompt and the video are unchanged
    page.click("dialog[open] [data-confirm-run]")
    download_link = stitch.locator("[data-download]")
    download_link.wait_for(timeout=180_000)
    shot(page, "7-final-cut")

    with page.expect_download() as download:
        download_link.click()
    saved = tmp_path / "final.mp4"
    download.value.save_as(saved)
    final = media.probe(saved)
    assert final.video_codec == "h264"
    assert final.duration == pytest.approx(8 + 7, abs=1 / 24)

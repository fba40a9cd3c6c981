"""The newcomer's journey of issue 14, in Chromium, with real workers and the offline providers:
a palette-added Image node given its file through the card's picker, a prompt typed on its card,
a video extended twice, an uploaded clip and a soundtrack stitched in a known order, Run all,
the film downloaded and probed, a re-roll, and an undo that costs nothing. Every step is
screenshotted and asserted on what the page shows."""

import base64
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import av
import imageio_ffmpeg
import numpy as np
import pytest

from generation.models import Job, Run
from tests.browser.conftest import FIXTURES, add_node, connect, log_in, open_canvas, port, set_param
from tests.factories import PASSWORD, ProjectFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FIRST_PROMPT = "She waves at the camera, smiling"
SECOND_PROMPT = "She turns away and walks into the rain"
# Each part of the film lasts a different time, so that the order can be read off the result.
VIDEO_SECONDS, EXTEND_1_SECONDS, EXTEND_2_SECONDS, CLIP_SECONDS = 8, 7, 4, 2
FILM_SECONDS = VIDEO_SECONDS + EXTEND_1_SECONDS + EXTEND_2_SECONDS + CLIP_SECONDS
RUN_TIMEOUT = 240_000  # ms: a whole film on two workers of a shared two-core machine


def make_media(folder: Path) -> tuple[Path, Path]:
    """A short 720p test clip (colour bars, a tone) and a soundtrack, made with ffmpeg."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    clip, soundtrack = folder / "bars.mp4", folder / "soundtrack.wav"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=24:duration={CLIP_SECONDS}",
         "-f", "lavfi", "-i", f"sine=frequency=660:duration={CLIP_SECONDS}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
         str(clip)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=frequency=220:duration=30", str(soundtrack)], check=True
    )
    return clip, soundtrack


def drop_path(page, path: Path, mime: str, x: float, y: float) -> None:
    """Drop a file from disk on the canvas at (x, y) of the page, as dragging it from the desktop does."""
    page.evaluate(
        """([data, name, mime, x, y]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const viewport = document.querySelector("[data-viewport]");
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { bubbles: true, cancelable: true, dataTransfer: transfer, clientX: x, clientY: y };
                viewport.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [base64.b64encode(path.read_bytes()).decode(), path.name, mime, x, y],
    )


def new_card(page, selector: str):
    card = page.locator(selector)
    card.wait_for(timeout=30_000)
    return card


def box_of(locator) -> dict:
    """Where an element shows, once it shows (a card drawn again between the two steps is waited for)."""
    for _ in range(20):
        locator.wait_for(state="visible")
        if box := locator.bounding_box():
            return box
    raise AssertionError(f"{locator} never stayed visible")


def drag_card(page, card, x: float, y: float) -> None:
    """Drag a card by its title bar so that the bar's left end lands at (x, y) of the page."""
    head = box_of(card.locator(".node-head"))
    page.mouse.move(head["x"] + 20, head["y"] + 10)
    page.mouse.down()
    page.mouse.move(x + 20, y + 10, steps=8)
    page.mouse.up()


def inspected(page, card) -> None:
    """Wait until the inspector shows this card's node (a new card is inspected once it is added)."""
    page.locator(f'#inspector [data-inspector="{card.get_attribute("data-node-id")}"]').wait_for()


def edge_count(page) -> int:
    return page.locator("[data-edges] path[data-edge]").count()


def wire(page, source, source_port: str, target, target_port: str) -> None:
    """Drag a wire between two ports, and wait until it is drawn (connections keep their order)."""
    before = edge_count(page)
    for card, direction, name in ((source, "out", source_port), (target, "in", target_port)):
        port(card, direction, name).wait_for()
    connect(page, source, source_port, target, target_port)
    page.wait_for_function(
        "(count) => document.querySelectorAll('[data-edges] path[data-edge]').length > count", arg=before
    )


def buttons_outside(card) -> list[str]:
    """The card's buttons that stick out of it (a full footer must wrap, not overflow)."""
    edge = box_of(card)
    return [
        button.inner_text()
        for button in card.locator(".node-actions button").all()
        if (box := button.bounding_box()) and box["x"] + box["width"] > edge["x"] + edge["width"] + 0.5
    ]


def status_of(card) -> str:
    return card.locator("[data-status]").inner_text()


def open_plan(page, trigger) -> object:
    trigger()
    dialog = page.locator("dialog[open]")
    dialog.locator("[data-plan-total]").wait_for()
    return dialog


def plan_row(dialog, card):
    return dialog.locator(f'[data-plan-row="{card.get_attribute("data-node-id")}"]')


def card_menu(page, card, item: str) -> None:
    head = box_of(card.locator(".node-head"))
    page.mouse.click(head["x"] + 60, head["y"] + 10, button="right")
    page.locator("[data-menu]:not([hidden])").get_by_text(item, exact=True).click()


def run_confirmed(dialog, project) -> None:
    """Confirm the plan dialog and wait until the run it starts has ended, successfully."""
    known = Run.objects.filter(project=project).count()
    dialog.locator("[data-confirm-run]").click()
    deadline = time.monotonic() + RUN_TIMEOUT / 1000
    while not (
        (run := Run.objects.filter(project=project).first())
        and run.status != Run.Status.RUNNING
        and Run.objects.filter(project=project).count() > known
    ):
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.2)  # polling a condition
    assert run.status == Run.Status.SUCCEEDED


# Frames, for reading the film's order ------------------------------------------------------------


def frames_at(path: Path, seconds: list[float]) -> list[np.ndarray]:
    """Small grey pictures of the frames shown at the given times."""
    wanted = sorted(seconds)
    found: dict[float, np.ndarray] = {}
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            while wanted and frame.time >= wanted[0]:
                found[wanted.pop(0)] = frame.to_ndarray(width=64, height=36, format="gray").astype(float)
            if not wanted:
                break
    return [found[second] for second in seconds]


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def streams_of(path: Path) -> tuple[float, list[str]]:
    with av.open(str(path)) as container:
        return container.duration / av.time_base, sorted(stream.type for stream in container.streams)


def fetch(page, url: str, folder: Path, name: str) -> Path:
    answer = page.request.get(urljoin(page.url, url))
    assert answer.ok, answer.status
    path = folder / name
    path.write_bytes(answer.body())
    return path


# The journey --------------------------------------------------------------------------------------


def test_the_newcomers_journey(page, app_server, workers, shot, tmp_path):
    workers.start(2)
    clip_file, soundtrack_file = make_media(tmp_path)
    user = UserFactory(username="newcomer")
    project = ProjectFactory(owner=user, name="My first reel")
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    assert page.locator("[data-project-name]").inner_text() == "My first reel"
    assert page.locator("[data-node-id]").count() == 0
    # Two steps out: eight cards fit on the screen, still legible.
    page.click("[data-action-button=zoom-out]")
    page.click("[data-action-button=zoom-out]")
    assert page.locator("[data-zoom-label]").inner_text() == "69%"
    box = page.locator("[data-viewport]").bounding_box()
    left, top = box["x"], box["y"]
    shot(page, "01-empty-canvas")

    # An Image node from the palette, its file chosen with the card's picker.
    page.click("[data-palette-types] [data-add-type=image]")
    image = new_card(page, ".node.type-image")
    drag_card(page, image, left + 20, top + 20)
    pick = image.locator("[data-action=pick-file]")
    assert pick.inner_text() == "Choose file"
    with page.expect_file_chooser() as chooser:
        pick.click()
    chooser.value.set_files(str(FIXTURES / "astronaut.png"))
    chip = image.locator(".character-chip")
    chip.wait_for(timeout=60_000)
    assert "Character 1" in chip.inner_text()
    assert page.locator(".toast", has_text="Run succeeded.").count() <= 1  # one run, one toast
    image.locator("img.thumb").wait_for()  # the picture, once loaded
    assert image.locator("[data-action=pick-file]").inner_text() == "Replace file"
    assert page.locator("[data-node-id]").count() == 1  # the file went into this card, not a new one
    assert buttons_outside(image) == []
    shot(page, "02-image-picked")

    # The prompt, typed on its card.
    prompt = add_node(page, "prompt", left + 40, top + 330)
    inline = prompt.locator("[data-inline=text]")
    inline.click()
    inline.press_sequentially(FIRST_PROMPT)
    prompt.locator("[data-inline-state=saved]").wait_for(timeout=10_000)
    assert prompt.locator("[data-inline-state]").inner_text() == "Saved"
    shot(page, "03-prompt-typed")

    # The video, extended twice: Veo's own +7 s, then 4 s from the last frame.
    video = add_node(page, "video", left + 250, top + 20)
    extend_1 = add_node(page, "extend", left + 470, top + 20)
    inspected(page, extend_1)
    set_param(page, "title", "Extend 1")
    extend_2 = add_node(page, "extend", left + 470, top + 330)
    inspected(page, extend_2)
    set_param(page, "title", "Extend 2")
    set_param(page, "mode", "last_frame")
    set_param(page, "duration_seconds", str(EXTEND_2_SECONDS))
    wire(page, prompt, "text", video, "prompt")
    wire(page, image, "image", video, "first_frame")
    wire(page, video, "video", extend_1, "video")
    wire(page, extend_1, "video", extend_2, "video")

    # Bring your own footage, and a soundtrack: both dropped on the canvas.
    drop_path(page, clip_file, "video/mp4", left + 250, top + 330)
    clip = new_card(page, ".node.type-clip")
    assert clip.locator(".node-title").inner_text() == "bars"
    drop_path(page, soundtrack_file, "audio/wav", left + 250, top + 520)
    audio = new_card(page, ".node.type-audio")
    assert audio.locator(".node-title").inner_text() == "soundtrack"
    shot(page, "04-parts")

    # The stitch, fed in a known order.
    stitch = add_node(page, "stitch", left + 700, top + 170)
    for source, port_name in ((video, "video"), (extend_1, "clip"), (extend_2, "clip"), (clip, "video")):
        wire(page, source, port_name, stitch, "videos")
    wire(page, audio, "audio", stitch, "audio")
    order = stitch.locator("[data-multi-inputs=videos] li")
    order.nth(3).wait_for()
    numbered = [" ".join(text.split()).lower() for text in order.all_inner_texts()]
    assert numbered == ["1 video", "2 extend 1", "3 extend 2", "4 bars"]
    assert extend_1.locator(".node-title").inner_text() == "Extend 1"
    assert edge_count(page) == 9
    shot(page, "05-wired")

    # Run all: the plan first, with its cost.
    dialog = open_plan(page, lambda: page.click("[data-action-button=run-all]"))
    assert plan_row(dialog, image).locator(".badge").inner_text() == "cached"  # its face was found already
    for card in (prompt, video, extend_1, extend_2, stitch):
        assert plan_row(dialog, card).locator(".badge").inner_text() == "run"
    assert dialog.locator("h2").inner_text().startswith("Run ")
    assert dialog.locator("[data-plan-total]").inner_text().startswith("$")
    shot(page, "06-plan")
    dialog.locator("[data-confirm-run]").click()
    video.locator("[data-progress]:not([hidden])").wait_for(timeout=60_000)
    shot(page, "07-running")
    download_link = stitch.locator("[data-download]")
    download_link.wait_for(timeout=RUN_TIMEOUT)
    for card in (prompt, video, extend_1, extend_2, stitch):
        assert status_of(card) == "succeeded"
    page.click("[data-action-button=fit]")
    shot(page, "08-film")
    for card in (image, prompt, video, extend_1, extend_2, clip, audio, stitch):
        assert buttons_outside(card) == []

    # The film, downloaded: its length, its streams, and its parts in the order they were connected.
    with page.expect_download() as download:
        download_link.click()
    film = tmp_path / "film.mp4"
    download.value.save_as(film)
    duration, streams = streams_of(film)
    assert streams == ["audio", "video"]
    assert duration == pytest.approx(FILM_SECONDS, abs=0.1)
    video_file = fetch(page, video.locator("[data-download]").get_attribute("href"), tmp_path, "video.mp4")
    extended_1 = fetch(page, extend_1.locator("[data-download]").get_attribute("href"), tmp_path, "extend1.mp4")
    extended_2 = fetch(page, extend_2.locator("[data-download]").get_attribute("href"), tmp_path, "extend2.mp4")
    # Where each part shows in the film, and the same picture in the file it came from (an Extend's
    # video is its source followed by the new part).
    starts = np.cumsum([0, VIDEO_SECONDS, EXTEND_1_SECONDS, EXTEND_2_SECONDS])
    middles = [start + length / 2 for start, length in zip(starts, [8, 7, 4, 2], strict=True)]
    in_film = frames_at(film, middles)
    in_sources = [
        frames_at(video_file, [middles[0]])[0],
        frames_at(extended_1, [middles[1]])[0],
        frames_at(extended_2, [middles[2]])[0],
        frames_at(clip_file, [middles[3] - starts[3]])[0],
    ]
    for index, frame in enumerate(in_film):
        distances = [difference(frame, source) for source in in_sources]
        assert int(np.argmin(distances)) == index, (index, distances)

    # Re-roll the second extension: the cost first, then a new take.
    jobs_before_re_roll = Job.objects.filter(run__project=project).count()
    card_menu(page, extend_2, "Re-roll (new take)…")
    dialog = page.locator("dialog[open]")
    dialog.locator("[data-plan-total]").wait_for()
    assert dialog.locator("h2").inner_text() == "Run 1 node?"
    assert plan_row(dialog, extend_2).locator(".badge").inner_text() == "run"
    assert dialog.locator("[data-plan-total]").inner_text().startswith("$")
    shot(page, "09-re-roll-cost")
    run_confirmed(dialog, project)
    extend_2.locator("[data-plan]", has_text="cached").wait_for()
    assert Job.objects.filter(run__project=project).count() == jobs_before_re_roll + 1
    extend_2.locator("[data-action=takes]").click()
    take_2 = extend_2.locator("[data-takes] li", has_text="Take 2")
    take_2.wait_for()
    assert "in use" in take_2.inner_text()
    assert extend_2.locator("[data-takes] li", has_text="Take 1").locator("[data-action=use-take]").is_visible()
    shot(page, "10-take-2")
    # The stitch follows the new take: its plan says it will run again, and Run all joins it again.
    stitch.locator("[data-plan]", has_text="will run").wait_for(timeout=30_000)
    stitch.locator("[data-status]", has_text="outdated").wait_for()
    dialog = open_plan(page, lambda: page.click("[data-action-button=run-all]"))
    assert dialog.locator("h2").inner_text() == "Run 1 node?"
    assert plan_row(dialog, stitch).locator(".badge").inner_text() == "run"
    run_confirmed(dialog, project)
    stitch.locator("[data-plan]", has_text="cached").wait_for()
    assert status_of(stitch) == "succeeded"

    # A new prompt, run; then undone: the earlier take is used again, and nothing is paid.
    inline.fill(SECOND_PROMPT)
    prompt.locator("[data-inline-state=saved]").wait_for(timeout=10_000)
    video.locator("[data-plan]", has_text="will run").wait_for(timeout=10_000)
    assert prompt.locator("[data-plan]").inner_text().startswith("will run")
    video.locator("[data-status]", has_text="outdated").wait_for()
    prompt.locator("[data-action=run]").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("[data-plan-total]").wait_for()
    assert dialog.locator("h2").inner_text() == "Run 1 node?"
    run_confirmed(dialog, project)
    prompt.locator("[data-output-text]", has_text="walks into the rain").wait_for()
    shot(page, "11-prompt-changed")

    jobs_before_undo = Job.objects.filter(run__project=project).count()
    page.click("[data-action-button=undo]")
    page.wait_for_function(
        "([text]) => document.querySelector('[data-inline=text]').value === text", arg=[FIRST_PROMPT]
    )
    video.locator("[data-plan]", has_text="cached").wait_for(timeout=10_000)
    assert prompt.locator("[data-plan]").inner_text() == "cached (take 1): the next run uses it again, free"
    for card in (image, video, extend_1, extend_2, stitch):
        assert card.locator("[data-plan]").inner_text() == "cached: will not run"
    for card in (image, prompt, video, extend_1, extend_2, stitch):
        assert status_of(card) == "succeeded"  # going back costs nothing: nothing is outdated
    dialog = open_plan(page, lambda: page.click("[data-action-button=run-all]"))
    assert dialog.locator("h2").inner_text() == "Use 1 earlier take again?"
    assert plan_row(dialog, prompt).locator(".muted").inner_text() == "cached (take 1)"
    assert plan_row(dialog, extend_2).locator(".badge").inner_text() == "cached"
    assert dialog.locator("tr.run").count() == 0
    assert float(dialog.locator("[data-plan-total]").inner_text().removeprefix("$")) == 0
    shot(page, "12-undo-cached")
    dialog.locator("[data-confirm-run]").click()
    prompt.locator("[data-plan]", has_text="cached: will not run").wait_for()
    assert "walks into the rain" not in prompt.locator("[data-output-text]").inner_text()
    prompt.locator("[data-action=takes]").click()
    assert "in use" in prompt.locator("[data-takes] li", has_text="Take 1").inner_text()
    shot(page, "13-take-1-again")
    assert Job.objects.filter(run__project=project).count() == jobs_before_undo

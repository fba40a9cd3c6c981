"""The canvas widgets, as a user sees them: right-click menus, minimap, lightbox, sticky notes, runs panel."""

import threading
import uuid
from functools import cache

import pytest
from django.test import Client

from generation.models import Run
from generation.planning import plan_run
from live.events import send
from nodes.models import Node
from nodes.services import add_node, connect
from projects.models import Membership
from tests.browser.conftest import log_in, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import wait_for_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@cache
def api_routes() -> dict[str, set[str]]:
    from config.api import api

    paths = api.get_openapi_schema(path_prefix="/api/v1")["paths"]
    return {path: {method.upper() for method in methods} for path, methods in paths.items()}


def route_missing(method: str, path: str) -> bool:
    """Whether the OpenAPI document lacks a route: the tests of widgets whose endpoints another
    branch adds are skipped until it is merged, and run from then on."""
    return method not in api_routes().get(path, set())


needs_notes = pytest.mark.skipif(
    route_missing("GET", "/api/v1/projects/{project_id}/notes"), reason="the notes endpoints are not merged yet"
)
needs_runs_list = pytest.mark.skipif(
    route_missing("GET", "/api/v1/projects/{project_id}/runs"), reason="the runs list endpoint is not merged yet"
)


def api_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def notes_of(project, user) -> list[dict]:
    answer = api_client(user).get(f"/api/v1/projects/{project.id}/notes")
    assert answer.status_code == 200, answer.content
    return answer.json()


def zoom_of(page) -> float:
    return page.evaluate("window.reelgraph.view.zoom")


def viewport_box(page):
    return page.locator("[data-viewport]").bounding_box()


def inside(box, outer) -> bool:
    return (
        box["x"] >= outer["x"] - 0.5
        and box["y"] >= outer["y"] - 0.5
        and box["x"] + box["width"] <= outer["x"] + outer["width"] + 0.5
        and box["y"] + box["height"] <= outer["y"] + outer["height"] + 0.5
    )


def near(point, expected, tolerance: float = 1.5) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(point, expected, strict=True))


def overlaps(a, b) -> bool:
    apart = a["x"] >= b["x"] + b["width"] or b["x"] >= a["x"] + a["width"]
    return not (apart or a["y"] >= b["y"] + b["height"] or b["y"] >= a["y"] + a["height"])


def open_card_menu(page, node) -> None:
    """Right-click the card's header (Playwright waits until the card is visible and still)."""
    page.locator(f'[data-node-id="{node.id}"] .node-head').click(button="right", position={"x": 60, "y": 10})
    page.locator("[data-menu]").wait_for(state="visible")


def menu_items(page) -> list[str]:
    return page.locator("[data-menu]:not([hidden]) [data-menu-item]").all_inner_texts()


@pytest.fixture
def owner():
    return UserFactory(username="maker")


@pytest.fixture
def two_cards(page, app_server, owner):
    project = ProjectFactory(owner=owner, name="Widgets")
    prompt = add_node(project, type="prompt", title="Line", x=40, y=60, params={"text": "A lighthouse"})
    video = add_node(project, type="video", title="Shot", x=420, y=60)
    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    return page, project, {"prompt": prompt, "video": video}


def test_the_canvas_menu_opens_at_the_pointer_stays_inside_the_window_and_closes(two_cards, shot):
    page, _project, _nodes = two_cards
    area = viewport_box(page)

    page.mouse.click(area["x"] + 300, area["y"] + 420, button="right")
    menu = page.locator("[data-menu]")
    menu.wait_for(state="visible")
    box = menu.bounding_box()
    assert near((box["x"], box["y"]), (area["x"] + 300, area["y"] + 420))
    assert menu_items(page) == ["Add node here…", "Add note here", "Paste here", "Select all", "Fit to screen"]
    assert page.locator("[data-menu] [data-menu-item]:has-text('Paste here')").is_disabled()  # nothing copied yet
    shot(page, "canvas-menu")

    # The keyboard moves through it; Escape closes it and leaves the selection alone.
    assert page.evaluate("document.activeElement.textContent") == "Add node here…"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "Add note here"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.textContent") == "Fit to screen"
    page.keyboard.press("Escape")
    menu.wait_for(state="hidden")

    # At the bottom of the window it opens upwards, above the pointer.
    window = page.viewport_size
    bottom = area["y"] + area["height"] - 4
    page.mouse.click(area["x"] + 400, bottom, button="right")
    menu.wait_for(state="visible")
    box = menu.bounding_box()
    assert inside(box, {"x": 0, "y": 0, **window})
    assert near((box["x"], box["y"] + box["height"]), (area["x"] + 400, bottom))
    shot(page, "canvas-menu-in-corner")

    # A click elsewhere closes it; "Add node here…" opens the node search where the menu was.
    page.mouse.click(area["x"] + 200, area["y"] + 200)
    menu.wait_for(state="hidden")
    page.mouse.click(area["x"] + 300, area["y"] + 420, button="right")
    page.click("[data-menu] >> text=Add node here…")
    search = page.locator("[data-search]")
    search.wait_for(state="visible")
    assert near((search.bounding_box()["x"], search.bounding_box()["y"]), (area["x"] + 300, area["y"] + 420))
    # Two cards are a tiny graph: no minimap.
    assert not page.locator("[data-minimap]").is_visible()


def test_duplicate_in_the_card_menu_makes_a_copy_in_free_visible_space(two_cards, shot):
    page, project, nodes = two_cards
    card = page.locator(f'[data-node-id="{nodes["prompt"].id}"]')

    # From the keyboard: the menu of the selected card, at the card, its first item focused.
    card.locator(".node-head").click()
    page.keyboard.press("Shift+F10")
    page.locator("[data-menu]").wait_for(state="visible")
    assert inside(page.locator("[data-menu]").bounding_box(), viewport_box(page))
    assert page.evaluate("document.activeElement.textContent") == "Run"
    page.keyboard.press("Escape")
    page.locator("[data-menu]").wait_for(state="hidden")

    open_card_menu(page, nodes["prompt"])
    assert menu_items(page) == ["Run", "Re-roll (new take)…", "Duplicate", "Copy", "Open larger preview", "Delete"]
    # Nothing made yet: no take to re-roll, no picture to enlarge.
    for label in ("Re-roll (new take)…", "Open larger preview"):
        assert page.locator(f"[data-menu] [data-menu-item]:has-text('{label}')").is_disabled()
    shot(page, "card-menu")
    page.click("[data-menu] >> text=Duplicate")

    page.wait_for_function("document.querySelectorAll('.node.type-prompt').length === 2")
    copy = Node.objects.filter(project=project, type="prompt").exclude(pk=nodes["prompt"].pk).get()
    assert (copy.title, copy.params) == ("Line", {"text": "A lighthouse"})
    copy_box = page.locator(f'[data-node-id="{copy.id}"]').bounding_box()
    assert inside(copy_box, viewport_box(page))
    for node in nodes.values():
        assert not overlaps(copy_box, page.locator(f'[data-node-id="{node.id}"]').bounding_box())
    shot(page, "duplicated")

    # Undo takes the copy away again, as for any other edit.
    page.locator("[data-viewport]").click(position={"x": 600, "y": 600})
    page.keyboard.press("Control+z")
    page.wait_for_function("document.querySelectorAll('.node.type-prompt').length === 1")
    assert not Node.objects.filter(pk=copy.pk).exists()


def test_the_minimap_shows_every_card_and_its_frame_follows_the_view(page, app_server, owner, shot):
    project = ProjectFactory(owner=owner, name="Large")
    for index in range(8):
        x, y = (index % 4) * 700, (index // 4) * 900
        add_node(project, type="prompt", title=f"Line {index}", x=x, y=y, params={"text": "x"})
    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    page.click("[data-action-button=zoom-in]")  # closer than "fit": part of the graph is out of view
    page.click("[data-action-button=zoom-in]")
    minimap = page.locator("[data-minimap]")
    minimap.wait_for(state="visible")
    assert minimap.locator(".minimap-card").count() == 8
    frame = page.locator("[data-minimap-view]")
    assert inside(minimap.bounding_box(), viewport_box(page))
    shot(page, "minimap")

    # Dragging the canvas to the left shows what lies to the right: the frame moves right.
    before = frame.bounding_box()
    area = viewport_box(page)
    page.mouse.move(area["x"] + 600, area["y"] + 300)
    page.mouse.down()
    page.mouse.move(area["x"] + 300, area["y"] + 300, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "(x) => document.querySelector('[data-minimap-view]').getBoundingClientRect().x > x + 5", arg=before["x"]
    )
    after = frame.bounding_box()
    assert abs(after["y"] - before["y"]) < 1 and abs(after["width"] - before["width"]) < 1
    shot(page, "minimap-panned")

    # A click on the map centres the view there: the frame's centre comes to the pointer.
    box = minimap.bounding_box()
    target = {"x": box["x"] + box["width"] * 0.8, "y": box["y"] + box["height"] * 0.75}
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function(
        """([x, y]) => {
            const r = document.querySelector('[data-minimap-view]').getBoundingClientRect();
            return Math.abs(r.x + r.width / 2 - x) < 3 && Math.abs(r.y + r.height / 2 - y) < 3;
        }""",
        arg=[target["x"], target["y"]],
    )


def made_video(project, user, workers) -> Node:
    """A prompt and a video node, run for real by an RQ worker (the offline renderer)."""
    prompt = add_node(project, type="prompt", title="Line", x=40, y=60, params={"text": "A lighthouse in a storm"})
    video = add_node(project, type="video", title="Shot", x=420, y=60, params={"duration_seconds": 4})
    connect(project, source=prompt, source_port="text", target=video, target_port="prompt")
    workers.start(1)
    plan = plan_run(project, [video.id], user=user)
    run = wait_for_run(Run.objects.get(pk=plan.run.id))
    assert run.status == Run.Status.SUCCEEDED
    return video


def test_the_lightbox_shows_a_larger_video_that_plays(page, app_server, owner, workers, shot):
    project = ProjectFactory(owner=owner, name="Preview")
    video = made_video(project, owner, workers)
    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    card = page.locator(f'[data-node-id="{video.id}"]')
    small = card.locator("[data-video]")
    small.wait_for()
    small_width = small.bounding_box()["width"]

    small.dblclick(position={"x": 60, "y": 20})  # on the picture, above the player's controls
    dialog = page.locator("dialog[data-lightbox][open]")
    dialog.wait_for()
    player = dialog.locator("video[data-lightbox-media]")
    assert player.get_attribute("src") == small.get_attribute("src")
    assert player.evaluate("(video) => video.controls")
    large = player.bounding_box()
    assert large["width"] > 2 * small_width
    assert page.evaluate("document.fullscreenElement") is None  # the larger preview, not the card's video full screen
    page.wait_for_function("() => document.querySelector('dialog[open] video').currentTime > 0.3")
    shot(page, "lightbox-video")

    page.keyboard.press("Escape")
    page.locator("dialog[data-lightbox]").wait_for(state="hidden")
    assert page.locator("dialog[data-lightbox] video").count() == 0  # closed means stopped

    # The card menu opens the same preview.
    open_card_menu(page, video)
    page.click("[data-menu] >> text=Open larger preview")
    dialog.wait_for()
    assert "Re-roll (new take)…" not in page.locator("dialog[data-lightbox]").inner_text()


def test_re_roll_in_the_card_menu_shows_the_cost_before_making_a_new_take(page, app_server, owner, workers, shot):
    project = ProjectFactory(owner=owner, name="Re-roll")
    video = made_video(project, owner, workers)
    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)

    open_card_menu(page, video)
    page.click("[data-menu] >> text=Re-roll (new take)…")
    dialog = page.locator("dialog[open]")
    dialog.wait_for()
    assert dialog.locator(f'[data-plan-row="{video.id}"] .badge').inner_text() == "run"
    assert dialog.locator("h2").inner_text() == "Run 1 node?"  # the prompt upstream stays cached
    assert dialog.locator("[data-plan-total]").inner_text().startswith("$")
    shot(page, "re-roll-plan")
    page.click("dialog[open] [data-confirm-run]")

    page.wait_for_function(
        "(id) => window.reelgraph.store.nodes.get(id)?.selected_take?.number === 2", arg=str(video.id), timeout=120_000
    )
    assert video.takes.count() == 2


@needs_notes
def test_a_note_typed_in_one_browser_appears_in_another(new_context, app_server, owner, shot):
    project = ProjectFactory(owner=owner, name="Notes")
    add_node(project, type="prompt", title="Line", x=40, y=60, params={"text": "A lighthouse"})
    pages = []
    for _ in range(2):
        page = new_context().new_page()
        log_in(page, app_server, owner.username, PASSWORD)
        open_canvas(page, app_server, project.id)
        pages.append(page)
    writer, reader = pages

    area = viewport_box(writer)
    writer.mouse.click(area["x"] + 500, area["y"] + 300, button="right")
    writer.click("[data-menu] >> text=Add note here")
    text = writer.locator("[data-note] textarea")
    text.wait_for()
    writer.wait_for_function("document.activeElement?.matches('[data-note] textarea')")  # ready to type in
    text.type("Shoot the storm at dusk")
    writer.locator("[data-note] [data-note-state]:has-text('Saved')").wait_for()

    reader.wait_for_function(
        "(text) => document.querySelector('[data-note] textarea')?.value === text", arg="Shoot the storm at dusk"
    )
    assert [note["text"] for note in notes_of(project, owner)] == ["Shoot the storm at dusk"]
    box = reader.locator("[data-note]").bounding_box()
    assert near((box["x"], box["y"]), (area["x"] + 500, area["y"] + 300), tolerance=2)
    note_x = notes_of(project, owner)[0]["x"]
    shot(writer, "note-written")
    shot(reader, "note-received")

    # Moving it and recolouring it reach the other browser too.
    writer.locator("[data-note] [data-note-color=blue]").click()
    reader.wait_for_selector("[data-note].color-blue")
    handle = writer.locator("[data-note] .note-head").bounding_box()
    writer.mouse.move(handle["x"] + 10, handle["y"] + 8)
    writer.mouse.down()
    writer.mouse.move(handle["x"] + 110, handle["y"] + 58, steps=5)
    writer.mouse.up()
    reader.wait_for_function(
        "(x) => Math.abs(document.querySelector('[data-note]').getBoundingClientRect().x - x) < 3", arg=box["x"] + 100
    )
    moved = notes_of(project, owner)[0]
    assert (moved["color"], moved["x"] - note_x) == ("blue", round(100 / zoom_of(writer)))

    # A save over someone else's newer text is refused, and the note says so; "Keep mine" saves it on top.
    def competing_edit_first(route):
        current = notes_of(project, owner)[0]
        path = f"/api/v1/projects/{project.id}/notes/{current['id']}"
        answer = api_client(owner).patch(path, {"version": current["version"], "text": "At dawn"}, "application/json")
        assert answer.status_code == 200, answer.content
        route.continue_()

    reader.route("**/api/v1/projects/*/notes/*", competing_edit_first, times=1)
    reader.locator("[data-note] textarea").fill("At night")
    conflict = reader.locator("[data-note] [data-note-conflict]")
    conflict.wait_for(state="visible")
    assert "changed this note while you typed" in conflict.inner_text()
    assert notes_of(project, owner)[0]["text"] == "At dawn"  # nothing overwritten unseen
    shot(reader, "note-conflict")
    conflict.locator("[data-keep=mine]").click()
    reader.locator("[data-note] [data-note-state]:has-text('Saved')").wait_for()
    assert notes_of(project, owner)[0]["text"] == "At night"
    writer.wait_for_function("() => document.querySelector('[data-note] textarea').value === 'At night'")


@needs_notes
def test_a_viewer_reads_notes_and_cannot_change_them(page, app_server, owner, shot):
    project = ProjectFactory(owner=owner, name="Notes for a viewer")
    viewer = UserFactory(username="vera")
    Membership.objects.create(project=project, user=viewer, role=Membership.Role.VIEWER)
    made = api_client(owner).post(
        f"/api/v1/projects/{project.id}/notes",
        {"text": "Keep the horizon level", "x": 100, "y": 100},
        "application/json",
    )
    assert made.status_code == 201, made.content
    log_in(page, app_server, viewer.username, PASSWORD)
    open_canvas(page, app_server, project.id)

    note = page.locator("[data-note]")
    note.wait_for()
    assert note.locator("[data-note-text]").inner_text() == "Keep the horizon level"
    assert note.locator("textarea, button").count() == 0
    before = note.bounding_box()
    page.mouse.move(before["x"] + 20, before["y"] + 8)
    page.mouse.down()
    page.mouse.move(before["x"] + 220, before["y"] + 208, steps=5)
    page.mouse.up()
    page.mouse.click(before["x"] + 300, before["y"] + 300, button="right")
    assert "Add note here" not in menu_items(page)
    shot(page, "viewer-note")
    assert [(note["x"], note["text"]) for note in notes_of(project, owner)] == [(100, "Keep the horizon level")]


@needs_runs_list
def test_the_runs_panel_lists_a_finished_run_with_its_cost_and_jobs(page, app_server, owner, workers, shot):
    project = ProjectFactory(owner=owner, name="Runs")
    video = made_video(project, owner, workers)
    run = Run.objects.get(project=project)
    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)

    page.click("[data-runs-toggle]")
    item = page.locator(f'[data-run="{run.id}"]')
    item.wait_for()
    assert item.locator("[data-run-status]").inner_text() == "succeeded"
    jobs_in_db = list(run.jobs.select_related("node"))
    assert item.locator("[data-run-cost]").inner_text() == f"${sum(job.cost_actual or 0 for job in jobs_in_db):.2f}"
    assert item.locator("[data-run-duration]").inner_text().endswith(" s")
    item.locator("[data-run-toggle]").click()
    jobs = item.locator("[data-run-job]")
    assert sorted(jobs.locator(".job-title").all_inner_texts()) == sorted(job.node.title for job in jobs_in_db)
    assert set(jobs.locator(".badge").all_inner_texts()) == {"succeeded"}
    shot(page, "runs-panel")

    # A re-roll started elsewhere (another member, the API) appears at the top by itself (live), and the
    # run the user opened stays open. (The open panel covers the card, so it does not come from its menu.)
    plan_run(project, [video.id], user=owner, force=True)
    page.wait_for_function("document.querySelectorAll('[data-run]').length === 2")
    newest = Run.objects.filter(project=project).latest("created_at")
    assert page.locator("[data-run]").first.get_attribute("data-run") == str(newest.id)
    page.wait_for_selector(f'[data-run="{newest.id}"][data-status="succeeded"]', timeout=120_000)
    assert item.locator("[data-run-jobs]").is_visible()
    shot(page, "runs-panel-after-re-roll")


def send_live(project, event: dict) -> None:
    """Send an event to the project's open canvases over the real channel layer, as the server does.
    From another thread: this one runs Playwright's event loop, where async_to_sync refuses to run."""
    thread = threading.Thread(target=send, args=(project.id, event))
    thread.start()
    thread.join()


def note_out(owner, **fields) -> dict:
    note = {"id": str(uuid.uuid4()), "text": "", "x": 100, "y": 100, "width": 220, "height": 160, "color": "yellow"}
    return note | {"version": 1, "created_by": owner.username, "updated_at": "2026-01-01T00:00:00Z"} | fields


def test_live_notes_appear_follow_newer_versions_and_stay_read_only_for_a_viewer(page, app_server, owner, shot):
    project = ProjectFactory(owner=owner, name="Live notes")
    viewer = UserFactory(username="vera")
    Membership.objects.create(project=project, user=viewer, role=Membership.Role.VIEWER)
    add_node(project, type="prompt", title="Line", x=40, y=60, params={"text": "A lighthouse"})
    log_in(page, app_server, viewer.username, PASSWORD)
    open_canvas(page, app_server, project.id)

    note = note_out(owner, text="Keep the horizon level", x=420, y=300)
    send_live(project, {"type": "note.created", "note": note, "by": owner.username})
    card = page.locator(f'[data-note="{note["id"]}"]')
    card.wait_for()
    assert card.locator("[data-note-text]").inner_text() == "Keep the horizon level"
    assert card.locator("textarea, button").count() == 0  # a viewer reads it, and has nothing to change it with
    box = card.bounding_box()
    assert near(
        page.evaluate("([x, y]) => Object.values(window.reelgraph.view.toWorld(x, y))", [box["x"], box["y"]]),
        (420, 300),
    )
    shot(page, "viewer-live-note")

    # Zooming moves and scales it with the cards.
    width = card.bounding_box()["width"]
    page.click("[data-action-button=zoom-out]")
    page.wait_for_function(
        "(w) => document.querySelector('[data-note]').getBoundingClientRect().width < w - 5", arg=width
    )

    # A newer version replaces it; an older one does not; a deletion removes it.
    newer = note | {"version": 3, "text": "Level horizon!", "color": "pink"}
    send_live(project, {"type": "note.updated", "note": newer, "by": owner.username})
    page.wait_for_selector(f'[data-note="{note["id"]}"].color-pink')
    send_live(project, {"type": "note.updated", "note": note | {"version": 2, "text": "stale"}, "by": owner.username})
    send_live(project, {"type": "note.created", "note": note_out(owner, text="marker"), "by": owner.username})
    page.wait_for_selector("[data-note] >> text=marker")
    assert card.locator("[data-note-text]").inner_text() == "Level horizon!"

    # Dragging it and right-clicking on the canvas change nothing and offer no note to add.
    box = card.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(box["x"] + 230, box["y"] + 208, steps=5)
    page.mouse.up()
    assert near((card.bounding_box()["x"], card.bounding_box()["y"]), (box["x"], box["y"]))
    area = viewport_box(page)
    page.mouse.click(area["x"] + 40, area["y"] + area["height"] - 60, button="right")
    assert menu_items(page) == ["Select all", "Fit to screen"]

    send_live(project, {"type": "note.deleted", "note_id": note["id"], "by": owner.username})
    card.wait_for(state="detached")


@needs_notes
def test_deleting_a_note_is_undone_and_redone(page, app_server, owner, shot):
    project = ProjectFactory(owner=owner, name="Notes undone")
    made = api_client(owner).post(
        f"/api/v1/projects/{project.id}/notes",
        {"text": "Shoot at dusk", "x": 120, "y": 140, "width": 260, "height": 180, "color": "green"},
        "application/json",
    )
    assert made.status_code == 201, made.content
    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    note = page.locator("[data-note]")
    note.wait_for()
    drawn = note.bounding_box()

    note.locator("[data-note-delete]").click()
    note.wait_for(state="detached")
    assert notes_of(project, owner) == []

    page.locator("[data-viewport]").click(position={"x": 700, "y": 500})
    page.keyboard.press("Control+z")
    note.wait_for()
    (back,) = notes_of(project, owner)
    assert (back["text"], back["x"], back["y"], back["width"], back["height"], back["color"]) == (
        "Shoot at dusk",
        120,
        140,
        260,
        180,
        "green",
    )
    again = note.bounding_box()
    assert near((again["x"], again["y"], again["width"]), (drawn["x"], drawn["y"], drawn["width"]), tolerance=1)
    shot(page, "note-undeleted")

    page.keyboard.press("Control+Shift+z")
    note.wait_for(state="detached")
    assert notes_of(project, owner) == []

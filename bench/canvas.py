"""The canvas with 300 nodes in Chromium: first-render time, and frame times while panning and dragging.

Builds a project of 60 chains (prompt -> video -> extend -> extend -> stitch: 300 nodes, 240 edges)
under var/bench, serves it with daphne as `make run` does, and drives Debian's Chromium with
Playwright: the first render is the `canvas-ready` performance mark (navigation start to the first
snapshot drawn and fitted); frame times are the intervals between requestAnimationFrame callbacks
while the mouse pans the background or drags a node, at the fitted zoom and at zoom 1.

Run: .venv/bin/python -m bench.canvas
"""

from __future__ import annotations

import os
import statistics

from bench.common import machine, percentile, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from nodes import services as nodes  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import create_project  # noqa: E402
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, daphne  # noqa: E402

USERNAME = PASSWORD = "bench"  # noqa: S105 - a local benchmark login under var/bench
CHAINS, CHAINS_PER_ROW = 60, 3
LOADS = 7

# Records the interval between animation frames from now until `stop()`.
RECORDER = """() => {
    const frames = [];
    let last = performance.now();
    let running = true;
    const tick = (now) => { frames.push(now - last); last = now; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame((now) => { last = now; requestAnimationFrame(tick); });
    window.__frames = { stop: () => { running = false; return frames; } };
}"""

# Zoom 1, the first chain at the top left.
ACTUAL_SIZE = "(() => { const v = window.reelgraph.view; v.zoom = 1; v.pan = { x: 40, y: 40 }; v.applyTransform(); })()"

# A point of the viewport with no card under it, to start a pan from.
EMPTY_POINT = """() => {
    const rect = document.querySelector("[data-viewport]").getBoundingClientRect();
    for (let y = rect.top + 20; y < rect.bottom - 20; y += 10) {
        for (let x = rect.left + 20; x < rect.right - 220; x += 10) {
            const hit = document.elementFromPoint(x, y);
            if (hit && !hit.closest(".node") && hit.closest("[data-viewport]")) return { x, y };
        }
    }
    return null;
}"""


def build_project() -> Project:
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    Project.objects.filter(owner=user).delete()
    project = create_project(user, "Bench: 300 nodes")
    for chain in range(CHAINS):
        left, top = (chain % CHAINS_PER_ROW) * 5 * 320, (chain // CHAINS_PER_ROW) * 280
        prompt, video, extend, again, stitch = (
            nodes.add_node(project, type=kind, x=left + column * 320, y=top, params=params)
            for column, (kind, params) in enumerate(
                [
                    ("prompt", {"text": f"Shot {chain}: a lighthouse at dusk"}),
                    ("video", {}),
                    ("extend", {}),
                    ("extend", {}),
                    ("stitch", {}),
                ]
            )
        )
        nodes.connect(project, source=prompt, source_port="text", target=video, target_port="prompt")
        nodes.connect(project, source=video, source_port="video", target=extend, target_port="video")
        nodes.connect(project, source=extend, source_port="video", target=again, target_port="video")
        nodes.connect(project, source=again, source_port="video", target=stitch, target_port="videos")
    return project


def gesture(page, start: dict, delta: tuple[float, float], steps: int = 120) -> list[float]:
    """Frame intervals (ms) while the mouse drags from `start` by `delta` in `steps` moves."""
    page.evaluate(RECORDER)
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    for step in range(1, steps + 1):
        page.mouse.move(start["x"] + delta[0] * step / steps, start["y"] + delta[1] * step / steps)
    page.mouse.up()
    page.wait_for_timeout(100)
    return page.evaluate("window.__frames.stop()")[:-2] or [0.0]  # the last two frames follow the gesture


def summary(frames: list[float]) -> str:
    p95 = percentile(frames, 0.95)
    long = sum(1 for frame in frames if frame > 50)
    return (
        f"{len(frames)} frames, median {statistics.median(frames):.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(frames):.1f} ms, {long} over 50 ms"
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    project = build_project()
    print(f"machine: {machine()}")
    environment = {**os.environ, "REELGRAPH_VAR_DIR": str(settings.VAR_DIR)}
    log = settings.VAR_DIR / "daphne.log"
    with daphne(settings.BASE_DIR, environment, log) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        version = browser.version
        page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", PASSWORD)
        page.click("button.primary")
        page.wait_for_url(f"{base}/projects/")
        renders = []
        for _ in range(LOADS + 1):
            page.goto(f"{base}/projects/{project.id}/")
            page.wait_for_selector("[data-canvas][data-ready=true]", timeout=60_000)
            renders.append(page.evaluate("performance.getEntriesByName('canvas-ready')[0].startTime"))
        renders = renders[1:]  # the first load warms caches
        cards = page.locator(".node").count()
        zoom = page.evaluate("window.reelgraph.view.zoom")
        pan = gesture(page, page.evaluate(EMPTY_POINT), (400, 250))
        head = page.locator(".node .node-head").nth(4).bounding_box()
        drag_fitted = gesture(page, {"x": head["x"] + 20, "y": head["y"] + 8}, (300, 200))
        page.evaluate(ACTUAL_SIZE)
        head = page.locator(".node .node-head").first.bounding_box()
        drag_full = gesture(page, {"x": head["x"] + 20, "y": head["y"] + 8}, (300, 200))
        pan_full = gesture(page, page.evaluate(EMPTY_POINT), (-600, -400))
        browser.close()
    print(f"Chromium {version}, {cards} cards drawn, zoom after fit {zoom:.2f}")
    print(
        f"first render (navigation start -> canvas-ready), median of {LOADS}: {statistics.median(renders):.0f} ms "
        f"(min {min(renders):.0f}, max {max(renders):.0f})"
    )
    print(f"pan the background (fitted view): {summary(pan)}")
    print(f"drag a node (fitted view): {summary(drag_fitted)}")
    print(f"drag a node (zoom 1): {summary(drag_full)}")
    print(f"pan the background (zoom 1): {summary(pan_full)}")


if __name__ == "__main__":
    main()

"""Browser tests: pytest-playwright driving Debian's Chromium against daphne and real RQ workers.

Playwright's sync API keeps an event loop running in the test's thread for as long as it is open,
which Django (rightly) takes for an async context, and which would break the WebSocket tests that
run later in the same session. So here Playwright lives for one test at a time: the `playwright`,
`browser_type` and `browser` fixtures of pytest-playwright are replaced by function-scoped ones.
"""

import base64
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Page, sync_playwright

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, daphne
from tests.workers import wait_for, worker_environment

SCREENSHOTS = settings.VAR_DIR / "screenshots"
FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the test thread now holds Playwright's loop
    with sync_playwright() as instance:
        yield instance
        # Queries made while the loop ran used a connection of that "async" context: close it here,
        # in the same context, or it would keep the test database open after the run.
        connections.close_all()


@pytest.fixture
def browser_type(playwright):
    return playwright.chromium


@pytest.fixture
def browser(browser_type):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run .ci/run, or `apt-get install chromium`.")
    launched = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def browser_context_args():
    # Playwright's wait_for_function evaluates its predicate with eval, which the app's CSP forbids;
    # the policy itself is checked on every page by tests/test_access_matrix.py.
    return {"viewport": {"width": 1440, "height": 900}, "accept_downloads": True, "bypass_csp": True}


@pytest.fixture
def app_server(request, transactional_db, redis):
    """daphne serving the app (HTTP and WebSocket) on the test database, as `make run` does. Its log
    is kept per test (var/test/daphne/<test>.log), so a failed test's server log outlives the run."""
    logs = settings.VAR_DIR / "daphne"
    logs.mkdir(parents=True, exist_ok=True)
    with daphne(settings.BASE_DIR, worker_environment(), logs / f"{request.node.name}.log") as url:
        yield url


@pytest.fixture
def shot(request):
    """Write a screenshot of a key state to var/test/screenshots/<test>-<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button.primary")
    page.wait_for_url(f"{base}/projects/")


def open_canvas(page: Page, base: str, project_id) -> None:
    page.goto(f"{base}/projects/{project_id}/")
    page.wait_for_selector("[data-canvas][data-ready=true]", timeout=20_000)


def drop_file(page: Page, name: str, x: float, y: float) -> None:
    """Drop a file on the canvas at (x, y) of the page, as dragging it from the desktop does."""
    data = base64.b64encode((FIXTURES / name).read_bytes()).decode()
    page.evaluate(
        """([data, name, x, y]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
            const viewport = document.querySelector("[data-viewport]");
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { bubbles: true, cancelable: true, dataTransfer: transfer, clientX: x, clientY: y };
                viewport.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [data, name, x, y],
    )


def node_ids(page: Page) -> set[str]:
    return set(page.evaluate("[...document.querySelectorAll('[data-node-id]')].map((e) => e.dataset.nodeId)"))


def add_node(page: Page, search: str, x: float, y: float):
    """Double-click the canvas at (x, y), search for a node type, and add it there; its card."""
    before = node_ids(page)
    page.mouse.dblclick(x, y)
    page.fill("[data-search] input", search)
    page.keyboard.press("Enter")
    new = wait_for(lambda: node_ids(page) - before, timeout=15, interval=0.05, message=f"a new {search} node")
    return page.locator(f'[data-node-id="{new.pop()}"]')


def port(card, direction: str, name: str):
    return card.locator(f'[data-port="{name}"][data-direction="{direction}"] [data-dot]')


def on_screen(locator, timeout: float = 10) -> dict:
    """The element's box once it is drawn. A card re-rendered by a live event replaces its ports, and
    a box read at that instant is None (CI once pressed the mouse, then found no target port)."""
    return wait_for(locator.bounding_box, timeout=timeout, interval=0.05, message=f"{locator} on screen")


def connect(page: Page, source_card, source_port: str, target_card, target_port: str) -> None:
    # Both ends are found before the mouse is pressed, so a missing port never leaves a drag half done.
    start = on_screen(port(source_card, "out", source_port))
    end = on_screen(port(target_card, "in", target_port))
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move((start["x"] + end["x"]) / 2, (start["y"] + end["y"]) / 2, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=5)
    page.mouse.up()


def set_param(page: Page, name: str, value: str) -> None:
    """Change a setting in the inspector and wait until it says it saved it (it saves as one types)."""
    field = page.locator(f'#inspector [name="{name}"]')
    if field.evaluate("element => element.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)
    page.wait_for_selector("#inspector [data-save-state=saved]", timeout=10_000)


def storyboard_on_canvas(page: Page, base: str, username: str, project_name: str, brief: str, **params):
    """A Prompt holding `brief` wired into a Storyboard (with `params`) below it, in a new project of a
    new user, who logs in and opens it: the storyboard node and its card."""
    from tests.factories import PASSWORD, ProjectFactory, UserFactory
    from tests.graphs import add, wire

    user = UserFactory(username=username)
    project = ProjectFactory(owner=user, name=project_name)
    prompt = add(project, "prompt", "Brief", text=brief)
    board = add(project, "storyboard", f"{project_name} storyboard", **params)
    prompt.x, prompt.y, board.x, board.y = 40, 60, 40, 330
    prompt.save()
    board.save()
    wire(prompt, "text", board, "brief")
    log_in(page, base, user.username, PASSWORD)
    open_canvas(page, base, project.id)
    return board, page.locator(f'[data-node-id="{board.id}"]')

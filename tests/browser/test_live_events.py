"""Live events as the canvas shows them: each one handled once, however many features listen to it."""

import uuid

import pytest

from tests.browser.conftest import log_in, open_canvas
from tests.browser.test_widgets import send_live
from tests.factories import PASSWORD, ProjectFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_finished_run_shows_one_toast(page, app_server, shot):
    owner = UserFactory(username="maker")
    project = ProjectFactory(owner=owner, name="Events")
    log_in(page, app_server, owner.username, PASSWORD)
    open_canvas(page, app_server, project.id)

    send_live(project, {"type": "run.finished", "run": {"id": str(uuid.uuid4()), "status": "succeeded"}})
    toasts = page.locator(".toast", has_text="Run succeeded.")
    toasts.first.wait_for()
    shot(page, "run-finished-toast")
    assert toasts.count() == 1  # the runs panel listens twice to run.finished: each handler ran twice per listen

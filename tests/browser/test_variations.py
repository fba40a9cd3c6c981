"""Variations on the canvas, in Chromium, with a real worker and offline renders: the plan dialog says
how many takes a node makes and prices them all; the card shows the takes side by side once made; picking
another makes it the node's output, for free."""

import pytest
from django.core import signing

from assets.serving import SALT
from generation.models import Job
from nodes.models import Node, Take
from tests.browser.conftest import log_in, open_canvas
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import add, wire
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def shown_asset(url: str) -> str:
    """The asset a signed media URL on the page gives out."""
    return signing.loads(url.rstrip("/").split("/")[-1], salt=SALT)["asset"]


def test_three_keyframes_side_by_side_and_picking_the_second(page, app_server, workers, shot):
    workers.start(1)
    user = UserFactory(username="picker")
    project = ProjectFactory(owner=user, name="Keyframes")
    prompt = add(project, "prompt", "Keyframe prompt", text="A lighthouse on a cliff at dusk, wide shot")
    image = add(project, "generate_image", "Keyframe", variations=3)
    prompt.x, prompt.y, image.x, image.y = 40, 60, 420, 60
    prompt.save()
    image.save()
    wire(prompt, "text", image, "prompt")
    log_in(page, app_server, user.username, PASSWORD)
    open_canvas(page, app_server, project.id)
    card = page.locator(f'[data-node-id="{image.id}"]')

    card.locator("[data-action=run]").click()
    row = page.locator(f'dialog[open] [data-plan-row="{image.id}"]')
    assert "(3 takes)" in row.inner_text()
    page.click("dialog[open] [data-confirm-run]")

    figures = card.locator("[data-variations] figure")
    wait_for(lambda: figures.count() == 3 and card.locator("[data-variations] img").count() == 3, timeout=120)
    # Each picture loaded (a real file behind a signed URL), the first in use.
    for index in range(3):
        picture = figures.nth(index).locator("img")
        wait_for(lambda picture=picture: picture.evaluate("(img) => img.naturalWidth") == 1024, timeout=20)
    assert [figures.nth(i).get_attribute("class").split() for i in range(3)] == [
        ["variation", "selected"],
        ["variation"],
        ["variation"],
    ]
    assert figures.nth(0).locator(".badge").inner_text() == "in use"
    # Made in order once the prompt was ready: the first take is the node's take 1.
    assert [figures.nth(i).locator("figcaption span").first.inner_text() for i in range(3)] == [
        "Take 1",
        "Take 2",
        "Take 3",
    ]
    sources = [figures.nth(i).locator("img").get_attribute("src") for i in range(3)]
    assert len(set(sources)) == 3
    shot(page, "1-three-takes")

    figures.nth(1).locator("[data-action=use-take]").click()

    card.locator('[data-variations] figure[data-variation="2"].selected').wait_for(timeout=10_000)
    second = Take.objects.get(job_id=Job.objects.get(node=image, variation=2).id)
    wait_for(lambda: Node.objects.get(pk=image.pk).selected_take_id == second.id, timeout=10)
    # The card's main picture is now the second take's.
    main = card.locator(".preview img.thumb")
    wait_for(lambda: shown_asset(main.get_attribute("src")) == second.outputs["image"], timeout=10)
    assert [shown_asset(source) for source in sources] == [
        Take.objects.get(job_id=job.id).outputs["image"] for job in Job.objects.filter(node=image).order_by("variation")
    ]
    assert card.locator('[data-variations] figure[data-variation="1"] [data-action=use-take]').count() == 1
    assert Job.objects.filter(node=image).count() == 3  # picking ran nothing
    shot(page, "2-second-picked")

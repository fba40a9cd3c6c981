"""Whole runs on real workers with the real provider adapters, against loopback fakes of the services."""

from decimal import Decimal

import pytest
from django.test import override_settings

from assets import media
from assets.models import Asset
from generation.models import Job, Run
from generation.planning import plan_run
from nodes.models import Node
from tests.engine_helpers import asset_path
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.fakes.server import Response
from tests.graphs import add, film, wait_for_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_film_with_veo_and_gemini_stores_every_output_with_who_made_it(project, alice, workers, tmp_path):
    with GeminiFake(tmp_path) as gemini:
        gemini.texts.append("An astronaut in an orange suit waves at the camera, medium shot, studio light.")
        nodes = film(project)
        workers.start(
            1,
            GEMINI_API_KEY="test-key",
            GEMINI_BASE_URL=gemini.url,
            REELGRAPH_VIDEO_PROVIDER="veo",
            REELGRAPH_TEXT_PROVIDER="gemini",
            REELGRAPH_VEO_POLL_SECONDS="0.5",
        )

        # The web process plans with the same providers as the workers (for the price estimate).
        with override_settings(PROVIDERS={"video": "veo", "text": "gemini", "faces": "local"}):
            run = wait_for_run(plan_run(project, [nodes["stitch"].id], user=alice).run)

    assert run.status == Run.Status.SUCCEEDED, workers.logs()
    for node in nodes.values():
        node.refresh_from_db()
    assert nodes["prompt"].output["text"].startswith("An astronaut in an orange suit waves")
    assert nodes["prompt"].selected_take.details["original"] == "An astronaut waves at the camera"
    assert (nodes["prompt"].selected_take.provider, nodes["prompt"].selected_take.model) == (
        "gemini",
        "gemini-2.5-flash",
    )
    first, extension = gemini.submitted()
    video = Asset.objects.get(pk=nodes["video"].output["video"])
    assert (video.provider, video.model) == ("veo", "veo-3.1-generate-preview")
    assert video.meta["uri"].startswith("https://generativelanguage.googleapis.com/")
    assert extension["instances"][0]["video"]["uri"] == video.meta["uri"]  # Veo extended its own video
    assert "image" in first["instances"][0]  # the photo was the first frame
    clip = Asset.objects.get(pk=nodes["extend"].output["clip"])
    assert clip.duration_seconds == pytest.approx(7, abs=1 / 24)
    final = media.probe(asset_path(nodes["stitch"].output["video"]))
    assert final.duration == pytest.approx(8 + 7, abs=1 / 24)
    job = Job.objects.get(run=run, node=nodes["video"])
    assert job.cost_estimate == job.cost_actual == Decimal("3.20")  # 8 s of Veo 3.1 at 720p, configured price


def test_a_text_provider_that_hangs_ends_in_a_clear_node_error(project, alice, workers):
    prompt = add(project, "prompt", "Line", text="A lighthouse", enhance=True)
    with OpenAIFake() as openai:
        openai.answers.extend([Response(200, {}, delay=3)] * 4)
        workers.start(
            1,
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=f"{openai.url}/v1",
            REELGRAPH_TEXT_PROVIDER="openai",
            REELGRAPH_PROVIDER_TIMEOUT="1",
        )
        run = wait_for_run(plan_run(project, [prompt.id], user=alice).run, timeout=60)

    assert run.status == Run.Status.FAILED
    prompt.refresh_from_db()
    assert prompt.status == Node.Status.FAILED
    assert prompt.error_message == "OpenAI did not answer within 1 s. Gave up after 4 attempts."


def test_a_locked_enhancement_is_used_as_it_is(project, alice, workers):
    prompt = add(
        project, "prompt", "Line", text="a fox", enhance=True, lock=True, enhanced_text="A fox, edited by hand."
    )
    workers.start(1)

    assert wait_for_run(plan_run(project, [prompt.id], user=alice).run).status == Run.Status.SUCCEEDED

    prompt.refresh_from_db()
    assert prompt.output == {"text": "A fox, edited by hand."}
    assert prompt.selected_take.details == {"original": "a fox", "locked": True}

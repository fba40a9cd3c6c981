"""docs/API.md is executed as written, against a live server and real workers."""

import os
import re
import shutil
import subprocess

import pytest
from django.conf import settings

from assets import media
from generation.models import Run
from nodes.models import Node
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def shell_blocks() -> str:
    text = (settings.BASE_DIR / "docs" / "API.md").read_text()
    return "\n".join(re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL))


def test_the_quickstart_runs_as_written(live_server, workers, tmp_path):
    UserFactory(username="reader")
    shutil.copy(settings.BASE_DIR / "tests" / "fixtures" / "astronaut.png", tmp_path / "photo.png")
    workers.start(2)
    env = os.environ | {
        "BASE": live_server.url,
        "PHOTO": str(tmp_path / "photo.png"),
        "REELGRAPH_USERNAME": "reader",
        "REELGRAPH_PASSWORD": PASSWORD,
    }

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shell_blocks()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=480,
    )

    assert result.returncode == 0, result.stderr + workers.logs()
    dry_run_cost, final_status, storyboard_status, film_status = result.stdout.split()
    assert (dry_run_cost, final_status, storyboard_status, film_status) == ("0", "succeeded", "succeeded", "succeeded")
    assert Run.objects.filter(status="succeeded").count() == 3
    final = media.probe(tmp_path / "final.mp4")
    assert final.video_codec == "h264" and final.duration == pytest.approx(15, abs=1 / 24)
    # The storyboard's film: its two 6 s shots, with the soundtrack under them.
    film = media.probe(tmp_path / "film.mp4")
    assert film.duration == pytest.approx(12, abs=0.1) and film.audio_codec
    board = Node.objects.get(type="storyboard")
    edited, rewritten = (shot["description"] for shot in board.params["shots"])
    assert Node.objects.get(origin__shot="s1", origin__role="prompt").params["text"].startswith(edited)
    # The second shot, regenerated: new words, which its Prompt node was expanded from.
    assert rewritten != board.selected_take.details["shots"][1]["description"]
    assert Node.objects.get(origin__shot="s2", origin__role="prompt").params["text"].startswith(rewritten)

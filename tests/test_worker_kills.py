"""SIGKILL the worker executing a Veo generation at each moment of its life, each moment hit several
ways, against the loopback Gemini server (real google-genai SDK in real RQ workers). In every case:
exactly one operation at the provider, the node succeeded (or, killed inside the submit, needs
attention), no file left behind that no take records, and the spend recorded is what the provider
bills."""

import threading
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import override_settings

from assets.models import Asset
from generation import quotas
from generation.models import Job, Run
from generation.planning import plan_run
from nodes.models import Node
from tests.fakes.gemini import Accept, GeminiFake
from tests.graphs import text_to_video, wait_for_run
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PRICE_OF_4_SECONDS = Decimal("1.60")  # Veo 3.1 at 720p, the configured price


def job_of(run, node):
    return Job.objects.filter(run=run, node=node).first()


def arm(gemini, moment: str) -> Accept | None:
    """Make the fake hold the request of `moment` until released; returns the hold."""
    hold = Accept(release=threading.Event())
    if moment == "inside-submit":
        gemini.submits.append(hold)
    elif moment in ("inside-poll", "inside-download"):
        gemini.holds[moment.removeprefix("inside-")] = hold
    else:
        return None
    return hold


def reached(moment: str, gemini, run, node, hold):
    """A condition that is true once the worker is at `moment`."""
    if hold is not None:
        return hold.received.is_set
    if moment == "after-submit":
        return lambda: (job := job_of(run, node)) and job.provider_operation
    if moment == "between-polls":
        return lambda: gemini.received("GET", "/operations/") and (job := job_of(run, node)) and not job.lease_until
    if moment == "collecting":
        return lambda: Asset.objects.filter(project=node.project, meta__job__isnull=False).exists()
    raise ValueError(moment)


# Each moment is hit several ways, so that no single lucky timing passes for all of them. For the
# moments that hold a request at the fake (inside-submit, inside-poll, inside-download): None kills
# the worker while the request is held, its answer then goes to a dead connection; a number releases
# the answer and kills that many seconds later, racing the worker's handling of it. For the others: the
# kill comes that many seconds after the moment was reached (later in the poll cycle, in the middle of
# collecting or after it).
KILLS = [
    ("inside-submit", None),
    ("inside-submit", 0.0),
    ("inside-submit", 0.05),
    ("after-submit", 0.0),
    ("after-submit", 0.1),
    ("after-submit", 0.3),
    ("between-polls", 0.0),
    ("between-polls", 0.15),
    ("between-polls", 0.35),
    ("inside-poll", None),
    ("inside-poll", 0.0),
    ("inside-download", None),
    ("inside-download", 0.0),
    ("collecting", 0.0),
    ("collecting", 0.02),
    ("collecting", 0.1),
]


@pytest.mark.parametrize(("moment", "later"), KILLS)
def test_a_worker_killed_at_any_moment_never_pays_twice_and_leaves_nothing_behind(
    project, alice, workers, tmp_path, moment, later, record_property
):
    _, video = text_to_video(project, "Killed")
    with GeminiFake(tmp_path, polls=3) as gemini, override_settings(PROVIDERS={**settings.PROVIDERS, "video": "veo"}):
        hold = arm(gemini, moment)
        started = workers.start(2, **veo_environment(gemini))
        run = plan_run(project, [video.id], user=alice).run
        wait_for(reached(moment, gemini, run, video, hold), interval=0.02, timeout=90, message=moment)

        if later is not None:
            if hold is not None:
                hold.release.set()  # the answer is on its way when the worker dies
            time.sleep(later)  # a moment chosen on purpose, not a wait for something to happen
        job = job_of(run, video)
        victim = next((worker for worker in started if worker.name == job.worker), None)
        if victim is not None:  # None: the job was between steps, held by no worker (kill either)
            victim.kill()
        else:
            started[0].kill()
        killed_at = time.monotonic()
        if hold is not None:
            hold.release.set()  # the answer goes to a dead connection
        taken_over = wait_for(lambda: taken_up_again(job), timeout=60, message="the job to be taken up again")
        seconds = round(time.monotonic() - killed_at, 1)
        record_property("seconds_to_takeover", seconds)
        print(f"{moment} (+{later}): taken up again {seconds} s after the kill")
        assert taken_over
        run = wait_for_run(run, timeout=120)

    job.refresh_from_db()
    video.refresh_from_db()
    assert gemini.operations_created == 1, workers.logs()
    if job.status == "needs_attention":
        # Only a worker that died before it stored the operation's name may leave the outcome unknown.
        assert moment == "inside-submit", f"{moment}: {job.error_message}"
        assert (run.status, video.status) == ("needs_attention",) * 2
        assert video.takes.count() == 0 and not Asset.objects.filter(project=project).exists()
    else:
        assert (run.status, job.status, video.status) == (Run.Status.SUCCEEDED, "succeeded", Node.Status.SUCCEEDED)
        take = video.selected_take
        assert video.takes.count() == 1
        recorded = {
            take.outputs["video"],
            take.outputs["last_frame"],
            Asset.objects.get(pk=take.outputs["video"]).meta["poster"],
        }
        assert {str(pk) for pk in Asset.objects.filter(project=project).values_list("pk", flat=True)} == recorded
    if (moment, later) == ("inside-submit", None):
        assert job.status == "needs_attention"  # killed while Google held the answer: nobody can know
    assert job.cost_actual == PRICE_OF_4_SECONDS  # one operation billed, one counted
    assert quotas.spent_today(Job.objects.filter(created_by=alice)) == PRICE_OF_4_SECONDS


def taken_up_again(job: Job) -> bool:
    """Another worker has the job (claimed it, or ended it), not the dead one."""
    current = Job.objects.get(pk=job.pk)
    return current.status != Job.Status.RUNNING or (current.worker != job.worker) or current.lease_until is None


def veo_environment(gemini) -> dict[str, str]:
    return {
        "GEMINI_API_KEY": "test-key",
        "GEMINI_BASE_URL": gemini.url,
        "REELGRAPH_VIDEO_PROVIDER": "veo",
        "REELGRAPH_VEO_POLL_SECONDS": "0.5",
    }

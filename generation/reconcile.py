"""Bring RQ back in line with the database, which is the truth about jobs.

Run by every worker at start and then every few seconds (see generation.worker). It repairs what
a dead worker or a lost Redis leaves behind (a generation slot not handed on included), and never
submits to a provider twice: a job with a stored operation is only ever polled, and one whose
worker died while it submitted needs attention.
A worker's death is seen at once, through the step lock it held (generation.steplock).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from generation import endings, queues, quotas, steplock
from generation.models import Job, Run

logger = logging.getLogger(__name__)

# A poll this late was lost (its worker or scheduler died), not just slow.
OVERDUE = timedelta(seconds=10)
# RQ states in which a queued job will still run.


def reconcile(*, overdue: timedelta = OVERDUE) -> dict[str, int]:
    counts = {"taken_over": _take_over_from_dead_workers(), "polled": 0, "requeued": 0, "reenqueued": 0}
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    in_progress = Job.objects.filter(free, status=Job.Status.RUNNING)

    for job in in_progress.exclude(provider_operation="").filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lt=now - overdue)
    ):
        queues.poll_now(job)
        Job.objects.filter(pk=job.pk).update(next_poll_at=now + overdue)
        counts["polled"] += 1

    # Died between claiming and storing an operation: run again, unless it may have submitted.
    for job in in_progress.filter(provider_operation="", lease_until__lt=now):
        if "submitting" in job.state:
            endings.needs_attention(job, STOPPED_IN_SUBMIT)
        elif endings.out_of_tries(job):  # a step that kills its worker every time is not tried forever
            endings.fail_after_lost_workers(job)
        elif Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_until__lt=now).update(
            status=Job.Status.QUEUED, lease_until=None
        ):
            queues.enqueue([job])
            counts["requeued"] += 1

    for job in Job.objects.filter(status=Job.Status.QUEUED):
        if not queues.is_alive(job):
            queues.enqueue([job])
            counts["reenqueued"] += 1

    # A slot handed back by an ending that died before it passed it on (after the pass above, which
    # would otherwise enqueue the jobs admitted here a second time).
    counts["admitted"] = quotas.admit_waiting()
    counts["runs_closed"] = _close_runs_without_live_jobs()
    if any(counts.values()):
        logger.info("reconciled jobs: %s", counts)
    return counts


STOPPED_IN_SUBMIT = "the worker submitting it stopped before the provider's answer was saved"


def _take_over_from_dead_workers() -> int:
    """End the lease of every job whose step holder is gone (its lock is free while its lease says
    held): the passes below then poll it, queue it again or, if it was submitting, ask the user."""
    taken = 0
    for job_id, lease in Job.objects.filter(status=Job.Status.RUNNING, lease_until__gt=timezone.now()).values_list(
        "id", "lease_until"
    ):
        with steplock.holder_gone(str(job_id)) as gone:
            # The same lease still: a step that ended meanwhile (or a new one) is left alone.
            if gone and Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, lease_until=lease).update(
                lease_until=timezone.now() - timedelta(microseconds=1), next_poll_at=None
            ):
                logger.warning("job %s: the worker executing it is gone; taking it over", job_id)
                taken += 1
    return taken


def _close_runs_without_live_jobs() -> int:
    """A run whose jobs have all ended (however they ended) is finished, never left open."""
    stale = Run.objects.filter(status=Run.Status.RUNNING).exclude(jobs__status__in=Job.ACTIVE)
    closed = 0
    for run in stale:
        closed += endings.finish_run(run)
    return closed

"""Bring RQ back in line with the database, which is the truth about jobs.

Run by every worker at start and then every few seconds (see generation.worker). It repairs what
a dead worker or a lost Redis leaves behind, and never submits to a provider twice: a job with a
stored operation is only ever polled.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import django_rq
from django.db.models import Q
from django.utils import timezone
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob

from generation import executor
from generation.models import Job

logger = logging.getLogger(__name__)

# A poll this late was lost (its worker or scheduler died), not just slow.
OVERDUE = timedelta(seconds=10)
# RQ states in which a queued job will still run.
ALIVE = ("queued", "scheduled", "deferred", "started")


def reconcile(*, overdue: timedelta = OVERDUE) -> dict[str, int]:
    now = timezone.now()
    counts = {"polled": 0, "requeued": 0, "reenqueued": 0}
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    running = Job.objects.filter(free, status=Job.Status.RUNNING)

    for job in running.exclude(provider_operation="").filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lt=now - overdue)
    ):
        executor.poll_now(job)
        Job.objects.filter(pk=job.pk).update(next_poll_at=now + overdue)
        counts["polled"] += 1

    # Died between claiming and storing an operation: nothing was submitted that we know of; run again.
    for job in running.filter(provider_operation="", lease_until__lt=now):
        if Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_until__lt=now).update(
            status=Job.Status.QUEUED, lease_until=None
        ):
            executor.enqueue([job])
            counts["requeued"] += 1

    for job in Job.objects.filter(status=Job.Status.QUEUED):
        if not _alive_in_rq(job):
            executor.enqueue([job])
            counts["reenqueued"] += 1

    if any(counts.values()):
        logger.info("reconciled jobs: %s", counts)
    return counts


def _alive_in_rq(job: Job) -> bool:
    try:
        return RQJob.fetch(str(job.id), connection=django_rq.get_connection(job.queue)).get_status() in ALIVE
    except NoSuchJobError:
        return False

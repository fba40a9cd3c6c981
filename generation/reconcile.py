"""Bring RQ back in line with the database, which is the truth about jobs.

Run by every worker at start and then every few seconds (see generation.worker). It repairs what
a dead worker or a lost Redis leaves behind, and never submits to a provider twice: a job with a
stored operation is only ever polled.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

import django_rq
from django.db.models import Q
from django.utils import timezone
from rq.job import Job as RQJob

from generation import executor
from generation.models import Job

logger = logging.getLogger(__name__)

# A poll this late was lost (its worker or scheduler died), not just slow.
OVERDUE = timedelta(seconds=10)
# RQ states in which a queued job will still run.
ALIVE = ("queued", "scheduled", "deferred", "started")
# ... and in which a poll that is overdue will: not "scheduled", as its scheduler is then gone (its worker
# died), and another takes its place only when the dead one's lock expires.
WAITING = ("queued", "started")


def reconcile(*, overdue: timedelta = OVERDUE) -> dict[str, int]:
    now = timezone.now()
    counts = {"polled": 0, "requeued": 0, "reenqueued": 0}
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    running = Job.objects.filter(free, status=Job.Status.RUNNING)

    late = list(
        running.exclude(provider_operation="").filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lt=now - overdue))
    )
    statuses = _rq_statuses([(executor.poll_rq_id(job), job.queue) for job in late if job.next_poll_at])
    for job in late:
        if job.next_poll_at and statuses[executor.poll_rq_id(job)] in WAITING:
            continue  # late, not lost: its poll waits in the queue behind other work
        job.next_poll_at = now
        Job.objects.filter(pk=job.pk).update(next_poll_at=now)
        executor.schedule_poll(job)
        counts["polled"] += 1

    # Died between claiming and storing an operation: nothing was submitted that we know of; run again.
    for job in running.filter(provider_operation="", lease_until__lt=now):
        if Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_until__lt=now).update(
            status=Job.Status.QUEUED, lease_until=None
        ):
            executor.enqueue([job])
            counts["requeued"] += 1

    queued = list(Job.objects.filter(status=Job.Status.QUEUED))
    statuses = _rq_statuses([(str(job.id), job.queue) for job in queued])
    for job in queued:
        if statuses[str(job.id)] not in ALIVE:
            executor.enqueue([job])
            counts["reenqueued"] += 1

    if any(counts.values()):
        logger.info("reconciled jobs: %s", counts)
    return counts


def _rq_statuses(jobs: list[tuple[str, str]]) -> dict[str, str | None]:
    """RQ's status of each (RQ id, queue), None for one it does not have: one round trip per queue,
    as a busy installation has hundreds of jobs waiting at a time."""
    by_queue: dict[str, list[str]] = defaultdict(list)
    for rq_id, queue in jobs:
        by_queue[queue].append(rq_id)
    statuses: dict[str, str | None] = {}
    for queue, rq_ids in by_queue.items():
        found = RQJob.fetch_many(rq_ids, connection=django_rq.get_connection(queue))
        for rq_id, job in zip(rq_ids, found, strict=True):
            statuses[rq_id] = job.get_status(refresh=False) if job else None
    return statuses

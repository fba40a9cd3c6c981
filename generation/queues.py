"""Every conversation with RQ and Redis about jobs: queueing a job, scheduling its next poll,
stopping it, the lock that orders the endings of a project's jobs. The rest of the engine speaks to
these functions and never to RQ, so a change of queue library, or of how a stop reaches a worker,
is made here alone."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError
from rq import Retry, get_current_job
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job as RQJob

from generation.models import Job

logger = logging.getLogger(__name__)

# The RQ statuses of a job that will still run (or is running).
ALIVE = ("queued", "scheduled", "deferred", "started")


def enqueue(jobs: list[Job]) -> None:
    """Put jobs on their RQ queues now, with the Job row's id as the RQ job id. Callers wait for the
    commit themselves (`enqueue_on_commit`), so django-rq is not to defer it again: a Redis error must
    reach the caller that leaves the jobs to the reconciler."""
    for job in jobs:
        django_rq.get_queue(job.queue, commit_mode="auto").enqueue(
            "generation.tasks.run_job",
            str(job.id),
            job_id=str(job.id),
            job_timeout=settings.JOB_TIMEOUT_SECONDS,
            retry=Retry(max=len(settings.RETRY_INTERVALS), interval=list(settings.RETRY_INTERVALS)),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )


def enqueue_on_commit(jobs: list[Job]) -> None:
    """Queue the jobs once the transaction that made them commits. With Redis away they are already
    safe in the database as queued: the reconciler puts them on their queues when it returns, so the
    request that planned them succeeds rather than failing after its commit."""

    def enqueue_or_leave_to_reconciler() -> None:
        try:
            enqueue(jobs)
        except RedisError as error:
            logger.warning("%d job(s) wait for the reconciler: Redis is unavailable (%s)", len(jobs), error)

    if jobs:
        transaction.on_commit(enqueue_or_leave_to_reconciler)


def schedule_poll(job: Job, after_seconds: float) -> None:
    queue = django_rq.get_queue(job.queue)
    queue.enqueue_in(
        timedelta(seconds=after_seconds),
        "generation.tasks.poll_job",
        str(job.id),
        job_timeout=settings.JOB_TIMEOUT_SECONDS,
        result_ttl=600,
    )


def poll_now(job: Job) -> None:
    django_rq.get_queue(job.queue).enqueue(
        "generation.tasks.poll_job", str(job.id), job_timeout=settings.JOB_TIMEOUT_SECONDS, result_ttl=600
    )


def stop_in_rq(job: Job, rq_job_id: str | None) -> None:
    """Take a queued job off its queue, or stop it where a worker is executing it right now."""
    connection = django_rq.get_connection(job.queue)
    for candidate in dict.fromkeys(filter(None, [str(job.id), rq_job_id])):  # each id once
        try:
            rq_job = RQJob.fetch(candidate, connection=connection)
        except NoSuchJobError:
            continue
        if rq_job.get_status() in ("queued", "scheduled", "deferred"):
            rq_job.cancel()
        elif rq_job.get_status() == "started":
            try:
                send_stop_job_command(connection, candidate)
            except InvalidJobOperation:
                logger.info("job %s finished before it could be stopped", candidate)


@contextlib.contextmanager
def project_lock(project_id):
    lock = django_rq.get_connection("default").lock(
        f"reelgraph:project:{project_id}:endings", timeout=120, blocking_timeout=120
    )
    with lock:
        yield


def is_alive(job: Job) -> bool:
    """Whether RQ still holds the job to run (queued, scheduled) or is running it."""
    try:
        return RQJob.fetch(str(job.id), connection=django_rq.get_connection(job.queue)).get_status() in ALIVE
    except NoSuchJobError:
        return False


def current_job():
    """The RQ job this process is executing, or None outside a worker (a request, a test)."""
    return get_current_job()

"""What a worker does with a job: claim it, run or resume its node type, and record how it ended.

Every transition is a conditional update, so a duplicate delivery, a late poll or a job canceled
meanwhile is a no-op. Endings (success, failure, cancel) run under a per-project Redis lock that
spans the commit and the events it sends: a browser therefore sees an upstream node finish before
anything downstream starts, and a run's result after every node's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import django_rq
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from pydantic import ValidationError
from redis.exceptions import RedisError
from rq import get_current_job

from generation import costs, events, executor, moderation, steplock
from generation.context import JobContext
from generation.media import MediaError
from generation.models import Job, Run
from generation.providers.base import ProviderError, SafetyBlocked, SubmitOutcomeUnknown
from nodes.graph import GraphNode, cache_key
from nodes.models import Node, Take
from nodes.registry import get_node_type
from nodes.types.base import Wait
from nodes.types.capabilities import NodeError

logger = logging.getLogger(__name__)

# Errors of the infrastructure rather than of a job: a step they interrupt is taken up again, never failed.
INFRASTRUCTURE_ERRORS = (RedisError, OperationalError, InterfaceError)


# A step's scratch folder names the process that made it, so a worker can sweep a dead one's (see worker).
SCRATCH_PREFIX = "reelgraph-job-"


class JobFailed(Exception):
    """Raised to RQ after a job has been recorded as failed, so RQ's own records agree."""


# Entry points (called by generation.tasks) ------------------------------------------------------


def run_job(job_id: str) -> None:
    with _step_lock(job_id) as locked:
        job = locked and _claim(Job.objects.filter(pk=job_id, status=Job.Status.QUEUED), job_id, first=True)
        if not job:
            logger.info("job %s is not queued (done, canceled or taken); nothing to do", job_id)
            return
        _step(job, first=True)


def poll_job(job_id: str) -> None:
    with _step_lock(job_id) as locked:
        waiting = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).exclude(provider_operation="")
        free = waiting.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()))
        job = locked and _claim(free, job_id, first=False)
        if not job:
            logger.info("job %s has no operation to poll right now; nothing to do", job_id)
            return
        _step(job, first=False)


@contextlib.contextmanager
def _step_lock(job_id: str):
    """A step runs under its job's lock (generation.steplock), so the moment its process dies the
    reconciler knows; yields False when another process is executing a step of this job."""
    try:
        with steplock.held(job_id, exit_if_lost=get_current_job() is not None):
            yield True
    except steplock.Busy:
        logger.info("job %s: another process is executing a step of it", job_id)
        yield False


def _claim(queryset, job_id: str, *, first: bool) -> Job | None:
    now = timezone.now()
    current = get_current_job()
    fields = {
        "lease_until": now + _lease(),
        "rq_job_id": current.id if current else "",
        "worker": (current.worker_name or "") if current else "",
    }
    if first:
        fields |= {
            "status": Job.Status.RUNNING,
            "attempts": F("attempts") + 1,
            "started_at": Coalesce("started_at", Value(now)),
        }
    if queryset.update(**fields) != 1:
        return None
    return Job.objects.select_related("node", "project", "run").get(pk=job_id)


def _lease() -> timedelta:
    return timedelta(seconds=settings.JOB_TIMEOUT_SECONDS + 60)


# One step: run (first time) or resume (after a wait) ----------------------------------------------


def _step(job: Job, *, first: bool) -> None:
    """Run or resume the node type; whatever goes wrong ends as a recorded failure or a retry, or,
    when Redis or the database went away mid-step so nothing could be recorded, back with the reconciler."""
    try:
        _attempt(job, first=first)
    except BaseException:
        _end_lease(job)
        raise


def _end_lease(job: Job) -> None:
    """Hand a job whose step broke off to the reconciler now rather than when its lease would expire
    (a stored operation is polled again, one without is queued again). Only a job still running."""
    try:
        connection.close_if_unusable_or_obsolete()  # after a lost database connection, a new one
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_until__isnull=False).update(
            lease_until=timezone.now()
        )
    except DatabaseError:
        logger.warning("job %s: could not end its lease; the reconciler takes it when the lease expires", job.id)


def _attempt(job: Job, *, first: bool) -> None:
    node_type = get_node_type(job.node.type)
    try:
        if first:
            _set_node_status(job, Node.Status.RUNNING)
        params = node_type.Params.model_validate(job.params)
        with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as scratch:
            ctx = JobContext(job, params, Path(scratch), report_progress)
            if job.provider_operation and ctx.discard_unfinished_outputs():
                logger.warning("job %s: removed the files of a collection its last worker did not finish", job.id)
            if not job.cache_key:
                job.cache_key = _final_cache_key(job, node_type, params, ctx)
            result = node_type.resume(ctx) if job.provider_operation else node_type.run(ctx)
            if isinstance(result, Wait):
                _wait(job, ctx, result)
            else:
                _succeed(job, ctx, result)
    except SubmitOutcomeUnknown as error:
        needs_attention(job, error.message)
    except ProviderError as error:
        if error.transient:
            _transient(job, error)
        else:
            _fail(job, error.code, error.message)
    except NodeError as error:
        _fail(job, error.code, error.message)
    except MediaError as error:
        _fail(job, "media_error", str(error))
    except ValidationError as error:
        _fail(job, "invalid_params", f"The node's settings are not valid: {error.errors()[0]['msg']}.")
    except JobFailed:
        raise
    except INFRASTRUCTURE_ERRORS:
        # Not the job's fault (Redis or the database is away), and nothing can be recorded now: the
        # generation is not failed, the reconciler takes it up again when they are back (see _step).
        logger.warning("job %s broke off: Redis or the database is unavailable", job.id, exc_info=True)
        raise
    except Exception as error:
        logger.exception("job %s failed unexpectedly", job.id)
        _fail(job, "internal_error", f"Reelgraph failed unexpectedly ({error.__class__.__name__}); it has been logged.")


def _final_cache_key(job: Job, node_type, params, ctx: JobContext) -> str:
    """The key of what this job really consumes: the takes its inputs come from, now that they exist."""
    hashes = [ctx.asset(asset_id).sha256 for asset_id in node_type.asset_ids(params)]
    node = GraphNode(id=str(job.node_id), type=job.node.type, params=job.params)
    return cache_key(node, node_type, params, ctx.input_identities, hashes)


def report_progress(job: Job, fraction: float, label: str) -> None:
    job.progress = max(0.0, min(1.0, fraction))
    job.progress_label = label[:200]
    running = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING)
    if running.update(progress=job.progress, progress_label=job.progress_label):
        events.broadcast(job.project_id, events.node_progress(job))


def _provider_fields(ctx: JobContext) -> dict[str, str]:
    provider, model = (ctx.providers_used or ctx.makers or [("", "")])[0]
    return {"provider": provider, "model": model or ctx.state.get("model", "")}


def _wait(job: Job, ctx: JobContext, wait: Wait) -> None:
    """Store the operation, free the worker, and come back with a scheduled poll."""
    job.progress, job.progress_label = wait.progress, wait.label
    ctx.state.pop("submitting", None)  # the operation is stored from here on: the outcome is known
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        provider_operation=wait.operation,
        state=ctx.state,
        cache_key=job.cache_key,
        next_poll_at=timezone.now() + timedelta(seconds=wait.poll_after),
        lease_until=None,
        progress=wait.progress,
        progress_label=wait.label[:200],
        **_provider_fields(ctx),
    )
    if updated:
        events.broadcast(job.project_id, events.node_progress(job))
        executor.schedule_poll(job, wait.poll_after)
        return
    # Canceled while it submitted: the provider has started (and bills) the work, so keep its name and
    # cost, and what collecting it needs (generation.keeping may still keep the video).
    kept = Job.objects.filter(pk=job.pk, status=Job.Status.CANCELED, provider_operation="").update(
        provider_operation=wait.operation,
        cost_actual=F("cost_estimate"),
        state=ctx.state,
        cache_key=job.cache_key,
        **_provider_fields(ctx),
    )
    still_canceled = Node.objects.select_related("selected_take").filter(pk=job.node_id, status=Node.Status.CANCELED)
    node = kept and still_canceled.first()
    if node:
        events.broadcast(job.project_id, events.node_status(node))  # its card can offer to keep the video now


# Endings ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def project_lock(project_id):
    lock = django_rq.get_connection("default").lock(
        f"reelgraph:project:{project_id}:endings", timeout=120, blocking_timeout=120
    )
    with lock:
        yield


def _succeed(job: Job, ctx: JobContext, outputs: dict) -> None:
    provider = _provider_fields(ctx)
    # A kept video was paid for by the canceled job it comes from, and is counted there: once.
    spent = Decimal("0") if job.state.get("kept_from") else costs.total(ctx.usages, provider["provider"])
    with project_lock(job.project_id), transaction.atomic():
        node = Node.objects.select_for_update().get(pk=job.node_id)
        succeeded = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.SUCCEEDED,
            outputs=outputs,
            state=ctx.state,
            cache_key=job.cache_key,
            progress=1.0,
            progress_label="Done",
            lease_until=None,
            finished_at=timezone.now(),
            cost_actual=spent,
            error_code="",  # an earlier attempt's error is history, not this job's outcome
            error_message="",
            **provider,
        )
        # A paid result is never thrown away: even a job canceled at the last moment keeps its take.
        number = (node.takes.aggregate(Max("number"))["number__max"] or 0) + 1
        take = Take.objects.create(
            node=node,
            number=number,
            job_id=job.id,
            cache_key=job.cache_key,
            params=job.params,
            outputs=outputs,
            details={key: value for key, value in ctx.state.items() if key != "wiring"},
            **provider,
        )
        if not succeeded:
            logger.info("job %s ended after it was canceled; its output is kept as take %s", job.id, number)
            return
        node.selected_take = take
        node.output = outputs
        node.cache_key = job.cache_key
        node.status = Node.Status.SUCCEEDED
        node.error_message = ""
        node.save(update_fields=["selected_take", "output", "cache_key", "status", "error_message", "updated_at"])
        events.broadcast(job.project_id, events.node_output(node, take))
        events.broadcast(job.project_id, events.node_status(node))
        ready = _release_dependants(job)
        _finish_runs({job.run_id})
        executor.enqueue_on_commit(ready)


def _release_dependants(job: Job) -> list[Job]:
    released = []
    waiting = Job.objects.select_for_update().filter(status=Job.Status.WAITING, depends_on__contains=[str(job.id)])
    for dependant in waiting:
        statuses = list(Job.objects.filter(pk__in=dependant.depends_on).values_list("status", flat=True))
        if len(statuses) == len(dependant.depends_on) and all(s == Job.Status.SUCCEEDED for s in statuses):
            dependant.status = Job.Status.QUEUED
            dependant.save(update_fields=["status"])
            released.append(dependant)
    return released


def _transient(job: Job, error: ProviderError) -> None:
    """Retry with backoff: RQ reschedules a failed first step; a failed poll schedules the next one."""
    intervals = list(settings.RETRY_INTERVALS)
    if job.provider_operation:
        failures = job.state.get("poll_failures", 0) + 1
        if failures > len(intervals):
            _fail(job, error.code, f"{error.message} Gave up after {failures} tries.")
            return
        job.state["poll_failures"] = failures
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            state=job.state, lease_until=None, error_code=error.code, error_message=error.message
        )
        job.error_code, job.error_message = error.code, error.message
        events.broadcast(job.project_id, events.job_error(job, retrying=True))
        executor.schedule_poll(job, intervals[failures - 1])
        return
    current = get_current_job()
    if out_of_tries(job) or not (current and current.retries_left):
        _fail(job, error.code, f"{error.message} Gave up after {job.attempts} attempts.")
        return
    job.state.pop("submitting", None)  # the error proves nothing was accepted: a new submit pays once
    with transaction.atomic():
        requeued = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.QUEUED,
            lease_until=None,
            state=job.state,
            error_code=error.code,
            error_message=error.message,
        )
        if requeued:  # not canceled meanwhile: its card shows it waiting for the retry
            job.error_code, job.error_message = error.code, error.message
            events.broadcast(job.project_id, events.job_error(job, retrying=True))
            _set_node_status(job, Node.Status.QUEUED)
    raise error  # RQ schedules the retry after the next backoff interval (a canceled job's is a no-op)


def out_of_tries(job: Job) -> bool:
    """Every attempt a run allows has been made: the first and one per retry interval. Counted on the
    job, not by RQ, whose budget starts afresh when the reconciler queues a job again after its worker
    died; so a request that is paid for even when its answer is lost (text) is bounded all the same."""
    return job.attempts > len(settings.RETRY_INTERVALS)


def fail_after_lost_workers(job: Job) -> None:
    """The reconciler's verdict on a job whose worker stopped inside it once too often."""
    _fail(job, "worker_lost", f"Its worker stopped before it finished. Gave up after {job.attempts} attempts.")


def _fail(job: Job, code: str, message: str) -> None:
    paid = {}
    if job.state.get("kept_from"):
        message = f"The video canceled earlier could not be kept: {message} Its cost was counted once, when canceled."
    elif job.state.get("generated"):  # the provider made the video (and bills it); what came after failed
        message = f"{message} The video was generated, so it is billed (about ${job.cost_estimate:.2f})."
        paid = {"cost_actual": F("cost_estimate"), "state": job.state}
    _end_unfinished(job, Job.Status.FAILED, code, message, dependants=f"Not run: {job.node} failed.", **paid)


def needs_attention(job: Job, why: str) -> None:
    """A submit's outcome is unknown: the provider may have started, and will bill, the work. It is not
    repeated; the job ends here, its estimated cost counted as spent, until the user runs the node again."""
    provider = (job.state.get("submitting") or {}).get("provider") or "The provider"
    message = (
        f"{provider} may have started this video; running it again may charge again "
        f"(about ${job.cost_estimate:.2f}). {why[:1].upper()}{why[1:]}. "
        "Run the node again to submit it anew, or leave it."
    )
    logger.warning("job %s needs attention: %s", job.id, why)
    _end_unfinished(
        job,
        Job.Status.NEEDS_ATTENTION,
        SubmitOutcomeUnknown.code,
        message,
        dependants=f"Not run: {job.node} needs attention.",
        cost_actual=F("cost_estimate"),  # counted against the daily limit: it may have been billed
    )


def _end_unfinished(job: Job, status: str, code: str, message: str, *, dependants: str, **fields) -> None:
    """End a job without a result (failed, or needing attention): its node shows why, what depends on
    it is canceled, and RQ is told never to retry it."""
    with project_lock(job.project_id), transaction.atomic():
        ended = Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).update(
            status=status,
            error_code=code,
            error_message=message,
            lease_until=None,
            finished_at=timezone.now(),
            **fields,
        )
        if not ended:
            return
        job.refresh_from_db()
        if code == SafetyBlocked.code:
            moderation.record_safety_block(job, message)  # into the moderation queue
        events.broadcast(job.project_id, events.job_error(job, retrying=False))
        _set_node_status(job, status, message)  # the node's statuses share these names
        canceled = _cancel_dependants(job, dependants)
        _finish_runs({job.run_id, *(dependant.run_id for dependant in canceled)})
    current = get_current_job()
    if current is not None:
        current.retries_left = 0  # recorded as ended: RQ must not retry it (for a submit, that would pay twice)
        raise JobFailed(message)


def cancel(job: Job, reason: str) -> bool:
    """Cancel a job that has not finished, queued or running; its dependants are canceled with it."""
    with project_lock(job.project_id), transaction.atomic():
        job = Job.objects.select_for_update(of=("self",)).select_related("node").get(pk=job.pk)
        if job.status not in Job.ACTIVE:
            return False
        was_running = job.status == Job.Status.RUNNING
        job.status = Job.Status.CANCELED
        job.error_code, job.error_message = "canceled", reason
        job.lease_until, job.finished_at = None, timezone.now()
        if job.provider_operation or "submitting" in job.state:
            # Submitted (or maybe): the provider bills it all the same, so it counts as spent.
            job.cost_actual = job.cost_estimate
        fields = ["status", "error_code", "error_message", "lease_until", "finished_at", "cost_actual"]
        job.save(update_fields=fields)
        _set_node_status(job, Node.Status.CANCELED, reason)
        canceled = _cancel_dependants(job, f"Not run: {job.node} was canceled.")
        _finish_runs({job.run_id, *(dependant.run_id for dependant in canceled)})
        rq_job_id = job.rq_job_id if was_running else None
        transaction.on_commit(lambda: executor.stop_in_rq(job, rq_job_id))
    return True


def _cancel_dependants(job: Job, reason: str) -> list[Job]:
    """Everything waiting, directly or not, on a job that will never succeed."""
    canceled: list[Job] = []
    pending = [job]
    while pending:
        upstream = pending.pop()
        dependants = (
            Job.objects.select_for_update(of=("self",))
            .select_related("node")
            .filter(status__in=(Job.Status.WAITING, Job.Status.QUEUED), depends_on__contains=[str(upstream.id)])
        )
        for dependant in dependants:
            was_queued = dependant.status == Job.Status.QUEUED
            dependant.status = Job.Status.CANCELED
            dependant.error_code, dependant.error_message = "upstream_failed", reason
            dependant.finished_at = timezone.now()
            dependant.save(update_fields=["status", "error_code", "error_message", "finished_at"])
            _set_node_status(dependant, Node.Status.CANCELED, reason)
            if was_queued:
                transaction.on_commit(lambda dependant=dependant: executor.stop_in_rq(dependant, None))
            canceled.append(dependant)
            pending.append(dependant)
    return canceled


def finish_run(run: Run) -> int:
    """Close `run` if none of its jobs is still live; returns 1 if it did."""
    with project_lock(run.project_id), transaction.atomic():
        return _finish_runs({run.id})


def _finish_runs(run_ids) -> int:
    finished = 0
    for run in Run.objects.select_for_update().filter(pk__in=run_ids, status=Run.Status.RUNNING):
        statuses = set(run.jobs.values_list("status", flat=True))
        if statuses & set(Job.ACTIVE):
            continue
        finished += 1
        if Job.Status.FAILED in statuses:
            run.status = Run.Status.FAILED
        elif Job.Status.NEEDS_ATTENTION in statuses:
            run.status = Run.Status.NEEDS_ATTENTION
        elif Job.Status.CANCELED in statuses:
            run.status = Run.Status.CANCELED
        else:
            run.status = Run.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        events.broadcast(run.project_id, events.run_finished(run))
    return finished


def _set_node_status(job: Job, status: str, error: str = "") -> None:
    with transaction.atomic():
        node = Node.objects.select_for_update(of=("self",)).select_related("selected_take").get(pk=job.node_id)
        node.status = status
        node.error_message = error
        node.save(update_fields=["status", "error_message", "updated_at"])
        active = job if status in (Node.Status.QUEUED, Node.Status.RUNNING) else None
        events.broadcast(job.project_id, events.node_status(node, active))

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

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from pydantic import ValidationError
from redis.exceptions import RedisError

from assets.media import MediaError
from generation import announce, costs, endings, queues, quotas, steplock
from generation.context import RunContext
from generation.models import Job
from nodes.graph import GraphNode, cache_key
from nodes.models import Node, Take
from nodes.registry import get_node_type
from nodes.types.base import NodeError, Wait
from providers.contract import ProviderError, SubmitOutcomeUnknown

logger = logging.getLogger(__name__)

# Errors of the infrastructure rather than of a job: a step they interrupt is taken up again, never failed.
INFRASTRUCTURE_ERRORS = (RedisError, OperationalError, InterfaceError)


# A step's scratch folder names the process that made it, so a worker can sweep a dead one's (see worker).
SCRATCH_PREFIX = "reelgraph-job-"


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
        with steplock.held(job_id, exit_if_lost=queues.current_job() is not None):
            yield True
    except steplock.Busy:
        logger.info("job %s: another process is executing a step of it", job_id)
        yield False


def _claim(queryset, job_id: str, *, first: bool) -> Job | None:
    now = timezone.now()
    current = queues.current_job()
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
            endings.set_node_status(job, Node.Status.RUNNING)
        params = node_type.Params.model_validate(job.params)
        with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as scratch:
            ctx = RunContext(job, params, Path(scratch), report_progress)
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
        endings.needs_attention(job, error.message)
    except ProviderError as error:
        if error.transient:
            endings.retry(job, error)
        else:
            endings.fail(job, error.code, error.message)
    except NodeError as error:
        endings.fail(job, error.code, error.message)
    except MediaError as error:
        endings.fail(job, "media_error", str(error))
    except ValidationError as error:
        endings.fail(job, "invalid_params", f"The node's settings are not valid: {error.errors()[0]['msg']}.")
    except endings.JobFailed:
        raise
    except INFRASTRUCTURE_ERRORS:
        # Not the job's fault (Redis or the database is away), and nothing can be recorded now: the
        # generation is not failed, the reconciler takes it up again when they are back (see _step).
        logger.warning("job %s broke off: Redis or the database is unavailable", job.id, exc_info=True)
        raise
    except Exception as error:
        logger.exception("job %s failed unexpectedly", job.id)
        message = f"Reelgraph failed unexpectedly ({error.__class__.__name__}); it has been logged."
        endings.fail(job, "internal_error", message)


def _final_cache_key(job: Job, node_type, params, ctx: RunContext) -> str:
    """The key of what this job really consumes: the takes its inputs come from, now that they exist."""
    hashes = [ctx.asset(asset_id).sha256 for asset_id in node_type.asset_ids(params)]
    node = GraphNode(id=str(job.node_id), type=job.node.type, params=job.params)
    return cache_key(node, node_type, params, ctx.input_identities, hashes)


def report_progress(job: Job, fraction: float, label: str) -> None:
    job.progress = max(0.0, min(1.0, fraction))
    job.progress_label = label[:200]
    running = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING)
    # The card's progress is its first take's; a further take's shows in its row of takes when it ends.
    if running.update(progress=job.progress, progress_label=job.progress_label) and job.variation == 1:
        announce.node_progress(job)


def _provider_fields(ctx: RunContext) -> dict[str, str]:
    provider, model = (ctx.providers_used or ctx.makers or [("", "")])[0]
    return {"provider": provider, "model": model or ctx.state.get("model", "")}


def _wait(job: Job, ctx: RunContext, wait: Wait) -> None:
    """Store the operation, free the worker, and come back with a scheduled poll."""
    job.progress, job.progress_label = wait.progress, wait.label
    ctx.end_submit()  # the operation is stored from here on: the outcome is known
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
        announce.node_progress(job)
        queues.schedule_poll(job, wait.poll_after)
        return
    # Canceled while it submitted: the provider has started (and bills) the work, so keep its name and
    # cost, and what collecting it needs (actions.keeping may still keep the video).
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
        announce.node_status(node)  # its card can offer to keep the video now


# Endings ---------------------------------------------------------------------------------------------


def _succeed(job: Job, ctx: RunContext, outputs: dict) -> None:
    provider = _provider_fields(ctx)
    # A kept video was paid for by the canceled job it comes from, and is counted there: once.
    spent = Decimal("0") if job.state.get("kept_from") else costs.total(ctx.usages, provider["provider"])
    with queues.project_lock(job.project_id), transaction.atomic():
        node = Node.objects.select_for_update(no_key=True).get(pk=job.node_id)  # key columns never change
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
        if job.variation > 1:
            # A further take, to pick from: the node keeps the first take's output (what depends on it
            # waits for that one), and the card adds this one to its row of takes.
            endings.show_further_take(node)
            endings.finish_runs({job.run_id})
            queues.enqueue_on_commit(quotas.admit(freed=[job]))  # the slot it held is handed on
            return
        node.selected_take = take
        node.output = outputs
        node.cache_key = job.cache_key
        node.status = Node.Status.SUCCEEDED
        node.error_message = ""
        node.save(update_fields=["selected_take", "output", "cache_key", "status", "error_message", "updated_at"])
        announce.node_output(node, take)
        announce.node_status(node)
        # What waited on this job runs now (or waits for a generation slot); the slot it held is handed on.
        ready = quotas.admit(_release_dependants(job), freed=[job])
        endings.finish_runs({job.run_id})
        queues.enqueue_on_commit(ready)


def _release_dependants(job: Job) -> list[Job]:
    """The jobs waiting on `job` whose every input now exists: quotas.admit queues them."""
    released = []
    # In the order the plan made them: a node's first take before its further ones.
    waiting = (
        Job.objects.select_for_update()
        .filter(status=Job.Status.WAITING, depends_on__contains=[str(job.id)])
        .order_by("created_at")
    )
    for dependant in waiting:
        statuses = list(Job.objects.filter(pk__in=dependant.depends_on).values_list("status", flat=True))
        if len(statuses) == len(dependant.depends_on) and all(s == Job.Status.SUCCEEDED for s in statuses):
            released.append(dependant)
    return released

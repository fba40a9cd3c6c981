"""Turns node runs into Job rows and RQ jobs, and runs them in the worker."""

from __future__ import annotations

import logging
import uuid
from functools import partial

import django_rq
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generation import events
from generation.models import Job
from nodes.models import Node
from nodes.registry import get_node_type
from nodes.types.base import RunContext

logger = logging.getLogger(__name__)


def enqueue_node(node: Node, user=None) -> Job:
    """Create the Job row first; the RQ job, with the row's id as its id, follows the commit."""
    node_type = get_node_type(node.type)
    with transaction.atomic():
        job = Job.objects.create(
            project_id=node.project_id,
            node=node,
            run_id=uuid.uuid4(),
            queue=node_type.queue,
            params=node.params,
            created_by=user,
        )
        _set_node_status(node, Node.Status.QUEUED, job)
        transaction.on_commit(partial(_enqueue, job))
    return job


def _enqueue(job: Job) -> None:
    django_rq.get_queue(job.queue).enqueue("generation.tasks.run_job", str(job.id), job_id=str(job.id))


def execute_job(job_id: str) -> None:
    """Run one job in a worker. Claiming the row first makes a duplicate delivery a no-op."""
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if claimed != 1:
        logger.info("job %s is no longer queued; skipping", job_id)
        return
    job = Job.objects.select_related("node").get(pk=job_id)
    node = job.node
    _set_node_status(node, Node.Status.RUNNING, job)
    node_type = get_node_type(node.type)
    ctx = RunContext(
        params=node_type.Params.model_validate(job.params),
        inputs={},
        progress=partial(_report_progress, job),
    )
    try:
        outputs = node_type.run(ctx)
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        _finish(job, Job.Status.FAILED, error=str(exc) or exc.__class__.__name__)
        return
    _finish(job, Job.Status.SUCCEEDED, outputs=outputs)


def _report_progress(job: Job, fraction: float, label: str) -> None:
    job.progress = max(0.0, min(1.0, fraction))
    job.progress_label = label[:200]
    Job.objects.filter(pk=job.pk).update(progress=job.progress, progress_label=job.progress_label)
    events.broadcast(job.project_id, events.node_updated(job.node, job))


def _finish(job: Job, status: str, outputs: dict | None = None, error: str = "") -> None:
    node = job.node
    with transaction.atomic():
        job.status = status
        job.outputs = outputs or {}
        job.error_message = error
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "outputs", "error_message", "finished_at"])
        if outputs is not None:
            node.output = outputs
        node.error_message = error
        _set_node_status(node, status, job)


def _set_node_status(node: Node, status: str, job: Job) -> None:
    node.status = status
    node.save(update_fields=["status", "output", "error_message", "updated_at"])
    events.broadcast(node.project_id, events.node_updated(node, job))

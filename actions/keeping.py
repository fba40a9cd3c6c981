"""Keep the video of a job canceled after its submit: it is paid for, so collect it rather than lose it.

Nothing is submitted. A new run of the one node starts a job that resumes the canceled job's stored
operation exactly as a job is resumed after a crash (a poll, then the download), and ends like any
job: a new selected take on success, a failure with the provider's reason otherwise. Its cost is
not counted again (`state["kept_from"]`): the canceled job counts it, once.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from config.errors import Conflict
from generation import announce, endings, keepable, queues, steplock
from generation.models import Job, Run
from nodes.models import Node

logger = logging.getLogger(__name__)

COLLECTING = "Collecting the video canceled earlier"


class KeepRefused(Conflict):
    code = "not_keepable"


def keep(job: Job, user) -> Job:
    """Start collecting `job`'s video; returns the new job. Raises KeepRefused naming why not."""
    with transaction.atomic():
        # Two keeps at once: the second waits here, then finds the first one's job and is refused.
        job = Job.objects.select_for_update(of=("self",)).select_related("node", "project").get(pk=job.pk)
        why = keepable.refusal(job)
        if why:
            raise KeepRefused(why, details={"job": str(job.id), "status": job.status})
        with steplock.holder_gone(str(job.id)) as free:
            if not free:  # a step of it was stopped by the cancel and has not ended yet
                raise KeepRefused("The canceled job is still stopping: try again in a moment.")
        kept = _collecting_job(job, user)
        announce.run_planned(kept.run)
        endings.set_node_status(kept, Node.Status.RUNNING)
        transaction.on_commit(lambda: _poll_now(kept))
    return kept


def _collecting_job(job: Job, user) -> Job:
    """A new run of the node whose one job already holds the canceled job's operation."""
    now = timezone.now()
    run = Run.objects.create(
        project=job.project, created_by=user, targets=[str(job.node_id)], cost_estimate=Decimal("0")
    )
    # What the node type keeps between steps goes along; the canceled job's own bookkeeping does not.
    state = {key: value for key, value in job.state.items() if key not in ("submitting", "poll_failures", "generated")}
    # What the canceled job was paid, shown again if this one is canceled too (it costs nothing itself).
    state["paid"] = job.state.get("paid") or str(job.cost_actual if job.cost_actual is not None else job.cost_estimate)
    kept = Job.objects.create(
        project=job.project,
        node=job.node,
        run=run,
        status=Job.Status.RUNNING,
        queue=job.queue,
        provider=job.provider,
        model=job.model,
        provider_operation=job.provider_operation,
        plan_key=job.plan_key,
        cache_key=job.cache_key,
        params=job.params,
        state=state | {"kept_from": str(job.id)},
        cost_estimate=Decimal("0"),  # paid by the canceled job, and counted there
        progress=job.progress,
        progress_label=COLLECTING,
        attempts=1,
        started_at=now,
        next_poll_at=now,
        created_by=user,
    )
    reason = f"keep the video canceled earlier (already paid for, about ${Decimal(state['paid']):.2f})"
    run.plan = [{"node": str(job.node_id), "action": "run", "reason": reason, "cost": "0", "job": str(kept.id)}]
    run.save(update_fields=["plan"])
    return kept


def _poll_now(job: Job) -> None:
    try:
        queues.poll_now(job)
    except RedisError as error:  # the job is safe in the database: the reconciler polls it when Redis is back
        logger.warning("job %s waits for the reconciler to poll it: Redis is unavailable (%s)", job.id, error)

"""How a job ends without a result, and how a run ends: a transient error retried with backoff (by
RQ for a first step, by a scheduled poll for a wait), a failure, a submit of unknown outcome that
needs the user's attention, a cancel; what waits on such a job is canceled with it, the generation
slot it held goes to its owner's next waiting job (generation.quotas.admit), and a run ends once none
of its jobs is live. Every ending runs under the project's lock (see generation.queues)
and is announced to the canvas.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generation import announce, queues, quotas
from generation.models import Job, Report, Run
from nodes.models import Node
from providers.contract import ProviderError, SafetyBlocked, SubmitOutcomeUnknown

logger = logging.getLogger(__name__)


class JobFailed(Exception):
    """Raised to RQ after a job has been recorded as failed, so RQ's own records agree."""


def retry(job: Job, error: ProviderError) -> None:
    """Retry with backoff: RQ reschedules a failed first step; a failed poll schedules the next one."""
    intervals = list(settings.RETRY_INTERVALS)
    if job.provider_operation:
        failures = job.state.get("poll_failures", 0) + 1
        if failures > len(intervals):
            fail(job, error.code, f"{error.message} Gave up after {failures} tries.")
            return
        job.state["poll_failures"] = failures
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            state=job.state, lease_until=None, error_code=error.code, error_message=error.message
        )
        job.error_code, job.error_message = error.code, error.message
        announce.job_error(job, retrying=True)
        queues.schedule_poll(job, intervals[failures - 1])
        return
    current = queues.current_job()
    if out_of_tries(job) or not (current and current.retries_left):
        fail(job, error.code, f"{error.message} Gave up after {job.attempts} attempts.")
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
            announce.job_error(job, retrying=True)
            set_node_status(job, Node.Status.QUEUED)
    raise error  # RQ schedules the retry after the next backoff interval (a canceled job's is a no-op)


def out_of_tries(job: Job) -> bool:
    """Every attempt a run allows has been made: the first and one per retry interval. Counted on the
    job, not by RQ, whose budget starts afresh when the reconciler queues a job again after its worker
    died; so a request that is paid for even when its answer is lost (text) is bounded all the same."""
    return job.attempts > len(settings.RETRY_INTERVALS)


def fail_after_lost_workers(job: Job) -> None:
    """The reconciler's verdict on a job whose worker stopped inside it once too often."""
    fail(job, "worker_lost", f"Its worker stopped before it finished. Gave up after {job.attempts} attempts.")


def fail(job: Job, code: str, message: str) -> None:
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
    submitting = job.state.get("submitting") or {}
    provider, made = submitting.get("provider") or "The provider", submitting.get("made") or "video"
    message = (
        f"{provider} may have started this {made}; running it again may charge again "
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
    with queues.project_lock(job.project_id), transaction.atomic():
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
            # Into the moderation queue, which shows what was asked.
            Report.objects.create(
                project_id=job.project_id, node_id=job.node_id, job=job, source=Report.Source.SAFETY, reason=message
            )
        announce.job_error(job, retrying=False)
        set_node_status(job, status, message)  # the node's statuses share these names
        canceled = _cancel_dependants(job, dependants)
        finish_runs({job.run_id, *(dependant.run_id for dependant in canceled)})
        _hand_on_slots([job, *canceled])
    current = queues.current_job()
    if current is not None:
        current.retries_left = 0  # recorded as ended: RQ must not retry it (for a submit, that would pay twice)
        raise JobFailed(message)


def cancel(job: Job, reason: str) -> bool:
    """Cancel a job that has not finished, queued or running; its dependants are canceled with it, and
    so are the further takes of a first take's run (canceling a node's run stops all it was making)."""
    with queues.project_lock(job.project_id), transaction.atomic():
        job = Job.objects.select_for_update(of=("self",)).select_related("node").get(pk=job.pk)
        if job.status not in Job.ACTIVE:
            return False
        further = Job.objects.select_for_update(of=("self",)).filter(
            run_id=job.run_id, node_id=job.node_id, variation__gt=1, status__in=Job.ACTIVE
        )
        stopped = [job, *(further if job.variation == 1 else [])]  # lazy: read only for a first take
        for each in stopped:
            _stop(each, reason)
        canceled = _cancel_dependants(job, f"Not run: {job.node} was canceled.")
        finish_runs({job.run_id, *(dependant.run_id for dependant in canceled)})
        _hand_on_slots([*stopped, *canceled])
    return True


def _stop(job: Job, reason: str) -> None:
    was_running = job.status == Job.Status.RUNNING
    job.status = Job.Status.CANCELED
    job.error_code, job.error_message = "canceled", reason
    job.lease_until, job.finished_at = None, timezone.now()
    if job.provider_operation or "submitting" in job.state:
        # Submitted (or maybe): the provider bills it all the same, so it counts as spent.
        job.cost_actual = job.cost_estimate
    fields = ["status", "error_code", "error_message", "lease_until", "finished_at", "cost_actual"]
    job.save(update_fields=fields + _no_longer_waiting_for_slot(job))
    set_node_status(job, Node.Status.CANCELED, reason)
    rq_job_id = job.rq_job_id if was_running else None
    transaction.on_commit(lambda: queues.stop_in_rq(job, rq_job_id))


def cancel_run(run: Run, reason: str = "Canceled.") -> int:
    """Cancel every job of the run that has not finished; returns how many were canceled."""
    return cancel_all(run.jobs.filter(status__in=Job.ACTIVE), reason)


def cancel_all(jobs, reason: str) -> int:
    """Cancel these jobs, the waiting ones first: a running one's slot would otherwise go to one of
    them, which a worker could start (and pay for) before its turn to be canceled came."""
    jobs = sorted(jobs, key=lambda job: job.status != Job.Status.WAITING)
    for job in jobs:
        cancel(job, reason)
    return len(jobs)


def _hand_on_slots(ended: list[Job]) -> None:
    """The generation slots the ended jobs held go to their owners' next waiting jobs (after the
    ending is announced, so what starts next is heard after it)."""
    queues.enqueue_on_commit(quotas.admit(freed=ended))


def _no_longer_waiting_for_slot(job: Job) -> list[str]:
    """A canceled job waits for nothing: its flag and the label that said so go (the fields to save)."""
    if not job.waits_for_slot:
        return []
    job.waits_for_slot, job.progress_label = False, ""
    return ["waits_for_slot", "progress_label"]


def cancel_job(job: Job, reason: str = "Canceled.") -> bool:
    return cancel(job, reason)


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
            fields = ["status", "error_code", "error_message", "finished_at"]
            dependant.save(update_fields=fields + _no_longer_waiting_for_slot(dependant))
            set_node_status(dependant, Node.Status.CANCELED, reason)
            if was_queued:
                transaction.on_commit(lambda dependant=dependant: queues.stop_in_rq(dependant, None))
            canceled.append(dependant)
            pending.append(dependant)
    return canceled


def finish_run(run: Run) -> int:
    """Close `run` if none of its jobs is still live; returns 1 if it did."""
    with queues.project_lock(run.project_id), transaction.atomic():
        return finish_runs({run.id})


def finish_runs(run_ids) -> int:
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
        announce.run_finished(run)
    return finished


def set_node_status(job: Job, status: str, error: str = "") -> None:
    if job.variation > 1:
        # A node's status is its first take's: a further take's start or end shows in its row of takes.
        show_further_take(Node.objects.select_related("selected_take").get(pk=job.node_id))
        return
    with transaction.atomic():
        locked = Node.objects.select_for_update(of=("self",), no_key=True)  # key columns never change
        node = locked.select_related("selected_take").get(pk=job.node_id)
        node.status = status
        node.error_message = error
        node.save(update_fields=["status", "error_message", "updated_at"])
        active = job if status in (Node.Status.QUEUED, Node.Status.RUNNING) else None
        announce.node_status(node, active)


def show_further_take(node: Node) -> None:
    """Announce a node whose further take started or ended, with its first take's job if that one is
    still under way (so the card's progress and Cancel stay)."""
    lead = Job.objects.filter(node=node, status__in=Job.ACTIVE, variation=1).first()
    announce.node_status(node, lead)

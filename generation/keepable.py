"""Which canceled jobs hold a video that is already paid for and can still be kept.

A job canceled after its submit has started a generation that the provider bills all the same
(it counts as spent from the cancel on). Its operation may well finish, so rather than throw the
video away, the user may keep it: `actions.keeping` collects it without submitting anything.
"""

from __future__ import annotations

from generation.models import Job
from nodes.models import Node, Take
from nodes.state import KeepOffer
from providers import video_label


def refusal(job: Job) -> str:
    """Why this job's video cannot be kept; empty when it can."""
    if job.status != Job.Status.CANCELED:
        status = job.status.replace("_", " ")
        return f"This job's status is {status}: only the video of a job canceled after its submit can be kept."
    if not job.provider_operation:
        return "This job was not submitted to the provider: there is nothing paid to keep."
    if job.node_id is None:
        return "This job's node was deleted: there is no card left to keep its video on."
    if Take.objects.filter(job_id=job.id).exists():
        return "This job's video was already collected: it is one of the node's takes."
    if Job.objects.filter(node_id=job.node_id, state__kept_from=str(job.id)).exists():  # by node: indexed
        return "This job's video is already kept (or being collected): see the node's latest run."
    if Job.objects.filter(node_id=job.node_id, status__in=Job.ACTIVE).exists():
        return "The node is running again: wait for that run to finish (or cancel it), then keep the video."
    return ""


def is_keepable(job: Job) -> bool:
    # Most jobs are decided without a query: only a canceled job with an operation needs a look.
    return job.status == Job.Status.CANCELED and bool(job.provider_operation) and not refusal(job)


def offer(node: Node) -> KeepOffer | None:
    """The keep offer of a canceled node whose last job was canceled after its submit."""
    if node.status != Node.Status.CANCELED:
        return None
    job = Job.objects.filter(node=node, variation=1).order_by("-created_at").first()  # its first take's
    if job is None or not is_keepable(job):
        return None
    return {
        "job_id": str(job.id),
        "provider": video_label(job.provider),
        # A job keeping another's video costs nothing itself: it says what the first one was paid.
        "cost": job.state.get("paid") or str(job.cost_actual or job.cost_estimate),
    }

"""Runs and jobs."""

from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Query, Router
from ninja.pagination import paginate

from actions import keeping
from config.errors import Conflict
from config.pagination import Pages
from config.schemas import errors
from generation import endings, planning, quotas
from generation.models import Job, Run
from generation.schemas import JobOut, PlanOut, PlanStateOut, RunIn, RunOut, RunPage
from nodes.graph import GraphInvalid
from projects.access import project_for
from projects.models import Membership

router = Router(tags=["runs"])
EDITOR = Membership.Role.EDITOR


def plan_out(plan: planning.Plan) -> dict:
    return {
        "dry_run": plan.dry_run,
        "cost_estimate": str(plan.cost),
        "nodes": [planned.as_dict() for planned in plan.nodes],
        "run": plan.run,
    }


@router.post("/projects/{project_id}/runs", response={200: PlanOut, **errors(403, 404, 409, 429)})
def start_run(request, project_id: UUID, payload: RunIn):
    """Plan a run of the targets and everything they need (every node when `targets` is empty):
    which nodes run, which are cached, what it should cost. Unless `dry_run`, start it.

    Starting is limited per user (429 `quota_exceeded`, naming the limit and when it resets): runs
    per period, video generations under way at once, and estimated spend per day."""
    project = project_for(request.auth, project_id, role=EDITOR)
    if not payload.dry_run:
        quotas.check_run_rate(request.auth)
    plan = planning.plan_run(project, payload.targets, user=request.auth, dry_run=payload.dry_run, force=payload.force)
    return plan_out(plan)


@router.get("/projects/{project_id}/runs", response={200: RunPage, **errors(404)})
def list_runs(request, project_id: UUID, page: int = Query(1, ge=1, le=10_000)):
    """The project's runs, newest first, 20 a page, each with its jobs: status, cost, progress and errors."""
    runs = project_for(request.auth, project_id).runs.order_by("-created_at")
    shown = runs.select_related("created_by").prefetch_related("jobs__node")[(page - 1) * 20 : page * 20]
    return {"items": shown, "count": runs.count()}


@router.get("/projects/{project_id}/plan", response={200: PlanStateOut, **errors(404)})
def read_plan(request, project_id: UUID):
    """The plan of every node of the project, priced, as the canvas shows it on its cards. Unlike a
    dry run, an invalid graph and a conflicting run are answered as states: a page refreshing this in
    the background meets them all the time, and they are not failures."""
    project = project_for(request.auth, project_id)
    empty = {"valid": True, "cost_estimate": "0", "nodes": [], "problems": {}, "conflict": ""}
    try:
        plan = planning.plan_run(project, [], user=request.auth, dry_run=True)
    except GraphInvalid as error:
        return {**empty, "valid": False, "problems": error.by_node()}
    except planning.RunConflict as error:
        return {**empty, "conflict": str(error)}
    return {**empty, "cost_estimate": str(plan.cost), "nodes": [planned.as_dict() for planned in plan.nodes]}


def _visible_runs(request):
    runs = Run.objects.filter(project__memberships__user=request.auth)
    return runs.select_related("created_by").prefetch_related("jobs__node")


def _visible_jobs(request):
    return Job.objects.filter(project__memberships__user=request.auth).select_related("node")


@router.get("/runs/{run_id}", response={200: RunOut, **errors(404)})
def read_run(request, run_id: UUID):
    return get_object_or_404(_visible_runs(request), pk=run_id)


@router.post("/runs/{run_id}/cancel", response={200: RunOut, **errors(403, 404)})
def cancel_run(request, run_id: UUID):
    run = get_object_or_404(_visible_runs(request), pk=run_id)
    project_for(request.auth, run.project_id, role=EDITOR)
    endings.cancel_run(run, f"Canceled by {request.auth.get_username()}.")
    run.refresh_from_db()
    return run


@router.get("/jobs", response={200: list[JobOut], **errors()})
@paginate(Pages)
def list_jobs(request, project: UUID | None = None, status: str | None = None, node: UUID | None = None):
    jobs = _visible_jobs(request)
    if project:
        jobs = jobs.filter(project_id=project)
    if status:
        jobs = jobs.filter(status=status)
    if node:
        jobs = jobs.filter(node_id=node)
    return jobs.order_by("-created_at")


@router.get("/jobs/{job_id}", response={200: JobOut, **errors(404)})
def read_job(request, job_id: UUID):
    return get_object_or_404(_visible_jobs(request), pk=job_id)


@router.post("/jobs/{job_id}/cancel", response={200: JobOut, **errors(403, 404)})
def cancel_job(request, job_id: UUID):
    job = get_object_or_404(_visible_jobs(request), pk=job_id)
    project_for(request.auth, job.project_id, role=EDITOR)
    endings.cancel_job(job, f"Canceled by {request.auth.get_username()}.")
    job.refresh_from_db()
    return job


@router.post("/jobs/{job_id}/retry", response={200: PlanOut, **errors(403, 404, 409, 429)})
def retry_job(request, job_id: UUID):
    """Run the job's node again, with what it needs upstream: a new run (limited like any run)."""
    job = get_object_or_404(_visible_jobs(request), pk=job_id)
    project = project_for(request.auth, job.project_id, role=EDITOR)
    if job.node_id is None:
        raise Conflict("This job's node was deleted, so it cannot run again: add the node again and run it.")
    quotas.check_run_rate(request.auth)
    return plan_out(planning.plan_run(project, [job.node_id], user=request.auth))


@router.post("/jobs/{job_id}/keep", response={200: JobOut, **errors(403, 404, 409)})
def keep_job(request, job_id: UUID):
    """Keep the video of a job canceled after its submit (`keepable`): the provider bills it anyway.
    Nothing is submitted and nothing more is counted as spent: a new run of the node collects the
    canceled job's operation, and its result becomes the node's selected take. Answers the new job;
    409 `not_keepable` names why a job cannot be kept (not canceled, never submitted, already kept)."""
    job = get_object_or_404(_visible_jobs(request), pk=job_id)
    project_for(request.auth, job.project_id, role=EDITOR)
    return keeping.keep(job, request.auth)

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from config.schemas import BodyIn, Id
from generation.keepable import is_keepable
from generation.models import Job, Run


class RunIn(BodyIn):
    targets: list[Id] = Field(default_factory=list, max_length=1000, description="Node ids; empty: the whole project.")
    dry_run: bool = Field(default=False, description="Plan and price only; nothing is enqueued.")
    force: bool = Field(default=False, description="Run the targets again even when unchanged (a new take).")


class PlannedNodeOut(Schema):
    node: UUID
    action: str = Field(description="run, cached, or joined (already running with the same inputs)")
    reason: str
    cost: str = Field(description="Estimated USD of every take it makes.")
    job: UUID | None = Field(description="The job of its first take: what depends on the node waits for it.")
    take: int | None = Field(default=None, description="The number of the take a cached node uses.")
    variations: int = Field(default=1, description="How many takes it makes (one job each) when it runs.")


class JobOut(Schema):
    id: UUID
    project: UUID
    node: UUID | None = Field(description="None once the node was deleted: jobs and their cost outlive it.")
    node_title: str = Field(description="The node's title (or its type) when the job was read.")
    run: UUID
    variation: int = Field(description="Which take of its node's run it makes: 1 leads (see a node's variations).")
    status: str = Field(
        description="waiting (for its inputs, or for a generation slot: see waits_for_slot), queued, running, "
        "succeeded, failed, canceled, or needs_attention (a submit's outcome is unknown: the provider may have "
        "started and billed it; running the node again submits again)"
    )
    waits_for_slot: bool = Field(
        description="Ready, but held back until one of its owner's video generations ends (at most "
        "MAX_CONCURRENT_GENERATIONS are queued or running at once); progress_label says so."
    )
    queue: str
    provider: str
    model: str
    attempts: int
    progress: float
    progress_label: str
    provider_operation: str
    cost_estimate: str
    cost_actual: str | None
    error_code: str
    error_message: str
    outputs: dict[str, Any]
    keepable: bool = Field(
        description="Canceled after its submit, so paid for, and its video not collected: POST .../keep collects it."
    )
    kept_from: UUID | None = Field(description="The canceled job whose video this job collects (see keep).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    # The fields named as the model's are read from it; these say how the rest are made.
    @staticmethod
    def resolve_project(job: Job) -> UUID:
        return job.project_id

    @staticmethod
    def resolve_node(job: Job) -> UUID | None:
        return job.node_id

    @staticmethod
    def resolve_node_title(job: Job) -> str:
        return str(job.node)

    @staticmethod
    def resolve_run(job: Job) -> UUID:
        return job.run_id

    @staticmethod
    def resolve_cost_estimate(job: Job) -> str:
        return str(job.cost_estimate)

    @staticmethod
    def resolve_cost_actual(job: Job) -> str | None:
        return None if job.cost_actual is None else str(job.cost_actual)

    @staticmethod
    def resolve_keepable(job: Job) -> bool:
        return is_keepable(job)

    @staticmethod
    def resolve_kept_from(job: Job) -> str | None:
        return job.state.get("kept_from")


class RunOut(Schema):
    id: UUID
    project: UUID
    status: str
    targets: list[str]
    plan: list[PlannedNodeOut]
    cost_estimate: str
    cost_actual: str
    created_by: str | None
    created_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None = Field(description="From start to finish; null while it runs.")
    jobs: list[JobOut]

    @staticmethod
    def resolve_project(run: Run) -> UUID:
        return run.project_id

    @staticmethod
    def resolve_jobs(run: Run) -> list[Job]:
        return sorted(run.jobs.all(), key=lambda job: job.created_at)  # prefetched when listing runs

    @staticmethod
    def resolve_cost_estimate(run: Run) -> str:
        return str(run.cost_estimate)

    @staticmethod
    def resolve_cost_actual(run: Run) -> str:
        return str(sum((job.cost_actual or Decimal("0") for job in run.jobs.all()), Decimal("0")))

    @staticmethod
    def resolve_created_by(run: Run) -> str | None:
        return run.created_by.get_username() if run.created_by else None

    @staticmethod
    def resolve_duration_seconds(run: Run) -> float | None:
        return (run.finished_at - run.created_at).total_seconds() if run.finished_at else None


class PlanOut(Schema):
    dry_run: bool
    cost_estimate: str
    nodes: list[PlannedNodeOut]
    run: RunOut | None


class RunPage(Schema):
    items: list[RunOut]
    count: int


class PlanStateOut(Schema):
    """The plan of the whole project as a state the canvas shows: a graph that cannot run, or a node
    running with other settings, is an answer here (200), not an error."""

    valid: bool = Field(description="False when some node cannot run yet: see `problems`.")
    cost_estimate: str
    nodes: list[PlannedNodeOut] = Field(description="Empty when the graph is not valid.")
    problems: dict[str, list[dict[str, Any]]] = Field(description="Node id -> its problems (message, code, field).")
    conflict: str = Field(description="Why no plan can be made while a run is under way; empty otherwise.")

"""Planning runs and putting their jobs on queues; canceling them.

`plan_run` loads the graph once, validates the upstream closure of the targets, decides per node
whether it runs, is cached, or joins a job already under way, prices the plan, and (unless it is
a dry run) writes the Run and its Jobs in one transaction. Jobs whose inputs are ready are
enqueued after the commit (a video job once its owner has a free generation slot: see
generation.quotas.admit); the rest wait and are released by the jobs they depend on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from assets.models import Asset
from config.errors import Conflict
from generation import announce, costs, queues, quotas
from generation.models import Job, Run
from nodes.graph import GraphInvalid, NodeProblem, cache_key, output_identity
from nodes.models import Node, Take
from nodes.registry import get_node_type
from nodes.services import load_graph
from nodes.types.base import variations_of
from projects.models import Project
from providers import CAPABILITIES, provider_name

logger = logging.getLogger(__name__)


class RunConflict(Conflict):
    """A node the run needs is already running with other settings."""

    code = "run_conflict"

    def __init__(self, node: Node, job: Job) -> None:
        self.node, self.job = node, job
        super().__init__(
            f"{node} is already running with other settings: wait for it to finish or cancel it, then run again.",
            details={"node": str(node.id), "job": str(job.id)},
        )


@dataclass
class PlannedNode:
    node_id: str
    action: str  # "run", "cached" or "joined" (already running with the same inputs)
    reason: str
    cost: Decimal = Decimal("0")  # of every take it makes
    job_id: str | None = None  # of its first take's job, the one what depends on the node waits for
    key: str = ""
    take: Take | None = None  # the take a cached node uses
    variations: int = 1  # how many takes a run makes, one job each

    @property
    def cost_of_each(self) -> Decimal:
        return self.cost / self.variations

    def as_dict(self) -> dict:
        return {
            "node": self.node_id,
            "action": self.action,
            "reason": self.reason,
            "cost": str(self.cost),
            "job": self.job_id,
            "take": self.take.number if self.take else None,
            "variations": self.variations,
        }


@dataclass
class Plan:
    nodes: list[PlannedNode]
    run: Run | None = None
    dry_run: bool = False
    cost: Decimal = Decimal("0")
    jobs: list[Job] = field(default_factory=list)

    def action_of(self, node_id) -> str:
        return next(planned.action for planned in self.nodes if planned.node_id == str(node_id))


def plan_run(project: Project, targets=None, *, user=None, dry_run: bool = False, force: bool = False) -> Plan:
    """Plan (and unless `dry_run`, start) a run of `targets` (node ids; empty or None: the whole project).

    `force` re-runs the targets even when their output is cached (a new take of the same inputs).
    Raises GraphInvalid with every problem of every node, RunConflict, or QuotaExceeded when
    starting it would take `user` over a limit (see generation.quotas).
    """
    with transaction.atomic():
        # One planner per project at a time: two identical requests at once make one set of jobs.
        # (FOR NO KEY UPDATE, as graph writes take it: see nodes.services.lock_graph.)
        Project.objects.select_for_update(no_key=True).get(pk=project.pk)
        nodes = {str(node.id): node for node in Node.objects.filter(project=project).select_related("selected_take")}
        graph = load_graph(project)
        target_ids = [str(target) for target in targets] if targets else list(nodes)
        unknown = [target for target in target_ids if target not in nodes]
        if unknown:
            raise GraphInvalid(
                [NodeProblem(target, "No such node in this project.", "unknown_node") for target in unknown]
            )
        closure = graph.upstream_closure(target_ids)
        validation = graph.validate(closure)
        hashes = _asset_hashes(project, graph, validation, closure)
        if validation.problems:
            raise GraphInvalid(validation.problems)
        plan = _decide(graph, validation, nodes, hashes, set(target_ids) if force else set())
        plan.dry_run = dry_run
        if dry_run:
            return plan
        return _start(project, plan, graph, validation, nodes, target_ids, user, force)


def outdated_node_ids(project: Project) -> set[str]:
    """Nodes with a selected take that a run would not use as it is: their settings or inputs changed
    (or became invalid) since it was made. Plans the whole project without writing or locking anything."""
    nodes = {str(node.id): node for node in Node.objects.filter(project=project).select_related("selected_take")}
    with_takes = {node_id for node_id, node in nodes.items() if node.selected_take_id}
    if not with_takes:
        return set()
    graph = load_graph(project)
    validation = graph.validate(set(nodes))
    hashes = _asset_hashes(project, graph, validation, set(nodes))
    broken = graph.downstream_closure([problem.node_id for problem in validation.problems])
    validation.order = [node_id for node_id in validation.order if node_id not in broken]
    plan = _decide(graph, validation, nodes, hashes, set(), strict=False)
    stale = {
        planned.node_id
        for planned in plan.nodes
        if planned.action != "cached" or planned.take.id != nodes[planned.node_id].selected_take_id
    }
    return (stale | broken) & with_takes


def _asset_hashes(project, graph, validation, closure) -> dict[str, list[str]]:
    """Content hashes of the files each node's params refer to; a missing file is a problem."""
    wanted = {
        node_id: get_node_type(graph.nodes[node_id].type).asset_ids(validation.params[node_id])
        for node_id in closure
        if node_id in validation.params
    }
    found = dict(
        Asset.objects.filter(project=project, id__in=[a for ids in wanted.values() for a in ids]).values_list(
            "id", "sha256"
        )
    )
    found = {str(asset_id): sha for asset_id, sha in found.items()}
    hashes = {}
    for node_id, asset_ids in wanted.items():
        missing = [asset_id for asset_id in asset_ids if asset_id not in found]
        if missing:
            validation.problems.append(
                NodeProblem(
                    node_id, "The file this node uses is gone: upload it again.", "missing_asset", field="asset_id"
                )
            )
        hashes[node_id] = [found[asset_id] for asset_id in asset_ids if asset_id in found]
    return hashes


def _takes_by_key(nodes, node_ids) -> dict[tuple[str, str], Take]:
    """Every earlier take of these nodes by (node, cache key): the selected one, else the newest, wins."""
    found: dict[tuple[str, str], Take] = {}
    for take in Take.objects.filter(node_id__in=node_ids).order_by("number"):
        found[(str(take.node_id), take.cache_key)] = take
    for node_id in node_ids:
        selected = nodes[node_id].selected_take
        if selected is not None:
            found[(node_id, selected.cache_key)] = selected
    return found


def _cached_reason(node, take: Take) -> str:
    return "unchanged" if take.id == node.selected_take_id else f"cached (take {take.number})"


def _decide(graph, validation, nodes, hashes, forced: set[str], *, strict: bool = True) -> Plan:
    """Per node in order: joined (already running with the same inputs), cached (a take made with the
    same key: undo never pays twice), or run. `strict=False` treats a conflicting run as a change."""
    leads = Job.objects.filter(node_id__in=validation.order, status__in=Job.ACTIVE, variation=1)
    active = {str(job.node_id): job for job in leads}
    takes = _takes_by_key(nodes, validation.order)
    identity: dict[str, Callable[[str], str]] = {}
    planned: dict[str, PlannedNode] = {}
    provider_of = {capability: provider_name(capability) for capability in CAPABILITIES}
    for node_id in validation.order:
        node, node_type = nodes[node_id], get_node_type(nodes[node_id].type)
        params = validation.params[node_id]
        inputs = {
            port: [identity[edge.source](edge.source_port) for edge in edges]
            for port, edges in graph.incoming(node_id).items()
        }
        key = cache_key(graph.nodes[node_id], node_type, params, inputs, hashes.get(node_id, []))
        upstream_runs = any(planned[source].action != "cached" for source in graph.sources(node_id))
        job = active.get(node_id)
        if job is not None and (job.plan_key == key or strict):
            if job.plan_key != key:
                raise RunConflict(node, job)
            planned[node_id] = PlannedNode(node_id, "joined", "already running", job_id=str(job.id))
            identity[node_id] = _planned_identity(key)
            continue
        earlier = takes.get((node_id, key))
        if node_id not in forced and not upstream_runs and earlier is not None:
            planned[node_id] = PlannedNode(node_id, "cached", _cached_reason(node, earlier), take=earlier)
            identity[node_id] = partial(output_identity, earlier.cache_key, str(earlier.id))
            continue
        take = node.selected_take
        usages = node_type.estimate(params, graph.input_facts(node_id, validation.facts))
        each = sum((costs.price(usage, provider_of.get(usage.capability, "")) for usage in usages), Decimal("0"))
        reason = _why_it_runs(node_id in forced, upstream_runs, take, node.status)
        count = variations_of(params)
        planned[node_id] = PlannedNode(node_id, "run", reason, cost=each * count, key=key, variations=count)
        identity[node_id] = _planned_identity(key)
    ordered = [planned[node_id] for node_id in validation.order]
    return Plan(nodes=ordered, cost=sum((p.cost for p in ordered), Decimal("0")))


def _planned_identity(key: str):
    """The identity of an output that does not exist yet: the plan of the job that will make it."""
    return lambda port: f"plan:{key}/{port}"


# Said of a node whose last submit's outcome is unknown: the user confirming the plan is choosing to pay again.
MAY_CHARGE_AGAIN = "its last request may have been made and billed: running it again may charge again"


def _why_it_runs(forced: bool, upstream_runs: bool, take, status: str = "") -> str:
    if status == Node.Status.NEEDS_ATTENTION:
        return MAY_CHARGE_AGAIN
    if forced:
        return "run again on request"
    if upstream_runs:
        return "an input changes"
    return "never run" if take is None else "changed"


def _use_earlier_takes(project, plan, nodes) -> None:
    """Cached nodes whose matching take is not the selected one select it now, in the run's transaction,
    so the jobs downstream read it."""
    changed = []
    for planned in plan.nodes:
        node = nodes[planned.node_id]
        if planned.action != "cached" or planned.take.id == node.selected_take_id:
            continue
        take = planned.take
        Node.objects.filter(pk=node.pk).update(
            selected_take=take,
            output=take.outputs,
            cache_key=take.cache_key,
            status=Node.Status.SUCCEEDED,
            error_message="",
            updated_at=timezone.now(),
        )
        changed.append(node.pk)
    if changed:
        outdated = outdated_node_ids(project)
        for node in Node.objects.filter(pk__in=changed).select_related("selected_take"):
            announce.node_status(node, outdated=outdated)


def _start(project, plan, graph, validation, nodes, target_ids, user, force) -> Plan:
    _use_earlier_takes(project, plan, nodes)
    to_run = [planned for planned in plan.nodes if planned.action == "run"]
    joined = [planned for planned in plan.nodes if planned.action == "joined"]
    if not to_run and joined:
        # Everything needed is already under way: this request is the same run again.
        existing = Job.objects.get(pk=joined[-1].job_id).run
        plan.run = existing
        return plan
    quotas.check_run(
        user,
        [(get_node_type(nodes[p.node_id].type).queue, p.cost_of_each) for p in to_run for _ in range(p.variations)],
    )
    run = Run.objects.create(
        project=project,
        created_by=user,
        targets=target_ids,
        force=force,
        cost_estimate=plan.cost,
        status=Run.Status.RUNNING if to_run else Run.Status.SUCCEEDED,
        finished_at=None if to_run else timezone.now(),
    )
    job_of = {planned.node_id: planned.job_id for planned in joined}
    for planned in to_run:
        node = nodes[planned.node_id]
        incoming = graph.incoming(planned.node_id)
        depends_on = sorted(
            {job_of[edge.source] for edges in incoming.values() for edge in edges if edge.source in job_of}
        )
        # One job per take: what depends on the node waits for the first one's (job_of).
        for variation in range(1, planned.variations + 1):
            job = Job.objects.create(
                project=project,
                node=node,
                run=run,
                variation=variation,
                status=Job.Status.WAITING,  # until quotas.admit below queues it, or the jobs it depends on
                depends_on=depends_on,
                queue=get_node_type(node.type).queue,
                plan_key=planned.key,
                params=validation.params[planned.node_id].model_dump(mode="json"),
                state={"wiring": _wiring(incoming)},
                cost_estimate=planned.cost_of_each,
                created_by=user,
            )
            plan.jobs.append(job)
            if variation == 1:
                planned.job_id = job_of[planned.node_id] = str(job.id)
    run.plan = [planned.as_dict() for planned in plan.nodes]
    run.save(update_fields=["plan"])
    plan.run = run
    Node.objects.filter(id__in=[job.node_id for job in plan.jobs]).update(
        status=Node.Status.QUEUED, error_message="", updated_at=timezone.now()
    )
    # Jobs with nothing to wait for are queued, or wait for a generation slot (before the nodes are
    # announced, so each card says which).
    ready = quotas.admit([job for job in plan.jobs if not job.depends_on], announce_held=False)
    announce.run_planned(run)
    queued = Node.objects.filter(id__in=[job.node_id for job in plan.jobs]).select_related("selected_take")
    job_by_node = {job.node_id: job for job in plan.jobs if job.variation == 1}
    outdated = outdated_node_ids(project) if plan.jobs else set()
    for node in queued:
        announce.node_status(node, job_by_node[node.id], outdated)
    if not to_run:
        announce.run_finished(run)
    queues.enqueue_on_commit(ready)
    return plan


def _wiring(incoming) -> dict[str, list[dict[str, str]]]:
    """Which outputs feed each input port, frozen at plan time so later edits cannot change a running job."""
    return {
        port: [{"node": edge.source, "port": edge.source_port} for edge in edges] for port, edges in incoming.items()
    }

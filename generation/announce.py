"""What the engine tells the people watching a project about its work: a node's status, progress
and output, a job's error, a run planned or finished.

The engine does not know how this is shown. It announces; `live` (which sits above the engine and
reads it) turns each announcement into an event and sends it once the transaction commits. So the
data flows one way: the engine never imports `live`, and `live` may read everything the engine has.
"""

from __future__ import annotations

from typing import Any, Literal

from django.dispatch import Signal

from generation.models import Job, Run
from nodes.models import Node, Take

# Sent with sender=<the kind of announcement>, project_id, and the arguments of its event.
announced = Signal()

Kind = Literal["node_status", "node_progress", "node_output", "job_error", "run_planned", "run_finished"]


def _announce(kind: Kind, project_id, *args: Any, **kwargs: Any) -> None:
    announced.send(sender=kind, project_id=project_id, args=args, kwargs=kwargs)


def node_status(node: Node, job: Job | None = None, outdated: set[str] | None = None) -> None:
    _announce("node_status", node.project_id, node, job, outdated)


def node_progress(job: Job) -> None:
    _announce("node_progress", job.project_id, job)


def node_output(node: Node, take: Take) -> None:
    _announce("node_output", node.project_id, node, take)


def job_error(job: Job, *, retrying: bool) -> None:
    _announce("job_error", job.project_id, job, retrying=retrying)


def run_planned(run: Run) -> None:
    _announce("run_planned", run.project_id, run)


def run_finished(run: Run) -> None:
    _announce("run_finished", run.project_id, run)

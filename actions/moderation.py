"""Moderation and back-office actions. Each one changes what owners see at once (an event to their
open canvases), really reaches RQ where jobs are concerned, and is written to the audit log.

The admin calls these; so could any other tool. Nothing here deletes a file: hiding stops serving
it, and a moderator can undo that.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assets.models import Asset
from config.errors import Unprocessable
from generation import endings, planning
from generation.models import AuditEntry, Job, Report
from live import events, snapshot
from nodes.models import Node


def audit(actor, action: str, target, reason: str) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.model_name,
        target_id=str(target.pk),
        target=str(target)[:300],
        reason=reason,
    )


def _need_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Unprocessable("Reason: say why, for the audit log and for the owner.")
    return reason


# Hiding ----------------------------------------------------------------------------------------


def _nodes_showing(assets=(), characters=()) -> list[Node]:
    """The nodes whose current output shows any of these files or characters."""
    ids = {str(asset.id) for asset in assets} | {str(character.id) for character in characters}
    candidates = Node.objects.filter(
        Q(project_id__in={asset.project_id for asset in assets}) | Q(output__character__in=ids)
    ).select_related("selected_take")
    return [node for node in candidates if {str(value) for value in node.output.values()} & ids]


def _refresh_canvases(nodes: list[Node]) -> None:
    """Send the nodes' new state (files hidden or back) to every open canvas of their projects."""
    for node in nodes:
        transaction.on_commit(lambda node=node: events.broadcast(node.project_id, events.node_status(node)))


def hide_assets(assets, moderator, reason: str) -> int:
    return _set_hidden(assets, moderator, reason, hidden=True)


def unhide_assets(assets, moderator, reason: str) -> int:
    return _set_hidden(assets, moderator, reason, hidden=False)


@transaction.atomic
def _set_hidden(assets, moderator, reason: str, *, hidden: bool) -> int:
    """Hide or show files; those already so are left alone (and not audited)."""
    reason = _need_reason(reason)
    assets = [asset for asset in assets if (asset.hidden_at is None) == hidden]
    for asset in assets:
        asset.hidden_at, asset.hidden_reason = (timezone.now(), reason) if hidden else (None, "")
        asset.save(update_fields=["hidden_at", "hidden_reason"])
        audit(moderator, "hide_asset" if hidden else "unhide_asset", asset, reason)
    _refresh_canvases(_nodes_showing(assets))
    return len(assets)


def output_assets(takes) -> list[Asset]:
    """The files a take (an output) consists of."""
    ids = set().union(*(snapshot.output_ids(take.node.type, take.outputs)[0] for take in takes))
    return list(Asset.objects.filter(pk__in=ids))


def hide_takes(takes, moderator, reason: str) -> int:
    return hide_assets(output_assets(takes), moderator, reason)


@transaction.atomic
def hide_characters(characters, moderator, reason: str) -> int:
    reason = _need_reason(reason)
    characters = [character for character in characters if character.hidden_at is None]
    faces = []
    for character in characters:
        character.hidden_at, character.hidden_reason = timezone.now(), reason
        character.save(update_fields=["hidden_at", "hidden_reason"])
        audit(moderator, "hide_character", character, reason)
        faces += [face for face in (character.source_asset, character.face_asset) if face]
    hide_assets(faces, moderator, reason)  # the face itself is no longer served either
    _refresh_canvases(_nodes_showing(characters=characters))
    return len(characters)


# Users -----------------------------------------------------------------------------------------


@transaction.atomic
def suspend_users(users, moderator, reason: str) -> int:
    """Suspended users cannot log in (sessions and tokens stop working) and their active jobs stop."""
    reason = _need_reason(reason)
    count = 0
    for user in users:
        if user == moderator or user.is_superuser:
            raise Unprocessable(f"{user.get_username()} cannot be suspended by a moderator.")
        if not user.is_active:
            continue
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit(moderator, "suspend_user", user, reason)
        count += 1
        jobs = list(Job.objects.filter(created_by=user, status__in=Job.ACTIVE))
        transaction.on_commit(lambda jobs=jobs: endings.cancel_all(jobs, "Canceled: the account is suspended."))
    return count


@transaction.atomic
def reinstate_users(users, moderator, reason: str) -> int:
    reason = _need_reason(reason)
    count = 0
    for user in users:
        if user.is_active:
            continue
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit(moderator, "reinstate_user", user, reason)
        count += 1
    return count


# Jobs ------------------------------------------------------------------------------------------


def cancel_jobs(jobs, moderator, reason: str) -> int:
    reason = _need_reason(reason)
    count = 0
    for job in jobs:
        if endings.cancel_job(job, f"Canceled by a moderator: {reason}"):
            audit(moderator, "cancel_job", job, reason)
            count += 1
    return count


@transaction.atomic
def retry_jobs(jobs, moderator, reason: str) -> list[Job]:
    """A failed or canceled job runs again: a new run of its node, queued on RQ as the owner's."""
    reason = _need_reason(reason)
    started = []
    for job in jobs:
        if job.status not in (Job.Status.FAILED, Job.Status.CANCELED, Job.Status.NEEDS_ATTENTION):
            raise Unprocessable(f"{job} is {job.status}: only failed, canceled or needs-attention jobs can be retried.")
        if job.node_id is None:
            raise Unprocessable(f"{job} cannot run again: its node was deleted.")
        owner = job.created_by
        if owner is not None and not owner.is_active:
            raise Unprocessable(f"{job} belongs to a suspended account: reinstate it first.")
        plan = planning.plan_run(job.project, [str(job.node_id)], user=owner)
        audit(moderator, "retry_job", job, reason)
        started.extend(Job.objects.filter(run_id=plan.run.id, node_id=job.node_id))
    return started


# Reports ---------------------------------------------------------------------------------------


def report_output(node: Node, reporter, reason: str) -> Report:
    """A member reports what a node shows now: its current output's files go to the queue."""
    reason = _need_reason(reason)
    ids, _ = snapshot.output_ids(node.type, node.output)
    assets = list(Asset.objects.filter(project_id=node.project_id, pk__in=ids))
    if not assets:
        raise Unprocessable("This node shows no file to report.")
    report = Report.objects.create(
        project_id=node.project_id, node=node, source=Report.Source.USER, reason=reason[:2000], reporter=reporter
    )
    report.assets.set(assets)
    return report


@transaction.atomic
def resolve_reports(reports, moderator, *, hide: bool, reason: str) -> int:
    """Uphold (hide what was reported) or dismiss; either way the report leaves the queue."""
    reason = _need_reason(reason)
    count = 0
    for report in reports:
        if report.status != Report.Status.OPEN:
            continue
        if hide:
            hide_assets(list(report.assets.all()), moderator, reason)
        report.status = Report.Status.HIDDEN if hide else Report.Status.DISMISSED
        report.resolved_by, report.resolved_at, report.resolution = moderator, timezone.now(), reason
        report.save(update_fields=["status", "resolved_by", "resolved_at", "resolution"])
        audit(moderator, "uphold_report" if hide else "dismiss_report", report, reason)
        count += 1
    return count


def uphold_reports(reports, moderator, reason: str) -> int:
    return resolve_reports(reports, moderator, hide=True, reason=reason)


def dismiss_reports(reports, moderator, reason: str) -> int:
    return resolve_reports(reports, moderator, hide=False, reason=reason)

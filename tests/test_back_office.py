"""The back office: each admin action proven by its effect outside the admin (RQ, the API, the media
URL, the owner's login), what moderators may and may not do, and the metrics page against the database."""

import re
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import Group
from django.db.models import Count, Sum
from django.urls import reverse
from rq.job import Job as RQJob

from backoffice.moderators import MODERATORS
from characters.models import Character
from generation.models import AuditEntry, Job, Report, Run
from generation.planning import plan_run
from nodes.models import Node, Take
from projects.models import Membership
from projects.tokens import create_token
from tests.api import Api, error_of
from tests.factories import PASSWORD, UserFactory
from tests.graphs import add, film, upload, wait_for_run, wire
from tests.unchanged import changes_since, snapshot
from tests.websockets import headers_for, next_event, project_socket


@pytest.fixture
def moderator(db):
    user = UserFactory(username="mod", is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATORS))
    return user


def act(client, model: str, action: str, objects, reason: str = "Breaks rule 3: violence."):
    """Run an admin action on `objects` as the logged-in user, confirming it with a reason."""
    app = objects[0]._meta.app_label
    return client.post(
        reverse(f"admin:{app}_{model}_changelist"),
        {"action": action, "_selected_action": [str(o.pk) for o in objects], "confirm": "yes", "reason": reason},
    )


def client_of(client, user):
    client.force_login(user)
    return client


def messages_after(client, response) -> str:
    """The page an action's redirect leads to, with the messages the moderator reads there."""
    assert response.status_code == 302, response.status_code
    return client.get(response["Location"]).content.decode()


def audit_actions() -> list[tuple[str, str, str]]:
    return list(AuditEntry.objects.order_by("created_at").values_list("actor__username", "action", "reason"))


def shown_output(project, alice):
    """An image node showing its photo, as a finished run leaves it."""
    photo = upload(project)
    node = add(project, "image", "Photo", asset_id=str(photo.id))
    node.output = {"image": str(photo.id)}
    node.selected_take = Take.objects.create(node=node, number=1, outputs={"image": str(photo.id)}, provider="local")
    node.save()
    return node, photo


# Jobs: cancel and retry reach RQ -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_cancel_and_retry_from_the_admin_reach_rq(client, alice, project, moderator, redis):
    prompt = add(project, "prompt", "Line", text="A lighthouse in a storm")
    video = add(project, "video", "Shot", duration_seconds=4)
    wire(prompt, "text", video, "prompt")
    run = plan_run(project, [video.id], user=alice).run
    queued = Job.objects.get(run=run, node=prompt)
    assert RQJob.fetch(str(queued.id), connection=redis).get_status() == "queued"
    client.force_login(moderator)

    act(client, "job", "cancel_jobs", [queued])

    queued.refresh_from_db()
    assert queued.status == Job.Status.CANCELED
    assert queued.error_message == "Canceled by a moderator: Breaks rule 3: violence."
    assert RQJob.fetch(str(queued.id), connection=redis).get_status() == "canceled"
    assert Job.objects.get(run=run, node=video).status == Job.Status.CANCELED  # its dependant too

    act(client, "job", "retry_jobs", [queued], reason="The owner asked; the prompt is fine.")

    again = Job.objects.exclude(run=run).get(node=prompt)
    assert again.created_by == alice  # it runs as the owner's, not the moderator's
    assert again.status == Job.Status.QUEUED
    assert RQJob.fetch(str(again.id), connection=redis).get_status() == "queued"
    assert [a for _, a, _ in audit_actions()] == ["cancel_job", "retry_job"]


@pytest.mark.django_db(transaction=True)
def test_an_action_without_a_reason_asks_for_one_and_changes_nothing(client, alice, project, moderator, redis):
    add(project, "prompt", "Line", text="A lighthouse")
    job = Job.objects.get(run=plan_run(project, [], user=alice).run)
    client.force_login(moderator)
    before = snapshot()

    asking = client.post(
        reverse("admin:generation_job_changelist"), {"action": "cancel_jobs", "_selected_action": [str(job.id)]}
    )
    empty = act(client, "job", "cancel_jobs", [job], reason="  ")

    assert b"Why?" in asking.content
    assert empty.context["form"].errors == {"reason": ["This field is required."]}
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert not AuditEntry.objects.exists()
    assert changes_since(before) == {}
    assert RQJob.fetch(str(job.id), connection=redis).get_status() == "queued"  # a worker still takes it


# Hiding ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_hidden_file_is_no_longer_served_and_the_owners_canvas_says_so(client, alice, project, moderator, redis):
    node, asset = shown_output(project, alice)
    owner = Api(alice)
    url = owner.get(f"/assets/{asset.id}/url").json()["url"]
    owner_client = type(client)()
    owner_client.force_login(alice)
    assert owner_client.get(url).status_code == 200
    headers = headers_for(alice)
    take = node.selected_take
    client.force_login(moderator)

    async def hide_while_watching():
        socket = project_socket(project.id, headers)
        assert (await socket.connect())[0]
        await socket.receive_json_from()
        await sync_to_async(act)(client, "take", "hide_takes", [take])
        event = await next_event(socket)
        await socket.disconnect()
        return event

    event = async_to_sync(hide_while_watching)()

    assert event["type"] == "node.status"
    media = event["node"]["media"][str(asset.id)]
    assert media == {**media, "url": None, "hidden": "Breaks rule 3: violence."}
    assert owner_client.get(url).status_code == 404  # the link handed out before no longer works
    refused = owner.get(f"/assets/{asset.id}/url")
    assert refused.status_code == 410 and error_of(refused)["code"] == "hidden"
    graph_media = owner.get(f"/projects/{project.id}/graph").json()["nodes"][0]["media"][str(asset.id)]
    assert graph_media["url"] is None and graph_media["hidden"] == "Breaks rule 3: violence."
    assert client.get(url).status_code == 200  # moderators still see what they judge
    assert [a for _, a, _ in audit_actions()] == ["hide_asset"]

    act(client, "asset", "unhide_assets", [asset], reason="Appeal accepted.")

    assert owner_client.get(owner.get(f"/assets/{asset.id}/url").json()["url"]).status_code == 200


def test_a_hidden_character_leaves_its_owners_library(client, alice, project, moderator):
    face = upload(project)
    character = Character.objects.create(owner=alice, name="Ada", embedding=[1.0] + [0.0] * 511, source_asset=face)
    client.force_login(moderator)

    act(client, "character", "hide_characters", [character])

    assert Api(alice).get("/characters").json()["count"] == 0
    assert Api(alice).get(f"/characters/{character.id}").status_code == 404
    face.refresh_from_db()
    assert face.hidden_at is not None  # the face photo is not served either
    assert {a for _, a, _ in audit_actions()} == {"hide_character", "hide_asset"}


# Suspension --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_suspended_user_cannot_log_in_use_tokens_or_keep_running_jobs(client, alice, project, moderator, redis):
    _, secret = create_token(alice, "script")
    add(project, "prompt", "Line", text="A lighthouse")
    job = Job.objects.get(run=plan_run(project, [], user=alice).run)
    assert client.login(username="alice", password=PASSWORD)
    client.force_login(moderator)

    act(client, "user", "suspend_users", [alice], reason="Fraudulent payments.")

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED and job.error_message == "Canceled: the account is suspended."
    assert RQJob.fetch(str(job.id), connection=redis).get_status() == "canceled"
    assert not client.login(username="alice", password=PASSWORD)
    response = type(client)().get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert audit_actions() == [("mod", "suspend_user", "Fraudulent payments.")]

    act(client, "user", "reinstate_users", [alice], reason="Cleared.")

    assert client.login(username="alice", password=PASSWORD)


def test_a_moderator_cannot_suspend_themselves_or_a_superuser(client, moderator):
    boss = UserFactory(username="boss", is_superuser=True, is_staff=True)
    client.force_login(moderator)
    before = snapshot()

    page = messages_after(client, act(client, "user", "suspend_users", [boss]))
    themselves = messages_after(client, act(client, "user", "suspend_users", [moderator]))

    boss.refresh_from_db()
    assert boss.is_active
    assert not AuditEntry.objects.exists()
    assert changes_since(before) == {}  # the moderator is active too
    assert "Boss cannot be suspended by a moderator." in page
    assert "Mod cannot be suspended by a moderator." in themselves


# Reports and the moderation queue ------------------------------------------------------------------


def test_a_member_reports_an_output_and_a_moderator_upholds_or_dismisses(
    client, alice, bob, project, moderator, add_member
):
    add_member(bob, Membership.Role.VIEWER)
    node, asset = shown_output(project, alice)
    other = add(project, "prompt", "Words only", text="hello")

    stranger = Api(UserFactory())
    made = Api(bob).post(f"/projects/{project.id}/nodes/{node.id}/report", {"reason": "This is my face, no consent."})
    before = snapshot()
    nothing = Api(bob).post(f"/projects/{project.id}/nodes/{other.id}/report", {"reason": "bad"})
    outsider = stranger.post(f"/projects/{project.id}/nodes/{node.id}/report", {"reason": "x"})
    no_reason = Api(bob).post(f"/projects/{project.id}/nodes/{node.id}/report", {"reason": "  "})

    assert made.status_code == 201 and made.json()["assets"] == [str(asset.id)]
    assert nothing.status_code == 422
    assert error_of(nothing)["message"] == "This node shows no file to report."
    assert outsider.status_code == 404
    assert no_reason.status_code == 422
    assert changes_since(before) == {}  # one report, the one made
    report = Report.objects.get()
    assert (report.source, report.status, report.reporter) == (Report.Source.USER, Report.Status.OPEN, bob)
    client.force_login(moderator)
    queue = client.get(reverse("admin:generation_report_changelist") + "?status__exact=open")
    assert queue.status_code == 200 and b"This is my face, no consent." in queue.content
    assert list(queue.context["cl"].result_list) == [report]  # the one open report, and nothing else

    upheld = messages_after(client, act(client, "report", "uphold_reports", [report], reason="Consent missing."))

    report.refresh_from_db()
    asset.refresh_from_db()
    assert (report.status, report.resolved_by, report.resolution) == (
        Report.Status.HIDDEN,
        moderator,
        "Consent missing.",
    )
    assert asset.hidden_reason == "Consent missing."
    assert "hidden" in upheld.lower()  # the moderator is told what was done
    second = Report.objects.get(pk=Api(bob).post(f"/projects/{project.id}/nodes/{node.id}/report",
                                                 {"reason": "again"}).json()["id"])  # fmt: skip
    act(client, "report", "dismiss_reports", [second], reason="Already handled.")
    second.refresh_from_db()
    assert second.status == Report.Status.DISMISSED
    assert [a for _, a, _ in audit_actions()] == ["hide_asset", "uphold_report", "dismiss_report"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_safety_filter_block_lands_in_the_moderation_queue(project, alice, workers):
    prompt = add(project, "prompt", "Line", text="Something the filter refuses")
    video = add(project, "video", "Blocked shot", duration_seconds=4)
    wire(prompt, "text", video, "prompt")
    workers.start(1, REELGRAPH_VIDEO_PROVIDER="simulated", REELGRAPH_SIMULATED_FAILURES="blocked:violence")

    run = wait_for_run(plan_run(project, [video.id], user=alice).run)

    assert run.status == Run.Status.FAILED
    report = Report.objects.get()
    assert (report.source, report.status, report.node) == (Report.Source.SAFETY, Report.Status.OPEN, video)
    assert report.job == Job.objects.get(run=run, node=video)
    assert "violence" in report.reason


# Who may do what ---------------------------------------------------------------------------------


def test_a_moderator_inspects_and_moderates_but_changes_nothing_else(client, alice, project, moderator, redis):
    _, asset = shown_output(project, alice)
    prompt = add(project, "prompt", "Line", text="A lighthouse")
    job = Job.objects.get(run=plan_run(project, [prompt.id], user=alice).run)
    client.force_login(moderator)

    shown = {}
    for name in ("generation_job", "generation_report", "generation_auditentry", "assets_asset", "auth_user"):
        page = client.get(reverse(f"admin:{name}_changelist"))
        assert page.status_code == 200, name
        shown[name] = list(page.context["cl"].result_list)
    assert shown["generation_job"] == [job] and shown["assets_asset"] == [asset]
    assert shown["generation_report"] == shown["generation_auditentry"] == []
    assert {user.username for user in shown["auth_user"]} == {"alice", "mod"}
    assert client.get(reverse("admin-metrics")).status_code == 200
    change = reverse("admin:projects_project_change", args=[project.id])
    read_only = client.get(change)
    assert read_only.status_code == 200  # read-only view
    assert "Alice&#x27;s film" in read_only.content.decode() and not read_only.context["has_change_permission"]
    before = snapshot()
    assert client.post(change, {"name": "Renamed by a moderator"}).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert client.get(reverse("admin:projects_project_add")).status_code == 403
    assert client.get(reverse("django_rq:home")).status_code == 403  # the RQ dashboard can delete jobs
    project.refresh_from_db()
    assert project.name == "Alice's film"
    assert changes_since(before) == {}


def test_ordinary_users_never_reach_the_back_office_nor_its_actions(client, alice, project):
    _, asset = shown_output(project, alice)
    client.force_login(alice)
    before = snapshot()

    for url in (reverse("admin:index"), reverse("admin:generation_job_changelist"), reverse("admin-metrics")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url
    act(client, "asset", "hide_assets", [asset])
    act(client, "user", "suspend_users", [alice])
    asset.refresh_from_db()
    assert asset.hidden_at is None
    assert changes_since(before) == {} and not AuditEntry.objects.exists()


def test_staff_without_the_moderators_group_cannot_moderate(client, alice, project):
    _, asset = shown_output(project, alice)
    staff = UserFactory(username="intern", is_staff=True)
    client.force_login(staff)
    before = snapshot()

    assert client.get(reverse("admin:assets_asset_changelist")).status_code == 403
    act(client, "asset", "hide_assets", [asset])
    act(client, "user", "suspend_users", [alice])
    asset.refresh_from_db()
    assert asset.hidden_at is None
    assert changes_since(before) == {} and not AuditEntry.objects.exists()


# Metrics -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_metrics_page_matches_the_database_after_real_runs(client, alice, project, moderator, workers):
    nodes = film(project)
    workers.start(2)
    wait_for_run(plan_run(project, [nodes["stitch"].id], user=alice).run)
    wait_for_run(plan_run(project, [nodes["stitch"].id], user=alice).run)  # everything cached
    client.force_login(moderator)

    page = client.get(reverse("admin-metrics")).content.decode()

    def metric(name):
        return re.search(rf'data-metric="{name}">([^<]+)<', page).group(1)

    plans = [entry for plan in Run.objects.values_list("plan", flat=True) for entry in plan]
    cached = sum(entry["action"] == "cached" for entry in plans)
    assert cached == len(nodes)  # the second run cached all five
    assert float(metric("cache-hit-rate")) == pytest.approx(cached / len(plans), abs=1e-3)
    spend = Job.objects.aggregate(total=Sum("cost_actual"))["total"] or Decimal(0)
    assert Decimal(metric("total-spend")) == spend.quantize(Decimal("0.0001"))
    succeeded = Job.objects.filter(status=Job.Status.SUCCEEDED)
    for row in succeeded.values("provider", "model").annotate(n=Count("id")):
        provider, model = re.escape(row["provider"] or "(none)"), re.escape(row["model"] or "—")
        cells = rf"<td>{provider}</td><td>{model}</td><td>{row['n']}</td>"
        assert re.search(cells, page), row
    day_row = re.search(r'data-table="days">.*?<tbody><tr><td>[\d-]+</td><td>(\d+)</td>', page, re.S)
    assert int(day_row.group(1)) == succeeded.count()
    drift = Take.objects.filter(details__has_key="identity_drift")
    if drift.exists():
        assert float(metric("drift-rate")) == pytest.approx(
            drift.filter(details__identity_drift=True).count() / drift.count(), abs=1e-3
        )
    assert Node.objects.filter(project=project, status=Node.Status.SUCCEEDED).count() == len(nodes)


@pytest.mark.django_db(transaction=True)
def test_a_refused_retry_of_a_mixed_selection_retries_none_of_it(client, alice, project, moderator, redis):
    still_queued = Job.objects.get(run=plan_run(project, [add(project, "prompt", "One", text="a").id], user=alice).run)
    canceled = Job.objects.get(run=plan_run(project, [add(project, "prompt", "Two", text="b").id], user=alice).run)
    act(client_of(client, moderator), "job", "cancel_jobs", [canceled])
    before, enqueued = snapshot(), sorted(redis.keys("rq:job:*"))

    page = messages_after(client, act(client, "job", "retry_jobs", [still_queued, canceled]))

    assert f"{str(still_queued).capitalize()} is queued: only failed" in page
    assert changes_since(before) == {}  # the canceled one is not retried behind the refusal's back
    assert sorted(redis.keys("rq:job:*")) == enqueued

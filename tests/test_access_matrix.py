"""Who may do what: every page and endpoint of the URL configuration, and the live channel, for
each kind of visitor. A route without an entry here fails `test_every_route_has_an_entry`.

Roles: anonymous; an outsider (logged in, not a member); a viewer, an editor and the owner of the
project; and a moderator (staff in the Moderators group, not a member). Each request runs in a
savepoint that is rolled back, so one role's allowed DELETE does not change what the next sees.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from html.parser import HTMLParser

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver

from assets.serving import signed_url
from backoffice.moderators import MODERATORS
from generation.models import Job
from live import events
from nodes.notes import add_note
from projects.models import Membership
from projects.tokens import create_token
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import FIXTURES, add, history, wire
from tests.websockets import headers_for, project_socket

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "viewer", "editor", "owner", "moderator")

# Outcomes: "ok" is any 2xx or 3xx that is not a way to a login page; "login" is the login page
# (pages) or 401 (API); "admin-login" the admin's login page; numbers are exact statuses.
OK, LOGIN, ADMIN_LOGIN = "ok", "login", "admin-login"
PUBLIC = (OK,) * 6
ANY_USER = (LOGIN, OK, OK, OK, OK, OK)
MEMBERS = (LOGIN, 404, OK, OK, OK, 404)
EDITORS = (LOGIN, 404, 403, OK, OK, 404)
OWNER = (LOGIN, 404, 403, 403, OK, 404)
OWN_THINGS = (LOGIN, 404, 404, 404, OK, 404)  # per-user objects: characters, tokens
STAFF = (ADMIN_LOGIN,) * 5 + (OK,)
SUPERUSERS = (ADMIN_LOGIN,) * 5 + (403,)

# (route, url name) -> {method: outcomes per role, or (outcomes, body)}. Bodies are valid, so a
# refusal is about who asks, not what they sent. "upload" is a fresh multipart photo.
MATRIX: dict[tuple[str, str], dict] = {
    ("", "home"): {"GET": (LOGIN, OK, OK, OK, OK, OK)},
    ("favicon.ico", "favicon"): {"GET": PUBLIC},
    ("accounts/login/", "login"): {"GET": PUBLIC},
    ("accounts/logout/", "logout"): {"POST": (LOGIN,) * 6, "GET": (405,) * 6},  # to the login page
    ("accounts/signup/", "signup"): {"GET": PUBLIC},
    ("account/tokens/", "tokens"): {"GET": ANY_USER, "POST": (ANY_USER, {"name": "laptop"})},
    ("projects/", "project-list"): {"GET": ANY_USER, "POST": (ANY_USER, {"name": "Another film"})},
    ("projects/<uuid:project_id>/", "project-detail"): {"GET": MEMBERS},
    ("projects/<uuid:project_id>/settings/", "project-settings"): {
        "GET": MEMBERS,
        "POST": ((LOGIN, 404, 403, 403, OK, 404), {"action": "add", "username": "carol", "role": "viewer"}),
    },
    ("projects/<uuid:project_id>/rename/", "project-rename"): {"POST": (OWNER, {"name": "Renamed"})},
    ("projects/<uuid:project_id>/duplicate/", "project-duplicate"): {"POST": MEMBERS},
    ("projects/<uuid:project_id>/delete/", "project-delete"): {"GET": OWNER, "POST": OWNER},
    ("projects/<uuid:project_id>/nodes/<uuid:node_id>/inspector/", "inspector"): {
        "GET": MEMBERS,
        "POST": (EDITORS, {"version": "{node_version}", "title": "Shot", "text": "A lighthouse"}),
    },
    ("characters/", "characters"): {"GET": ANY_USER},
    ("characters/<uuid:character_id>/similar/", "character-similar"): {"GET": OWN_THINGS},
    ("characters/<uuid:character_id>/rename/", "character-rename"): {"POST": (OWN_THINGS, {"name": "Ada"})},
    ("characters/<uuid:character_id>/merge/", "character-merge"): {"POST": (OWN_THINGS, {"into": "{twin_id}"})},
    ("characters/<uuid:character_id>/delete/", "character-delete"): {"GET": OWN_THINGS, "POST": OWN_THINGS},
    ("media/<str:token>", "media-file"): {"GET": PUBLIC},  # the signature is the permission
    ("admin/metrics/", "admin-metrics"): {"GET": STAFF},
    # The JSON API
    ("api/v1/openapi.json", "openapi-json"): {"GET": PUBLIC},
    ("api/v1/docs", "openapi-view"): {"GET": PUBLIC},
    ("api/v1/", "api-root"): {"GET": (404,) * 6},
    ("api/v1/health", "health"): {"GET": PUBLIC},
    ("api/v1/projects", "list_projects"): {"GET": ANY_USER},
    ("api/v1/projects", "create"): {"POST": (ANY_USER, {"name": "Another film"})},
    ("api/v1/projects/<project_id>", "read"): {"GET": MEMBERS},
    ("api/v1/projects/<project_id>", "rename"): {"PATCH": (OWNER, {"name": "Renamed"})},
    ("api/v1/projects/<project_id>", "delete"): {"DELETE": OWNER},
    ("api/v1/projects/<project_id>/members", "members"): {"GET": MEMBERS},
    ("api/v1/projects/<project_id>/members", "add_member"): {"POST": (OWNER, {"username": "carol", "role": "viewer"})},
    ("api/v1/projects/<project_id>/members/<user_id>", "change_role"): {"PATCH": (OWNER, {"role": "editor"})},
    # The member at <user_id> is the viewer: they may leave; the editor may not remove them.
    ("api/v1/projects/<project_id>/members/<user_id>", "remove_member"): {"DELETE": (LOGIN, 404, OK, 403, OK, 404)},
    ("api/v1/projects/<project_id>/assets", "upload"): {"POST": (EDITORS, "upload")},
    ("api/v1/projects/<project_id>/assets", "list_assets"): {"GET": MEMBERS},
    # An editor may add only a character of their own library (the world's character is the owner's).
    ("api/v1/projects/<project_id>/assets/from-character/<character_id>", "from_character"): {
        "POST": (LOGIN, 404, 403, 404, OK, 404)
    },
    ("api/v1/assets/<asset_id>", "read_asset"): {"GET": MEMBERS},
    ("api/v1/assets/<asset_id>/url", "asset_url"): {"GET": MEMBERS},
    # Direct uploads need S3 (without it a 404 direct_upload_unavailable) once the caller may upload at all.
    ("api/v1/projects/<project_id>/assets/uploads", "start_direct_upload"): {
        "POST": ((LOGIN, 404, 403, 404, 404, 404), {"name": "face.png"})
    },
    ("api/v1/projects/<project_id>/assets/uploads/complete", "finish_direct_upload"): {
        "POST": ((LOGIN, 404, 403, 404, 404, 404), {"key": "projects/x/incoming/y"})
    },
    ("api/v1/tokens", "new_token"): {"POST": (PUBLIC, {"username": "alice", "password": PASSWORD, "name": "cli"})},
    ("api/v1/tokens", "tokens"): {"GET": ANY_USER},
    ("api/v1/tokens/<token_id>", "revoke"): {"DELETE": OWN_THINGS},
    ("api/v1/node-types", "node_types"): {"GET": ANY_USER},
    ("api/v1/projects/<project_id>/graph", "graph"): {"GET": MEMBERS},
    ("api/v1/projects/<project_id>/graph/export", "export"): {"GET": MEMBERS},
    ("api/v1/projects/<project_id>/graph/import", "import_document"): {
        "POST": (EDITORS, {"nodes": [{"key": "a", "type": "prompt", "params": {"text": "x"}}], "edges": []})
    },
    ("api/v1/projects/<project_id>/nodes", "add_node"): {"POST": (EDITORS, {"type": "prompt", "params": {}})},
    ("api/v1/projects/<project_id>/nodes/<node_id>", "read_node"): {"GET": MEMBERS},
    ("api/v1/projects/<project_id>/nodes/<node_id>", "update_node"): {
        "PATCH": (EDITORS, {"version": "{node_version}", "title": "Renamed"})
    },
    ("api/v1/projects/<project_id>/nodes/<node_id>", "delete_node"): {"DELETE": EDITORS},
    ("api/v1/projects/<project_id>/edges", "connect"): {
        "POST": (
            EDITORS,
            {
                "source": "{prompt_id}",
                "source_port": "text",
                "target": "{spare_id}",
                "target_port": "prompt",
            },
        )
    },
    ("api/v1/projects/<project_id>/edges/<edge_id>", "disconnect"): {"DELETE": EDITORS},
    ("api/v1/projects/<project_id>/nodes/<node_id>/inputs/<port>/order", "reorder_inputs"): {
        "PUT": (EDITORS, {"edges": ["{edge_id}"]})
    },
    ("api/v1/projects/<project_id>/nodes/<node_id>/takes", "takes"): {"GET": MEMBERS},
    ("api/v1/projects/<project_id>/notes", "notes"): {"GET": MEMBERS},
    ("api/v1/projects/<project_id>/notes", "add_note"): {"POST": (EDITORS, {"text": "Call Ana", "x": 10, "y": 20})},
    ("api/v1/projects/<project_id>/notes/<note_id>", "update_note"): {
        "PATCH": (EDITORS, {"version": "{note_version}", "text": "Called"})
    },
    ("api/v1/projects/<project_id>/notes/<note_id>", "delete_note"): {"DELETE": EDITORS},
    ("api/v1/projects/<project_id>/nodes/<node_id>/takes/<take_id>/select", "select_take"): {"POST": EDITORS},
    ("api/v1/projects/<project_id>/nodes/<node_id>/report", "report"): {"POST": (MEMBERS, {"reason": "Not ok."})},
    # Let through for editors and the owner, then refused because the world's node is a video, not a
    # storyboard (a 409 that says so); tests/test_storyboard_expand.py expands a real one.
    ("api/v1/projects/<project_id>/nodes/<node_id>/expand", "expand"): {"POST": (LOGIN, 404, 403, 409, 409, 404)},
    # The same: the world's node is no storyboard; tests/test_storyboard_regenerate.py rewrites real shots.
    ("api/v1/projects/<project_id>/nodes/<node_id>/shots/<shot_id>/regenerate", "regenerate_shot"): {
        "POST": (LOGIN, 404, 403, 409, 409, 404)
    },
    ("api/v1/projects/<project_id>/runs", "start_run"): {
        "POST": (EDITORS, {"dry_run": True, "targets": ["{node_id}"]})
    },
    ("api/v1/projects/<project_id>/runs", "list_runs"): {"GET": MEMBERS},
    ("api/v1/projects/<project_id>/plan", "read_plan"): {"GET": MEMBERS},
    ("api/v1/runs/<run_id>", "read_run"): {"GET": MEMBERS},
    ("api/v1/runs/<run_id>/cancel", "cancel_run"): {"POST": EDITORS},
    ("api/v1/jobs", "list_jobs"): {"GET": ANY_USER},  # each sees their projects' jobs only
    ("api/v1/jobs/<job_id>", "read_job"): {"GET": MEMBERS},
    ("api/v1/jobs/<job_id>/cancel", "cancel_job"): {"POST": EDITORS},
    ("api/v1/jobs/<job_id>/retry", "retry_job"): {"POST": EDITORS},
    ("api/v1/jobs/<job_id>/keep", "keep_job"): {"POST": EDITORS},
    ("api/v1/characters", "characters"): {"GET": ANY_USER},
    ("api/v1/characters/search", "search"): {"POST": (ANY_USER, "upload")},
    ("api/v1/characters/<character_id>", "read"): {"GET": OWN_THINGS},
    ("api/v1/characters/<character_id>", "rename"): {"PATCH": (OWN_THINGS, {"name": "Ada"})},
    ("api/v1/characters/<character_id>", "delete"): {"DELETE": OWN_THINGS},
    ("api/v1/characters/<character_id>/similar", "similar"): {"GET": OWN_THINGS},
    ("api/v1/characters/<character_id>/merge", "merge"): {"POST": (OWN_THINGS, {"into": "{twin_id}"})},
    ("^api/", "api-not-found"): {"GET": (404,) * 6, "POST": (404,) * 6},  # JSON, for everyone
}
NO_ADMIN = (ADMIN_LOGIN,) * 5
DENIED = (*NO_ADMIN, 403)
# The admin is for staff; moderators view and moderate, but add, delete, change passwords, see
# groups or tokens never; the RQ dashboard (it can delete jobs) is for superusers only. The first
# rule whose prefix and name match is the entry of an admin route.
ADMIN_RULES = [
    ("admin/rq/", r"home_json", (401,) * 5 + (403,)),  # django-rq's JSON: its own 401
    ("admin/rq/", r".*", SUPERUSERS),
    ("admin/", r"login", PUBLIC),
    ("admin/", r"logout", (OK,) * 5 + (405,)),  # POST only, for staff
    ("admin/", r".*_(add|delete)|auth_user_password_change|autocomplete|auth_group_.*|projects_apitoken_.*", DENIED),
    # Lockouts and login logs: superusers only. The world's logins leave access logs, so the log's
    # history page exists (403); the others have no object yet (the admin redirects).
    ("admin/axes/", r"axes_.*_(changelist|change|add|delete)|axes_accesslog_history", DENIED),
    ("admin/", r"view_on_site", (*NO_ADMIN, 404)),  # no model here has a public page
    ("admin/(?P<url>.*)$", r"None", (*NO_ADMIN, 404)),  # the catch-all: an unknown admin page
    ("admin/", r".*", STAFF),
]

# The live channel: who may connect, and what a connected client may send (nothing: the API is
# the one way to change things) or receive (every event of the project it belongs to).
WS_CONNECT = (False, False, True, True, True, False)
WS_EVENTS = {
    "graph.snapshot", "run.planned", "run.finished", "node.status", "node.progress", "node.output", "job.error",
    "node.created", "node.updated", "node.deleted", "edge.created", "edge.deleted", "edges.reordered",
    "note.created", "note.updated", "note.deleted", "project.updated", "member.changed", "member.removed", "presence",
}  # fmt: skip


def routes():
    """(route, name) of every URL pattern, with includes flattened."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.name

    return list(walk(get_resolver().url_patterns))


def entry_for(route: str, name: str):
    if (route, name) in MATRIX:
        return MATRIX[(route, name)]
    for prefix, names, outcomes in ADMIN_RULES:
        if route.startswith(prefix) and re.fullmatch(names, str(name)):
            return {"GET": outcomes}
    return None


def test_every_route_has_an_entry():
    missing = [route for route in routes() if entry_for(*route) is None]
    stale = set(MATRIX) - set(routes())
    assert not missing, f"add these routes to MATRIX with who may use them: {missing}"
    assert not stale, f"MATRIX lists routes that no longer exist: {stale}"


def test_every_live_event_type_has_an_entry():
    from typing import get_args, get_type_hints

    types = {value for event in get_args(events.Event) for value in get_args(get_type_hints(event)["type"])}
    assert types == WS_EVENTS


@pytest.fixture
def world(settings, redis):
    settings.RUN_RATE_LIMIT = None
    owner = UserFactory(username="alice")
    people = {
        "owner": owner,
        "outsider": UserFactory(username="bob"),
        "viewer": UserFactory(username="vic"),
        "editor": UserFactory(username="erin"),
        "moderator": UserFactory(username="mod", is_staff=True),
    }
    people["moderator"].groups.add(Group.objects.get(name=MODERATORS))
    UserFactory(username="carol")
    project = ProjectFactory(owner=owner, name="Alice's film")
    Membership.objects.create(project=project, user=people["viewer"], role=Membership.Role.VIEWER)
    Membership.objects.create(project=project, user=people["editor"], role=Membership.Role.EDITOR)
    prompt = add(project, "prompt", "Line", text="A lighthouse")
    video = add(project, "video", "Shot", duration_seconds=4)
    edge = wire(prompt, "text", video, "prompt")
    spare = add(project, "video", "Unwired", duration_seconds=4)
    made = history(project, owner, video)
    asset, run, job, take = made["asset"], made["run"], made["job"], made["take"]
    character, twin = made["character"], made["twin"]
    # Canceled after its submit, so its video can be kept (each role's request is rolled back).
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELED, provider_operation="local-x")
    job.refresh_from_db()
    token, _ = create_token(owner, "laptop")
    note = add_note(project, owner, text="Shoot at dawn")
    values = {
        "project_id": project.id, "node_id": video.id, "prompt_id": prompt.id, "user_id": people["viewer"].id,
        "asset_id": asset.id, "token_id": token.id, "edge_id": edge.id, "take_id": take.id, "run_id": run.id,
        "job_id": job.id, "character_id": character.id, "twin_id": twin.id, "spare_id": spare.id,
        "node_version": video.version, "port": "prompt", "note_id": note.id, "note_version": note.version,
        "token": signed_url(asset)[0].rsplit("/", 1)[-1], "object_id": project.id, "queue_index": 0,
        "job_id_rq": "x", "key": "x", "result_id": "x", "scheduler_index": 0, "connection_index": 0,
        "scheduler_name": "x", "cron_job_name": "x",
    }  # fmt: skip
    return people, values


def concrete(route: str, values: dict) -> str:
    """A URL for a route pattern, with the world's ids in its parameters (regex routes made literal)."""
    url = re.sub(r"\(\?P<(\w+)>([^)]*)\)\??", lambda m: m.group(2).split("|")[0] if "|" in m.group(2) else "x", route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), "x")), url)
    return "/" + url.replace("^", "").replace("$", "").replace("/?", "/")


def admin_object(route: str) -> dict:
    """The admin's object_id: the pk of an existing object of the model the route is about."""
    parts = route.split("/")
    if not route.startswith("admin/") or "<path:object_id>" not in route or len(parts) < 4:
        return {}
    try:
        found = apps.get_model(parts[1], parts[2]).objects.first()
    except LookupError:
        return {}
    return {"object_id": found.pk if found else "0"}


def fill(body, values: dict):
    if isinstance(body, dict):
        return {key: fill(value, values) for key, value in body.items()}
    if isinstance(body, list):
        return [fill(value, values) for value in body]
    if isinstance(body, str) and re.fullmatch(r"\{\w+\}", body):
        value = values[body[1:-1]]
        return value if isinstance(value, int) else str(value)
    return body


def send(client: Client, method: str, url: str, body, api: bool):
    if body == "upload":
        photo = SimpleUploadedFile("face.png", (FIXTURES / "astronaut.png").read_bytes())
        return client.post(url, {"file": photo})
    if api and method != "GET":
        return client.generic(method, url, json.dumps(body or {}), content_type="application/json")
    if method == "POST":
        return client.post(url, body or {})
    return getattr(client, method.lower())(url)


def outcome(response, api: bool):
    status = response.status_code
    location = response.get("Location", "")
    if status == 302 and "/admin/login/" in location:
        return ADMIN_LOGIN
    if (status == 302 and "/accounts/login/" in location) or (api and status == 401):
        return LOGIN
    if 200 <= status < 400:
        return OK
    return status


def clients(people) -> dict[str, tuple[Client, Client]]:
    """Per role: a browser client (session) and an API client (bearer token, or nothing)."""
    made = {"anonymous": (Client(), Client())}
    for role, user in people.items():
        browser = Client()
        browser.force_login(user)
        made[role] = (browser, Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'matrix')[1]}"))
    return made


def test_every_route_answers_each_role_as_the_matrix_says(world):
    people, values = world
    by_role = clients(people)
    wrong = []
    for route, name in routes():
        entry = entry_for(route, name)
        api = route.startswith("api/")
        for method, expected in entry.items():
            outcomes, body = expected if isinstance(expected[0], tuple) else (expected, None)
            url = concrete(route, values | admin_object(route))
            for role, wanted in zip(ROLES, outcomes, strict=True):
                client = by_role[role][1 if api else 0]
                cookies = copy.deepcopy(client.cookies)
                with transaction.atomic():
                    response = send(client, method, url, fill(body, values), api)
                    transaction.set_rollback(True)
                client.cookies = cookies  # a logout (rolled back in the database) ends nobody's session
                got = outcome(response, api)
                if got != wanted:
                    wrong.append(f"{method} {url} ({name}) as {role}: expected {wanted}, got {got}")
    assert not wrong, "\n".join(wrong)


class Scripts(HTMLParser):
    """Counts inline script: <script> without src, and on* event-handler attributes."""

    def __init__(self):
        super().__init__()
        self.inline = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.inline.append("<script> without src")
        self.inline += [f"{tag} {name}=" for name in attributes if name.startswith("on")]


def test_pages_carry_a_script_policy_they_keep(world):
    """Every page the owner and the moderator can open has the CSP header and no inline script."""
    people, values = world
    by_role = clients(people)
    checked = 0
    for route, name in routes():
        if route.startswith("api/") or route.startswith("admin/rq/") or "GET" not in entry_for(route, name):
            continue
        role = "moderator" if route.startswith("admin/") else "owner"
        response = by_role[role][0].get(concrete(route, values))
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        parser = Scripts()
        parser.feed(response.content.decode())
        assert not parser.inline, f"{route}: {parser.inline}"
        checked += 1
    assert checked >= 25


@pytest.mark.django_db(transaction=True)
def test_the_live_channel_admits_members_only_and_takes_no_messages(redis):
    owner = UserFactory(username="alice")
    project = ProjectFactory(owner=owner)
    people = {
        "anonymous": None,
        "outsider": UserFactory(username="bob"),
        "viewer": UserFactory(username="vic"),
        "editor": UserFactory(username="erin"),
        "owner": owner,
        "moderator": UserFactory(username="mod", is_staff=True),
    }
    people["moderator"].groups.add(Group.objects.get(name=MODERATORS))
    Membership.objects.create(project=project, user=people["viewer"], role=Membership.Role.VIEWER)
    Membership.objects.create(project=project, user=people["editor"], role=Membership.Role.EDITOR)
    headers = {role: headers_for(user) for role, user in people.items()}

    layer = get_channel_layer()

    async def check():
        sockets = {}
        for role, admitted in zip(ROLES, WS_CONNECT, strict=True):
            socket = project_socket(project.id, headers[role])
            connected, code = await socket.connect()
            assert connected == admitted, f"{role} connected={connected} ({code})"
            if connected:
                assert (await socket.receive_json_from())["type"] == "graph.snapshot"
                sockets[role] = socket
        for socket in sockets.values():
            await socket.send_json_to({"type": "node.update", "node": str(uuid.uuid4())})
            while (answer := await socket.receive_json_from()).get("type") == "presence":
                pass
            assert answer["type"] == "error" and answer["error"]["code"] == "unsupported"
        for event_type in sorted(WS_EVENTS - {"graph.snapshot", "member.removed"}):
            await layer.group_send(
                events.group_name(project.id), {"type": "project.event", "event": {"type": event_type}}
            )
            for role, socket in sockets.items():
                while (received := await socket.receive_json_from())["type"] == "presence" and event_type != "presence":
                    pass
                assert received["type"] == event_type, role
        for socket in sockets.values():
            await socket.disconnect()

    async_to_sync(check)()

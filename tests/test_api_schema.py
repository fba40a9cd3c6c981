"""Schemathesis generates requests for every operation of the OpenAPI document, valid ones and
invalid ones (wrong types, missing fields, values out of range, NUL characters, bodies that are not
objects), and runs every check it has: never a 5xx, every status, content type, header and body as
documented, invalid data refused, valid data accepted, no operation that ignores authentication.

Ids in paths and bodies are those of a seeded project (nodes, an edge, a take, a note, a run and its
job, an asset, characters, a member, a token), so id-scoped operations reach their code instead of
answering 404. The stateful test chains operations by the links schemathesis infers from the
document (a created node's id into GET/PATCH/DELETE of that node...), which adds use_after_free and
ensure_resource_availability. The suite runs a quick derandomised profile; `make fuzz`
(REELGRAPH_FUZZ=1) a randomised one with many more examples and longer scenarios.
"""

import io
import os
import uuid

import pytest
import schemathesis
from django.apps import apps
from django.core.wsgi import get_wsgi_application
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import ensure_resource_availability, positive_data_acceptance

from config.unstorable import first_unstorable
from nodes.models import Node, Note
from nodes.notes import add_note
from projects.models import Membership
from projects.tokens import create_token, user_for
from tests.factories import PASSWORD, ProjectFactory, UserFactory
from tests.graphs import FIXTURES, add, history, wire

FUZZ = os.environ.get("REELGRAPH_FUZZ") == "1"
# `make fuzz` runs far more examples than the suite's 300 s per test allow.
LONG_ENOUGH = pytest.mark.timeout(3600 if FUZZ else 300)

CONFIG = SchemathesisConfig.from_dict(
    {
        # Every built-in check runs. Two run inside narrower checks below, each without one
        # documented false positive: positive_data_acceptance inside
        # `valid_data_accepted_or_refused_for_a_documented_reason`, ensure_resource_availability
        # inside `created_resources_stay_available`.
        "checks": {"positive_data_acceptance": {"enabled": False}, "ensure_resource_availability": {"enabled": False}},
        # NUL characters are generated in every string (schemathesis's allow-x00, on by default).
        # No generated session cookies: every request carries the fuzzer's token, and ignored_auth
        # checks that each operation refuses the same request without it.
        "generation": {"allow-x00": True, "with-security-parameters": False},
        "phases": {"stateful": {"max-steps": 40 if FUZZ else 12}},
    }
)


def _png(picture: Image.Image) -> bytes:
    encoded = io.BytesIO()
    picture.save(encoded, format="PNG")
    return encoded.getvalue()


# A file part declared image/png is a real picture: a plain square, or a (small) photo with a face.
PICTURES = [
    _png(Image.new("RGB", (32, 32), (200, 120, 40))),
    _png(Image.open(FIXTURES / "astronaut.png").convert("RGB").resize((192, 192))),
]
schemathesis.openapi.media_type("image/png", st.sampled_from(PICTURES))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), config=CONFIG)

# Operations where a request the document calls valid may still be refused, because the rule
# depends on content or stored data a JSON Schema cannot state: which ports and params a node type
# has, whether a graph would loop, whether a user exists, whether a file is a picture we can decode
# and shows a face. The refusal must still be the API's error shape saying why (checked below).
UNSUPPORTED_FILE = ({413, 415}, "the file must be an image, video or audio file we can decode, within the size limit")
RULES_BEYOND_THE_SCHEMA: dict[str, tuple[set[int], str]] = {
    "POST /api/v1/projects/{project_id}/members": ({422}, "the username must be an existing user"),
    "PATCH /api/v1/projects/{project_id}/members/{user_id}": ({422}, "the owner's role cannot change"),
    "DELETE /api/v1/projects/{project_id}/members/{user_id}": ({422}, "the owner cannot leave"),
    "POST /api/v1/projects/{project_id}/nodes": ({422}, "params are checked against the node type's own schema"),
    "PATCH /api/v1/projects/{project_id}/nodes/{node_id}": ({422}, "params are checked against the node type's"),
    "POST /api/v1/projects/{project_id}/edges": ({422}, "ports exist per node type, kinds must match, no loops"),
    "PUT /api/v1/projects/{project_id}/nodes/{node_id}/inputs/{port}/order": ({422}, "every edge into the port, once"),
    "POST /api/v1/projects/{project_id}/graph/import": ({422}, "node types, params and ports of the document"),
    "POST /api/v1/projects/{project_id}/runs": ({422}, "the graph must be valid (every problem is named)"),
    "POST /api/v1/jobs/{job_id}/retry": ({422}, "the graph must be valid"),
    "POST /api/v1/projects/{project_id}/assets": UNSUPPORTED_FILE,
    "POST /api/v1/characters/search": ({413, 415, 422}, UNSUPPORTED_FILE[1] + ", with a face in it"),
    "POST /api/v1/characters/{character_id}/merge": ({422}, "not into itself, and made with the same face model"),
    "POST /api/v1/projects/{project_id}/nodes/{node_id}/takes/{take_id}/select": ({422}, "the take's inputs exist"),
    "POST /api/v1/projects/{project_id}/nodes/{node_id}/report": ({422}, "the node must show a file"),
}


def _unstorable_in(case) -> tuple[str, str] | None:
    for part in (case.path_parameters, case.query, case.body):
        if isinstance(part, dict | list | str):
            found = first_unstorable(part)
            if found:
                return found
    return None


def _malformed_id_in_path(case) -> bool:
    """A stateful link filled an id in the path from a null field of an earlier answer (`/jobs/None/
    cancel` from a plan's cached node, whose `job` is null): the request is not valid after all."""
    return any(name.endswith("_id") and not _is_an_id(value) for name, value in (case.path_parameters or {}).items())


@schemathesis.check
def valid_data_accepted_or_refused_for_a_documented_reason(ctx, response, case) -> bool | None:
    """positive_data_acceptance, without its false positives: text PostgreSQL cannot store (a
    JSON Schema `string` allows NUL, the server refuses it everywhere with a 422 naming the field:
    config/unstorable.py), the refusals listed in RULES_BEYOND_THE_SCHEMA, and an id a link took
    from a null field. Each must be the API's error shape saying what is wrong."""
    statuses, _ = RULES_BEYOND_THE_SCHEMA.get(case.operation.label, (set(), ""))
    if (response.status_code == 422 and (_unstorable_in(case) or _malformed_id_in_path(case))) or (
        response.status_code in statuses
    ):
        error = response.json().get("error", {})
        assert error.get("code") and error.get("message"), f"a refusal that does not say why: {response.text}"
        return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.check
def created_resources_stay_available(ctx, response, case) -> bool | None:
    """ensure_resource_availability, except for its false positive: after POST /projects made a
    project, a POST into that project that names a missing node or character in its body is a 404
    too (another user's object is never confirmed to exist), and the check takes it for the project
    gone. Such a 404 names the body field (`details.field`, config.errors.NotFound)."""
    if response.status_code == 404 and isinstance(case.body, dict):
        field = response.json().get("error", {}).get("details", {}).get("field")
        if field in case.body:
            return None
    return ensure_resource_availability(ctx, response, case)


REORDER = "PUT /api/v1/projects/{project_id}/nodes/{node_id}/inputs/{port}/order"


def seeded_world() -> dict:
    """A project with something behind every kind of id the API takes, and the other values a
    request needs to be accepted (ports that exist, a user to add, the fuzzer's password). They
    replace what schemathesis generates, so every operation reaches its code."""
    owner, editor = UserFactory(username="fuzzer"), UserFactory(username="erin")
    UserFactory(username="carol")  # to be added as a member
    project = ProjectFactory(owner=owner, name="Fuzzed")
    Membership.objects.create(project=project, user=editor, role=Membership.Role.EDITOR)
    prompt = add(project, "prompt", "Line", text="A lighthouse")
    video = add(project, "video", "Shot", duration_seconds=4)
    unwired = add(project, "video", "Unwired", duration_seconds=4)
    stitch = add(project, "stitch", "Cut")
    edge = wire(prompt, "text", video, "prompt")
    clip = wire(video, "video", stitch, "videos")
    made = history(project, owner, video)
    note = add_note(project, owner, text="Shoot at dawn")
    spare_token, _ = create_token(owner, "spare")  # DELETE /tokens/{id} revokes this one, not the fuzzer's
    _, secret = create_token(owner, "schemathesis")
    return {
        "token": secret,
        "owner": owner,
        "path": {
            "project_id": project.id, "node_id": video.id, "edge_id": edge.id, "take_id": made["take"].id,
            "note_id": note.id, "run_id": made["run"].id, "job_id": made["job"].id, "asset_id": made["asset"].id,
            "character_id": made["character"].id, "user_id": editor.id, "token_id": spare_token.id,
        },
        "path_of": {REORDER: {"node_id": stitch.id, "port": "videos"}},
        "body": {
            "source": prompt.id, "source_port": "text", "target": unwired.id, "target_port": "prompt",
            "into": made["twin"].id, "asset_id": made["asset"].id, "edges": [clip.id],
            "username": "carol", "password": PASSWORD,
        },
        "body_of": {"POST /api/v1/tokens": {"username": "fuzzer"}},
        "query": {"project": project.id, "node": video.id},
    }  # fmt: skip


def _is_an_id(value) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _fits(generated, real) -> bool:
    """Whether a generated value has the shape of the real one, so replacing it keeps the case as
    invalid as it was generated where it matters: a malformed id stays malformed, a number where a
    string belongs stays a number. (schemathesis revalidates a changed case before its checks.)"""
    if isinstance(real, list):
        return isinstance(generated, list) and all(_is_an_id(item) for item in generated)
    if isinstance(real, str):
        return isinstance(generated, str)
    return _is_an_id(generated)


def _as_sent(value):
    return (
        [str(item) for item in value]
        if isinstance(value, list)
        else value
        if isinstance(value, int | str)
        else str(value)
    )


def _replaced(values, real: dict):
    if not isinstance(values, dict):
        return values
    return {
        name: _as_sent(real[name]) if name in real and _fits(value, real[name]) else value
        for name, value in values.items()
    }


def _current_version(path: dict) -> dict:
    """The version a PATCH must carry: the one of the note or node it changes, as it is now."""
    for name, model in (("note_id", Note), ("node_id", Node)):
        if name in path:
            if not _is_an_id(path[name]):
                return {}
            found = model.objects.filter(pk=str(path[name])).values_list("version", flat=True).first()
            return {"version": found} if found else {}
    return {}


def use_seeded_ids(case, world: dict) -> None:
    label = case.operation.label
    if case.path_parameters:
        real = {**world["path"], **world["path_of"].get(label, {})}
        case.path_parameters = {
            name: type(value)(real[name]) if name in real and _fits(value, real[name]) else value
            for name, value in case.path_parameters.items()
        }
    if case.query:
        case.query = _replaced(case.query, world["query"])
    if isinstance(case.body, dict) and case.media_type == "application/json":
        real = {**world["body"], **world["body_of"].get(label, {}), **_current_version(case.path_parameters or {})}
        case.body = _replaced(case.body, real)


@pytest.fixture
def world(transactional_db, redis, settings):
    settings.RUN_RATE_LIMIT = None  # hundreds of runs in a minute are the point here, not a quota
    return seeded_world()


def auth(world: dict) -> dict:
    return {"Authorization": f"Bearer {world['token']}"}


@LONG_ENOUGH
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=100 if FUZZ else 8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not FUZZ)
def test_every_operation_honours_the_schema(case, world):
    use_seeded_ids(case, world)
    case.call_and_validate(headers=auth(world))


StatefulBase = schema.as_state_machine()


def empty_what_the_api_writes() -> None:
    """One TRUNCATE of the tables requests write (users, projects, graphs, characters, runs, login
    attempts): far quicker than a flush, so every scenario can start from the same world."""
    apps_written = ("auth", "projects", "nodes", "characters", "generation", "axes")
    models = [
        model for name in apps_written for model in apps.get_app_config(name).get_models(include_auto_created=True)
    ]
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")


@LONG_ENOUGH
def test_chained_operations_honour_the_schema(world):
    """Scenarios of linked calls (create a node, read it, change it, delete it, read it again...)
    from the seeded project; every check runs on every step."""

    class Scenarios(StatefulBase):
        scenarios = 0

        def setup(self):
            # The first scenario starts from the test's own world. Seeding takes ~1.5 s, so the quick
            # profile lets its few scenarios share one world (a failure still fails, though
            # Hypothesis may then call it flaky); `make fuzz` gives each scenario a fresh one.
            if FUZZ and self.__class__.scenarios:
                empty_what_the_api_writes()
                world.update(seeded_world())
            self.__class__.scenarios += 1

        def get_call_kwargs(self, case):
            if user_for(world["token"]) is None:  # a step revoked it (DELETE /tokens/{id} of GET /tokens)
                world["token"] = create_token(world["owner"], "schemathesis")[1]
            return {"headers": auth(world)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # The token is the client's own, not generated: ignored_auth then probes without it.
            case.validate_response(response, headers=auth(world), transport_kwargs=kwargs, recorder=self.recorder)

    Scenarios.run(
        settings=settings(
            max_examples=60 if FUZZ else 8,
            stateful_step_count=40 if FUZZ else 12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=not FUZZ,
        )
    )

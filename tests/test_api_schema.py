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
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.unstorable import first_unstorable
from nodes.notes import add_note
from projects.models import Membership
from projects.tokens import create_token, user_for
from tests.factories import ProjectFactory, UserFactory
from tests.graphs import FIXTURES, add, history, wire

FUZZ = os.environ.get("REELGRAPH_FUZZ") == "1"

CONFIG = SchemathesisConfig.from_dict(
    {
        # Every built-in check runs. positive_data_acceptance runs inside
        # `valid_data_accepted_or_refused_for_a_documented_reason` below, which narrows it to the
        # two documented false positives (unstorable text, rules a JSON Schema cannot state).
        "checks": {"positive_data_acceptance": {"enabled": False}},
        # NUL characters are generated in every string (schemathesis's allow-x00, on by default).
        # No generated session cookies: every request carries the fuzzer's token, and ignored_auth
        # checks that each operation refuses the same request without it.
        "generation": {"allow-x00": True, "with-security-parameters": False},
        "phases": {"stateful": {"max-steps": 40 if FUZZ else 12}},
    }
)


def _png(size: int) -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (size, size), (200, 120, 40)).save(picture, format="PNG")
    return picture.getvalue()


# A file part declared image/png is a real picture: a plain square, or a photo with a face in it.
schemathesis.openapi.media_type("image/png", st.sampled_from([_png(32), (FIXTURES / "astronaut.png").read_bytes()]))
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


@schemathesis.check
def valid_data_accepted_or_refused_for_a_documented_reason(ctx, response, case) -> bool | None:
    """positive_data_acceptance, without its two false positives: text PostgreSQL cannot store (a
    JSON Schema `string` allows NUL, the server refuses it everywhere with a 422 naming the field:
    config/unstorable.py), and the refusals listed in RULES_BEYOND_THE_SCHEMA. Both must be the API's error
    shape naming what is wrong."""
    statuses, _ = RULES_BEYOND_THE_SCHEMA.get(case.operation.label, (set(), ""))
    if (response.status_code == 422 and _unstorable_in(case)) or response.status_code in statuses:
        error = response.json().get("error", {})
        assert error.get("code") and error.get("message"), f"a refusal that does not say why: {response.text}"
        return None
    return positive_data_acceptance(ctx, response, case)


def seeded_world() -> dict:
    """A project with something behind every kind of id the API takes. Its ids replace the random
    ones schemathesis generates, so every id-scoped operation reaches its code."""
    owner, editor = UserFactory(username="fuzzer"), UserFactory(username="erin")
    project = ProjectFactory(owner=owner, name="Fuzzed")
    Membership.objects.create(project=project, user=editor, role=Membership.Role.EDITOR)
    prompt = add(project, "prompt", "Line", text="A lighthouse")
    video = add(project, "video", "Shot", duration_seconds=4)
    stitch = add(project, "stitch", "Cut")
    edge = wire(prompt, "text", video, "prompt")
    wire(video, "video", stitch, "videos")
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
        "body": {"source": prompt.id, "target": video.id, "into": made["twin"].id, "asset_id": made["asset"].id},
        "query": {"project": project.id, "node": video.id},
    }  # fmt: skip


def _is_an_id(value) -> bool:
    """Whether a generated value has the shape of an id (so replacing it keeps the case as valid
    or as invalid as it was generated: a malformed id stays malformed)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _with_ids(values, ids: dict):
    if not isinstance(values, dict):
        return values
    return {name: str(ids[name]) if name in ids and _is_an_id(value) else value for name, value in values.items()}


def use_seeded_ids(case, world: dict) -> None:
    if case.path_parameters:
        case.path_parameters = {
            name: type(value)(world["path"][name]) if name in world["path"] and _is_an_id(value) else value
            for name, value in case.path_parameters.items()
        }
    if case.query:
        case.query = _with_ids(case.query, world["query"])
    if isinstance(case.body, dict) and case.media_type == "application/json":
        case.body = _with_ids(case.body, world["body"])


@pytest.fixture
def world(transactional_db, redis, settings):
    settings.RUN_RATE_LIMIT = None  # hundreds of runs in a minute are the point here, not a quota
    return seeded_world()


def auth(world: dict) -> dict:
    return {"Authorization": f"Bearer {world['token']}"}


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=100 if FUZZ else 8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not FUZZ)
def test_every_operation_honours_the_schema(case, world):
    use_seeded_ids(case, world)
    case.call_and_validate(headers=auth(world))


StatefulBase = schema.as_state_machine()


@pytest.mark.django_db(transaction=True)
def test_chained_operations_honour_the_schema(world):
    """Scenarios of linked calls (create a node, read it, change it, delete it, read it again...),
    starting from the seeded project; every check runs on every step."""

    class Scenarios(StatefulBase):
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

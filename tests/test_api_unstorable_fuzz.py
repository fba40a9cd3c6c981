"""A property of every operation of the OpenAPI document: with a NUL or an unpaired surrogate in any
string of its JSON body or any query parameter, the answer is a 422 naming a field, never a 5xx,
and nothing is written."""

import json
import os
import uuid
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.models import Project
from projects.tokens import create_token
from tests.api import error_of
from tests.factories import ProjectFactory
from tests.graphs import add

pytestmark = pytest.mark.django_db
FUZZ = os.environ.get("REELGRAPH_FUZZ") == "1"  # `make fuzz`: randomised, ten times the examples


def openapi() -> dict:
    return Client().get("/api/v1/openapi.json").json()


def resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def filled(schema: dict, document: dict, text: str):
    """A value of `schema` whose every string (an object's every property, a list's one item) is `text`."""
    schema = resolve(schema, document)
    options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if options:
        return filled(
            next((o for o in options if resolve(o, document).get("type") != "null"), options[0]), document, text
        )
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {"key": {"type": "string"}}
        return {name: filled(prop, document, text) for name, prop in properties.items()}
    if kind == "array":
        return [filled(schema.get("items", {"type": "string"}), document, text)]
    return {"string": text, "integer": 1, "number": 1.0, "boolean": True}.get(kind, text)


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


unstorable = st.one_of(st.just("\x00"), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))


@st.composite
def spoiled_text(draw, in_query: bool) -> str:
    before, after = draw(st.text(max_size=8)), draw(st.text(max_size=8))
    bad = "\x00" if in_query else draw(unstorable)  # an unpaired surrogate has no URL encoding
    return before + bad + after


@pytest.mark.timeout(3600 if FUZZ else 300)  # `make fuzz` runs ten times the examples
def test_unstorable_text_in_any_field_of_any_operation_is_a_422(alice):
    document = Client().get("/api/v1/openapi.json").json()
    all_operations = operations(document)
    project = ProjectFactory(owner=alice)
    node = add(project, "prompt", "Line", text="A lighthouse")
    path_values = {"project_id": project.id, "node_id": node.id}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(alice, 'fuzz')[1]}")
    projects_before = Project.objects.count()
    seen = set()

    @given(index=st.integers(0, len(all_operations) - 1), data=st.data())
    @settings(
        max_examples=(40 if FUZZ else 4) * len(all_operations),
        deadline=None,
        derandomize=not FUZZ,
        suppress_health_check=list(HealthCheck),
    )
    def check(index, data):
        method, path, operation = all_operations[index]
        url = path.format(
            **{
                p["name"]: path_values.get(p["name"], 1 if p["schema"].get("type") == "integer" else uuid.uuid4())
                for p in operation.get("parameters", [])
                if p["in"] == "path"
            }
        )
        query = {
            p["name"]: data.draw(spoiled_text(True)) for p in operation.get("parameters", []) if p["in"] == "query"
        }
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if not query and body is None:
            return
        payload = filled(body["schema"], document, data.draw(spoiled_text(False))) if body else None
        seen.add((method, path))
        kwargs = {"data": json.dumps(payload), "content_type": "application/json"} if body else {}
        if query:
            url += "?" + urlencode(query)
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code == 422, (method, url, payload, response.content)
        assert error_of(response)["details"]["fields"][0]["field"]

    check()
    assert Project.objects.count() == projects_before
    assert len(seen) >= 10  # the document's operations with a body or a query were reached


def test_a_body_that_is_not_an_object_is_a_422_for_every_operation_that_takes_json(alice):
    document = openapi()
    project = ProjectFactory(owner=alice)
    node = add(project, "prompt", "Line", text="A lighthouse")
    real = {"project_id": project.id, "node_id": node.id}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(alice, 'fuzz')[1]}")
    projects_before, node_version = Project.objects.count(), node.version
    taking_json = [
        (method, path, operation)
        for method, path, operation in operations(document)
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]

    for method, path, operation in taking_json:
        url = path.format(**{p["name"]: real.get(p["name"], uuid.uuid4()) for p in operation.get("parameters", [])
                             if p["in"] == "path"})  # fmt: skip
        for body in ("null", "[]", "[{}]", '"text"', "0", "true"):
            response = getattr(client, method)(url, data=body, content_type="application/json")
            assert response.status_code == 422, (method, url, body, response.content)
            assert error_of(response)["details"]["fields"][0]["field"] == "body"

    assert len(taking_json) >= 10
    node.refresh_from_db()
    assert Project.objects.count() == projects_before and node.version == node_version

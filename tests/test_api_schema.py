"""Schemathesis generates requests for every operation of the OpenAPI schema and checks that the
API never fails with a 5xx and that every response matches what the schema says (status codes,
content types, bodies). Examples are bounded so the suite stays fast."""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from projects.tokens import create_token
from tests.factories import ProjectFactory, UserFactory
from tests.graphs import add

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# `make fuzz`: randomised, many more examples per operation; the suite's run is quick and repeatable.
FUZZ = os.environ.get("REELGRAPH_FUZZ") == "1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def token(transactional_db):
    user = UserFactory(username="fuzzer")
    project = ProjectFactory(owner=user, name="Fuzzed")
    add(project, "prompt", "Line", text="A lighthouse")
    _, secret = create_token(user, "schemathesis")
    return secret


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=100 if FUZZ else 8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not FUZZ)
def test_every_operation_honours_the_schema(case, token, redis):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

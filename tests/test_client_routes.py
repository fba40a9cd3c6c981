"""The browser code only calls what the server has: every `/api/v1` call in static/js (method, path
and query parameters) matches an operation of the OpenAPI document, and every WebSocket message the
client sends is one the project consumer accepts. A client calling a route that does not exist (the
404 of dragging a character onto the canvas) fails here, not in front of a user."""

import re
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from config.api import api as ninja_api
from tests.factories import ProjectFactory, UserFactory
from tests.websockets import ProjectSocket, application, headers_for

JS = Path(settings.BASE_DIR) / "static" / "js"

# Routes of issue 14's contract that the client already calls and the backend branch (i14back)
# adds. The lead empties this list when merging it: the test fails while a listed route exists, so
# the list cannot outlive its reason.
AWAITING_BACKEND_MERGE: set[tuple[str, str]] = set()

# `api("METHOD", "path" or `path`, ...)` and `upload(`path`, ...)` (a POST).
API_CALL = re.compile(r"""\bapi\(\s*"(?P<method>[A-Z]+)"\s*,\s*(?P<quote>["`])(?P<path>[^"`]*)(?P=quote)""")
UPLOAD_CALL = re.compile(r"""\bupload\(\s*(?P<quote>["`])(?P<path>[^"`]*)(?P=quote)""")
ANY_CALL = re.compile(r"""(?<!\w)(api|upload)\(""")
DEFINITIONS = re.compile(r"""function (api|upload)\(""")
# Messages sent on the live channel: `.send({ type: "name", ... })`.
SOCKET_SEND = re.compile(r"""\.send\(\s*\{[^}]*?\btype:\s*["'](?P<type>[\w.]+)["']""")
ANY_SEND = re.compile(r"""\.send\(""")
# The two generic senders: the socket's own (live.js) and the upload's XMLHttpRequest (api.js).
PLUMBING_SENDS = {"socket.send(JSON.stringify(data))", "request.send(form)"}


def sources() -> dict[str, str]:
    return {str(path.relative_to(JS)): path.read_text() for path in sorted(JS.rglob("*.js"))}


def client_calls() -> set[tuple[str, str, tuple[str, ...]]]:
    """(method, path with `{}` for each interpolated segment, query parameter names) of every call."""
    calls = set()
    for text in sources().values():
        for match in API_CALL.finditer(text):
            calls.add((match["method"], *split(match["path"])))
        for match in UPLOAD_CALL.finditer(text):
            calls.add(("POST", *split(match["path"])))
    return calls


def split(path: str) -> tuple[str, tuple[str, ...]]:
    path, _, query = path.partition("?")
    path = re.sub(r"\$\{[^}]*\}", "{}", path)
    names = tuple(sorted(part.split("=")[0] for part in query.split("&") if part))
    return path, names


def unparsed_calls() -> list[str]:
    """Calls whose method or path is not a literal: they could not be checked, so they are refused."""
    problems = []
    for name, text in sources().items():
        relative = [
            m["path"] for m in [*API_CALL.finditer(text), *UPLOAD_CALL.finditer(text)] if not m["path"].startswith("/")
        ]
        problems += [f"{name}: {path} does not start with a literal /" for path in relative]
        found = len(ANY_CALL.findall(text)) - len(DEFINITIONS.findall(text))
        parsed = len(API_CALL.findall(text)) + len(UPLOAD_CALL.findall(text))
        if found != parsed:
            problems.append(f"{name}: {found - parsed} api()/upload() call(s) without a literal method and path")
    return problems


def operations() -> dict[tuple[str, str], set[str]]:
    """(method, path) -> query parameter names, for every operation of the OpenAPI document."""
    schema = ninja_api.get_openapi_schema()
    found = {}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            found[(method.upper(), path.removeprefix("/api/v1"))] = query
    return found


def route_of(method: str, path: str, known: dict) -> tuple[str, str] | None:
    """The operation a call reaches: a `{param}` of the server's path takes any segment, a `{}` of
    the client's only a `{param}` (an interpolated id never reaches a literal route)."""
    segments = path.split("/")
    for key_method, key_path in known:
        route = key_path.split("/")
        if key_method != method or len(route) != len(segments):
            continue
        if all(r.startswith("{") or r == s for r, s in zip(route, segments, strict=True)):
            return key_method, key_path
    return None


def missing_routes() -> tuple[list[str], set[tuple[str, str]]]:
    known = operations()
    problems, missing = [], set()
    for method, path, query in sorted(client_calls()):
        route = route_of(method, path, known)
        if route is None:
            missing.add((method, path))
            continue
        unknown = set(query) - known[route]
        if unknown:
            problems.append(f"{method} {path}: no query parameter {sorted(unknown)} in {route[1]}")
    return problems, missing


def test_the_extraction_sees_the_calls_the_canvas_makes():
    calls = {(method, path) for method, path, _ in client_calls()}

    assert {("GET", "/node-types"), ("POST", "/projects/{}/edges"), ("POST", "/projects/{}/assets")} <= calls
    assert ("GET", "/projects/{}/assets", ("kind", "page_size")) in client_calls()


def test_every_call_has_a_literal_method_and_path():
    assert unparsed_calls() == []


def test_every_api_call_of_the_client_is_a_route_of_the_openapi_document():
    problems, missing = missing_routes()

    assert problems == []
    assert sorted(missing - AWAITING_BACKEND_MERGE) == [], "the client calls routes the API does not have"
    assert sorted(AWAITING_BACKEND_MERGE - missing) == [], "listed routes exist now: empty the list"


def sent_message_types() -> tuple[set[str], list[str]]:
    types, unknown = set(), []
    for name, text in sources().items():
        typed = {m.start() for m in SOCKET_SEND.finditer(text)}
        types |= {m["type"] for m in SOCKET_SEND.finditer(text)}
        for send in ANY_SEND.finditer(text):
            call = text[text.rfind(" ", 0, send.start()) + 1 : text.find(")", send.start()) + 2].strip(";\n ")
            plumbing = any(call.startswith(p.removesuffix(")")) for p in PLUMBING_SENDS)
            if send.start() not in typed and not plumbing:
                unknown.append(f"{name}: {call}")
    return types, unknown


@pytest.mark.django_db(transaction=True)
def test_every_websocket_message_the_client_sends_is_accepted_by_the_consumer(redis):
    types, unknown = sent_message_types()
    assert unknown == [], "messages sent without a literal type cannot be checked"
    if not types:
        return  # today the client sends nothing: the channel only carries events to it
    user = UserFactory()
    project = ProjectFactory(owner=user)

    async def answers(message_type: str) -> list[dict]:
        socket = ProjectSocket(application, f"/ws/projects/{project.id}/", headers=headers_for(user))
        await socket.connect()
        await socket.receive_json_from()  # the snapshot
        await socket.send_json_to({"type": message_type})
        replies = []
        while not await socket.receive_nothing(timeout=1):
            replies.append(await socket.receive_json_from())
        await socket.disconnect()
        return replies

    refused = {t for t in types if any(r.get("type") == "error" for r in async_to_sync(answers)(t))}
    assert refused == set()

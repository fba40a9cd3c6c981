"""The JSON API: one NinjaAPI, a router per app, one error shape, every status code documented.

Errors look the same everywhere: {"error": {"code": "...", "message": "...", "details": {...}}}.
Services raise domain exceptions; they become HTTP statuses here, once.
"""

import json
import logging
from typing import Any

import django_rq
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, JsonResponse, RawPostDataException
from django.views.decorators.common import no_append_slash
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth
from rq import Worker

from assets import direct_uploads
from config.errors import ApiError
from config.middleware import unavailable
from config.schemas import ErrorOut
from projects.tokens import user_for

logger = logging.getLogger(__name__)


class BearerToken(HttpBearer):
    """`Authorization: Bearer <personal token>`; no CSRF needed, since no browser sends it by itself."""

    def authenticate(self, request: HttpRequest, token: str):
        user = user_for(token)
        if user is not None:
            request.user = user
        return user


class Session(SessionAuth):
    """The browser's login session; unsafe methods need the CSRF token (header X-CSRFToken)."""

    def _get_key(self, request: HttpRequest):
        # CSRF protects a logged-in session. Without one (a revoked token, no login) a CSRF token
        # would not help the client: it is a 401 (log in, or send a valid token), not a 403.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = request.user
        return user if user.is_authenticated and user.is_active else None


class NotAnObject(ValueError):
    pass


def json_number(text: str) -> float | int:
    """A JSON number written with a fraction or an exponent. JSON (and the OpenAPI document's JSON
    Schema) knows one kind of number, so `3.0` is the integer 3; bodies are validated strictly
    (config/schemas.py), where a Python float would not pass as an int."""
    number = float(text)
    return int(number) if number.is_integer() else number


class ObjectBodies(Parser):
    """Every JSON body this API takes is an object: `null`, `[]`, `123` or `"x"` must not pass as an
    empty object (with ninja's own parser, `null` sent to POST /runs ran the whole project)."""

    def parse_body(self, request: HttpRequest):
        data = json.loads(request.body, parse_float=json_number)
        if not isinstance(data, dict):
            raise NotAnObject(f"The body must be a JSON object ({{...}}), not {type(data).__name__}.")
        return data


class ReelgraphApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """The document of this deployment: without S3 storage, the direct-upload operations (which
        would only ever answer 404 `direct_upload_unavailable`) are left out."""
        document = super().get_openapi_schema(**kwargs)
        if not direct_uploads.available():
            for path, methods in list(document["paths"].items()):
                kept = {method: op for method, op in methods.items() if op.get("x-storage") != "s3"}
                if kept:
                    document["paths"][path] = kept
                else:
                    del document["paths"][path]
        return document


api = ReelgraphApi(
    parser=ObjectBodies(),
    title="Reelgraph API",
    version="1",
    description="Everything the canvas can do. Authenticate with a personal token "
    "(`Authorization: Bearer <token>`, from `POST /api/v1/tokens`) or the browser session.",
    urls_namespace="api",
    auth=[BearerToken(), Session()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(request, status: int, code: str, message: str, details: dict | None = None):
    return api.create_response(
        request, {"error": {"code": code, "message": message, "details": details or {}}}, status=status
    )


@api.exception_handler(ApiError)
def on_api_error(request, error: ApiError):
    response = error_response(request, error.status, error.code, error.message, error.details)
    if error.details.get("retry_after_seconds"):
        response["Retry-After"] = str(error.details["retry_after_seconds"])
    return response


def field_name(location) -> str:
    """ninja's location of a field as the name a client sent: ("body", "payload", "name") is "name",
    ("file", "file") is "file"."""
    parts: list[str] = []
    for part in location:
        if part not in ("body", "payload") and (not parts or parts[-1] != str(part)):
            parts.append(str(part))
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def on_invalid(request, error: NinjaValidationError):
    fields = [
        {"field": field_name(detail.get("loc", ())), "message": detail.get("msg", "invalid")} for detail in error.errors
    ]
    summary = "; ".join(f"{field['field'] or 'request'}: {field['message']}" for field in fields[:5])
    unreadable = getattr(request, "unreadable_form", None)
    if unreadable:  # a multipart body Django could not read: its fields are missing because of that
        names = ", ".join(f"`{field['field']}`" for field in fields)
        message = f"The multipart form could not be read ({unreadable}). Send multipart/form-data with {names}."
        return error_response(request, 400, "bad_request", message, {"fields": fields})
    return error_response(request, 422, "invalid", f"Some fields are not valid. {summary}", {"fields": fields})


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, error):
    return error_response(
        request, 401, "unauthorized", "Log in, or send a personal token as `Authorization: Bearer <token>`."
    )


@api.exception_handler(HttpError)
def on_http_error(request, error: HttpError):
    if isinstance(error.__cause__, NotAnObject):
        message = str(error.__cause__)
        return error_response(request, 422, "invalid", message, {"fields": [{"field": "body", "message": message}]})
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}
    message = str(error)
    if message.startswith("Cannot parse request body"):  # with DEBUG, ninja appends the parser's words
        message = "The request body is not valid JSON (or not the multipart form this endpoint takes)."
    return error_response(request, error.status_code, codes.get(error.status_code, "error"), message)


@api.exception_handler(RawPostDataException)
def on_form_to_json_endpoint(request, error):
    # The body was read as a form (multipart sent where JSON is expected), so it is not there as JSON.
    return error_response(
        request, 400, "bad_request", "This endpoint takes a JSON body: send it with Content-Type: application/json."
    )


@api.exception_handler(Http404)
@api.exception_handler(ObjectDoesNotExist)
def on_not_found(request, error):
    message = str(error) if isinstance(error, ObjectDoesNotExist) and str(error) else "Not found."
    if "matching query does not exist" in message:
        message = "Not found."
    return error_response(request, 404, "not_found", message)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, error):
    return error_response(request, 403, "forbidden", str(error) or "You may not do that.")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, error):
    return unavailable(request)


@api.exception_handler(Exception)
def on_unexpected(request, error: Exception):
    logger.exception("unexpected error in %s %s", request.method, request.path)
    return error_response(request, 500, "internal_error", "Something went wrong on our side; it has been logged.")


@no_append_slash  # "/api/v1/nope" is not found, and not a redirect to "/api/v1/nope/"
def api_not_found(request, *args, **kwargs):
    """Unknown addresses under /api/ answer in the API's error shape, not with Django's HTML page."""
    message = f"There is no {request.path} in the API: see /api/v1/docs for the addresses it has."
    return JsonResponse({"error": {"code": "not_found", "message": message, "details": {}}}, status=404)


class HealthOut(Schema):
    status: str
    database: str
    redis: str
    workers: int


@api.get("/health", auth=None, response={200: HealthOut, 503: HealthOut}, tags=["health"])
def health(request):
    """Whether the database, Redis and the workers are there (for load balancers; no login needed)."""
    result: dict[str, Any] = {"database": "ok", "redis": "ok", "workers": 0}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        result["database"] = "unavailable"
    try:
        redis = django_rq.get_connection("default")
        redis.ping()
        result["workers"] = Worker.count(connection=redis)
    except Exception:
        result["redis"] = "unavailable"
    healthy = result["database"] == result["redis"] == "ok"
    result["status"] = "ok" if healthy else "degraded"
    return Status(200 if healthy else 503, result)


def _register_routers() -> None:
    from characters.api import router as characters
    from generation.api import router as generation
    from nodes.api import router as nodes
    from projects.api import router as projects

    api.add_router("", projects)
    api.add_router("", nodes)
    api.add_router("", generation)
    api.add_router("", characters)


_register_routers()

__all__ = ["ErrorOut", "api"]

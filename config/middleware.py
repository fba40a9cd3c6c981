"""The database going away is an outage, not a bug: answer 503 with the standard error body (pages
get a short page), and let the next request open a fresh connection once it is back."""

from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpResponse, JsonResponse

UNAVAILABLE = {
    "code": "database_unavailable",
    "message": "Reelgraph cannot reach its database right now; nothing was changed. Try again in a moment.",
    "details": {},
}


def unavailable(request) -> HttpResponse:
    close_old_connections()  # a broken connection is not reused by the next request
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": UNAVAILABLE}, status=503)
    else:
        page = "<!doctype html><title>Unavailable · Reelgraph</title><h1>Back in a moment</h1><p>{}</p>"
        response = HttpResponse(page.format(UNAVAILABLE["message"]), status=503)
    response["Retry-After"] = "5"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return unavailable(request)
        return None


class ApiMethodNotAllowedMiddleware:
    """django-ninja answers a method an address does not take with a bare text 405; the API answers
    in its one error shape, keeping the Allow header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and "json" not in response.get("Content-Type", "")
        ):
            allowed = response.get("Allow", "")
            message = f"{request.method} is not allowed here; this address takes {allowed or 'no method'}."
            error = {"code": "method_not_allowed", "message": message, "details": {"allowed": allowed.split(", ")}}
            json_response = JsonResponse({"error": error}, status=405)
            json_response["Allow"] = allowed
            return json_response
        return response

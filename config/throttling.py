"""Failed logins are throttled by django-axes, on the login page, the admin's and POST /api/v1/tokens:
after AXES_FAILURE_LIMIT failures for one username, or from one client address, further attempts
are refused for AXES_COOLOFF_TIME (each refused attempt starts it again). Unknown usernames count
like known ones and get the same words, so the answer tells nothing about who has an account.
Lockouts are listed (and can be cleared) in the admin under Axes.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render


class ThrottledLogins(AxesStandaloneBackend):
    """Every web login passes its request; a call without one (a test's `client.login`, a shell) is
    not an attempt from a client, so it is not counted or refused here."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def retry_after_seconds(request) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def locked_out_message(seconds: int) -> str:
    wait = f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"
    return (
        "Too many failed logins for this username or from this address. "
        f"Wait {wait} before trying again (each attempt meanwhile starts the wait again)."
    )


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a 429 with Retry-After, in the API's error shape or as the login page."""
    seconds = retry_after_seconds(request)
    message = locked_out_message(seconds)
    if request.path.startswith("/api/"):
        details = {"retry_after_seconds": seconds}
        response = JsonResponse({"error": {"code": "locked_out", "message": message, "details": details}}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response

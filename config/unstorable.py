"""Text PostgreSQL cannot store (a NUL character; an unpaired UTF-16 surrogate, which has no UTF-8
form) is refused where it enters, once for every input path: query strings, form and multipart
fields, file names and JSON bodies here in the middleware, WebSocket messages in the consumer.
Left to the database, it would be a DataError (a 500) from whichever query met it first.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.html import escape

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def why_unstorable(text: str) -> str | None:
    """What is wrong with `text` for the database, in words a user can act on; None when nothing is."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (U+0000), which cannot be stored: remove it."
    return f"contains an unpaired surrogate (U+{ord(found.group()):04X}), which is not text: send valid Unicode."


def first_unstorable(data: Any, prefix: str = "") -> tuple[str, str] | None:
    """(field, reason) of the first string in decoded JSON (keys too) that cannot be stored.
    Walks with its own stack: a deeply nested document must not exhaust Python's."""
    stack = [(prefix, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            reason = why_unstorable(value)
            if reason:
                return path or "body", reason
        elif isinstance(value, dict):
            for key, item in value.items():
                reason = why_unstorable(key)
                if reason:
                    return (f"{path}.{key!r}" if path else repr(key)), "the key " + reason
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value))
    return None


def _in_path(request) -> tuple[str, str] | None:
    reason = why_unstorable(request.path)
    return ("path", reason) if reason else None


def _in_querydict(data) -> tuple[str, str] | None:
    for key, values in data.lists():
        for value in [key, *values]:
            reason = why_unstorable(value)
            if reason:
                name = key if why_unstorable(key) is None else repr(key)
                return name, reason
    return None


def _in_files(files) -> tuple[str, str] | None:
    for key, uploaded in files.lists():
        for file in uploaded:
            reason = why_unstorable(key) or why_unstorable(file.name or "")
            if reason:
                return key if why_unstorable(key) is None else repr(key), f"its file name {reason}"
    return None


def _in_json_body(request) -> tuple[str, str] | None:
    # A NUL or a surrogate can only be in JSON as a \u escape: bodies without one are not parsed twice.
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return None
    try:
        body = request.body
        if b"\\u" not in body:
            return None
        return first_unstorable(json.loads(body))
    except Exception:  # not JSON, or too large: the view refuses it in its own words
        return None


def _in_form(request) -> tuple[str, str] | None:
    if request.method != "POST" or request.content_type not in (
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    ):
        return None
    try:
        return _in_querydict(request.POST) or _in_files(request.FILES)
    except MultiPartParserError as error:
        # Django leaves the form empty; the API says why when the endpoint misses its fields.
        request.unreadable_form = str(error)
        return None
    except Exception:  # too many fields, too large: the view meets the same error and answers it
        return None


def _drop_unstorable_cookies(request) -> None:
    """A cookie the database cannot look up (the session's) is no cookie: treat it as absent."""
    if any(why_unstorable(value) for value in request.COOKIES.values()):
        request.COOKIES = {name: value for name, value in request.COOKIES.items() if not why_unstorable(value)}


def refusal(request, field: str, reason: str) -> HttpResponse:
    message = f"{field}: {reason}"
    if request.path.startswith("/api/"):
        details = {"fields": [{"field": field, "message": reason}]}
        return JsonResponse({"error": {"code": "invalid", "message": message, "details": details}}, status=422)
    page = "<!doctype html><title>Bad request · Reelgraph</title><h1>Bad request</h1><p>{}</p>"
    return HttpResponse(page.format(escape(message.replace("\x00", "\\x00"))), status=400)


class UnstorableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _drop_unstorable_cookies(request)
        problem = _in_path(request) or _in_querydict(request.GET) or _in_form(request) or _in_json_body(request)
        if problem:
            return refusal(request, *problem)
        return self.get_response(request)

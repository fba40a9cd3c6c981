"""Calling the JSON API in tests: as a user with a personal token, or anonymously."""

from __future__ import annotations

import json

from django.test import Client

from projects.tokens import create_token

BASE = "/api/v1"


class Api:
    def __init__(self, user=None) -> None:
        headers = {}
        if user is not None:
            _, secret = create_token(user, "tests")
            headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        self.client = Client(**headers)

    def _send(self, method: str, path: str, body=None, **extra):
        kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}
        return getattr(self.client, method)(BASE + path, **kwargs, **extra)

    def get(self, path, **params):
        return self.client.get(BASE + path, params)

    def post(self, path, body=None, **extra):
        """Sends exactly `body` as JSON; no body at all when it is None."""
        return self._send("post", path, body, **extra)

    def patch(self, path, body, **extra):
        return self._send("patch", path, body, **extra)

    def delete(self, path):
        return self._send("delete", path)

    def upload(self, path, file, **params):
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        return self.client.post(BASE + path + query, {"file": file})


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]

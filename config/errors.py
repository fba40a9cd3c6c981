"""Domain errors that know which HTTP status they become. Plain Python (no Django), so that any
module can raise them; config/api.py turns each into the API's one error shape (config.schemas)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by services for a refusal the API reports as is: a status, a code, a message a user
    can act on, and details for programs."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, details=None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status
        self.details: dict[str, Any] = details or {}


class Conflict(ApiError):
    status = 409
    code = "conflict"


class NotFound(ApiError):
    """An id the request names in its body that is not there (or not yours: we never confirm it
    exists). `details.field` says which, so a client knows it is not the address that is missing."""

    status = 404
    code = "not_found"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, details={"field": field})


class Unprocessable(ApiError):
    status = 422
    code = "invalid"

"""The base of every JSON request body of the API."""

from typing import Annotated, Any
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Strict


class BodyIn(Schema):
    """A JSON request body, validated strictly: JSON has its own booleans and numbers, so `0` is not
    `false`, `false` is not `0.0` and `"3"` is not `3`. What the OpenAPI document calls invalid is
    refused with a 422 naming the field (pydantic's lax mode let such values through as others)."""

    model_config = ConfigDict(strict=True)


# JSON has no UUID type: an id is a string, parsed as in lax mode.
Id = Annotated[UUID, Strict(False)]


# The one error shape of the API ---------------------------------------------------------------


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorOut(Schema):
    error: ErrorBody


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The documented error responses of an endpoint: a malformed request (400), no login (401)
    and invalid fields (422) can happen anywhere; the others are given."""
    return {status: ErrorOut for status in sorted({400, 401, 422, *statuses})}

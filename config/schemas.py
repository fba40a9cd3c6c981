"""The base of every JSON request body of the API."""

from typing import Annotated
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

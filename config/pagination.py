"""How the API's lists are paginated."""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    """ninja's page numbers, with the page bounded as the runs list's is: `?page=10**22` is a 422
    naming `page`, not an offset the database cannot hold (a 500, found by `make fuzz`)."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=10_000)
        page_size: int | None = Field(None, ge=1)

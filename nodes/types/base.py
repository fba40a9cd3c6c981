"""The contract every node type follows. The engine only ever talks to this interface."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

PortKind = Literal["image", "text", "character", "video", "audio"]


@dataclass(frozen=True)
class Port:
    name: str
    kind: PortKind
    required: bool = False
    multi: bool = False
    max_items: int | None = None


class Params(BaseModel):
    """Base of every node type's parameters: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Cost:
    usd: Decimal = Decimal("0")
    seconds_of_video: float = 0
    provider: str = "local"


@dataclass
class RunContext:
    """What a node type's run() gets: its params, its resolved inputs, and a way to report progress."""

    params: Params
    inputs: Mapping[str, Any]
    progress: Callable[[float, str], None] = field(default=lambda fraction, label: None)


class NodeType:
    name: ClassVar[str]
    label: ClassVar[str]
    version: ClassVar[int] = 1
    queue: ClassVar[str] = "default"
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    Params: ClassVar[type[Params]] = Params

    def estimate(self, params: Params, inputs: Mapping[str, Any]) -> Cost:
        return Cost()

    def run(self, ctx: RunContext) -> dict[str, Any]:
        raise NotImplementedError

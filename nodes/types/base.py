"""The contract every node type follows. The engine only ever talks to this interface.

A node type declares typed ports, validated parameters (`Params`) and a `version` (bumped when
its behaviour changes, which invalidates cached outputs), and implements:

- `describe(params, inputs)`: static facts about its outputs (a video's resolution and length,
  how many Veo extensions it carries), computed from the facts of its inputs before anything runs;
- `check(params, inputs)`: the rules that need those facts, as problems a user can act on;
- `estimate(params, inputs)`: what a run would consume, priced by the engine;
- `run(ctx)`: the work, returning outputs, or `Wait` for a long provider operation, after which
  the engine calls `resume(ctx)` on scheduled polls until it returns outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from providers.contract import FaceProvider, ImageProvider, MusicProvider, TextProvider, VideoProvider

PortKind = Literal["image", "text", "character", "video", "audio"]
Facts = dict[str, Any]
InputFacts = Mapping[str, list[Facts]]


class NodeError(Exception):
    """A run cannot go on, for a reason the user can fix (a missing input, an unusable file)."""

    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code


@dataclass(frozen=True)
class Port:
    name: str
    kind: PortKind
    required: bool = False
    multi: bool = False
    max_items: int | None = None
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class Params(BaseModel):
    """Base of every node type's parameters: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


MAX_VARIATIONS = 4


# The param `variations` of the node types that can make several takes in one run, to pick from:
# each is its own provider call (and job), so the estimate counts every one.
Variations = Annotated[
    int, Field(ge=1, le=MAX_VARIATIONS, description="How many takes one run makes (1-4), to pick from.")
]


def variations_of(params) -> int:
    """How many takes a run of a node with these params makes."""
    return getattr(params, "variations", 1)


@dataclass(frozen=True)
class Problem:
    """Something that stops a node from running, written for the person who has to fix it."""

    message: str
    code: str = "invalid"
    port: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class Usage:
    """What a run consumes; the engine prices it with the configured provider's rates."""

    capability: Literal["video", "image", "music", "text", "faces", "media"]
    video_seconds: float = 0.0
    items: int = 0  # images, or pieces of music (each priced as one request whatever its length)
    model: str = ""
    resolution: str = ""


@dataclass(frozen=True)
class Wait:
    """A provider operation is under way: store it, free the worker, and resume on a later poll."""

    operation: str
    poll_after: float = 5.0
    progress: float = 0.0
    label: str = ""


@dataclass(frozen=True)
class AssetValue:
    id: str
    kind: str
    sha256: str = ""
    provider: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    duration: float | None = None


@dataclass(frozen=True)
class CharacterValue:
    id: str
    name: str
    reference: AssetValue | None = None
    embedding: tuple[float, ...] = ()
    embedding_model: str = ""


Outputs = dict[str, Any]


class RunContext(Protocol):
    """What a node type's run() and resume() get from the engine."""

    params: Any
    # Which of the run's takes of the node this job makes (1 to params.variations): offline renders
    # differ by it; a provider is simply asked again.
    variation: int
    inputs: Mapping[str, list[Any]]
    operation: str | None
    state: dict[str, Any]
    workdir: Path
    video: VideoProvider
    image: ImageProvider
    music: MusicProvider
    text: TextProvider
    faces: FaceProvider
    media: Any

    def progress(self, fraction: float, label: str) -> None: ...

    def asset(self, asset_id: str) -> AssetValue: ...

    def path(self, asset: AssetValue) -> Path: ...

    def save(self, path: Path, kind: str, *, provider: str, model: str = "", meta: dict | None = None) -> str:
        """Store a produced file as an Asset of the project; returns its id."""

    def record_usage(self, usage: Usage) -> None: ...

    def begin_submit(self, fingerprint: str, *, model: str, provider: Any, made: str = "video") -> None:
        """Record, before `provider` is asked to start paid work (making a `made`), that it may be; refuses
        (an unknown outcome) when an earlier attempt of this job got that far and never stored its answer."""

    def end_submit(self) -> None:
        """The provider's answer is in hand (an operation, or the work itself): the outcome is known."""

    def character_for(self, face: Any, image: AssetValue, provider: Any) -> str:
        """The character this face belongs to (matched or newly created); returns its id."""

    def own_character(self, character_id: str) -> CharacterValue:
        """A character of the user who runs the node (or of the project's owner); any other is a NodeError."""

    def face_model(self) -> str:
        """The name of the face model in use, as characters record it (embeddings of others differ)."""


class NodeType:
    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    version: ClassVar[int] = 1
    queue: ClassVar[str] = "default"
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    Params: ClassVar[type[Params]] = Params

    def input(self, name: str) -> Port | None:
        return next((port for port in self.inputs if port.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((port for port in self.outputs if port.name == name), None)

    def describe(self, params: Any, inputs: InputFacts) -> dict[str, Facts]:
        return {port.name: {} for port in self.outputs}

    def check(self, params: Any, inputs: InputFacts) -> list[Problem]:
        return []

    def estimate(self, params: Any, inputs: InputFacts) -> list[Usage]:
        return []

    def asset_ids(self, params: Any) -> list[str]:
        """Assets the params refer to: their content hashes are part of the cache key."""
        return []

    def run(self, ctx: RunContext) -> Outputs | Wait:
        raise NotImplementedError

    def resume(self, ctx: RunContext) -> Outputs | Wait:
        raise NotImplementedError(f"{self.name} nodes do not wait on provider operations")

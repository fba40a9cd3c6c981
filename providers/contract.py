"""The provider contract: what node types ask of providers and what they get back, per capability
(requests, results, errors and the protocols each provider implements), independent of any one
provider. Node types reach providers only through this module; providers import nothing above it.

A provider error is either transient (the engine retries it with backoff) or permanent (the job
fails at once with the message, which is written for the person who pressed Run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field


@dataclass(frozen=True)
class VideoSource:
    """An earlier video to extend: our copy, plus the provider's own handle while it is valid."""

    path: Path
    provider: str = ""
    uri: str = ""


@dataclass(frozen=True)
class VideoRequest:
    prompt: str
    model: str
    aspect_ratio: str = "16:9"
    resolution: str = "720p"
    duration_seconds: int = 8
    negative_prompt: str = ""
    first_frame: Path | None = None
    last_frame: Path | None = None
    reference_images: tuple[Path, ...] = ()
    extend: VideoSource | None = None
    variation: int = 1  # which take of several: see nodes.types.base.RunContext.variation


@dataclass(frozen=True)
class OperationStatus:
    done: bool
    progress: float = 0.0
    label: str = ""
    # Seconds until the provider expects the operation to be done, when it knows (the offline
    # renderer does; Veo does not): the next poll comes then rather than after the fixed interval.
    eta_seconds: float | None = None


@dataclass(frozen=True)
class GeneratedVideo:
    path: Path
    model: str
    billed_seconds: float
    mime: str = "video/mp4"
    # True when the video already begins with the extended source (Veo returns the whole video).
    includes_source: bool = False
    # The provider's handle for extending this video later, and when it stops being valid.
    uri: str = ""
    uri_expires_at: datetime | None = None


@dataclass(frozen=True)
class EnhanceRequest:
    text: str
    target_model: str
    style: str | None = None
    image: Path | None = None


@dataclass(frozen=True)
class EnhancedPrompt:
    text: str
    provider: str
    model: str


@dataclass(frozen=True)
class Face:
    bbox: tuple[int, int, int, int]
    embedding: np.ndarray  # 512 floats, L2-normalised
    det_score: float
    age: int | None = None
    sex: str = ""  # "F", "M" or "" when unknown

    @property
    def area(self) -> int:
        x1, y1, x2, y2 = self.bbox
        return max(0, x2 - x1) * max(0, y2 - y1)


@dataclass
class FaceAnalysis:
    faces: list[Face] = field(default_factory=list)
    provider: str = ""
    model: str = ""


# Errors -----------------------------------------------------------------------------------------


class ProviderError(Exception):
    code = "provider_error"
    transient = False

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details or {}


class TransientProviderError(ProviderError):
    """Worth another try later: rate limits, timeouts, 5xx."""

    code = "provider_unavailable"
    transient = True


class PermanentProviderError(ProviderError):
    """Another try would fail the same way: a rejected request, a blocked prompt, a missing model."""

    code = "provider_rejected"


class SubmitOutcomeUnknown(ProviderError):
    """A request to start paid work whose answer was lost after it was sent (a timeout, a dropped
    connection, a 5xx): the provider may have started, and will bill, the work. Never retried on its
    own; the engine asks the user (the job needs attention). The message says what was lost."""

    code = "outcome_unknown"


# Transport errors raised before a byte of the request left: nothing can have been accepted. Named, as
# google-genai raises httpx's and recent openai releases those of its successor httpx2 (the same names).
NOT_SENT = ("ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol", "ProxyError")


def never_sent(error: BaseException) -> bool:
    return any(kind.__name__ in NOT_SENT and kind.__module__.startswith("httpx") for kind in type(error).__mro__)


def connection_failed(service: str, error: BaseException) -> TransientProviderError:
    """A connection that never opened (nothing was sent), or one that broke after the request left and
    before the answer came (the provider may have done, and billed, the work). Transient either way;
    a request that starts paid work without an idempotency key must not use this (SubmitOutcomeUnknown)."""
    if never_sent(error):
        reason = str(error).rstrip(".") or error.__class__.__name__
        return TransientProviderError(f"{service} could not be reached ({reason}).")
    return TransientProviderError(f"The connection to {service} broke before it answered ({error.__class__.__name__}).")


class SafetyBlocked(PermanentProviderError):
    code = "safety_blocked"


class ProviderNotConfigured(PermanentProviderError):
    code = "provider_not_configured"


# Video ------------------------------------------------------------------------------------------

# Veo's facts that every video provider follows (the offline renderer imitates Veo).
EXTENSION_SECONDS = 7  # what one extension adds


def is_fast(model: str) -> bool:
    """A Veo \"fast\" model: cheaper, and billed at its own price."""
    return "-fast-" in model


class VideoProvider(Protocol):
    name: str
    label: str
    poll_interval: float

    def submit(self, request: VideoRequest) -> str:
        """Start a generation; returns the operation name, kept so that a restart resumes it."""

    def poll(self, operation: str) -> OperationStatus: ...

    def download(self, operation: str, workdir: Path, *, extension: bool = False) -> GeneratedVideo:
        """The finished video, copied to `workdir`. `extension` says the operation extended a video."""


# Images -----------------------------------------------------------------------------------------

# What an image node offers; each provider makes the nearest it can (OpenAI: 3:2 or 2:3, cropped).
IMAGE_ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
IMAGE_SIZES = ("1K", "2K")


def image_dimensions(aspect_ratio: str, size: str) -> tuple[int, int]:
    """Width and height of an image of this aspect and size: the long side 1024 (1K) or 2048 (2K)
    pixels, both even (a video encoder's first frame needs even sides)."""
    across, down = (int(part) for part in aspect_ratio.split(":"))
    long_side = 2048 if size == "2K" else 1024
    scale = long_side / max(across, down)
    return round(across * scale / 2) * 2, round(down * scale / 2) * 2


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    model: str  # "" for the provider's default
    aspect_ratio: str = "16:9"
    size: str = "1K"
    # Pictures to stay faithful to: reference images, then the characters' face photos, in port order.
    references: tuple[Path, ...] = ()
    variation: int = 1  # which take of several: see nodes.types.base.RunContext.variation


@dataclass(frozen=True)
class GeneratedImage:
    path: Path
    model: str
    mime: str = "image/png"
    # What the user should know about the result ("cropped from 3:2 to 16:9"), or "".
    note: str = ""


class ImageProvider(Protocol):
    name: str
    label: str
    # The most reference pictures one request may carry.
    max_references: int

    def generate(self, request: ImageRequest, workdir: Path) -> GeneratedImage:
        """One image, written into `workdir`. Paid work without an idempotency key: an answer lost after
        the request left is a SubmitOutcomeUnknown, never retried on its own."""


# Music ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MusicRequest:
    prompt: str
    model: str  # "" for the provider's default
    seconds: float = 30.0  # the length of the piece delivered, whatever the model makes
    variation: int = 1  # which take of several: see nodes.types.base.RunContext.variation


@dataclass(frozen=True)
class GeneratedMusic:
    path: Path
    model: str
    mime: str
    seconds: float  # exactly what was asked for
    # What the user should know about the result ("Lyria made 30 s; looped to 45 s"), or "".
    note: str = ""


class MusicProvider(Protocol):
    name: str
    label: str

    def generate(self, request: MusicRequest, workdir: Path) -> GeneratedMusic:
        """One piece of the requested length, written into `workdir`. Paid work without an idempotency
        key: an answer lost after the request left is a SubmitOutcomeUnknown, never retried on its own."""


# Text -------------------------------------------------------------------------------------------


# A storyboard: a brief planned into shots, each a clip a video model can make.

SHOT_SECONDS = (4, 6, 8)  # Veo's lengths
MAX_SHOTS = 12


class PlannedShot(BaseModel):
    """One shot as a language model is asked to write it (the structured output's schema)."""

    description: str = Field(description="What the video model should show: subject, action, setting, light, sound.")
    seconds: int = Field(description="The shot's length in seconds: 4, 6 or 8.")
    characters: list[str] = Field(description="The names of the characters who appear in it (may be empty).")
    camera: str = Field(description="Shot size and camera movement, e.g. 'close-up, slow dolly in'.")
    continues: bool = Field(description="True when the action runs on from the previous shot without a cut.")


class ShotPlan(BaseModel):
    shots: list[PlannedShot]


@dataclass(frozen=True)
class StoryboardRequest:
    brief: str
    seconds: int  # the film's target length
    shots: int | None  # how many; None to choose
    aspect_ratio: str = "16:9"
    tone: str = ""
    characters: tuple[str, ...] = ()  # names
    style_image: Path | None = None


@dataclass(frozen=True)
class PlannedStoryboard:
    plan: ShotPlan
    provider: str
    model: str


@dataclass(frozen=True)
class ShotRewriteRequest:
    """One shot of a storyboard to write again, in the context of the brief and the other shots."""

    storyboard: StoryboardRequest  # the brief, the film's length and aspect, the tone, the characters
    shots: tuple[PlannedShot, ...]  # every shot as it is now, in order
    ids: tuple[str, ...]  # each shot's id, in the same order
    shot_id: str  # the one to rewrite

    @property
    def index(self) -> int:
        return self.ids.index(self.shot_id)

    @property
    def current(self) -> PlannedShot:
        return self.shots[self.index]


@dataclass(frozen=True)
class RewrittenShot:
    shot: PlannedShot
    provider: str
    model: str


class TextProvider(Protocol):
    name: str
    label: str

    def enhance(self, request: EnhanceRequest) -> EnhancedPrompt: ...

    def storyboard(self, request: StoryboardRequest) -> PlannedStoryboard:
        """A shot list for the brief, written for the video model (structured output)."""

    def rewrite_shot(self, request: ShotRewriteRequest, *, timeout: float | None = None) -> RewrittenShot:
        """One shot written again (structured output: a PlannedShot), the others left as they are.
        `timeout`: seconds the request may take, when not the provider's default."""


# Faces ------------------------------------------------------------------------------------------


class FaceProvider(Protocol):
    name: str
    label: str
    # Cosine similarity at or above which two embeddings of this provider are the same person.
    match_threshold: float
    # Below this, a face in a generated video has drifted from its character.
    drift_threshold: float
    # True when the model recognises the same photo, not the same person (the Haar fallback).
    approximate: bool

    def analyze(self, image: Path) -> FaceAnalysis: ...

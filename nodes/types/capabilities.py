"""What node types ask of providers and what they get back, independent of any one provider.

Providers (in generation/providers) implement these requests; node types build them. Keeping the
shapes here lets node types stay free of provider code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np


class NodeError(Exception):
    """A run cannot go on, for a reason the user can fix (a missing input, an unusable file)."""

    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code


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

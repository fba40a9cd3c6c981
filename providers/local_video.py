"""The offline video provider: renders real clips with ffmpeg, behind the same operation protocol as Veo.

Operations live in Redis (the "server side" of this provider), with the inputs it needs, so any
worker can poll or download them. Every submit is counted, so that tests and benchmarks can check
that a restarted job never submitted twice.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import time
import uuid
from functools import cached_property
from pathlib import Path

import django_rq
from django.conf import settings

from assets import media
from providers.contract import (
    EXTENSION_SECONDS,
    GeneratedVideo,
    OperationStatus,
    PermanentProviderError,
    SafetyBlocked,
    TransientProviderError,
    VideoRequest,
)

OPERATION_TTL_SECONDS = 2 * 24 * 3600


def submit_count(provider: str) -> int:
    return int(django_rq.get_connection("video").get(f"reelgraph:provider:{provider}:submits") or 0)


class LocalVideoProvider:
    name = "local"
    label = "Offline render"
    model = "reelgraph-offline-render"

    def __init__(self, latency: float | None = None) -> None:
        self.latency = settings.LOCAL_VIDEO_LATENCY if latency is None else latency
        self.poll_interval = max(0.5, min(5.0, self.latency / 4)) if self.latency else 0.5

    @cached_property
    def redis(self):
        return django_rq.get_connection("video")  # one connection for the calls of one step

    def _key(self, operation: str) -> str:
        return f"reelgraph:provider:{self.name}:operation:{operation}"

    def submit(self, request: VideoRequest) -> str:
        operation = f"{self.name}-{uuid.uuid4().hex}"
        now = time.time()
        with tempfile.TemporaryDirectory() as scratch:
            extends = request.extend and media.last_frame(request.extend.path, Path(scratch) / "last.png")
            extends = _encode(extends)
        record = {
            "prompt": request.prompt,
            "resolution": request.resolution,
            "aspect_ratio": request.aspect_ratio,
            "duration": EXTENSION_SECONDS if request.extend else request.duration_seconds,
            "references": len(request.reference_images),
            "variation": request.variation,
            # Offline, characters cannot be "applied"; the first one's photo leads the picture.
            "reference": _encode(request.reference_images[0] if request.reference_images else None),
            "first_frame": _encode(request.first_frame),
            "last_frame": _encode(request.last_frame),
            "extends": extends,
            "submitted_at": now,
            "ready_at": now + self.latency,
        }
        with self.redis.pipeline() as pipe:
            pipe.set(self._key(operation), json.dumps(record), ex=OPERATION_TTL_SECONDS)
            pipe.incr(f"reelgraph:provider:{self.name}:submits")
            pipe.execute()
        return operation

    def _record(self, operation: str) -> dict:
        raw = self.redis.get(self._key(operation))
        if raw is None:
            raise PermanentProviderError(f"The offline provider has no operation {operation} (expired or lost).")
        return json.loads(raw)

    def poll(self, operation: str) -> OperationStatus:
        record = self._record(operation)
        waited = time.time() - record["submitted_at"]
        total = record["ready_at"] - record["submitted_at"]
        if waited >= total:
            return OperationStatus(done=True, progress=1.0, label="Rendered")
        return OperationStatus(
            done=False, progress=min(0.95, waited / total), label="Rendering offline", eta_seconds=total - waited
        )

    def download(self, operation: str, workdir: Path, *, extension: bool = False) -> GeneratedVideo:
        record = self._record(operation)
        width, height = media.frame_size(record["resolution"], record["aspect_ratio"])
        first = _decode(record["extends"] or record["first_frame"] or record.get("reference"), workdir / "first.png")
        label = f"Offline render - {self.name} provider"
        if record["references"]:
            label += f" - {record['references']} character(s): the first one's photo, not a generation"
        if record.get("variation", 1) > 1:
            label += f" - take {record['variation']}"
        path = media.render_clip(
            workdir / f"{operation}.mp4",
            width=width,
            height=height,
            duration=record["duration"],
            caption=record["prompt"],
            label=label,
            image=first,
            end_image=_decode(record["last_frame"], workdir / "last.png"),
        )
        return GeneratedVideo(path=path, model=self.model, billed_seconds=record["duration"])


class SimulatedVideoProvider(LocalVideoProvider):
    """For tests and benchmarks: configurable latency and a script of failures, deterministic.

    REELGRAPH_SIMULATED_FAILURES is a comma-separated script consumed one entry per submit:
    `ok`, `transient`, `permanent:<message>`, `blocked:<reason>`, or `operation:<message>` (an
    error reported when the operation completes). After the script, every submit succeeds.

    REELGRAPH_SIMULATED_RENDER_ONCE=1 renders one clip per size and length and hands out copies of
    it (captioned with the first prompt): for benchmarks of the engine, where rendering hundreds of
    clips would measure ffmpeg instead.
    """

    name = "simulated"
    label = "Simulated provider"
    model = "reelgraph-simulated"

    def __init__(self) -> None:
        super().__init__(latency=settings.SIMULATED_PROVIDER["latency"])
        self.script = settings.SIMULATED_PROVIDER["failures"]
        self.render_once = settings.SIMULATED_PROVIDER["render_once"]

    def submit(self, request: VideoRequest) -> str:
        call = self.redis.incr(f"reelgraph:provider:{self.name}:calls") - 1
        step = self.script[call] if call < len(self.script) else "ok"
        kind, _, message = step.partition(":")
        if kind == "transient":
            raise TransientProviderError("The simulated provider is temporarily unavailable (503).")
        if kind == "permanent":
            raise PermanentProviderError(message or "The simulated provider rejected the request.")
        if kind == "blocked":
            raise SafetyBlocked(f"Blocked by the safety filter: {message or 'unspecified'}.")
        operation = super().submit(request)
        if kind == "operation":
            self.redis.set(self._key(operation) + ":error", message or "operation failed", ex=OPERATION_TTL_SECONDS)
        return operation

    def poll(self, operation: str) -> OperationStatus:
        status = super().poll(operation)
        error = self.redis.get(self._key(operation) + ":error")
        if status.done and error:
            raise PermanentProviderError(f"The generation failed: {error.decode()}")
        return status

    def download(self, operation: str, workdir: Path, *, extension: bool = False) -> GeneratedVideo:
        if not self.render_once or extension:
            return super().download(operation, workdir, extension=extension)
        record = self._record(operation)
        size = f"{record['resolution']}-{record['aspect_ratio'].replace(':', 'x')}-{record['duration']}s"
        rendered = settings.VAR_DIR / "simulated-renders" / f"{size}.mp4"
        if not rendered.exists():
            first = super().download(operation, workdir)
            rendered.parent.mkdir(parents=True, exist_ok=True)
            partial = rendered.with_name(f"{uuid.uuid4().hex}.part")
            shutil.copyfile(first.path, partial)
            partial.replace(rendered)  # atomic: a concurrent download sees the whole file or none
            return first
        path = workdir / f"{operation}.mp4"
        shutil.copyfile(rendered, path)
        return GeneratedVideo(path=path, model=self.model, billed_seconds=record["duration"])


def _encode(path: Path | None) -> str | None:
    return base64.b64encode(path.read_bytes()).decode() if path else None


def _decode(data: str | None, path: Path) -> Path | None:
    if data is None:
        return None
    path.write_bytes(base64.b64decode(data))
    return path

"""Veo 3.1: the facts and the submit-then-poll steps the video-making node types share."""

from typing import Annotated, Literal

from django.conf import settings
from pydantic import AfterValidator, Field

from nodes.types.base import RunContext, Usage, Wait
from nodes.types.paid import fingerprint
from providers.contract import GeneratedVideo, VideoRequest

DEFAULT_MODEL = "veo-3.1-generate-preview"


def available_models() -> list[str]:
    """The Veo models this installation offers (REELGRAPH_VEO_MODELS)."""
    return list(settings.VEO_MODELS)


def _offered(model: str) -> str:
    if model not in available_models():
        raise ValueError(f"choose one of {', '.join(available_models())}")
    return model


VeoModel = Annotated[
    str, AfterValidator(_offered), Field(json_schema_extra=lambda schema: schema.update(enum=available_models()))
]
AspectRatio = Literal["16:9", "9:16"]
Resolution = Literal["720p", "1080p", "4k"]
Duration = Literal[4, 6, 8]

# A provider's own estimate of the time left is followed, but never into polling in a tight loop.
MIN_POLL_SECONDS = 0.5
MAX_EXTENSIONS = 20
MAX_EXTENDABLE_SECONDS = 141


def resolution_of(width: int | None, height: int | None) -> str:
    short = min(width or 720, height or 720)
    return "4k" if short >= 2160 else "1080p" if short >= 1080 else "720p"


def aspect_ratio_of(width: int | None, height: int | None) -> str:
    return "9:16" if (height or 0) > (width or 0) else "16:9"


def submit(ctx: RunContext, request: VideoRequest, label: str) -> Wait:
    """Start a generation and hand its operation to the engine to wait on."""
    ctx.progress(0.04, f"Submitting to {ctx.video.label}")
    # From here until the operation is stored, a crash leaves an outcome nobody knows: recorded first.
    ctx.begin_submit(fingerprint(request), model=request.model, provider=ctx.video)
    operation = ctx.video.submit(request)
    return Wait(operation, poll_after=ctx.video.poll_interval, progress=0.05, label=label)


def collect(ctx: RunContext, resolution: str, *, extension: bool = False) -> GeneratedVideo | Wait:
    """Poll the operation; when it is done, download the video and record what it cost."""
    status = ctx.video.poll(ctx.operation)
    if not status.done:
        # The usual interval keeps the progress shown fresh; an estimate shorter than it is kept to the
        # second, so a finished video is collected when it is ready, not up to an interval later.
        poll_after = ctx.video.poll_interval
        if status.eta_seconds is not None:
            poll_after = max(MIN_POLL_SECONDS, min(poll_after, status.eta_seconds))
        return Wait(ctx.operation, poll_after, progress=status.progress, label=status.label)
    # Made: the provider bills it from here, even if the download then fails (the engine counts it).
    ctx.state["generated"] = True
    ctx.progress(0.9, "Downloading")
    result = ctx.video.download(ctx.operation, ctx.workdir, extension=extension)
    ctx.record_usage(Usage("video", result.billed_seconds, model=result.model, resolution=resolution))
    return result


def handle(result: GeneratedVideo) -> dict[str, str]:
    """The provider's handle for extending the video later, kept on the asset."""
    return {"uri": result.uri, "uri_expires_at": result.uri_expires_at.isoformat() if result.uri_expires_at else ""}

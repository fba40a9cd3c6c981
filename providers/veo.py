"""Google Veo 3.1 through google-genai on the Gemini API (an API key).

Submit, poll and download are separate steps: the engine stores the operation name after
submit and schedules the polls, so a restarted job resumes the same operation. Every rule Veo
would refuse is checked here first, with a message that says what to change.
"""

from __future__ import annotations

import mimetypes
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from google.genai import types

from assets import media
from providers import google
from providers.contract import (
    EXTENSION_SECONDS,
    GeneratedVideo,
    OperationStatus,
    PermanentProviderError,
    SafetyBlocked,
    VideoRequest,
    is_fast,
)

# Google keeps generated videos for two days; after that a Veo extension needs a new generation.
RETENTION = timedelta(days=2)
MAX_PROMPT_CHARACTERS = 4000  # about 1,024 tokens


class VeoProvider:
    name = "veo"
    label = "Google Veo 3.1"

    def __init__(self) -> None:
        self.client = google.client()
        self.poll_interval = settings.VEO_POLL_SECONDS

    # Submit ---------------------------------------------------------------------------------------

    def submit(self, request: VideoRequest) -> str:
        check(request)
        source = types.GenerateVideosSource(
            prompt=request.prompt or None,
            image=_image(request.first_frame),
            video=types.Video(uri=request.extend.uri, mime_type="video/mp4") if request.extend else None,
        )
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=8 if request.extend else request.duration_seconds,
            aspect_ratio=request.aspect_ratio,
            resolution=request.resolution,
            person_generation=person_generation(request),
            negative_prompt=request.negative_prompt or None,
            last_frame=_image(request.last_frame),
            reference_images=[
                types.VideoGenerationReferenceImage(image=_image(path), reference_type="asset")
                for path in request.reference_images
            ]
            or None,
            # Its own, long timeout: a submit that times out cannot be retried (see translated_errors).
            http_options=types.HttpOptions(timeout=int(settings.VEO_SUBMIT_TIMEOUT_SECONDS * 1000)),
        )
        with google.translated_errors("Veo", starts_paid_work=True):
            operation = self.client.models.generate_videos(model=request.model, source=source, config=config)
        return operation.name

    # Poll -----------------------------------------------------------------------------------------

    def _operation(self, name: str) -> types.GenerateVideosOperation:
        with google.translated_errors("Veo"):
            # The SDK takes an operation object, not a name: rebuilt from the stored name to resume.
            return self.client.operations.get(types.GenerateVideosOperation(name=name))

    def poll(self, operation: str) -> OperationStatus:
        current = self._operation(operation)
        if not current.done:
            return OperationStatus(done=False, progress=0.5, label="Veo is generating")
        self._video(current)  # raises on an error or a block, so the engine fails the job now
        return OperationStatus(done=True, progress=1.0, label="Generated")

    def _video(self, operation: types.GenerateVideosOperation) -> types.Video:
        if operation.error:
            message = operation.error.get("message") or str(operation.error)
            raise PermanentProviderError(f"Veo could not make this video: {message}", code="operation_failed")
        response = operation.response or operation.result
        videos = response.generated_videos if response else None
        if not videos or videos[0].video is None:
            reasons = (response.rai_media_filtered_reasons if response else None) or ["no reason given"]
            raise SafetyBlocked(
                f"Veo's safety filter blocked this video: {' '.join(reasons)} "
                "Change the prompt or the images and run again (blocked videos are not charged).",
                details={"reasons": reasons},
            )
        return videos[0].video

    # Download -------------------------------------------------------------------------------------

    def download(self, operation: str, workdir: Path, *, extension: bool = False) -> GeneratedVideo:
        video = self._video(self._operation(operation))
        path = workdir / f"veo-{operation.rsplit('/', 1)[-1]}.mp4"
        with google.translated_errors("Veo"):
            data = self.client.files.download(file=video)
        path.write_bytes(data)
        model = operation.split("/operations/")[0].removeprefix("models/")
        return GeneratedVideo(
            path=path,
            model=model,
            billed_seconds=EXTENSION_SECONDS if extension else media.probe(path).duration,
            includes_source=extension,  # Veo returns the whole extended video
            uri=video.uri or "",
            uri_expires_at=timezone.now() + RETENTION,
        )


def person_generation(request: VideoRequest) -> str:
    """Veo takes allow_all for text and extension, allow_adult when images lead the generation."""
    if settings.VEO_PERSON_GENERATION == "dont_allow":
        return "dont_allow"
    uses_images = request.first_frame or request.last_frame or request.reference_images
    return "allow_adult" if uses_images else "allow_all"


def check(request: VideoRequest) -> None:
    """Refuse, before anything is sent (or paid), what Veo would refuse."""
    problems = []
    if request.model not in settings.VEO_MODELS:
        problems.append(f"the model {request.model} is not enabled here (choose {', '.join(settings.VEO_MODELS)})")
    if not request.prompt and not (request.first_frame or request.extend):
        problems.append("a prompt is needed unless a first frame or a video to extend is given")
    if len(request.prompt) > MAX_PROMPT_CHARACTERS:
        problems.append(f"the prompt is longer than Veo reads ({MAX_PROMPT_CHARACTERS} characters)")
    if request.resolution in ("1080p", "4k") and request.duration_seconds != 8:
        problems.append(f"{request.resolution} videos must be 8 seconds long")
    if request.last_frame and not request.first_frame:
        problems.append("a last frame needs a first frame")
    if request.last_frame and request.duration_seconds != 8:
        problems.append("a video from a first and a last frame must be 8 seconds long")
    if request.reference_images:
        if len(request.reference_images) > 3:
            problems.append("at most 3 character references can be given")
        if request.first_frame or request.last_frame or request.extend:
            problems.append("character references cannot be combined with frames or an extension")
        if is_fast(request.model):
            problems.append(f"{request.model} does not take character references")
        if request.aspect_ratio != "16:9" or request.duration_seconds != 8:
            problems.append("with character references the video is 16:9 and 8 seconds long")
        if not request.prompt:
            problems.append("character references need a prompt")
    if request.extend:
        if not request.extend.uri:
            problems.append(
                "this video was not made by Veo (or Veo's copy is gone), so Veo cannot extend it: "
                "set the Extend node's mode to last_frame"
            )
        if request.first_frame or request.last_frame:
            problems.append("an extension cannot also take frames")
        if request.resolution != "720p":
            problems.append("Veo extends 720p videos only")
    if problems:
        raise PermanentProviderError(f"Veo cannot take this request: {'; '.join(problems)}.", code="invalid_request")


def _image(path: Path | None) -> types.Image | None:
    if path is None:
        return None
    return types.Image(image_bytes=path.read_bytes(), mime_type=mimetypes.guess_type(path.name)[0] or "image/png")

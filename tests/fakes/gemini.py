"""The Gemini API's REST protocol, as the google-genai SDK speaks it: Veo's long-running predict,
operation polling and file download, generateContent for text and for images, and the Interactions
API for Lyria's music."""

from __future__ import annotations

import base64
import io
import re
import uuid
from collections import deque
from pathlib import Path

from PIL import Image

from assets import media
from tests.fakes.server import Accept, FakeServer, Request, Response

__all__ = ["Accept", "GeminiFake", "api_error"]

VERSION = "v1beta"


def api_error(status: int, message: str, reason: str) -> Response:
    return Response(status, {"error": {"code": status, "message": message, "status": reason}})


class GeminiFake(FakeServer):
    """Scripts: `submits` (per predictLongRunning call: "ok", an Accept, or a Response to send instead),
    `outcomes` (per operation: "ok", "blocked", or ("error", message)), `texts` (per
    generateContent call: a text to answer, an Accept to lie about the answer it made, or a Response to
    send instead), `images` (per generateContent call asking for an image: "ok", an Accept, a Response,
    "blocked-prompt", "blocked-image" or "no-image"; `images_for` holds such scripts for the prompts
    that contain given words), `music` (per interaction: "ok", an Accept, a Response, "blocked" or
    "no-audio"). Operations finish after `polls` gets. Billed:
    `billed("video")` (operation names), `billed("text")` (the texts made, delivered or not),
    `billed("image")` (a description of each image made) and `billed("music")` (each piece's model)."""

    def __init__(self, workdir: Path, polls: int = 1) -> None:
        super().__init__()
        self.workdir = workdir
        self.polls = polls
        self.submits: deque = deque()
        self.outcomes: deque = deque()
        self.texts: deque = deque()
        self.images: deque = deque()
        self.images_for: dict[str, deque] = {}
        self.music: deque = deque()
        self.music_seconds = 30.0  # what Lyria 3 Clip always makes
        self.poll_answers: deque = deque()  # Responses sent instead of the next operation gets
        self.download_answers: deque = deque()  # and instead of the next downloads
        # Per kind of request ("poll", "download"): an Accept that holds the next one before it is answered.
        self.holds: dict[str, Accept] = {}
        self.operations: dict[str, dict] = {}
        self.files: dict[str, Path] = {}
        self.durations: dict[str, float] = {}

    def handle(self, request: Request) -> Response:
        path = request.path.removeprefix(f"/{VERSION}/")
        if request.headers.get("x-goog-api-key") in (None, ""):
            return api_error(403, "Method doesn't allow unregistered callers.", "PERMISSION_DENIED")
        if match := re.fullmatch(r"models/([^/:]+):predictLongRunning", path):
            return self._submit(match.group(1), request.json())
        if match := re.fullmatch(r"models/[^/]+/operations/[^/]+", path):
            self._hold("poll")
            return self._operation(match.group(0))
        if match := re.fullmatch(r"files/([a-z0-9]+):download", path):
            self._hold("download")
            if self.download_answers:
                return self.download_answers.popleft()
            return Response(200, self.files[match.group(1)].read_bytes(), {"Content-Type": "video/mp4"})
        if match := re.fullmatch(r"models/([^/:]+):generateContent", path):
            return self._generate_content(request.json())
        if path == "interactions" and request.method == "POST":
            return self._interaction(request.json())
        return api_error(404, f"Unknown path {request.path}", "NOT_FOUND")

    def _submit(self, model: str, body: dict) -> Response:
        step = self.submits.popleft() if self.submits else "ok"
        if isinstance(step, Response):
            return step
        name = f"models/{model}/operations/{uuid.uuid4().hex[:12]}"
        outcome = self.outcomes.popleft() if self.outcomes else "ok"
        self.operations[name] = {"body": body, "outcome": outcome, "gets": 0, "file": None}
        self.bill("video", name)
        answer = Response(200, {"name": name})
        return step.answer(answer) if isinstance(step, Accept) else answer

    def _hold(self, kind: str) -> None:
        step = self.holds.pop(kind, None)
        if step is not None:
            step.received.set()
            if step.release is not None:
                step.release.wait(120)

    @property
    def operations_created(self) -> int:
        """How many operations Google would have started, and billed."""
        return len(self.billed("video"))

    def _operation(self, name: str) -> Response:
        if self.poll_answers:
            return self.poll_answers.popleft()
        operation = self.operations.get(name)
        if operation is None:
            return api_error(404, f"Operation {name} not found.", "NOT_FOUND")
        operation["gets"] += 1
        if operation["gets"] < self.polls:
            return Response(200, {"name": name, "done": False})
        outcome = operation["outcome"]
        if outcome == "blocked":
            reasons = ["The prompt could not be submitted: it may violate our policies on public figures."]
            response = {"generateVideoResponse": {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": reasons}}
            return Response(200, {"name": name, "done": True, "response": response})
        if isinstance(outcome, tuple):
            return Response(200, {"name": name, "done": True, "error": {"code": 13, "message": outcome[1]}})
        file_id = operation["file"] or self._render(operation["body"])
        operation["file"] = file_id
        video = {"uri": f"https://generativelanguage.googleapis.com/{VERSION}/files/{file_id}:download?alt=media"}
        response = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [{"video": video}]},
        }
        return Response(200, {"name": name, "done": True, "response": response})

    def _render(self, body: dict) -> str:
        """A real clip: the requested length, or for an extension the source plus 7 seconds."""
        instance, parameters = body["instances"][0], body.get("parameters", {})
        seconds = float(parameters.get("durationSeconds", 8))
        if "video" in instance:
            source = re.search(r"files/([a-z0-9]+)", instance["video"]["uri"]).group(1)
            seconds = self.durations[source] + 7
        file_id = uuid.uuid4().hex[:16]
        width, height = (320, 180) if parameters.get("aspectRatio", "16:9") == "16:9" else (180, 320)
        path = media.render_clip(
            self.workdir / f"{file_id}.mp4",
            width=width,
            height=height,
            duration=seconds,
            caption=instance.get("prompt", ""),
            label="fake Veo",
        )
        self.files[file_id], self.durations[file_id] = path, seconds
        return file_id

    def _generate_content(self, body: dict) -> Response:
        if _asks_for_an_image(body):
            return self._generate_image(body)
        step = self.texts.popleft() if self.texts else None
        if isinstance(step, Response):
            return step
        text = step if isinstance(step, str) else f"A polished prompt, answer {len(self.billed('text')) + 1}."
        self.bill("text", text)
        candidate = {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}
        answer = Response(200, {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"})
        return step.answer(answer) if isinstance(step, Accept) else answer

    def _generate_image(self, body: dict) -> Response:
        prompt = " ".join(part.get("text", "") for content in body["contents"] for part in content["parts"])
        step = self.step_for(self.images, prompt, self.images_for)
        if isinstance(step, Response):
            return step
        if step == "blocked-prompt":
            feedback = {"blockReason": "PROHIBITED_CONTENT", "blockReasonMessage": "The prompt was blocked."}
            return Response(200, {"promptFeedback": feedback, "modelVersion": "fake"})
        if step in ("blocked-image", "no-image"):
            reason = "IMAGE_SAFETY" if step == "blocked-image" else "NO_IMAGE"
            candidate = {"content": {"role": "model", "parts": []}, "finishReason": reason, "index": 0}
            return Response(200, {"candidates": [candidate], "modelVersion": "fake"})
        config = body["generationConfig"].get("imageConfig", {})
        png = picture(config.get("aspectRatio", "1:1"), len(self.billed("image")))
        self.bill("image", f"{config.get('aspectRatio')} {config.get('imageSize')}")
        part = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}}
        candidate = {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
        answer = Response(200, {"candidates": [candidate], "modelVersion": "fake-image"})
        return step.answer(answer) if isinstance(step, Accept) else answer

    def _interaction(self, body: dict) -> Response:
        step = self.music.popleft() if self.music else "ok"
        if isinstance(step, Response):
            return step
        answer = {"id": uuid.uuid4().hex, "model": body["model"], "object": "interaction"}
        if step == "blocked":
            error = {"code": "prompt_blocked", "message": "The prompt was blocked by the safety filter."}
            return Response(200, {**answer, "status": "failed", "errors": [error], "steps": []})
        if step == "no-audio":
            content = [{"type": "text", "text": "[Verse]"}]
            return Response(
                200, {**answer, "status": "completed", "steps": [{"type": "model_output", "content": content}]}
            )
        mp3 = song(self.workdir / f"song-{len(self.billed('music'))}.mp3", self.music_seconds)
        self.bill("music", body["model"])
        content = [
            {"type": "text", "text": "[Instrumental]"},
            {"type": "audio", "mime_type": "audio/mpeg", "data": base64.b64encode(mp3).decode()},
        ]
        done = Response(200, {**answer, "status": "completed", "steps": [{"type": "model_output", "content": content}]})
        return step.answer(done) if isinstance(step, Accept) else done

    def music_requests(self) -> list[dict]:
        return [r.json() for r in self.received("POST", "/interactions")]

    def image_requests(self) -> list[dict]:
        return [body for body in self._content_requests() if _asks_for_an_image(body)]

    def text_requests(self) -> list[dict]:
        return [body for body in self._content_requests() if not _asks_for_an_image(body)]

    def _content_requests(self) -> list[dict]:
        return [r.json() for r in self.received("POST", ":generateContent")]

    def submitted(self) -> list[dict]:
        return [r.json() for r in self.received("POST", ":predictLongRunning")]


def _asks_for_an_image(body: dict) -> bool:
    return "IMAGE" in body.get("generationConfig", {}).get("responseModalities", [])


def song(path: Path, seconds: float) -> bytes:
    """A real MP3 of `seconds`, a tone rising each second, as Lyria answers with."""
    tone = f"aevalsrc='0.3*sin(2*PI*(220+40*floor(t))*t)':s=44100:d={seconds}"
    media.ffmpeg("-f", "lavfi", "-i", tone, "-ac", "2", "-c:a", "libmp3lame", "-b:a", "96k", str(path))
    return path.read_bytes()


def picture(aspect_ratio: str, number: int) -> bytes:
    """A small PNG of the aspect asked for, its colour different for each image made."""
    across, down = (int(part) for part in aspect_ratio.split(":"))
    size = (32 * across, 32 * down) if max(across, down) <= 4 else (16 * across, 16 * down)
    colour = ((70 * number + 40) % 256, (130 * number + 90) % 256, (50 * number + 160) % 256)
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()

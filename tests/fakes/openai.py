"""The OpenAI HTTP API as the openai SDK speaks it: Chat Completions, Responses and images."""

from __future__ import annotations

import base64
import time
import uuid
from collections import deque
from email.parser import BytesParser
from email.policy import HTTP

from tests.fakes.gemini import picture
from tests.fakes.server import Accept, FakeServer, Request, Response

IMAGE_PATHS = ("/v1/images/generations", "/v1/images/edits")
MODERATION_BLOCKED = {
    "error": {
        "message": "Your request was rejected by the safety system.",
        "type": "image_generation_user_error",
        "param": None,
        "code": "moderation_blocked",
    }
}


def api_error(status: int, message: str, kind: str = "invalid_request_error") -> Response:
    return Response(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})


class OpenAIFake(FakeServer):
    """`answers` is a script, one entry per call: a text to answer, an Accept to lie about the answer it
    made (late, never, or a 5xx instead), or a Response to send instead. `images` is the script of the
    image calls ("ok", an Accept, or a Response); `images_for` holds such scripts for the prompts that
    contain given words. `billed("text")`: every text made, delivered or not; `billed("image")`: every
    image made."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: deque = deque()
        self.images: deque = deque()
        self.images_for: dict[str, deque] = {}

    def handle(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return api_error(401, "You didn't provide an API key.", "invalid_request_error")
        if request.path in IMAGE_PATHS:
            return self._image(request)
        if request.path not in ("/v1/chat/completions", "/v1/responses"):
            return api_error(404, f"Unknown path {request.path}")
        step = self.answers.popleft() if self.answers else None
        if isinstance(step, Response):
            return step
        text = step if isinstance(step, str) else (step.text if isinstance(step, Accept) else "")
        text = text or f"An enhanced prompt, answer {len(self.billed('text')) + 1}."
        self.bill("text", text)
        model = request.json().get("model", "")
        made = self._chat(model, text) if request.path == "/v1/chat/completions" else self._response(model, text)
        return step.answer(Response(200, made)) if isinstance(step, Accept) else Response(200, made)

    @staticmethod
    def _chat(model: str, text: str) -> dict:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:10]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 40, "total_tokens": 90},
        }

    @staticmethod
    def _response(model: str, text: str) -> dict:
        return {
            "id": f"resp_{uuid.uuid4().hex[:10]}",
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": model,
            "output": [
                {
                    "type": "message",
                    "id": f"msg_{uuid.uuid4().hex[:10]}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            ],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {"input_tokens": 50, "output_tokens": 40, "total_tokens": 90},
        }

    def _image(self, request: Request) -> Response:
        fields = form(request) if request.path.endswith("/edits") else request.json()
        step = self.step_for(self.images, fields.get("prompt", ""), self.images_for)
        if isinstance(step, Response):
            return step
        size = fields.get("size", "1024x1024")
        across, down = (int(side) for side in size.split("x"))
        png = picture(f"{across // 512}:{down // 512}", len(self.billed("image")))
        self.bill("image", size)
        made = {"created": int(time.time()), "data": [{"b64_json": base64.b64encode(png).decode()}]}
        return step.answer(Response(200, made)) if isinstance(step, Accept) else Response(200, made)

    def bodies(self, path: str) -> list[dict]:
        return [r.json() for r in self.received("POST", path)]


def form(request: Request) -> dict:
    """A multipart form's fields: text fields as strings, files (repeated `image[]`) as lists of bytes."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    fields: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if part.get_filename() is not None:
            fields.setdefault(name, []).append(payload)
        else:
            fields[name] = payload.decode()
    return fields

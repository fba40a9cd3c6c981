"""What we ask a language model when it enhances a prompt for a video model (OpenAI and Gemini alike)."""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

from providers.contract import EnhanceRequest
from providers.local_text import MAX_CHARACTERS, STYLES


def instructions(request: EnhanceRequest) -> str:
    style = STYLES.get(request.style or "", "")
    return "\n".join(
        [
            f"You write prompts for the text-to-video model {request.target_model} (Google Veo 3.1).",
            "Rewrite the user's idea as one vivid paragraph that names, in this order: the subject, "
            "the action, the setting, the camera (shot size, movement, lens), the lighting, the visual "
            "style, and the sound (dialogue in quotes, effects, ambience, music).",
            "Keep every concrete detail the user gave; invent only what is missing, and nothing that "
            "contradicts them. Describe one continuous shot of about eight seconds.",
            f"Aim for this style: {style}." if style else "Choose a style that suits the idea.",
            "If a reference image is attached, keep its subject, colours and framing.",
            f"Answer with the prompt only: no title, no quotes, no notes, at most {MAX_CHARACTERS} characters.",
        ]
    )


def image_data_url(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def clean(text: str | None) -> str:
    """The model's answer as a prompt: no markdown, no wrapping quotes, within the length limit."""
    text = (text or "").strip()
    text = re.sub(r"^(prompt|enhanced prompt)\s*:\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"[*_#`]+", "", text).strip().strip('"“”').strip()
    return " ".join(text.split())[:MAX_CHARACTERS]

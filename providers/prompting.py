"""What we ask a language model when it enhances a prompt for a video model (OpenAI and Gemini alike)."""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

from providers.contract import SHOT_SECONDS, EnhanceRequest, StoryboardRequest
from providers.local_text import MAX_CHARACTERS
from providers.vocabulary import STYLES


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


def storyboard_instructions(request: StoryboardRequest) -> str:
    count = f"exactly {request.shots} shots" if request.shots else "as many shots as the story needs (one per ~6 s)"
    people = ", ".join(request.characters) or "none"
    return "\n".join(
        [
            "You are a storyboard artist planning a short film shot by shot for Google Veo 3.1.",
            f"The film lasts {request.seconds} seconds in total, aspect ratio {request.aspect_ratio}; plan {count}.",
            f"Each shot lasts {', '.join(map(str, SHOT_SECONDS[:-1]))} or {SHOT_SECONDS[-1]} seconds; "
            "the lengths add up to the film's length.",
            "Write each shot's description for the video model as one vivid paragraph: subject, action, setting, "
            "lighting, style and sound. Repeat who and where in every shot: each is generated on its own.",
            f"Characters you may use, by these exact names: {people}. List in each shot the ones who appear.",
            "Mark a shot as continuing when its action runs on from the previous shot without a cut (it starts "
            "on the previous shot's last frame); the first shot never continues.",
            f"Tone: {request.tone}." if request.tone else "Choose a tone that suits the brief.",
            "If a style image is attached, keep its look in every shot.",
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

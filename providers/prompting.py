"""What we ask a language model when it enhances a prompt for a video model (OpenAI and Gemini alike)."""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

from providers.contract import SHOT_SECONDS, EnhanceRequest, ShotRewriteRequest, StoryboardRequest
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
    return "\n".join(
        [
            "You are a storyboard artist planning a short film shot by shot for Google Veo 3.1.",
            f"The film lasts {request.seconds} seconds in total, aspect ratio {request.aspect_ratio}; plan {count}.",
            f"Each shot lasts {', '.join(map(str, SHOT_SECONDS[:-1]))} or {SHOT_SECONDS[-1]} seconds; "
            "the lengths add up to the film's length.",
            *_shot_rules(request),
        ]
    )


def _shot_rules(request: StoryboardRequest) -> list[str]:
    """How every shot is written, whether the whole film is planned or one shot rewritten."""
    people = ", ".join(request.characters) or "none"
    return [
        "Write each shot's description for the video model as one vivid paragraph: subject, action, setting, "
        "lighting, style and sound. Repeat who and where in every shot: each is generated on its own.",
        f"Characters you may use, by these exact names: {people}. List in each shot the ones who appear.",
        "Mark a shot as continuing when its action runs on from the previous shot without a cut (it starts "
        "on the previous shot's last frame); the first shot never continues.",
        f"Tone: {request.tone}." if request.tone else "Choose a tone that suits the brief.",
        "If a style image is attached, keep its look in every shot.",
    ]


def shot_rewrite_instructions(request: ShotRewriteRequest) -> str:
    board, current = request.storyboard, request.current
    return "\n".join(
        [
            "You are a storyboard artist revising one shot of a short film for Google Veo 3.1.",
            f"The film lasts {board.seconds} seconds in total, aspect ratio {board.aspect_ratio}.",
            *_shot_rules(board),
            f'Rewrite only shot {request.index + 1} (id "{request.shot_id}"): a fresh take on it, in new words, '
            "that still fits between the shot before it and the shot after it. The other shots stay exactly "
            "as they are.",
            f"Keep its length: {current.seconds} seconds. Answer with that one shot.",
        ]
    )


def shot_rewrite_message(request: ShotRewriteRequest) -> str:
    """The brief and every shot as it is now, the one to rewrite marked (the user's turn)."""
    lines = [f"Brief: {request.storyboard.brief}", "", "The shots as they are now:"]
    for number, (shot_id, shot) in enumerate(zip(request.ids, request.shots, strict=True), 1):
        how = "continues" if shot.continues else "cut"
        people = f" Characters: {', '.join(shot.characters)}." if shot.characters else ""
        mark = "  <- rewrite this shot" if shot_id == request.shot_id else ""
        lines.append(
            f'{number}. id "{shot_id}" ({shot.seconds} s, {how}) [{shot.camera}] {shot.description}{people}{mark}'
        )
    return "\n".join(lines)


def image_data_url(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def clean(text: str | None) -> str:
    """The model's answer as a prompt: no markdown, no wrapping quotes, within the length limit."""
    text = (text or "").strip()
    text = re.sub(r"^(prompt|enhanced prompt)\s*:\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"[*_#`]+", "", text).strip().strip('"“”').strip()
    return " ".join(text.split())[:MAX_CHARACTERS]

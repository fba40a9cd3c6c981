"""Prompt enhancement with Gemini, which also looks at the reference image when there is one."""

from __future__ import annotations

from django.conf import settings
from google.genai import types

from providers import google
from providers.contract import (
    EnhancedPrompt,
    EnhanceRequest,
    PermanentProviderError,
    PlannedShot,
    PlannedStoryboard,
    RewrittenShot,
    ShotPlan,
    ShotRewriteRequest,
    StoryboardRequest,
)
from providers.prompting import (
    clean,
    instructions,
    shot_rewrite_instructions,
    shot_rewrite_message,
    storyboard_instructions,
)


class GeminiTextProvider:
    name = "gemini"
    label = "Gemini"

    def __init__(self) -> None:
        self.client = google.client()
        self.model = settings.GEMINI_TEXT_MODEL

    def enhance(self, request: EnhanceRequest) -> EnhancedPrompt:
        parts = _parts(request.text, request.image)
        with google.translated_errors("Gemini"):
            response = self.client.models.generate_content(
                model=self.model,
                contents=[types.Content(role="user", parts=parts)],
                config=types.GenerateContentConfig(
                    system_instruction=instructions(request),
                    temperature=0.8,
                    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
                ),
            )
        enhanced = clean(response.text)
        if not enhanced:
            raise PermanentProviderError("Gemini answered with an empty prompt (it may have been blocked); edit it.")
        return EnhancedPrompt(text=enhanced, provider=self.name, model=self.model)

    def storyboard(self, request: StoryboardRequest) -> PlannedStoryboard:
        """Structured output: Gemini answers JSON matching ShotPlan's schema."""
        with google.translated_errors("Gemini"):
            plan = self._structured(
                storyboard_instructions(request), _parts(request.brief, request.style_image), ShotPlan
            )
        if not isinstance(plan, ShotPlan) or not plan.shots:
            raise PermanentProviderError("Gemini answered without a shot list (it may have been blocked); run again.")
        return PlannedStoryboard(plan, provider=self.name, model=self.model)

    def rewrite_shot(self, request: ShotRewriteRequest, *, timeout: float | None = None) -> RewrittenShot:
        """Structured output: Gemini answers JSON matching PlannedShot's schema."""
        parts = _parts(shot_rewrite_message(request), request.storyboard.style_image)
        with google.translated_errors("Gemini", timeout=timeout):
            shot = self._structured(shot_rewrite_instructions(request), parts, PlannedShot, timeout=timeout)
        if not isinstance(shot, PlannedShot) or not shot.description.strip():
            raise PermanentProviderError("Gemini answered without a shot (it may have been blocked); try again.")
        return RewrittenShot(shot, provider=self.name, model=self.model)

    def _structured(self, system: str, parts: list[types.Part], schema, *, timeout: float | None = None):
        """Gemini's answer parsed as `schema` (None when it gave none)."""
        response = self.client.models.generate_content(
            model=self.model,
            contents=[types.Content(role="user", parts=parts)],
            config=types.GenerateContentConfig(
                system_instruction=system,
                response_mime_type="application/json",
                response_schema=schema,
                automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
                http_options=None if timeout is None else types.HttpOptions(timeout=int(timeout * 1000)),
            ),
        )
        return response.parsed


def _parts(text: str, image) -> list[types.Part]:
    parts = [types.Part.from_text(text=text)]
    if image is not None:
        parts.append(google.picture(image))
    return parts

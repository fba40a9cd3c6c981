"""Prompt enhancement with OpenAI, or any server that speaks its API (OPENAI_BASE_URL)."""

from __future__ import annotations

from django.conf import settings

from providers import openai_client
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
    image_data_url,
    instructions,
    shot_rewrite_instructions,
    shot_rewrite_message,
    storyboard_instructions,
)


class OpenAITextProvider:
    name = "openai"
    label = "OpenAI"

    def __init__(self) -> None:
        self.client = openai_client.client("Prompt enhancement")
        self.model = settings.OPENAI_MODEL

    def enhance(self, request: EnhanceRequest) -> EnhancedPrompt:
        image = request.image if settings.OPENAI_ACCEPTS_IMAGES else None
        with openai_client.translated_errors():
            text = self._chat(request, image) if settings.OPENAI_API == "chat" else self._responses(request, image)
        enhanced = clean(text)
        if not enhanced:
            raise PermanentProviderError("OpenAI answered with an empty prompt; run again or edit the prompt.")
        return EnhancedPrompt(text=enhanced, provider=self.name, model=self.model)

    def _responses(self, request, image) -> str:
        content = [{"type": "input_text", "text": request.text}]
        if image:
            content.append({"type": "input_image", "image_url": image_data_url(image)})
        response = self.client.responses.create(
            model=self.model,
            instructions=instructions(request),
            input=[{"role": "user", "content": content}],
        )
        return response.output_text

    def _chat(self, request, image) -> str:
        content = [{"type": "text", "text": request.text}]
        if image:
            content.append({"type": "image_url", "image_url": {"url": image_data_url(image)}})
        completion = self.client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": instructions(request)},
                {"role": "user", "content": content},
            ],
        )
        return completion.choices[0].message.content or ""

    def storyboard(self, request: StoryboardRequest) -> PlannedStoryboard:
        """Structured output: the answer must match ShotPlan's JSON schema (OpenAI enforces it; so do
        Ollama and vLLM behind OPENAI_BASE_URL, through the chat form)."""
        image = request.style_image if settings.OPENAI_ACCEPTS_IMAGES else None
        with openai_client.translated_errors():
            plan = self._parse(self.client, storyboard_instructions(request), request.brief, image, ShotPlan)
        if plan is None or not plan.shots:
            raise PermanentProviderError("OpenAI answered without a shot list; run the storyboard again.")
        return PlannedStoryboard(plan, provider=self.name, model=self.model)

    def rewrite_shot(self, request: ShotRewriteRequest, *, timeout: float | None = None) -> RewrittenShot:
        """Structured output of one PlannedShot, with the brief and every shot in the user's turn."""
        client = self.client if timeout is None else self.client.with_options(timeout=timeout)
        image = request.storyboard.style_image if settings.OPENAI_ACCEPTS_IMAGES else None
        with openai_client.translated_errors(timeout=timeout):
            shot = self._parse(
                client, shot_rewrite_instructions(request), shot_rewrite_message(request), image, PlannedShot
            )
        if shot is None or not shot.description.strip():
            raise PermanentProviderError("OpenAI answered without a shot; try regenerating it again.")
        return RewrittenShot(shot, provider=self.name, model=self.model)

    def _parse(self, client, system: str, text: str, image, schema):
        """The answer parsed as `schema` (None when the model gave none), through the configured API."""
        if settings.OPENAI_API == "chat":
            content = [{"type": "text", "text": text}]
            if image:
                content.append({"type": "image_url", "image_url": {"url": image_data_url(image)}})
            messages = [{"role": "system", "content": system}, {"role": "user", "content": content}]
            answer = client.chat.completions.parse(model=self.model, messages=messages, response_format=schema)
            return answer.choices[0].message.parsed
        content = [{"type": "input_text", "text": text}]
        if image:
            content.append({"type": "input_image", "image_url": image_data_url(image)})
        answer = client.responses.parse(
            model=self.model, instructions=system, input=[{"role": "user", "content": content}], text_format=schema
        )
        return answer.output_parsed

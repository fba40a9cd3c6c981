"""Prompt enhancement with OpenAI, or any server that speaks its API (OPENAI_BASE_URL)."""

from __future__ import annotations

from django.conf import settings

from providers import openai_client
from providers.contract import (
    EnhancedPrompt,
    EnhanceRequest,
    PermanentProviderError,
    PlannedStoryboard,
    ShotPlan,
    StoryboardRequest,
)
from providers.prompting import clean, image_data_url, instructions, storyboard_instructions


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
        system = storyboard_instructions(request)
        with openai_client.translated_errors():
            if settings.OPENAI_API == "chat":
                content = [{"type": "text", "text": request.brief}]
                if image:
                    content.append({"type": "image_url", "image_url": {"url": image_data_url(image)}})
                messages = [{"role": "system", "content": system}, {"role": "user", "content": content}]
                answer = self.client.chat.completions.parse(
                    model=self.model, messages=messages, response_format=ShotPlan
                )
                plan = answer.choices[0].message.parsed
            else:
                content = [{"type": "input_text", "text": request.brief}]
                if image:
                    content.append({"type": "input_image", "image_url": image_data_url(image)})
                answer = self.client.responses.parse(
                    model=self.model,
                    instructions=system,
                    input=[{"role": "user", "content": content}],
                    text_format=ShotPlan,
                )
                plan = answer.output_parsed
        if plan is None or not plan.shots:
            raise PermanentProviderError("OpenAI answered without a shot list; run the storyboard again.")
        return PlannedStoryboard(plan, provider=self.name, model=self.model)

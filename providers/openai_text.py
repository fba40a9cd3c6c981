"""Prompt enhancement with OpenAI, or any server that speaks its API (OPENAI_BASE_URL)."""

from __future__ import annotations

from django.conf import settings

from providers import openai_client
from providers.contract import EnhancedPrompt, EnhanceRequest, PermanentProviderError
from providers.prompting import clean, image_data_url, instructions


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

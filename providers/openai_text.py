"""Prompt enhancement with OpenAI, or any server that speaks its API (OPENAI_BASE_URL)."""

from __future__ import annotations

import openai
from django.conf import settings

from providers.contract import (
    EnhancedPrompt,
    EnhanceRequest,
    PermanentProviderError,
    ProviderNotConfigured,
    TransientProviderError,
    connection_failed,
)
from providers.prompting import clean, image_data_url, instructions


class OpenAITextProvider:
    name = "openai"
    label = "OpenAI"

    def __init__(self) -> None:
        if not settings.OPENAI_API_KEY:
            raise ProviderNotConfigured("Prompt enhancement with OpenAI needs OPENAI_API_KEY in the environment.")
        self.model = settings.OPENAI_MODEL
        self.timeout = settings.PROVIDER_TIMEOUT_SECONDS
        # Retries belong to the engine (with backoff, visible on the node); the SDK tries once.
        self.client = openai.OpenAI(
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL or None,
            timeout=self.timeout,
            max_retries=0,
        )

    def enhance(self, request: EnhanceRequest) -> EnhancedPrompt:
        image = request.image if settings.OPENAI_ACCEPTS_IMAGES else None
        try:
            text = self._chat(request, image) if settings.OPENAI_API == "chat" else self._responses(request, image)
        except openai.APITimeoutError as error:
            raise TransientProviderError(f"OpenAI did not answer within {self.timeout:g} s.") from error
        except openai.APIConnectionError as error:  # the SDK's wrapper: what broke is its cause
            raise connection_failed("OpenAI", error.__cause__ or error) from error
        except openai.RateLimitError as error:
            raise TransientProviderError(f"OpenAI is rate-limiting requests (429): {_message(error)}") from error
        except openai.AuthenticationError as error:
            raise ProviderNotConfigured(
                f"OpenAI refused the API key: check OPENAI_API_KEY ({_message(error)})."
            ) from error
        except openai.APIStatusError as error:
            if error.status_code >= 500:
                raise TransientProviderError(f"OpenAI had a server error ({error.status_code}).") from error
            raise PermanentProviderError(
                f"OpenAI refused the request ({error.status_code}): {_message(error)}"
            ) from error
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


def _message(error: openai.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return str(body.get("message") or error.message)

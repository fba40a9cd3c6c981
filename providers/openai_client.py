"""The openai client, and how its errors become ours (prompt enhancement and images share both)."""

from __future__ import annotations

import contextlib

import openai
from django.conf import settings

from providers.contract import (
    PermanentProviderError,
    ProviderNotConfigured,
    SafetyBlocked,
    SubmitOutcomeUnknown,
    TransientProviderError,
    connection_failed,
    never_sent,
)


def client(purpose: str) -> openai.OpenAI:
    if not settings.OPENAI_API_KEY:
        raise ProviderNotConfigured(f"{purpose} with OpenAI needs OPENAI_API_KEY in the environment.")
    # Retries belong to the engine (with backoff, visible on the node); the SDK tries once.
    return openai.OpenAI(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL or None,
        timeout=settings.PROVIDER_TIMEOUT_SECONDS,
        max_retries=0,
    )


@contextlib.contextmanager
def translated_errors(*, starts_paid_work: bool = False, timeout: float | None = None):
    """429 and 5xx are worth another try; any other refusal is final, with OpenAI's own words; a
    moderation refusal is a safety block.

    `starts_paid_work` (an image, which has no idempotency key and is billed once made): an answer lost
    after the request was sent (a timeout, a dropped connection, a 5xx) is an unknown outcome, never
    retried; only what proves nothing was accepted (a 4xx, a 429, a connection that never opened) is."""
    timeout = settings.PROVIDER_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        yield
    except openai.APITimeoutError as error:
        if starts_paid_work:
            raise SubmitOutcomeUnknown(
                f"OpenAI did not answer within {timeout:g} s after the request was sent"
            ) from error
        raise TransientProviderError(f"OpenAI did not answer within {timeout:g} s.") from error
    except openai.APIConnectionError as error:  # the SDK's wrapper: what broke is its cause
        cause = error.__cause__ or error
        if starts_paid_work and not never_sent(cause):
            raise SubmitOutcomeUnknown(
                f"the connection to OpenAI broke after the request was sent ({cause.__class__.__name__})"
            ) from error
        raise connection_failed("OpenAI", cause) from error
    except openai.RateLimitError as error:
        raise TransientProviderError(f"OpenAI is rate-limiting requests (429): {message(error)}") from error
    except openai.AuthenticationError as error:
        raise ProviderNotConfigured(f"OpenAI refused the API key: check OPENAI_API_KEY ({message(error)}).") from error
    except openai.APIStatusError as error:
        if error.status_code >= 500:
            if starts_paid_work:
                raise SubmitOutcomeUnknown(
                    f"OpenAI answered the request with a server error ({error.status_code})"
                ) from error
            raise TransientProviderError(f"OpenAI had a server error ({error.status_code}).") from error
        if _code(error) == "moderation_blocked":
            raise SafetyBlocked(f"OpenAI's safety system refused the request: {message(error)}") from error
        raise PermanentProviderError(f"OpenAI refused the request ({error.status_code}): {message(error)}") from error


def _body(error: openai.APIStatusError) -> dict:
    return error.body if isinstance(error.body, dict) else {}


def _code(error: openai.APIStatusError) -> str:
    return str(_body(error).get("code") or getattr(error, "code", "") or "")


def message(error: openai.APIStatusError) -> str:
    return str(_body(error).get("message") or error.message)

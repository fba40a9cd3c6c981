"""The google-genai client, and how its errors become ours (Veo and Gemini text share both)."""

from __future__ import annotations

import contextlib
import mimetypes
from pathlib import Path

import httpx
from django.conf import settings
from google import genai
from google.genai import errors, types

from providers.contract import NOT_SENT as NOT_SENT_NAMES
from providers.contract import (
    PermanentProviderError,
    ProviderNotConfigured,
    SubmitOutcomeUnknown,
    TransientProviderError,
    connection_failed,
)

NOT_SENT = tuple(getattr(httpx, name) for name in NOT_SENT_NAMES)  # nothing of the request left


def client() -> genai.Client:
    if not settings.GEMINI_API_KEY:
        raise ProviderNotConfigured("Google's models need GEMINI_API_KEY in the environment.")
    return genai.Client(
        api_key=settings.GEMINI_API_KEY,
        http_options=types.HttpOptions(
            base_url=settings.GEMINI_BASE_URL or None,
            timeout=int(settings.PROVIDER_TIMEOUT_SECONDS * 1000),
            # Retries belong to the engine (with backoff, visible on the node); the SDK tries once.
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )


def picture(path: Path) -> types.Part:
    """A picture as a part of a generate_content request (Gemini looks at it)."""
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return types.Part.from_bytes(data=path.read_bytes(), mime_type=mime)


@contextlib.contextmanager
def translated_errors(service: str, *, starts_paid_work: bool = False, timeout: float | None = None):
    """429 and 5xx are worth another try; any other refusal is final, with Google's own words.

    `starts_paid_work` (a Veo submit, which has no idempotency key): an answer lost after the request
    was sent (a read timeout, a dropped connection, a 5xx) is an unknown outcome, never retried;
    only what proves nothing was accepted (a 4xx, a 429, a connection that never opened) is.
    `timeout`: the request's own, when it is not the submit's or the default (for the messages)."""
    if timeout is None:
        timeout = settings.VEO_SUBMIT_TIMEOUT_SECONDS if starts_paid_work else settings.PROVIDER_TIMEOUT_SECONDS
    try:
        yield
    except errors.ClientError as error:
        message = error.message or error.status or "no details"
        if error.code == 429:
            raise TransientProviderError(f"{service} is rate-limiting requests (429): {message}") from error
        if error.code in (401, 403):
            raise ProviderNotConfigured(f"{service} refused the request ({error.code}): {message}") from error
        raise PermanentProviderError(f"{service} refused the request ({error.code}): {message}") from error
    except errors.ServerError as error:
        if starts_paid_work:
            raise SubmitOutcomeUnknown(f"{service} answered the request with a server error ({error.code})") from error
        raise TransientProviderError(f"{service} had a server error ({error.code}).") from error
    except NOT_SENT as error:
        raise connection_failed(service, error) from error
    except httpx.TimeoutException as error:
        if starts_paid_work:
            raise SubmitOutcomeUnknown(
                f"{service} did not answer within {timeout:g} s after the request was sent"
            ) from error
        raise TransientProviderError(f"{service} did not answer within {timeout:g} s.") from error
    except httpx.TransportError as error:
        if starts_paid_work:
            raise SubmitOutcomeUnknown(
                f"the connection to {service} broke after the request was sent ({error.__class__.__name__})"
            ) from error
        raise connection_failed(service, error) from error

"""A model setting offering the configured provider's models (settings.IMAGE_MODELS, MUSIC_MODELS...):
the default first, "" asking for it. Read when used, so a change of provider changes the choices."""

from __future__ import annotations

from typing import Annotated

from django.conf import settings
from pydantic import AfterValidator, Field


def offered_models(capability: str, setting: str) -> list[str]:
    """The models of the provider configured for `capability`, listed in settings.`setting`, the default first."""
    name = settings.PROVIDERS.get(capability, "local")
    return list(getattr(settings, setting).get(name, []))


def default_model(capability: str, setting: str) -> str:
    models = offered_models(capability, setting)
    return models[0] if models else ""


def model_choice(capability: str, setting: str):
    """The type of a `model` param: one of the offered models, or "" for the provider's default."""

    def offered(model: str) -> str:
        models = offered_models(capability, setting)
        if model and model not in models:
            raise ValueError(f"choose one of {', '.join(models)}, or leave it empty for the default")
        return model

    return Annotated[
        str,
        AfterValidator(offered),
        Field(json_schema_extra=lambda schema: schema.update(enum=["", *offered_models(capability, setting)])),
    ]

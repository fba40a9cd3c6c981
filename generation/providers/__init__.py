"""The one place that chooses providers, from settings.PROVIDERS (see README: Configuration)."""

from django.conf import settings
from django.utils.module_loading import import_string

from generation.providers.base import FaceProvider, TextProvider, VideoProvider

IMPLEMENTATIONS = {
    "video": {
        "local": "generation.providers.local_video.LocalVideoProvider",
        "simulated": "generation.providers.local_video.SimulatedVideoProvider",
    },
    "text": {
        "local": "generation.providers.local_text.LocalTextProvider",
    },
    "faces": {
        "local": "generation.providers.local_faces.LocalFaceProvider",
    },
}


def provider_name(capability: str) -> str:
    return settings.PROVIDERS[capability]


def provider(capability: str):
    return import_string(IMPLEMENTATIONS[capability][provider_name(capability)])()


def video_provider() -> VideoProvider:
    return provider("video")


def text_provider() -> TextProvider:
    return provider("text")


def face_provider() -> FaceProvider:
    return provider("faces")

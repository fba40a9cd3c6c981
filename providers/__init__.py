"""The one place that chooses providers, from settings.PROVIDERS (see README: Configuration)."""

from django.conf import settings
from django.utils.module_loading import import_string

from providers.contract import FaceProvider, ImageProvider, MusicProvider, TextProvider, VideoProvider

IMPLEMENTATIONS = {
    "video": {
        "local": "providers.local_video.LocalVideoProvider",
        "simulated": "providers.local_video.SimulatedVideoProvider",
        "veo": "providers.veo.VeoProvider",
    },
    "text": {
        "local": "providers.local_text.LocalTextProvider",
        "openai": "providers.openai_text.OpenAITextProvider",
        "gemini": "providers.gemini_text.GeminiTextProvider",
    },
    "image": {
        "local": "providers.local_image.LocalImageProvider",
        "gemini": "providers.gemini_image.GeminiImageProvider",
        "openai": "providers.openai_image.OpenAIImageProvider",
    },
    "music": {
        "local": "providers.local_music.LocalMusicProvider",
        "lyria": "providers.lyria_music.LyriaMusicProvider",
    },
    "faces": {
        "local": "providers.local_faces.offline_face_provider",
        "insightface": "providers.insightface_faces.InsightFaceProvider",
    },
}


CAPABILITIES = tuple(IMPLEMENTATIONS)


def provider_name(capability: str) -> str:
    # A capability left out of an overridden PROVIDERS (an older configuration, a test) is offline.
    return settings.PROVIDERS.get(capability, "local")


def provider(capability: str):
    return import_string(IMPLEMENTATIONS[capability][provider_name(capability)])()


def video_label(name: str) -> str:
    """What users call the video provider `name` (a job's `provider`), without setting it up."""
    path = IMPLEMENTATIONS["video"].get(name)
    return import_string(path).label if path else "The provider"


def text_label() -> str:
    """What users call the configured text provider, without setting it up (it may lack its key)."""
    return import_string(IMPLEMENTATIONS["text"][provider_name("text")]).label


def video_provider() -> VideoProvider:
    return provider("video")


def text_provider() -> TextProvider:
    return provider("text")


def image_provider() -> ImageProvider:
    return provider("image")


def music_provider() -> MusicProvider:
    return provider("music")


def face_provider() -> FaceProvider:
    return provider("faces")


def status() -> list[dict[str, str | bool]]:
    """Which provider serves each capability, and whether it can work: for the admin and the logs."""
    from providers.insightface_faces import missing_model_message

    rows = []
    for capability in CAPABILITIES:
        name = provider_name(capability)
        problem = ""
        if name in ("veo", "gemini", "lyria") and not settings.GEMINI_API_KEY:
            problem = "GEMINI_API_KEY is not set."
        elif name == "openai" and not settings.OPENAI_API_KEY:
            problem = "OPENAI_API_KEY is not set."
        elif name == "insightface":
            problem = missing_model_message() or ""
        offline = name in ("local", "simulated")
        rows.append(
            {"capability": capability, "provider": name, "offline": offline, "ok": not problem, "problem": problem}
        )
    return rows

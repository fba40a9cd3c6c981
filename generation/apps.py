from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from PIL import Image

        from generation import checks  # noqa: F401  (registers the system checks)

        # Pillow refuses decompression bombs everywhere (workers too), at our limit rather than its own.
        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS

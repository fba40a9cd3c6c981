from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_migrate
        from PIL import Image

        from generation import checks  # noqa: F401  (registers the system checks)
        from generation.moderation import ensure_moderators_group

        # After every app's migrations (so after every app's permissions exist): idempotent.
        post_migrate.connect(ensure_moderators_group, dispatch_uid="reelgraph.moderators")
        # Pillow refuses decompression bombs everywhere (workers too), at our limit rather than its own.
        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS

from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from generation.announce import announced
        from live.events import broadcast_announcement

        # Workers load every app too, so what the engine announces there reaches browsers as well.
        announced.connect(broadcast_announcement, dispatch_uid="reelgraph.live")

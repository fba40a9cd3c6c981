from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from backoffice.moderators import ensure_moderators_group

        # After every app's migrations (so after every app's permissions exist): idempotent.
        post_migrate.connect(ensure_moderators_group, dispatch_uid="reelgraph.moderators")

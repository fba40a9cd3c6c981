from django.contrib import admin

from actions import moderation
from backoffice.admin_actions import ModerationMixin, admin_link, media_preview, moderation_action
from characters.models import Character


@admin.register(Character)
class CharacterAdmin(ModerationMixin, admin.ModelAdmin):
    list_display = [
        "face",
        "name",
        "owner_link",
        "project",
        "age",
        "sex",
        "det_score",
        "face_model",
        "hidden_at",
        "created_at",
    ]
    list_filter = ["sex", "embedding_model", ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner", "project", "source_asset"]
    exclude = ["embedding"]
    readonly_fields = [
        "id",
        "face",
        "det_score",
        "embedding_model",
        "hidden_at",
        "hidden_reason",
        "created_at",
        "updated_at",
    ]
    actions = [
        moderation_action(moderation.hide_characters, "Hide the selected characters", "{count} character(s) hidden.")
    ]

    @admin.display(description="face")
    def face(self, character: Character) -> str:
        return media_preview(character.face_picture, 48)

    @admin.display(description="owner", ordering="owner__username")
    def owner_link(self, character: Character) -> str:
        return admin_link(character.owner)

    filter_horizontal = ["reference_assets"]

    @admin.display(description="face model")
    def face_model(self, character: Character) -> str:
        return f"{character.embedding_model} (approximate)" if character.approximate else character.embedding_model

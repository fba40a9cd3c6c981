from django.contrib import admin

from characters.models import Character


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "project", "age", "sex", "det_score", "face_model", "created_at"]
    list_filter = ["sex", "embedding_model"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner", "project"]
    exclude = ["embedding"]
    readonly_fields = ["id", "det_score", "embedding_model", "created_at", "updated_at"]
    filter_horizontal = ["reference_assets"]

    @admin.display(description="face model")
    def face_model(self, character: Character) -> str:
        return f"{character.embedding_model} (approximate)" if character.approximate else character.embedding_model

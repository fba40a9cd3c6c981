from django.contrib import admin

from characters.models import Character


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "project", "age", "sex", "det_score", "created_at"]
    list_filter = ["sex"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner", "project"]
    exclude = ["embedding"]
    readonly_fields = ["id", "det_score", "created_at", "updated_at"]
    filter_horizontal = ["reference_assets"]

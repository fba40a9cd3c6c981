from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from actions import moderation
from assets.models import Asset
from backoffice.admin_actions import ModerationMixin, ReadOnlyMixin, admin_link, media_preview, moderation_action
from projects.models import ApiToken, Membership, Project


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_link", "created_at", "updated_at"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [MembershipInline]

    @admin.display(description="owner", ordering="owner__username")
    def owner_link(self, project: Project) -> str:
        return admin_link(project.owner)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["project__name", "user__username"]
    list_select_related = ["project", "user"]


class HiddenFilter(admin.SimpleListFilter):
    title = "hidden by a moderator"
    parameter_name = "hidden"

    def lookups(self, request, model_admin):
        return [("yes", "Hidden"), ("no", "Shown")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(hidden_at__isnull=self.value() == "no")
        return queryset


@admin.register(Asset)
class AssetAdmin(ModerationMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "preview",
        "kind",
        "project_link",
        "origin",
        "mime",
        "size_bytes",
        "provider",
        "hidden_at",
        "created_at",
    ]
    list_filter = [HiddenFilter, "kind", "origin", "provider", "created_at"]
    search_fields = ["id", "sha256", "original_name", "project__name"]
    list_select_related = ["project"]
    fields = ["id", "preview", "project_link", "kind", "origin", "mime", "size_bytes", "sha256", "width", "height",
              "duration_seconds", "original_name", "provider", "model", "meta", "hidden_at", "hidden_reason",
              "created_by", "created_at"]  # fmt: skip
    readonly_fields = fields
    actions = [
        moderation_action(moderation.hide_assets, "Hide the selected files", "{count} file(s) hidden."),
        moderation_action(moderation.unhide_assets, "Show the selected files again", "{count} file(s) shown again."),
    ]

    @admin.display(description="preview")
    def preview(self, asset: Asset) -> str:
        return media_preview(asset)

    @admin.display(description="project", ordering="project__name")
    def project_link(self, asset: Asset) -> str:
        return admin_link(asset.project)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be looked at and revoked (deleted) here; their secret is never stored."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    search_fields = ["name", "user__username", "prefix"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class ReelgraphUserAdmin(ModerationMixin, UserAdmin):
    """Django's user admin, with suspension: a suspended user cannot log in or run anything."""

    list_display = ["username", "email", "is_active", "is_staff", "date_joined", "last_login"]
    actions = [
        moderation_action(moderation.suspend_users, "Suspend the users (cancels their jobs)", "{count} suspended."),
        moderation_action(moderation.reinstate_users, "Reinstate the selected users", "{count} user(s) reinstated."),
    ]

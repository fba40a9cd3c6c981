from functools import wraps

import django_rq.urls
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import URLPattern, include, path, re_path
from django.views.decorators.cache import cache_control
from django_rq.models import Dashboard

from assets.serving import media_file
from backoffice.views import metrics_page
from characters import views as character_views
from config.api import api, api_not_found
from nodes import views as node_views
from projects import views as project_views


def superusers_only(patterns: list[URLPattern]) -> list[URLPattern]:
    """django-rq's dashboard can delete and requeue jobs: superusers only, not moderators."""

    def guard(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.user.is_staff and not request.user.is_superuser:  # others go to the admin login
                raise PermissionDenied("The RQ dashboard is for superusers.")
            return view(request, *args, **kwargs)

        return guarded

    return [URLPattern(p.pattern, guard(p.callback), p.default_args, p.name) for p in patterns]


# django-rq also registers its dashboard in the admin, open to any staff with its module permission:
# the one dashboard is the guarded include below.
if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)

FAVICON = settings.BASE_DIR / "static" / "favicon.svg"


@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: answer with the icon, not a 404."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")


urlpatterns = [
    path("", project_views.home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", project_views.signup, name="signup"),
    path("account/tokens/", project_views.tokens, name="tokens"),
    path("projects/", project_views.project_list, name="project-list"),
    path("projects/<uuid:project_id>/", project_views.project_detail, name="project-detail"),
    path("projects/<uuid:project_id>/settings/", project_views.project_settings, name="project-settings"),
    path("projects/<uuid:project_id>/rename/", project_views.rename_project, name="project-rename"),
    path("projects/<uuid:project_id>/duplicate/", project_views.duplicate_project, name="project-duplicate"),
    path("projects/<uuid:project_id>/delete/", project_views.delete_project, name="project-delete"),
    path("projects/<uuid:project_id>/nodes/<uuid:node_id>/inspector/", node_views.inspector, name="inspector"),
    path("characters/", character_views.library, name="characters"),
    path("characters/<uuid:character_id>/similar/", character_views.similar, name="character-similar"),
    path("characters/<uuid:character_id>/rename/", character_views.rename, name="character-rename"),
    path("characters/<uuid:character_id>/merge/", character_views.merge, name="character-merge"),
    path("characters/<uuid:character_id>/delete/", character_views.delete, name="character-delete"),
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found, name="api-not-found"),  # after the API's routes: any other /api/ address
    path("media/<str:token>", media_file, name="media-file"),
    path("admin/rq/", include((superusers_only(django_rq.urls.urlpatterns), "django_rq"))),
    path("admin/metrics/", admin.site.admin_view(metrics_page), name="admin-metrics"),
    path("admin/", admin.site.urls),
]

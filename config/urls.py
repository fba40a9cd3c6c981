from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from characters import views as character_views
from config.api import api
from nodes import views as node_views
from projects import views as project_views
from projects.media import media_file

urlpatterns = [
    path("", project_views.home, name="home"),
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
    path("media/<str:token>", media_file, name="media-file"),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]

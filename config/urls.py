from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import api
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
    path("api/v1/", api.urls),
    path("media/<str:token>", media_file, name="media-file"),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]

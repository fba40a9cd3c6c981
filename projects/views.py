from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from projects.forms import ProjectForm, SignupForm, TokenForm
from projects.models import ApiToken, Project
from projects.services import create_project
from projects.tokens import create_token


def home(request):
    return redirect("project-list" if request.user.is_authenticated else "login")


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("project-list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("project-list")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = create_project(request.user, form.cleaned_data["name"])
        return redirect("project-detail", project_id=project.id)
    projects = Project.objects.for_user(request.user).select_related("owner")
    return render(request, "projects/list.html", {"projects": projects, "form": form})


@login_required
def project_detail(request, project_id):
    project = get_object_or_404(Project.objects.for_user(request.user), pk=project_id)
    return render(request, "projects/detail.html", {"project": project, "nodes": project.nodes.all()})


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """Personal API tokens: made here (shown once), listed, revoked."""
    form = TokenForm(request.POST or None)
    created_secret = None
    if request.method == "POST" and "revoke" in request.POST:
        ApiToken.objects.filter(user=request.user, pk=request.POST["revoke"]).delete()
        messages.success(request, "The token was revoked: programs using it are refused from now on.")
        return redirect("tokens")
    if request.method == "POST" and form.is_valid():
        _, created_secret = create_token(request.user, form.cleaned_data["name"])
        form = TokenForm()
    context = {"tokens": ApiToken.objects.filter(user=request.user), "form": form, "secret": created_secret}
    return render(request, "projects/tokens.html", context)

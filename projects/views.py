"""Server-rendered pages: accounts, the project list, project settings, tokens, the canvas shell."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from actions import editing
from assets.models import Asset
from assets.serving import signed_url
from projects.access import can_edit, project_or_404
from projects.forms import MemberForm, ProjectForm, SignupForm, TokenForm
from projects.models import ApiToken, Membership, Project
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


def thumbnail(project: Project) -> str | None:
    """The newest picture of the project: a video's poster or an image."""
    asset = Asset.objects.filter(project=project, kind=Asset.Kind.IMAGE).order_by("-created_at").first()
    return signed_url(asset)[0] if asset else None


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = create_project(request.user, form.cleaned_data["name"])
        return redirect("project-detail", project_id=project.id)
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("project__owner")
        .annotate(node_count=Count("project__nodes"))
        .order_by("-project__updated_at")
    )
    cards = [
        {"project": m.project, "role": m.role, "nodes": m.node_count, "thumbnail": thumbnail(m.project)}
        for m in memberships
    ]
    return render(
        request, "projects/list.html", {"cards": cards, "form": form, "projects": [c["project"] for c in cards]}
    )


@login_required
@require_POST
def rename_project(request, project_id):
    project = project_or_404(request.user, project_id, role=Membership.Role.OWNER)
    form = ProjectForm(request.POST, instance=project)
    if form.is_valid():
        editing.rename_project(project, form.cleaned_data["name"])
    else:
        messages.error(request, f"Not renamed: {form.errors['name'][0]}")
    if request.htmx:
        return render(
            request, "projects/_card_title.html", {"project": project, "role": project.role, "rename_form": form}
        )
    return redirect("project-list")


@login_required
@require_POST
def duplicate_project(request, project_id):
    project = project_or_404(request.user, project_id)
    copy = editing.duplicate_project(project, request.user)
    messages.success(request, f"“{copy.name}” is a copy of the graph and its files, without outputs.")
    return redirect("project-list")


@login_required
@require_http_methods(["GET", "POST"])
def delete_project(request, project_id):
    project = project_or_404(request.user, project_id, role=Membership.Role.OWNER)
    if request.method == "POST":
        name = project.name
        project.delete()
        messages.success(request, f"“{name}” was deleted.")
        return redirect("project-list")
    counts = {"nodes": project.nodes.count(), "assets": project.assets.count(), "members": project.memberships.count()}
    return render(request, "projects/delete.html", {"project": project, "counts": counts})


@login_required
def project_detail(request, project_id):
    """The canvas. The page is a shell: the canvas script talks to the JSON API and the WebSocket."""
    project = project_or_404(request.user, project_id)
    return render(
        request, "projects/canvas.html", {"project": project, "role": project.role, "can_edit": can_edit(project)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request, project_id):
    project = project_or_404(request.user, project_id)
    is_owner = project.role == Membership.Role.OWNER
    form = MemberForm(request.POST or None) if is_owner else None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "leave":
            membership = get_object_or_404(project.memberships, user=request.user)
            if membership.role == Membership.Role.OWNER:
                raise PermissionDenied("The owner cannot leave: delete the project instead.")
            editing.remove_member(membership)
            messages.success(request, f"You left “{project.name}”.")
            return redirect("project-list")
        if not is_owner:
            raise PermissionDenied("Only the owner manages members.")
        if action == "add" and form.is_valid():
            user = get_user_model().objects.filter(username=form.cleaned_data["username"], is_active=True).first()
            if user is None:
                form.add_error("username", "No user has this name.")
            else:
                try:
                    editing.add_member(project, user, form.cleaned_data["role"])
                except editing.AlreadyMember:
                    form.add_error("username", "Already a member.")
                else:
                    messages.success(request, f"{user.get_username()} is now a {form.cleaned_data['role']}.")
                    return redirect("project-settings", project_id=project.id)
        if action in ("role", "remove"):
            membership_id = request.POST.get("membership", "")
            membership = get_object_or_404(
                project.memberships.exclude(role=Membership.Role.OWNER),
                pk=int(membership_id) if membership_id.isdigit() else None,
            )
            if action == "remove":
                editing.remove_member(membership)
                messages.success(request, f"{membership.user.get_username()} is no longer a member.")
            elif request.POST.get("role") in (Membership.Role.EDITOR, Membership.Role.VIEWER):
                editing.change_role(membership, request.POST["role"])
                messages.success(request, f"{membership.user.get_username()} is now a {membership.role}.")
            else:
                messages.error(request, "Role: choose editor or viewer.")
            return redirect("project-settings", project_id=project.id)
    members = project.memberships.select_related("user").order_by("created_at")
    return render(
        request, "projects/settings.html", {"project": project, "members": members, "form": form, "is_owner": is_owner}
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """Personal API tokens: made here (shown once), listed, revoked."""
    form = TokenForm(request.POST or None)
    created_secret = None
    if request.method == "POST" and "revoke" in request.POST:
        revoked = (
            request.POST["revoke"].isdigit()
            and ApiToken.objects.filter(user=request.user, pk=int(request.POST["revoke"])).delete()[0]
        )
        if revoked:
            messages.success(request, "The token was revoked: programs using it are refused from now on.")
        else:
            messages.error(request, "There is no such token (it may have been revoked already).")
        return redirect("tokens")
    if request.method == "POST" and form.is_valid():
        _, created_secret = create_token(request.user, form.cleaned_data["name"])
        form = TokenForm()
    context = {"tokens": ApiToken.objects.filter(user=request.user), "form": form, "secret": created_secret}
    return render(request, "projects/tokens.html", context)

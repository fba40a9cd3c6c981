"""Projects, members, assets and personal tokens."""

from uuid import UUID

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_logged_in
from django.shortcuts import get_object_or_404
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from actions import editing
from assets import direct_uploads
from assets.models import Asset
from assets.serving import signed_url
from assets.uploads import MEDIA_TYPES, file_field_openapi, store_upload
from characters.models import Character
from config.errors import ApiError, Conflict, Unprocessable
from config.pagination import Pages
from config.schemas import errors
from projects.access import project_for
from projects.models import ApiToken, Membership, Project
from projects.schemas import (
    AssetOut,
    AssetUrlOut,
    DirectUploadDone,
    DirectUploadIn,
    DirectUploadOut,
    MemberIn,
    MemberOut,
    MemberPatch,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from projects.services import create_project
from projects.tokens import create_token

router = Router(tags=["projects"])
EDITOR, OWNER = Membership.Role.EDITOR, Membership.Role.OWNER


def project_out(project: Project, role: str) -> dict:
    return {
        "id": project.id,
        "name": project.name,
        "owner": project.owner.get_username(),
        "role": role,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
    }


def member_out(membership: Membership) -> dict:
    return {
        "user_id": membership.user_id,
        "username": membership.user.get_username(),
        "role": membership.role,
        "created_at": membership.created_at,
    }


# Projects ---------------------------------------------------------------------------------------


@router.get("/projects", response={200: list[ProjectOut], **errors()})
@paginate(Pages)
def list_projects(request):
    memberships = Membership.objects.filter(user=request.auth).select_related("project__owner")
    return [project_out(m.project, m.role) for m in memberships.order_by("-project__updated_at")]


@router.post("/projects", response={201: ProjectOut, **errors()})
def create(request, payload: ProjectIn):
    project = create_project(request.auth, payload.name.strip())
    return Status(201, project_out(project, OWNER))


@router.get("/projects/{project_id}", response={200: ProjectOut, **errors(404)})
def read(request, project_id: UUID):
    project = project_for(request.auth, project_id)
    return project_out(project, project.role)


@router.patch("/projects/{project_id}", response={200: ProjectOut, **errors(403, 404)})
def rename(request, project_id: UUID, payload: ProjectPatch):
    project = project_for(request.auth, project_id, role=OWNER)
    return project_out(editing.rename_project(project, payload.name.strip()), project.role)


@router.delete("/projects/{project_id}", response={204: None, **errors(403, 404)})
def delete(request, project_id: UUID):
    project_for(request.auth, project_id, role=OWNER).delete()
    return Status(204, None)


# Members ----------------------------------------------------------------------------------------


@router.get("/projects/{project_id}/members", response={200: list[MemberOut], **errors(404)})
def members(request, project_id: UUID):
    project = project_for(request.auth, project_id)
    return [member_out(m) for m in project.memberships.select_related("user").order_by("created_at")]


@router.post("/projects/{project_id}/members", response={201: MemberOut, **errors(403, 404, 409)})
def add_member(request, project_id: UUID, payload: MemberIn):
    project = project_for(request.auth, project_id, role=OWNER)
    user = get_user_model().objects.filter(username=payload.username, is_active=True).first()
    if user is None:
        raise Unprocessable(
            f"No user is called {payload.username!r}.",
            details={"fields": [{"field": "username", "message": "unknown"}]},
        )
    try:
        membership = editing.add_member(project, user, payload.role)
    except editing.AlreadyMember:
        raise Conflict(f"{payload.username} is already a member of this project.", code="already_member") from None
    return Status(201, member_out(membership))


def _membership(project: Project, user_id: int) -> Membership:
    return get_object_or_404(project.memberships.select_related("user"), user_id=user_id)


@router.patch("/projects/{project_id}/members/{user_id}", response={200: MemberOut, **errors(403, 404)})
def change_role(request, project_id: UUID, user_id: int, payload: MemberPatch):
    project = project_for(request.auth, project_id, role=OWNER)
    membership = _membership(project, user_id)
    if membership.role == OWNER:
        raise Unprocessable(
            "The owner's role cannot change.", details={"fields": [{"field": "role", "message": "owner"}]}
        )
    return member_out(editing.change_role(membership, payload.role))


@router.delete("/projects/{project_id}/members/{user_id}", response={204: None, **errors(403, 404)})
def remove_member(request, project_id: UUID, user_id: int):
    leaving = user_id == request.auth.pk  # anyone may leave; only the owner may remove others
    project = project_for(request.auth, project_id, role=Membership.Role.VIEWER if leaving else OWNER)
    membership = _membership(project, user_id)
    if membership.role == OWNER:
        raise Unprocessable("The owner cannot leave or be removed: delete the project instead.")
    editing.remove_member(membership)
    return Status(204, None)


# Assets -----------------------------------------------------------------------------------------


@router.post(
    "/projects/{project_id}/assets",
    response={201: AssetOut, **errors(403, 404, 413, 415)},
    openapi_extra=file_field_openapi(MEDIA_TYPES),
)
def upload(request, project_id: UUID, file: UploadedFile = File(...)):
    """Upload an image, video or audio file (multipart field `file`). Its type is read from its
    content; the file is decoded before it is kept."""
    project = project_for(request.auth, project_id, role=EDITOR)
    return Status(201, store_upload(project, file, request.auth))


@router.post(
    "/projects/{project_id}/assets/from-character/{character_id}", response={201: AssetOut, **errors(403, 404)}
)
def from_character(request, project_id: UUID, character_id: UUID):
    """A character of your library onto this project's canvas: its face photo as an image of the project.
    Add an Image node with `{"asset_id": <this id>, "character": <character id>}` to use the character itself."""
    project = project_for(request.auth, project_id, role=EDITOR)
    character = get_object_or_404(Character.objects.library_of(request.auth), pk=character_id)
    return Status(201, editing.asset_from_character(project, request.auth, character))


@router.get("/projects/{project_id}/assets", response={200: list[AssetOut], **errors(404)})
@paginate(Pages)
def list_assets(request, project_id: UUID, kind: str | None = None):
    assets = project_for(request.auth, project_id).assets.all()
    return assets.filter(kind=kind) if kind else assets


def _asset(request, asset_id: UUID) -> Asset:
    return get_object_or_404(Asset.objects.filter(project__memberships__user=request.auth), pk=asset_id)


@router.get("/assets/{asset_id}", response={200: AssetOut, **errors(404)})
def read_asset(request, asset_id: UUID):
    return _asset(request, asset_id)


@router.get("/assets/{asset_id}/url", response={200: AssetUrlOut, **errors(404, 410)})
def asset_url(request, asset_id: UUID):
    """A short-lived URL for the file's bytes (SIGNED_URL_SECONDS); a 410 once a moderator hid it."""
    asset = _asset(request, asset_id)
    if asset.hidden_at is not None:
        raise ApiError(f"A moderator hid this file: {asset.hidden_reason}", code="hidden", status=410)
    url, expires_at = signed_url(asset)
    return {"url": request.build_absolute_uri(url), "expires_at": expires_at}


@router.post(
    "/projects/{project_id}/assets/uploads",
    response={201: DirectUploadOut, **errors(403, 404)},
    openapi_extra=direct_uploads.NEEDS_S3,
)
def start_direct_upload(request, project_id: UUID, payload: DirectUploadIn):
    """With S3 storage: a presigned POST, so the browser sends the file straight to the bucket.
    Without S3 it is not in the OpenAPI document, and answers 404 `direct_upload_unavailable`:
    send the file to `POST .../assets` instead."""
    project = project_for(request.auth, project_id, role=EDITOR)
    return Status(201, direct_uploads.start(project))


@router.post(
    "/projects/{project_id}/assets/uploads/complete",
    response={201: AssetOut, **errors(403, 404, 413, 415)},
    openapi_extra=direct_uploads.NEEDS_S3,
)
def finish_direct_upload(request, project_id: UUID, payload: DirectUploadDone):
    """After the browser's upload to S3: check the object and keep it as an asset (404
    `direct_upload_unavailable` without S3)."""
    project = project_for(request.auth, project_id, role=EDITOR)
    return Status(201, direct_uploads.finish(project, payload.key, payload.name, request.auth))


# Personal tokens --------------------------------------------------------------------------------


@router.post("/tokens", auth=None, response={201: TokenCreated, **errors(429)}, tags=["tokens"])
def new_token(request, payload: TokenIn):
    """Exchange a username and password for a personal token, shown this once.

    Failed attempts are counted per username and per client address: past the limit, a 429
    `locked_out` with `Retry-After` (see config/throttling.py), whatever the password."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise ApiError("Wrong username or password.", code="unauthorized", status=401)
    # A login like the page's (no session here): the failed-login count starts again, last_login is kept.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    token, secret = create_token(user, payload.name)
    return Status(201, {**TokenOut.model_validate(token).model_dump(), "token": secret})


@router.get("/tokens", response={200: list[TokenOut], **errors()}, tags=["tokens"])
def tokens(request):
    return ApiToken.objects.filter(user=request.auth)


@router.delete("/tokens/{token_id}", response={204: None, **errors(404)}, tags=["tokens"])
def revoke(request, token_id: int):
    get_object_or_404(ApiToken, pk=token_id, user=request.auth).delete()
    return Status(204, None)

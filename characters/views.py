"""The character library page, with htmx panels for similar characters, renaming and merging."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from actions import editing
from assets.serving import signed_url
from characters.models import Character
from characters.services import nearest_characters
from config.errors import ApiError


def _mine(request):
    return Character.objects.library_of(request.user)


def _card(character: Character) -> dict:
    references = [signed_url(asset)[0] for asset in character.reference_assets.all()]
    face = signed_url(character.face_picture)[0] if character.face_picture else None
    return {"character": character, "face": face, "references": references}


@login_required
def library(request):
    characters = list(_mine(request).order_by("name"))
    return render(
        request, "characters/library.html", {"cards": [_card(c) for c in characters], "characters": characters}
    )


@login_required
def similar(request, character_id):
    character = get_object_or_404(_mine(request), pk=character_id)
    found = nearest_characters(
        request.user, character.embedding, k=6, embedding_model=character.embedding_model, visible=True
    )
    rows = [{"character": other, "similarity": 1 - other.distance} for other in found if other.pk != character.pk][:5]
    return render(request, "characters/_similar.html", {"character": character, "rows": rows})


@login_required
@require_POST
def rename(request, character_id):
    character = get_object_or_404(_mine(request), pk=character_id)
    name = request.POST.get("name", "").strip()[:120]
    if name:
        character.name = name
        character.save(update_fields=["name", "updated_at"])
    return render(
        request, "characters/_name.html", {"character": character, "error": "" if name else "A name is needed."}
    )


@login_required
@require_POST
def merge(request, character_id):
    source = get_object_or_404(_mine(request), pk=character_id)
    try:
        into = _mine(request).get(pk=UUID(request.POST.get("into", "")))
    except (ValueError, Character.DoesNotExist):
        messages.error(request, "Merge into: choose one of your other characters.")
        return redirect("characters")
    try:
        editing.merge_characters(source, into)
        messages.success(request, f"“{source.name}” was merged into “{into.name}”.")
    except ApiError as error:
        messages.error(request, error.message)
    return redirect("characters")


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, character_id):
    character = get_object_or_404(_mine(request), pk=character_id)
    if request.method == "POST":
        character.delete()
        messages.success(request, f"“{character.name}” was deleted.")
        return redirect("characters")
    return render(request, "characters/delete.html", {"card": _card(character)})

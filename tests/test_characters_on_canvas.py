"""A character of the library dragged onto a canvas: its photo becomes an image of the project, and an
Image node that carries the character outputs it as is."""

import pytest

from assets.models import Asset
from characters.models import Character
from generation.models import Job
from generation.planning import plan_run
from nodes.models import Node
from nodes.types.image import ImageParams
from projects.models import Membership
from tests.api import Api, error_of
from tests.factories import ProjectFactory
from tests.graphs import add, run_here, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def character(project, alice):
    """Alice's character, found by running an Image node on her photo."""
    image = add(project, "image", "Photo", asset_id=str(upload(project).id))
    run_here(plan_run(project, [image.id], user=alice).run, image)
    image.refresh_from_db()
    return Character.objects.get(pk=image.output["character"])


def test_a_character_becomes_an_image_of_another_project(alice, character):
    elsewhere = ProjectFactory(owner=alice, name="Second film")

    response = Api(alice).post(f"/projects/{elsewhere.id}/assets/from-character/{character.id}")

    assert response.status_code == 201
    made = Asset.objects.get(pk=response.json()["id"])
    assert (made.project_id, made.kind, made.sha256) == (elsewhere.id, "image", character.source_asset.sha256)
    assert made.pk != character.source_asset_id  # files never cross projects by reference


def test_in_its_own_project_the_character_photo_is_used_as_it_is(alice, project, character):
    response = Api(alice).post(f"/projects/{project.id}/assets/from-character/{character.id}")

    assert response.status_code == 201 and response.json()["id"] == str(character.source_asset_id)
    assert Asset.objects.filter(project=project, origin=Asset.Origin.UPLOAD).count() == 1


def test_someone_elses_character_is_a_404_and_makes_nothing(bob, character, project, add_member):
    add_member(bob, Membership.Role.EDITOR)  # even in a project they share
    before = Asset.objects.count()

    response = Api(bob).post(f"/projects/{project.id}/assets/from-character/{character.id}")

    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert Asset.objects.count() == before


def test_an_image_node_with_a_character_outputs_it_without_detecting_faces(alice, character):
    elsewhere = ProjectFactory(owner=alice, name="Second film")
    api = Api(alice)
    photo = api.post(f"/projects/{elsewhere.id}/assets/from-character/{character.id}").json()["id"]
    created = api.post(
        f"/projects/{elsewhere.id}/nodes",
        {"type": "image", "title": character.name, "params": {"asset_id": photo, "character": str(character.id)}},
    ).json()
    node = Node.objects.get(pk=created["id"])
    characters_before = Character.objects.count()

    plan = plan_run(elsewhere, [node.id], user=alice)
    job = run_here(plan.run, node)

    node.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    assert node.output == {"image": photo, "character": str(character.id)}
    assert Character.objects.count() == characters_before
    assert "faces" not in job.state and job.state["character"]["chosen"] is True


def test_an_image_node_cannot_use_a_character_of_someone_else(bob, character):
    theirs = ProjectFactory(owner=bob, name="Bob's film")
    node = add(theirs, "image", "Borrowed", asset_id=str(upload(theirs).id), character=str(character.id))

    job = run_here(plan_run(theirs, [node.id], user=bob).run, node)

    node.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "missing_character"
    assert "not in your library" in job.error_message
    assert node.output == {}


def test_an_image_without_a_character_keeps_its_cache_key():
    """Params are part of cache keys: adding the optional field must not make old outputs run again."""
    params = ImageParams(asset_id="8f0e4c2e-8d8b-4e53-9f0e-1f2d3c4b5a69")

    assert params.model_dump(mode="json") == {"asset_id": "8f0e4c2e-8d8b-4e53-9f0e-1f2d3c4b5a69"}


def test_a_character_is_shown_by_its_face_cropped_once_from_the_photo(alice, project, character):
    from PIL import Image

    from assets.serving import signed_url
    from providers import face_provider
    from tests.engine_helpers import asset_path

    face = character.face_asset
    assert face is not None and face.project_id == project.id and face.kind == "image"
    assert face.width == face.height and face.width <= 256
    photo = Image.open(asset_path(character.source_asset_id))
    assert face.width < photo.width
    found = face_provider().analyze(asset_path(face.id)).faces
    assert found and max(f.area for f in found) / (face.width * face.height) > 0.15  # the face fills the chip
    assert (
        Api(alice)
        .get(f"/characters/{character.id}")
        .json()["face_url"]
        .endswith(signed_url(face)[0].rsplit("/", 1)[-1])
    )
    again = add(project, "image", "Same photo", asset_id=str(character.source_asset_id))
    run_here(plan_run(project, [again.id], user=alice, force=True).run, again)
    character.refresh_from_db()
    assert character.face_asset_id == face.id  # made once

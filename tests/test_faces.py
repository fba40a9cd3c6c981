"""Faces and characters: the offline model (YuNet + SFace) on real photos of people, InsightFace
through its real loading code on tiny generated models, matching into characters, the similarity
search, and the identity check of generated videos."""

import pytest
from django.test import override_settings

from assets.models import Asset
from assets.storage import store_file
from characters.models import Character
from characters.services import nearest_characters
from generation.models import Job, Run
from generation.planning import plan_run
from nodes.types.image import NO_FACE
from providers.contract import ProviderNotConfigured
from providers.insightface_faces import InsightFaceProvider
from tests import photos
from tests.fakes.insightface_models import model_pack
from tests.graphs import FIXTURES, add, upload, wait_for_run, wire

# Two "faces" in the tiny detector's 160x160 input: a large one and a small one.
FACES = [(40, 20, 120, 110, 0.92), (130, 120, 150, 145, 0.7)]


@pytest.fixture
def face_models(tmp_path):
    model_pack(tmp_path, "tiny", FACES)
    return tmp_path


def test_a_missing_face_model_says_so_with_the_fix_and_downloads_nothing(tmp_path):
    with (
        override_settings(INSIGHTFACE_ROOT=tmp_path, INSIGHTFACE_MODEL="buffalo_l"),
        pytest.raises(ProviderNotConfigured) as missing,
    ):
        InsightFaceProvider().analyze(FIXTURES / "astronaut.png")

    message = missing.value.message
    assert message.startswith("Face model not installed")
    assert str(tmp_path / "models" / "buffalo_l") in message
    assert "non-commercial" in message and "REELGRAPH_FACE_PROVIDER=local" in message
    assert list(tmp_path.iterdir()) == []  # nothing fetched, nothing created


def test_insightface_finds_faces_with_embeddings_age_and_sex(face_models):
    with override_settings(INSIGHTFACE_ROOT=face_models, INSIGHTFACE_MODEL="tiny"):
        faces = InsightFaceProvider().analyze(FIXTURES / "astronaut.png").faces

    assert len(faces) == 2
    big = max(faces, key=lambda face: face.area)
    assert big.bbox == (128, 64, 384, 352)  # the detector's box, scaled back to the 512x512 photo
    assert big.det_score == pytest.approx(0.92)
    assert big.embedding.shape == (512,)
    assert float(big.embedding @ big.embedding) == pytest.approx(1, abs=1e-5)
    assert big.sex in ("F", "M") and 0 < big.age < 100


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_same_face_uploaded_twice_is_one_character_that_the_search_finds_first(
    project, alice, workers, face_models
):
    first = add(project, "image", "Upload 1", asset_id=str(upload(project).id))
    second = add(project, "image", "Upload 2", asset_id=str(upload(project).id))
    workers.start(1, REELGRAPH_FACE_PROVIDER="insightface", INSIGHTFACE_ROOT=str(face_models), INSIGHTFACE_MODEL="tiny")

    run = wait_for_run(plan_run(project, [first.id], user=alice).run)
    run_again = wait_for_run(plan_run(project, [second.id], user=alice).run)

    assert (run.status, run_again.status) == (Run.Status.SUCCEEDED, Run.Status.SUCCEEDED)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.output["character"] == second.output["character"]
    character = Character.objects.get(pk=first.output["character"])
    assert character.reference_assets.count() == 2
    assert (character.embedding_model, character.approximate) == ("insightface:tiny", False)
    assert character.sex in ("F", "M") and character.age
    details = second.selected_take.details
    assert details["character"]["created"] is False
    assert details["character"]["similarity"] == pytest.approx(1.0, abs=1e-4)
    assert len(details["faces"]) == 2  # the largest became the character; the other is listed
    assert details["faces"][0]["bbox"] == [128, 64, 384, 352]

    with override_settings(INSIGHTFACE_ROOT=face_models, INSIGHTFACE_MODEL="tiny"):
        probe = max(InsightFaceProvider().analyze(FIXTURES / "astronaut.png").faces, key=lambda f: f.area)
    other = Character.objects.create(owner=alice, name="Someone else", embedding=list(-probe.embedding))
    found = nearest_characters(alice, probe.embedding, k=2)
    assert [c.id for c in found] == [character.id, other.id]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_an_image_without_a_face_still_works_and_says_so(project, alice, workers):
    cat = add(project, "image", "Cat", asset_id=str(upload(project, "chelsea.png").id))
    workers.start(1)

    assert wait_for_run(plan_run(project, [cat.id], user=alice).run).status == Run.Status.SUCCEEDED

    cat.refresh_from_db()
    assert list(cat.output) == ["image"]
    assert cat.selected_take.details["notice"] == NO_FACE
    assert cat.selected_take.details["faces"] == []
    assert cat.selected_take.details["approximate"] is False  # a real model found no face: none to invent
    assert not Character.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_missing_face_model_fails_the_node_with_the_fix(project, alice, workers, tmp_path):
    photo = add(project, "image", "Photo", asset_id=str(upload(project).id))
    workers.start(1, REELGRAPH_FACE_PROVIDER="insightface", INSIGHTFACE_ROOT=str(tmp_path))

    assert wait_for_run(plan_run(project, [photo.id], user=alice).run).status == Run.Status.FAILED

    photo.refresh_from_db()
    assert photo.status == "failed"
    assert photo.error_message.startswith("Face model not installed")
    assert Job.objects.get(node=photo).error_code == "provider_not_configured"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_video_made_with_a_character_records_how_well_the_identity_held(project, alice, workers):
    photo = add(project, "image", "Astronaut", asset_id=str(upload(project).id))
    prompt = add(project, "prompt", "Line", text="She waves at the camera")
    video = add(project, "video", "Shot")
    wire(prompt, "text", video, "prompt")
    wire(photo, "character", video, "characters")
    workers.start(1)

    assert wait_for_run(plan_run(project, [video.id], user=alice).run).status == Run.Status.SUCCEEDED

    video.refresh_from_db()
    photo.refresh_from_db()
    (score,) = video.selected_take.details["identity"].values()
    # The offline render shows the character's photo: the same model finds the same person in it.
    assert score["name"] == "Character 1" and score["score"] >= 0.8 and score["drift"] is False
    assert video.selected_take.details["identity_drift"] is False
    asset = Asset.objects.get(pk=video.output["video"])
    assert asset.meta["identity_drift"] is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_video_showing_another_person_than_its_character_is_flagged_as_drift(project, alice, workers, tmp_path):
    stranger = photo_node(project, photos.cameraman(tmp_path), "Cameraman")
    astronaut = add(project, "image", "Astronaut", asset_id=str(upload(project).id))
    prompt = add(project, "prompt", "Line", text="Two people wave at the camera")
    video = add(project, "video", "Shot")
    wire(prompt, "text", video, "prompt")
    # Offline, the render shows the first character's photo: the cameraman, not the astronaut.
    wire(stranger, "character", video, "characters")
    wire(astronaut, "character", video, "characters")
    workers.start(1)

    assert wait_for_run(plan_run(project, [video.id], user=alice).run).status == Run.Status.SUCCEEDED

    video.refresh_from_db()
    for node in (stranger, astronaut):
        node.refresh_from_db()
    identity = video.selected_take.details["identity"]
    assert Character.objects.get(pk=astronaut.output["character"]).embedding_model == "local:sface-2021dec-int8bq"
    shown, missing = identity[stranger.output["character"]], identity[astronaut.output["character"]]
    assert shown["score"] >= 0.8 and shown["drift"] is False
    assert missing["score"] < 0.3 and missing["drift"] is True
    assert video.selected_take.details["identity_drift"] is True
    assert Asset.objects.get(pk=video.output["video"]).meta["identity_drift"] is True


def photo_node(project, path, title):
    """An image node on an upload of `path` (a photo from outside the fixtures)."""
    asset = store_file(project, path, "image", origin=Asset.Origin.UPLOAD, original_name=path.name)
    return add(project, "image", title, asset_id=str(asset.id))


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_two_different_photos_of_one_person_are_one_character_and_another_person_is_not(
    project, alice, workers, tmp_path
):
    first = photo_node(project, photos.ASTRONAUT, "Astronaut")
    again = photo_node(project, photos.another_photo(photos.ASTRONAUT, tmp_path), "Astronaut, another photo")
    stranger = photo_node(project, photos.cameraman(tmp_path), "Cameraman")
    workers.start(1)

    for node in (first, again, stranger):  # one after the other: the second must find the first
        assert wait_for_run(plan_run(project, [node.id], user=alice).run).status == Run.Status.SUCCEEDED
        node.refresh_from_db()

    assert first.output["character"] == again.output["character"] != stranger.output["character"]
    astronaut = Character.objects.get(pk=first.output["character"])
    assert (astronaut.embedding_model, astronaut.approximate) == ("local:sface-2021dec-int8bq", False)
    assert astronaut.reference_assets.count() == 2
    joined = again.selected_take.details["character"]
    assert joined["created"] is False and joined["approximate"] is False
    assert 0.4 <= joined["similarity"] < 0.99  # the same person, not the same pixels
    assert stranger.selected_take.details["character"]["created"] is True
    assert Character.objects.filter(owner=alice).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_group_photo_makes_the_largest_face_the_character_unless_the_user_picks_another(
    project, alice, workers, tmp_path
):
    group = photo_node(project, photos.SIX_PEOPLE, "Group")
    third = photo_node(project, photos.SIX_PEOPLE, "Group, third face")
    third.params = {**third.params, "face": 3}
    third.save()
    workers.start(1)

    for node in (group, third):
        assert wait_for_run(plan_run(project, [node.id], user=alice).run).status == Run.Status.SUCCEEDED
        node.refresh_from_db()

    faces = group.selected_take.details["faces"]
    areas = [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in (face["bbox"] for face in faces)]
    assert len(faces) == 6 and areas == sorted(areas, reverse=True)  # listed largest first
    assert [face.get("character", False) for face in faces] == [True, False, False, False, False, False]
    assert [face.get("character", False) for face in third.selected_take.details["faces"]][2] is True
    assert group.output["character"] != third.output["character"]

    # A photo of just that third person (cut out of the group photo) is the same character.
    alone = photos.crop(photos.SIX_PEOPLE, faces[2]["bbox"], tmp_path, "third")
    portrait = photo_node(project, alone, "Third person alone")
    assert wait_for_run(plan_run(project, [portrait.id], user=alice).run).status == Run.Status.SUCCEEDED
    portrait.refresh_from_db()
    assert portrait.output["character"] == third.output["character"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_asking_for_a_face_the_photo_does_not_have_fails_the_node_with_the_fix(project, alice, workers):
    photo = add(project, "image", "Astronaut", asset_id=str(upload(project).id), face=2)
    workers.start(1)

    assert wait_for_run(plan_run(project, [photo.id], user=alice).run).status == Run.Status.FAILED

    photo.refresh_from_db()
    assert photo.error_message == (
        "This photo shows one face, so there is no face 2: set Face to a number from 1 to 1 (1 is the largest)."
    )
    assert Job.objects.get(node=photo).error_code == "no_such_face"
    assert not Character.objects.exists()

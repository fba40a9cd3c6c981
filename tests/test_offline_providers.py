"""The offline providers: honest, deterministic, and good enough to use."""

import numpy as np
import pytest
from PIL import Image

from providers.contract import EnhanceRequest, PermanentProviderError
from providers.local_faces import HaarFaceProvider
from providers.local_text import STYLES, LocalTextProvider
from tests.graphs import FIXTURES


def test_the_astronaut_has_one_face_and_the_cat_none():
    faces = HaarFaceProvider()

    (face,) = faces.analyze(FIXTURES / "astronaut.png").faces
    assert faces.analyze(FIXTURES / "chelsea.png").faces == []
    x1, y1, x2, y2 = face.bbox
    assert 0 <= x1 < x2 <= 512 and 0 <= y1 < y2 <= 512
    assert face.embedding.shape == (512,)
    assert np.linalg.norm(face.embedding) == pytest.approx(1, abs=1e-5)
    assert 0 < face.det_score <= 1
    assert (face.age, face.sex) == (None, "")  # not estimated offline, and not invented


def test_the_same_photo_resized_and_recompressed_is_recognised(tmp_path):
    copy = tmp_path / "astronaut.jpg"
    with Image.open(FIXTURES / "astronaut.png") as image:
        image.convert("RGB").resize((400, 400)).save(copy, quality=80)
    faces = HaarFaceProvider()

    original = faces.analyze(FIXTURES / "astronaut.png").faces[0].embedding
    again = faces.analyze(copy).faces[0].embedding

    assert float(original @ again) >= faces.match_threshold


def test_an_unreadable_image_is_a_permanent_error(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")

    with pytest.raises(PermanentProviderError, match="could not be read"):
        HaarFaceProvider().analyze(broken)


def test_the_offline_enhancer_keeps_the_words_and_adds_camera_light_style_and_sound():
    enhancer = LocalTextProvider()
    request = EnhanceRequest(text="a fox crosses a snowy road", target_model="veo-3.1-generate-preview", style="noir")

    enhanced = enhancer.enhance(request)

    assert enhanced.text.startswith("a fox crosses a snowy road.")
    for part in ("Camera:", "Lighting:", "Audio:", STYLES["noir"]):
        assert part in enhanced.text
    assert enhanced.text == enhancer.enhance(request).text  # deterministic
    assert (enhanced.provider, enhanced.model) == ("local", "reelgraph-rules-v1")
    other = enhancer.enhance(EnhanceRequest(text="a city at night", target_model="veo-3.1-generate-preview"))
    assert other.text != enhanced.text

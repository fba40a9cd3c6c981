"""Hostile and careless uploads: bombs, polyglots, markup, metadata, over-long media."""

from __future__ import annotations

import io

import av
import imageio_ffmpeg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from assets.models import Asset
from assets.uploads import megabytes
from tests.api import Api, error_of
from tests.graphs import FIXTURES

pytestmark = pytest.mark.django_db

GPS, ORIENTATION, IMAGE_DESCRIPTION = 0x8825, 0x0112, 0x010E


def upload(user, project, content: bytes, name: str = "photo.jpg"):
    return Api(user).upload(f"/projects/{project.id}/assets", SimpleUploadedFile(name, content))


def stored_bytes(response) -> bytes:
    with Asset.objects.get(pk=response.json()["id"]).file.open("rb") as stream:
        return stream.read()


def photo_with_metadata() -> bytes:
    """A 120x80 JPEG shot 'rotated' (orientation 6: turn it 90° to view), with GPS, a note and a comment."""
    image = Image.new("RGB", (120, 80), (200, 40, 40))
    image.paste((40, 40, 200), (0, 0, 60, 80))  # left half blue
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[IMAGE_DESCRIPTION] = "Alice at home"
    exif.get_ifd(GPS).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at 12 Home Street")
    return out.getvalue()


def test_gps_and_other_metadata_are_stripped_and_the_photo_stored_upright(alice, project):
    original = photo_with_metadata()
    with Image.open(io.BytesIO(original)) as check:  # the fixture really carries what we strip
        assert check.getexif().get_ifd(GPS) and check.info.get("comment")

    response = upload(alice, project, original)

    assert response.status_code == 201, response.content
    kept = stored_bytes(response)
    with Image.open(io.BytesIO(kept)) as image:
        assert dict(image.getexif()) == {} and not image.getexif().get_ifd(GPS)
        assert "comment" not in image.info and "exif" not in image.info and "xmp" not in image.info
        assert image.size == (80, 120)  # turned as the camera asked, so nothing downstream must know
        assert image.getpixel((40, 5))[2] > 150  # the blue half is now on top
    assert b"Home Street" not in kept and b"Alice at home" not in kept
    assert (response.json()["width"], response.json()["height"]) == (80, 120)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(alice, project):
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # 100 megapixels in a few kilobytes
    assert len(bomb.getvalue()) < 100_000

    response = upload(alice, project, bomb.getvalue(), "small.png")

    assert response.status_code == 413
    error = error_of(response)
    assert "10000x10000 pixels" in error["message"] and "limited to 50 megapixels" in error["message"]
    assert error["details"] == {"limit_pixels": 50_000_000}
    assert not Asset.objects.exists()


def png_with_text(text: bytes) -> bytes:
    """A real PNG with a text chunk near its start (where a browser sniffing for HTML looks)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", text.decode())
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        png_with_text(b"<html><script>alert(document.cookie)</script></html>"),
        png_with_text(b"<svg onload=alert(1)>"),
        b"\xff\xd8\xff\xfe\x00\x20<!DOCTYPE html><script>alert(1)</script>" + b"\x00" * 64,
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00<iframe src=//evil.example>" + b"\x00" * 64,
    ],
    ids=["png-html", "png-svg", "jpeg-html", "mp4-iframe"],
)
def test_media_that_is_also_a_web_page_is_refused(alice, project, content):
    response = upload(alice, project, content, "innocent.png")

    assert response.status_code == 415
    assert "web page or SVG markup" in error_of(response)["message"]
    assert not Asset.objects.exists()


def test_whatever_hides_after_the_image_is_not_kept(alice, project):
    clean = (FIXTURES / "astronaut.png").read_bytes()
    smuggled = clean + b"PK\x03\x04" + b"<html><script>steal()</script></html>" * 10

    response = upload(alice, project, smuggled, "face.png")

    assert response.status_code == 201
    kept = stored_bytes(response)
    assert b"<script>" not in kept and b"PK\x03\x04" not in kept
    with Image.open(io.BytesIO(kept)) as image, Image.open(FIXTURES / "astronaut.png") as original:
        assert image.size == original.size and image.convert("RGB").tobytes() == original.convert("RGB").tobytes()


def clip(tmp_path, seconds: float = 1, size: str = "64x48", **metadata: str) -> bytes:
    import subprocess

    out = tmp_path / "clip.mp4"
    tags = [arg for key, value in metadata.items() for arg in ("-metadata", f"{key}={value}")]
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=24",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds), "-c:v", "libx264", "-c:a", "aac",
         *tags, str(out)],
        check=True,
    )  # fmt: skip
    return out.read_bytes()


def test_a_video_keeps_its_streams_but_loses_its_metadata(alice, project, tmp_path):
    original = clip(tmp_path, title="Family holiday", location="+48.8577+002.2950/", comment="Alice's phone")
    assert b"Family holiday" in original

    response = upload(alice, project, original, "holiday.mov")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["mime"], body["width"], body["height"]) == ("video", "video/mp4", 64, 48)
    assert body["duration_seconds"] == pytest.approx(1, abs=0.1)
    kept = stored_bytes(response)
    assert b"Family holiday" not in kept and b"48.8577" not in kept and b"Alice" not in kept
    with av.open(io.BytesIO(kept)) as container:
        assert not {"title", "location", "comment"} & set(container.metadata)
        assert [stream.type for stream in container.streams] == ["video", "audio"]


@override_settings(MAX_UPLOAD_SECONDS=1)
def test_a_video_longer_than_the_limit_is_refused(alice, project, tmp_path):
    response = upload(alice, project, clip(tmp_path, seconds=2), "long.mp4")

    assert response.status_code == 413
    assert error_of(response)["details"] == {"limit_seconds": 1}
    assert "trim it" in error_of(response)["message"]


@override_settings(MAX_VIDEO_DIMENSION=32)
def test_a_video_larger_than_the_limit_is_refused(alice, project, tmp_path):
    response = upload(alice, project, clip(tmp_path), "big.mp4")

    assert response.status_code == 413
    assert "64x48; videos are limited to 32 pixels a side" in error_of(response)["message"]


def test_a_hostile_file_name_never_reaches_storage(alice, project):
    name = "../../../var/www/<script>alice's passport.png"

    response = upload(alice, project, (FIXTURES / "astronaut.png").read_bytes(), name)

    assert response.status_code == 201
    asset = Asset.objects.get(pk=response.json()["id"])
    assert asset.file.name == f"projects/{project.id}/assets/{asset.id}.png"
    assert asset.original_name == "<script>alice's passport.png"  # shown escaped, never used as a path


def test_a_bomb_past_pillows_own_guard_gets_reelgraphs_message(alice, project):
    bomb = io.BytesIO()
    Image.new("1", (20_000, 10_000)).save(bomb, "PNG")  # 200 megapixels: Pillow refuses to open it at all

    response = upload(alice, project, bomb.getvalue(), "small.png")

    assert response.status_code == 413
    error = error_of(response)
    assert "limit of 50,000,000 (50 megapixels)" in error["message"] and "make it smaller" in error["message"]
    assert "decompression bomb" not in error["message"].lower()
    assert error["details"] == {"limit_pixels": 50_000_000}
    assert not Asset.objects.exists()


def test_the_size_limit_is_said_exactly(alice, project, settings):
    settings.MAX_UPLOAD_BYTES = 1_572_864
    response = upload(alice, project, b"\x89PNG\r\n\x1a\n" + b"\0" * 1_572_864, "big.png")
    assert response.status_code == 413
    assert "uploads are limited to 1.5 MB (1,572,864 bytes)" in error_of(response)["message"]
    assert (megabytes(209_715_200), megabytes(1_000_000)) == ("200 MB", "0.95 MB")  # the default; never rounded up

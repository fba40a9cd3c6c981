import io
from datetime import UTC, datetime

import pytest
import requests
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from PIL import Image

from assets.models import Asset
from assets.serving import signed_url
from projects.models import Membership
from tests.api import Api, error_of
from tests.graphs import FIXTURES
from tests.unchanged import changes_since, snapshot, stored_files

pytestmark = pytest.mark.django_db


def astronaut(name="me.png"):
    return SimpleUploadedFile(name, (FIXTURES / "astronaut.png").read_bytes(), content_type="image/png")


def same_pixels(first: bytes, second: bytes) -> bool:
    with Image.open(io.BytesIO(first)) as one, Image.open(io.BytesIO(second)) as other:
        return one.convert("RGB").tobytes() == other.convert("RGB").tobytes()


def test_an_image_is_uploaded_typed_by_its_content_and_named_for_display_only(alice, project):
    # A misleading name and type: the content decides.
    response = Api(alice).upload(
        f"/projects/{project.id}/assets",
        SimpleUploadedFile("../../etc/evil.mp3", (FIXTURES / "astronaut.png").read_bytes(), content_type="audio/mpeg"),
    )

    assert response.status_code == 201
    asset = response.json()
    assert (asset["kind"], asset["mime"], asset["width"], asset["height"]) == ("image", "image/png", 512, 512)
    assert asset["original_name"] == "evil.mp3"
    stored = Asset.objects.get(pk=asset["id"])
    assert stored.file.name == f"projects/{project.id}/assets/{stored.id}.png"
    assert stored.file.name in stored_files() and stored.file.size == stored.size_bytes == asset["size_bytes"]
    assert not any("evil" in name for name in stored_files())  # the user's name is never a path


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "web page or SVG markup"),
        (b"<!doctype html><html><body>hi</body></html>", "web page or SVG markup"),
        (b"just some words", "not something Reelgraph can use"),
        (b"\x89PNG\r\n\x1a\nthis is not really a png", "could not be read as an image"),
    ],
)
def test_files_that_are_not_media_are_refused_with_415(alice, project, content, why):
    before = snapshot()
    response = Api(alice).upload(f"/projects/{project.id}/assets", SimpleUploadedFile("x.png", content))

    assert response.status_code == 415
    assert why in error_of(response)["message"]
    assert not Asset.objects.exists()
    assert changes_since(before) == {}  # no file left in storage either


@override_settings(MAX_UPLOAD_BYTES=1000)
def test_a_file_over_the_limit_is_refused_with_413(alice, project):
    before = snapshot()
    response = Api(alice).upload(f"/projects/{project.id}/assets", astronaut())

    assert response.status_code == 413
    assert error_of(response)["details"] == {"limit_bytes": 1000}
    assert changes_since(before) == {}


def test_viewers_cannot_upload_and_outsiders_cannot_see_assets(project, alice, bob, add_member):
    asset_id = Api(alice).upload(f"/projects/{project.id}/assets", astronaut()).json()["id"]
    outsider = Api(bob)
    before = snapshot()
    assert outsider.get(f"/assets/{asset_id}").status_code == 404
    assert outsider.get(f"/assets/{asset_id}/url").status_code == 404
    assert outsider.get(f"/projects/{project.id}/assets").status_code == 404
    uploaded = outsider.upload(f"/projects/{project.id}/assets", astronaut())
    assert uploaded.status_code == 404 and error_of(uploaded)["code"] == "not_found"
    assert changes_since(before) == {}

    add_member(bob, Membership.Role.VIEWER)
    viewer = Api(bob)
    before = snapshot()
    assert viewer.get(f"/assets/{asset_id}").status_code == 200
    refused = viewer.upload(f"/projects/{project.id}/assets", astronaut())
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert changes_since(before) == {}  # no asset, no file


def test_a_signed_url_serves_the_file_with_ranges_and_expires(alice, project):
    api = Api(alice)
    asset_id = api.upload(f"/projects/{project.id}/assets", astronaut()).json()["id"]
    url = api.get(f"/assets/{asset_id}/url").json()["url"]
    anonymous = Client()  # the signature is the permission: no login needed to fetch it

    whole = anonymous.get(url)
    assert whole.status_code == 200 and whole["Content-Type"] == "image/png"
    with Asset.objects.get(pk=asset_id).file.open("rb") as stored:
        assert b"".join(whole.streaming_content) == stored.read()
    part = anonymous.get(url, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and b"".join(part.streaming_content) == b"\x89PNG\r\n\x1a\n"
    assert part["Content-Range"].startswith("bytes 0-7/")

    assert anonymous.get(url.replace(url[-6:], "AAAAAA")).status_code == 404  # tampered
    with time_machine.travel(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), tick=False) as clock:
        short_url, expires = signed_url(Asset.objects.get(pk=asset_id), seconds=60)
        assert expires == datetime(2026, 11, 30, 12, 1, tzinfo=UTC)
        clock.shift(60)  # the last second of the link
        last = anonymous.get(short_url)
        assert last.status_code == 200 and last["Cache-Control"] == "private, max-age=0"
        clock.shift(1)
        stale = anonymous.get(short_url)
    assert stale.status_code == 410
    assert stale.content == b"This link has expired: ask for a new one."


def test_assets_are_listed_by_kind(alice, project):
    api = Api(alice)
    api.upload(f"/projects/{project.id}/assets", astronaut())

    assert api.get(f"/projects/{project.id}/assets", kind="image").json()["count"] == 1
    assert api.get(f"/projects/{project.id}/assets", kind="video").json()["count"] == 0


def test_direct_uploads_need_s3(client, alice, project):
    before = snapshot()
    assert direct_upload_paths(client) == set()  # the document is this deployment's
    started = Api(alice).post(f"/projects/{project.id}/assets/uploads", {})
    finished = Api(alice).post(f"/projects/{project.id}/assets/uploads/complete", {"key": "k", "name": "a.png"})

    for response in (started, finished):  # not the request's fault: this deployment has no such address
        assert response.status_code == 404
        assert error_of(response)["code"] == "direct_upload_unavailable"
        assert "POST /api/v1/projects/{id}/assets" in error_of(response)["message"]
    assert changes_since(before) == {}


@pytest.fixture
def s3_bucket():
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, **credentials).create_bucket(Bucket="reelgraph-test")
    storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "reelgraph-test",
            "endpoint_url": endpoint,
            "access_key": "test",
            "secret_key": "test",
            "region_name": "us-east-1",
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    # Django resets its storages when STORAGES changes, so every FileField now writes to the bucket.
    with override_settings(STORAGES={**settings.STORAGES, "default": storage}):
        yield endpoint
    server.stop()


def direct_upload_paths(client) -> set[str]:
    return {path for path in client.get("/api/v1/openapi.json").json()["paths"] if "/assets/uploads" in path}


def test_with_s3_the_openapi_document_lists_direct_uploads(client, s3_bucket):
    assert direct_upload_paths(client) == {
        "/api/v1/projects/{project_id}/assets/uploads",
        "/api/v1/projects/{project_id}/assets/uploads/complete",
    }


def test_with_s3_the_browser_uploads_straight_to_the_bucket_and_reads_through_presigned_urls(alice, project, s3_bucket):
    api = Api(alice)
    started = api.post(f"/projects/{project.id}/assets/uploads", {"name": "face.png"})
    assert started.status_code == 201
    form = started.json()
    assert form["key"].startswith(f"projects/{project.id}/incoming/")

    photo = (FIXTURES / "astronaut.png").read_bytes()
    sent = requests.post(form["url"], data=form["fields"], files={"file": photo}, timeout=10)
    assert sent.status_code in (200, 204), sent.text
    done = api.post(f"/projects/{project.id}/assets/uploads/complete", {"key": form["key"], "name": "face.png"})

    assert done.status_code == 201
    asset = done.json()
    assert (asset["kind"], asset["original_name"]) == ("image", "face.png")
    url = api.get(f"/assets/{asset['id']}/url").json()["url"]
    assert url.startswith(s3_bucket) and "Signature=" in url
    served = requests.get(url, timeout=10).content
    with Asset.objects.get(pk=asset["id"]).file.open("rb") as stored:
        assert served == stored.read()
    assert same_pixels(served, photo)  # re-encoded clean, the same picture
    gone = api.post(f"/projects/{project.id}/assets/uploads/complete", {"key": form["key"]})
    assert gone.status_code == 404  # the incoming object was consumed


def test_a_direct_upload_of_something_else_is_refused_and_removed(alice, project, s3_bucket):
    api = Api(alice)
    already = stored_files()  # the bucket outlives a test (moto keeps it in the process)
    form = api.post(f"/projects/{project.id}/assets/uploads", {}).json()
    requests.post(form["url"], data=form["fields"], files={"file": b"<html>not a picture</html>"}, timeout=10)
    assert stored_files() == sorted([*already, form["key"]])

    refused = api.post(f"/projects/{project.id}/assets/uploads/complete", {"key": form["key"]})

    assert refused.status_code == 415
    assert not Asset.objects.exists()
    assert stored_files() == already  # the incoming object is gone from the bucket, and nothing took its place


def test_a_key_of_another_project_cannot_be_completed(alice, bob, project, s3_bucket):
    from tests.factories import ProjectFactory

    theirs = ProjectFactory(owner=bob)
    form = Api(bob).post(f"/projects/{theirs.id}/assets/uploads", {}).json()
    photo = (FIXTURES / "astronaut.png").read_bytes()
    requests.post(form["url"], data=form["fields"], files={"file": photo}, timeout=10)
    before = snapshot()

    stolen = Api(alice).post(f"/projects/{project.id}/assets/uploads/complete", {"key": form["key"]})

    assert stolen.status_code == 404
    assert changes_since(before) == {}  # bob's upload is still waiting in the bucket, and alice got no asset
    assert form["key"] in stored_files()

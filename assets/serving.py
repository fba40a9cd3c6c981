"""Private media: the browser gets a file only through a short-lived signed URL.

On S3 that is a presigned URL; on local disk it is our own URL carrying a signed, expiring token,
served here with Range support so that video players can seek.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from assets.models import Asset

SALT = "reelgraph.media"
CHUNK = 256 * 1024


def signed_url(asset: Asset, seconds: int | None = None) -> tuple[str, datetime]:
    """A URL for the asset's bytes, valid for `seconds` (SIGNED_URL_SECONDS by default)."""
    seconds = seconds or settings.SIGNED_URL_SECONDS
    expires = int(time.time()) + seconds
    storage = asset.file.storage
    if isinstance(storage, FileSystemStorage):
        token = signing.dumps({"asset": str(asset.id), "expires": expires}, salt=SALT, compress=True)
        url = reverse("media-file", args=[token])
    else:
        url = storage.url(asset.file.name, expire=seconds)
    return url, datetime.fromtimestamp(expires, tz=UTC)


@require_GET
def media_file(request, token: str):
    try:
        claim = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise Http404("No such file.") from None
    if claim["expires"] < time.time():
        return HttpResponse("This link has expired: ask for a new one.", status=410, content_type="text/plain")
    asset = Asset.objects.filter(pk=claim["asset"]).first()
    if asset is None:
        raise Http404("No such file.")
    # Links given out before a moderator hid the file stop working too; moderators still see it.
    if asset.hidden_at is not None and not request.user.has_perm("generation.moderate"):
        raise Http404("This file was hidden by a moderator.")
    response = _ranged(request, asset) or FileResponse(asset.file.open("rb"), content_type=asset.mime)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = f"private, max-age={max(0, int(claim['expires'] - time.time()))}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


def _ranged(request, asset: Asset):
    """A 206 for a single `Range: bytes=start-end` (what video players send to seek), else None."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", request.headers.get("Range", ""))
    if not match or match.groups() == ("", ""):
        return None
    size = asset.file.size
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    stream = asset.file.open("rb")
    stream.seek(start)

    def chunks(remaining=end - start + 1):
        with stream:
            while remaining > 0:
                data = stream.read(min(CHUNK, remaining))
                if not data:
                    return
                remaining -= len(data)
                yield data

    response = StreamingHttpResponse(chunks(), status=206, content_type=asset.mime)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return response

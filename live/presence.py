"""Who has a project open right now: one entry per open canvas, in Redis, shared by every server."""

from __future__ import annotations

import json

import django_rq

# Entries of a server that died are not removed by it: the whole set expires if nobody connects.
TTL_SECONDS = 6 * 3600


def _key(project_id) -> str:
    return f"reelgraph:presence:{project_id}"


def join(project_id, channel: str, user) -> None:
    redis = django_rq.get_connection("default")
    entry = json.dumps({"id": user.pk, "username": user.get_username()})
    with redis.pipeline() as pipe:
        pipe.hset(_key(project_id), channel, entry)
        pipe.expire(_key(project_id), TTL_SECONDS)
        pipe.execute()


def leave(project_id, channel: str) -> None:
    django_rq.get_connection("default").hdel(_key(project_id), channel)


def present(project_id) -> list[dict]:
    """Each user once, however many canvases they have open, in a stable order."""
    entries = [json.loads(value) for value in django_rq.get_connection("default").hvals(_key(project_id))]
    return sorted({entry["id"]: entry for entry in entries}.values(), key=lambda entry: entry["username"])
